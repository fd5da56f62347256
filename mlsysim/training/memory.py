"""Per-device memory of one training step, part by part, on the most loaded device of a layout.

A transformer trained over TP × CP × PP × DP × EP ranks with a ZeRO stage, a recomputation mode and
an optimizer keeps, on each device: its shard of the weights, their gradients, the optimizer state
(moments, and an fp32 master copy under mixed precision), the activations its pipeline stage holds
for the microbatches in flight, communication buffers, and the framework's own footprint. Each part
follows its published formula:

* optimizer state per parameter from ``zoo/data/training.yaml`` (Adam 2 fp32 moments; Adafactor's
  factored second moment; 8-bit Adam's block-quantized moments), each counted once;
* activations per layer as Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large
  Transformer Models", section 4) count them, written from the layer's own shapes so a gated MLP or
  grouped-query attention counts what it stores: ``none`` keeps every input the backward pass
  reads, ``selective`` recomputes the attention core (no s² term), ``full`` keeps only each layer's
  input. FlashAttention never stores the s² scores. Sequence parallelism shards all of it by TP,
  context parallelism by CP; the first pipeline stage holds min(microbatches, PP) microbatches in
  flight (1F1B), x (1 + (PP-1)/(PP v)) with v interleaved stages (Korthikanti et al. 2022, 4.2.3);
* ZeRO stage 1 shards the optimizer state over the data-parallel group, 2 the gradients too, 3 (FSDP)
  the weights too; dense parameters are replicated over DP × CP × EP ranks, experts over DP × CP;
* LoRA trains rank-r adapters on every linear layer of the blocks with the base frozen; QLoRA stores
  the frozen base linears in 4-bit NormalFloat with double-quantized scales (Dettmers et al. 2023).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..execution import Stacks
from ..models.families.base import LM_CONTEXT, OPTIMIZERS, optimizer_state_bytes, recompute_mode
from ..models.families.decoder import layer_activations
from ..models.types import SparseTransformerWorkload, TransformerWorkload
from ..ops import PRECISION_BYTES, normalize_precision
from ..run import SCHEDULES, check_sizes, resolve_hardware, resolve_model, virtual_stages, whole
from ..solver import Result, Solver
from ..units import format_si, quantity
from ..zoo.registry import load_data

_BUFFERS = load_data("training")["buffers"]
#: the training framework's own footprint: PyTorch's, as its execution profile states it
FRAMEWORK_BYTES = float(Stacks.pytorch_eager.runtime_bytes)
DDP_BUCKET_BYTES = float(_BUFFERS["ddp_bucket_bytes"]["value"])
FSDP_UNITS_IN_FLIGHT = float(_BUFFERS["fsdp_units_in_flight"]["value"])
NF4_BYTES = float(_BUFFERS["nf4_bits_per_parameter"]["value"]) / 8.0
FINETUNE_MODES = ("full", "lora", "qlora")
#: LoRA rank when none is given (the QLoRA paper's r = 64 on every linear layer)
DEFAULT_LORA_RANK = 64
#: which linears carry adapters: every one of the blocks (QLoRA), or the four attention projections
LORA_TARGETS = ("all", "attention")


def optimizer_name(value) -> str:
    if value not in OPTIMIZERS:
        raise InputError(f"unknown optimizer {value!r}; use one of {', '.join(OPTIMIZERS)}")
    return value


@dataclass(frozen=True)
class StageMemory:
    """One pipeline stage's device: its layers and bytes by part."""

    layers: int
    weights_b: float
    gradients_b: float
    optimizer_b: float
    activations_b: float
    buffers_b: float

    @property
    def total_b(self) -> float:
        return self.weights_b + self.gradients_b + self.optimizer_b + self.activations_b + self.buffers_b


@dataclass(frozen=True)
class TrainingMemoryResult(Result):
    """Bytes per device on the most loaded pipeline stage, by part, and how they fit."""

    weights_b: float
    gradients_b: float
    optimizer_b: float
    activations_b: float
    buffers_b: float
    framework_b: float
    total_b: float
    capacity_b: float
    feasible: bool
    stage: int
    stages: tuple
    parallelism: dict
    optimizer: str
    recompute: str
    finetune: str
    trainable_parameters: float

    @property
    def memory_utilization(self) -> float:
        return self.total_b / self.capacity_b

    # -- the 0.1.0 names, as quantities ---------------------------------------------------------
    @property
    def total_memory(self): return quantity(self.total_b, "GB")

    @property
    def total_range(self):
        """(low, high) bytes: the 10th-90th percentile band of the total from the suite's training-memory errors
        (the ZeRO paper's model states; activations and buffers are not measured there)."""
        from ..zoo.bands import band
        return band("training_memory", self.total_b, None)

    @property
    def available_memory(self): return quantity(self.capacity_b, "GB")

    @property
    def weights(self): return quantity(self.weights_b, "GB")

    @property
    def gradients(self): return quantity(self.gradients_b, "GB")

    @property
    def optimizer_state(self): return quantity(self.optimizer_b, "GB")

    @property
    def activations(self): return quantity(self.activations_b, "GB")

    @property
    def communication_buffers(self): return quantity(self.buffers_b, "GB")


@dataclass(frozen=True)
class _Matrices:
    """One transformer layer's linear layers as (inputs, outputs, copies) on one TP rank, and the rest."""

    attention: tuple          # ((K, N), ...) of the attention projections, whole (before TP)
    ffn: tuple                # the dense FFN's matrices (empty in a MoE layer)
    expert: tuple             # one routed expert's matrices
    experts: int              # routed experts
    shared: int               # shared (always-on) experts, each an ``expert`` wide
    router: float             # router weights
    norms: float              # norm weights


class TrainingMemoryModel(Solver):
    """Per-device memory of a transformer's training step under a parallel layout (wall 2)."""

    walls = (2,)
    needs = ("model", "hardware")

    def solve(self, model, hardware=None, batch_size=1, seq_len=LM_CONTEXT, precision="bf16", *, optimizer="adam",
              recompute="none", tp=1, cp=1, pp=1, dp=1, ep=1, zero_stage=0, microbatches=None, v_stages=None,
              layers_per_stage=None, schedule=None, sequence_parallel=None, flash_attention=True, dropout=False,
              finetune="full", lora_rank=DEFAULT_LORA_RANK, lora_targets="all", master_weights=None, fleet=None,
              **legacy) -> TrainingMemoryResult:
        """Bytes per device for a global batch of ``batch_size`` sequences of ``seq_len`` tokens.

        ``tp × cp × pp × dp × ep`` ranks (with a ``fleet``, their product must be its accelerators);
        ``microbatches`` per replica per step (default: microbatches of one sequence under pipeline
        parallelism, one otherwise); ``layers_per_stage`` an uneven pipeline split (one count per stage,
        summing to the layers); ``schedule`` the pipeline's (``1f1b``, ``interleaved``, ``zero_bubble``,
        ``dualpipe``; default 1F1B, interleaved with ``v_stages`` > 1, which defaults to 2 under an
        interleaved schedule, TorchTitan's choice). ``zero_stage`` 0-3 or ``"fsdp"``
        (= 3). ``finetune``: ``full``, ``lora`` or ``qlora`` (rank ``lora_rank`` adapters on every linear layer
        of the blocks, or with ``lora_targets="attention"`` on the attention projections only). ``master_weights``
        (default: kept for full training below fp32, not for adapters) adds an fp32 copy to the optimizer
        state. 0.1.0 names are accepted: ``activation_checkpointing``, ``tp_size``, ``pp_size``,
        ``dp_size``, ``ep_size``, ``gradient_accumulation_steps``.
        """
        names = {"activation_checkpointing": "recompute", "tp_size": "tp", "pp_size": "pp", "dp_size": "dp",
                 "ep_size": "ep", "gradient_accumulation_steps": "microbatches"}
        given = {"recompute": recompute, "tp": tp, "pp": pp, "dp": dp, "ep": ep, "microbatches": microbatches}
        for old, value in legacy.items():
            if old not in names:
                raise InputError(f"TrainingMemoryModel.solve got an unknown argument '{old}'")
            given[names[old]] = value
        m = resolve_model(model)
        if not isinstance(m, TransformerWorkload):
            raise InputError(f"TrainingMemoryModel counts a transformer's training state; {m.name} is a "
                             f"{m.architecture} (its training memory is in Engine.solve(..., training=True))")
        if hardware is None and fleet is None:
            raise InputError("give the hardware (an accelerator, e.g. 'H100') or a fleet")
        hw = resolve_hardware(hardware if hardware is not None else fleet)
        tp, cp, pp, dp, ep = (whole(k, v) for k, v in (("tp", given["tp"]), ("cp", cp), ("pp", given["pp"]),
                                                       ("dp", given["dp"]), ("ep", given["ep"])))
        v = virtual_stages(v_stages, schedule)
        if fleet is not None:
            n = fleet.total_accelerators
            if tp * cp * pp * dp * ep != n:
                raise InputError(f"tp×cp×pp×dp×ep = {tp * cp * pp * dp * ep} must equal the {n} accelerators of "
                                 f"{fleet.name}")
        layout = check_layout(m, tp, cp, pp, ep, v, layers_per_stage, seq_len)
        B, S = whole("batch_size", batch_size), whole("seq_len", check_sizes("seq_len", seq_len))
        M, mb = microbatching(B, dp * ep, pp, given["microbatches"])
        return training_memory(m, hw, layout, S, mb, M, tp=tp, cp=cp, dp=dp, ep=ep, v=v,
                               schedule=pipeline_schedule(schedule, pp, v), zero=_zero(zero_stage),
                               optimizer=optimizer_name(optimizer), mode=recompute_mode(given["recompute"]),
                               precision=precision, finetune=finetune, lora_rank=lora_rank, lora_targets=lora_targets,
                               master_weights=master_weights, sequence_parallel=sequence_parallel,
                               flash_attention=flash_attention, dropout=dropout)


def microbatching(B: int, replicas: int, pp: int, microbatches) -> tuple[int, int]:
    """(microbatches per replica per step, sequences per microbatch) of a global batch of ``B`` over
    ``replicas`` data-parallel replicas: microbatches of one sequence under pipeline parallelism unless
    ``microbatches`` says how many, one otherwise; a split into fractions is refused."""
    if B % replicas:
        raise InputError(f"batch_size {B} does not split over dp×ep = {replicas} data-parallel replicas; use a "
                         f"multiple of {replicas}")
    local = B // replicas
    M = (local if pp > 1 else 1) if microbatches is None else whole("microbatches", microbatches)
    if local % M:
        raise InputError(f"the per-replica batch of {local} does not split into {M} microbatches; use a "
                         f"divisor of {local}")
    return M, local // M


def pipeline_schedule(schedule, pp: int, v: int) -> str:
    """The schedule's name, checked against the layout: 1F1B by default, interleaved with virtual stages."""
    name = schedule if schedule is not None else ("interleaved" if v > 1 else "1f1b")
    if name not in SCHEDULES:
        raise InputError(f"unknown pipeline schedule {name!r}; use one of {', '.join(SCHEDULES)}")
    if (name == "interleaved") != (v > 1):
        raise InputError("the interleaved schedule runs v_stages > 1 virtual stages per device, and only it does; "
                         f"got schedule {name!r} with v_stages={v}")
    if name == "dualpipe" and pp % 2:
        raise InputError(f"DualPipe feeds microbatches from both ends of the pipeline, so pp must be even, got {pp}")
    return name


def training_memory(m, hw, layout: tuple, S: int, mb: int, M: int, *, tp=1, cp=1, dp=1, ep=1, v=1, schedule="1f1b",
                    zero=0, optimizer="adam", mode="none", precision="bf16", finetune="full",
                    lora_rank=DEFAULT_LORA_RANK, lora_targets="all", master_weights=None, sequence_parallel=None,
                    flash_attention=True,
                    dropout=False) -> TrainingMemoryResult:
    """The memory of every pipeline stage's device (``layout``: layers per stage) for microbatches of ``mb``
    sequences of ``S`` tokens, ``M`` per step; the most loaded one is the result's."""
    pp = len(layout)
    opt = optimizer
    tune = finetune if finetune in FINETUNE_MODES else _bad_finetune(finetune)
    prec = normalize_precision(precision)
    w = 4.0 if PRECISION_BYTES.get(prec, 2.0) >= 4.0 else 2.0     # 16-bit (or fp32) weights and activations
    master = (w < 4.0 and tune == "full" and opt != "none") if master_weights is None else bool(master_weights)
    sp = tp > 1 if sequence_parallel is None else bool(sequence_parallel)
    r = whole("lora_rank", lora_rank)
    if lora_targets not in LORA_TARGETS:
        raise InputError(f"lora_targets must be one of {', '.join(LORA_TARGETS)}, got {lora_targets!r}")
    shapes = _matrices(m)
    stages, start = [], 0
    for i, layers in enumerate(layout):
        stages.append(_stage(m, shapes, i, pp, layers, start, tp=tp, cp=cp, pp=pp, dp=dp, ep=ep, zero=zero, name=opt,
                             mode=mode, w=w, master=master, tune=tune, adapters=(r, lora_targets), tokens=S * mb,
                             seq=S, M=M, v=v, schedule=schedule, sp=sp, flash=bool(flash_attention),
                             dropout=bool(dropout)))
        start += layers
    worst = max(range(len(stages)), key=lambda i: stages[i].total_b)
    s = stages[worst]
    capacity = float(hw.memory.capacity)
    total = s.total_b + FRAMEWORK_BYTES
    trainable = _trainable(m, shapes, tune, (r, lora_targets))
    parts = {"weights": s.weights_b, "gradients": s.gradients_b, "optimizer state": s.optimizer_b,
             "activations": s.activations_b, "communication buffers": s.buffers_b}
    largest = max(parts, key=parts.get)
    fits = total <= capacity
    binding = (f"{'fits' if fits else 'does not fit'}: {format_si(total, 'B')} of {format_si(capacity, 'B')} on "
               f"{hw.name}" + (f" (pipeline stage {worst + 1} of {pp})" if pp > 1 else "")
               + f"; the largest part is the {largest} at {format_si(parts[largest], 'B')}")
    return TrainingMemoryResult(
        weights_b=s.weights_b, gradients_b=s.gradients_b, optimizer_b=s.optimizer_b,
        activations_b=s.activations_b, buffers_b=s.buffers_b, framework_b=FRAMEWORK_BYTES, total_b=total,
        capacity_b=capacity, feasible=fits, stage=worst, stages=tuple(stages),
        parallelism={"tp": tp, "cp": cp, "pp": pp, "dp": dp, "ep": ep, "v_stages": v, "zero_stage": zero,
                     "microbatches": M, "microbatch_size": mb, "layers_per_stage": list(layout),
                     "sequence_parallel": sp, "schedule": schedule},
        optimizer=opt, recompute=mode, finetune=tune, trainable_parameters=trainable, binding=binding,
        assumptions=_assumptions(opt, mode, zero, master, tune, (r, lora_targets), sp, bool(flash_attention), pp, v,
                                 M, schedule))


def check_layout(m, tp, cp, pp, ep, v, layers_per_stage, seq_len) -> tuple[int, ...]:
    """The layers of each pipeline stage, after every constraint of the layout is checked (one sentence each)."""
    heads = getattr(m, "heads", None)
    if heads is None and tp > 1:
        raise InputError(f"tp={tp} splits attention heads, and {m.name} is a {m.architecture} with none (use tp=1)")
    if heads is not None and heads % tp:
        raise InputError(f"tp={tp} must divide {m.name}'s {heads} attention heads")
    experts = getattr(m, "experts", 0)
    if ep > 1 and not experts:
        raise InputError(f"ep={ep} needs a mixture-of-experts model; {m.name} is dense (use ep=1)")
    if experts and experts % ep:
        raise InputError(f"ep={ep} must divide {m.name}'s {experts} experts")
    if cp > 1 and isinstance(seq_len, (int, float)) and seq_len % (2 * cp):
        raise InputError(f"context parallelism over cp={cp} ranks splits each sequence into 2×cp = {2 * cp} "
                         f"load-balanced chunks; seq_len {seq_len!r} is not a multiple of {2 * cp}")
    L = m.layers
    if layers_per_stage is None:
        if L % pp:
            raise InputError(f"pp={pp} does not split {m.name}'s {L} layers evenly; give layers_per_stage "
                             f"(e.g. fewer layers on the first and last stages)")
        split = (L // pp,) * pp
    else:
        split = tuple(layers_per_stage)
        if len(split) != pp or any(isinstance(x, bool) or not isinstance(x, int) or x < 1 for x in split):
            raise InputError(f"layers_per_stage must give {pp} whole layer counts (one per pipeline stage), got "
                             f"{list(split)!r}")
        if sum(split) != L:
            raise InputError(f"layers_per_stage sums to {sum(split)}, but {m.name} has {L} layers")
    if min(split) < v:
        raise InputError(f"v_stages={v} virtual stages per device need at least {v} layers on every pipeline "
                         f"stage; the smallest holds {min(split)}")
    return split


def chunked(layers, v):
    """The virtual stages' worth of the slowest stage's ``layers`` when split into ``v`` chunks differing by
    at most one layer (as TorchTitan splits them): the interleaved bubble is set by the largest chunk."""
    return np.asarray(layers, dtype=float) / np.ceil(np.asarray(layers, dtype=float) / v)


def _zero(value) -> int:
    if value == "fsdp":
        return 3
    if isinstance(value, bool) or value not in (0, 1, 2, 3):
        raise InputError(f"zero_stage must be 0, 1, 2, 3 or 'fsdp', got {value!r}")
    return int(value)


def _bad_finetune(value):
    raise InputError(f"finetune must be one of {', '.join(FINETUNE_MODES)}, got {value!r}")


def _matrices(m) -> _Matrices:
    h = m.hidden_dim
    attention = m.attention_matrices()
    mats = m.ffn_matrices()

    def ffn(width):
        return ((h, width),) * (mats - 1) + ((width, h),)

    if isinstance(m, SparseTransformerWorkload):
        return _Matrices(attention, ffn(m.dense_ffn_dim()) if m.ffn_dim else (), ffn(m.expert_ffn_dim or
                                                                                     m.dense_ffn_dim()),
                         m.experts, m.shared_experts, h * m.experts, 2 * h)
    return _Matrices(attention, ffn(m.dense_ffn_dim()), (), 0, 0, 0.0, 2 * h)


def _params(mats) -> float:
    return float(sum(k * n for k, n in mats))


def _moe_layers(m, layers, first):
    """MoE layers among ``layers`` consecutive layers starting at ``first`` (DeepSeek's dense layers lead)."""
    if not isinstance(m, SparseTransformerWorkload):
        return 0
    return np.maximum(0, first + layers - np.maximum(first, m.dense_layers))


def _trainable(m, shapes: _Matrices, tune: str, adapters: tuple) -> float:
    """Trainable parameters: all of them, or the LoRA adapters (``adapters``: rank and targets) of the blocks."""
    if tune == "full":
        return m.parameter_count()
    rank, targets = adapters
    per_layer = sum(rank * (k + n) for k, n in shapes.attention)
    if targets == "attention":
        return m.layers * per_layer
    moe = _moe_layers(m, m.layers, 0)
    dense = sum(rank * (k + n) for k, n in shapes.ffn)
    expert = sum(rank * (k + n) for k, n in shapes.expert) * (shapes.experts + shapes.shared)
    return m.layers * per_layer + (m.layers - moe) * dense + moe * expert


def _stage(m, shapes: _Matrices, i, stages, layers, start, *, tp, cp, pp, dp, ep, zero, name, mode, w, master, tune,
           adapters, tokens, seq, M, v, schedule, sp, flash, dropout) -> StageMemory:
    """Bytes on a device of pipeline stage ``i`` (of ``stages``) holding ``layers`` layers from layer ``start``.
    The layout's numbers (degrees, ZeRO stage, stage index and sizes, microbatches) may be arrays: the layout
    search evaluates many layouts at once; the names (optimizer, mode, schedule, finetune) are one each."""
    h, V = m.hidden_dim, m.vocab_size
    moe = _moe_layers(m, layers, start)
    dense_layers = layers - moe
    # parameters on this device: dense ones split by TP, routed experts by TP x EP
    attn = _params(shapes.attention) / tp
    dense_ffn = _params(shapes.ffn) / tp
    routed = _params(shapes.expert) * shapes.experts / (tp * ep)
    shared = _params(shapes.expert) * shapes.shared / tp
    dense = layers * (attn + shapes.norms) + dense_layers * dense_ffn + moe * (shared + shapes.router)
    experts = moe * routed
    first, last = np.asarray(i) == 0, np.asarray(i) == np.asarray(stages) - 1
    embed = V * h / tp
    ends = np.where(first, embed, 0.0) + np.where(last & ~(m.tied_embeddings & (np.asarray(stages) == 1)), embed, 0.0)
    ends = ends + np.where(first, (m.context_length or 0) * h / tp if m.positions == "learned" else 0.0, 0.0)
    ends = ends + np.where(last, h, 0.0)
    dense = dense + ends
    # what is stored: full training keeps every weight at w bytes; LoRA freezes the base (QLoRA in NF4)
    dense_group, expert_group = dp * cp * ep, dp * cp
    shard_dense = np.where(zero >= 3, dense_group, 1)
    shard_expert = np.where(zero >= 3, expert_group, 1)
    if tune == "full":
        weights = dense * w / shard_dense + experts * w / shard_expert
        t_dense, t_expert = dense, experts
    else:
        linear = layers * attn + dense_layers * dense_ffn + moe * (shared + routed)
        base = NF4_BYTES if tune == "qlora" else w
        weights = linear * base + (dense + experts - linear) * w
        ranks = _trainable(m, shapes, tune, adapters) / m.layers * layers / tp
        t_dense, t_expert = ranks, 0.0
        weights = weights + ranks * w
    grads = (t_dense / np.where(zero >= 2, dense_group, 1) + t_expert / np.where(zero >= 2, expert_group, 1)) * w
    per_param = optimizer_state_bytes(name, w, master)
    state = t_dense * per_param / np.where(zero >= 1, dense_group, 1) + \
        t_expert * per_param / np.where(zero >= 1, expert_group, 1)
    opt = OPTIMIZERS[name]
    if opt["factored"]:     # row and column sums of every matrix's second moment
        rows_cols = layers * sum(k + n for k, n in shapes.attention) / tp + \
            dense_layers * sum(k + n for k, n in shapes.ffn) / tp + \
            moe * sum(k + n for k, n in shapes.expert) * (shapes.experts / ep + shapes.shared) / tp
        state = state + rows_cols * opt["moment_bytes"] * (t_dense / np.maximum(dense, 1.0)) / \
            np.where(zero >= 1, dense_group, 1)
    # activations of one microbatch on this stage, times the microbatches in flight
    shape = dict(tp=tp, cp=cp, sp=sp, flash=flash, dropout=dropout, a=w)
    act = layers * layer_activations(m, tokens, seq, mode=mode, **shape)
    if mode == "full":      # while a layer is recomputed, its full set of activations is live once
        act = act + layer_activations(m, tokens, seq, **shape)
    # fp32 logits of the vocabulary-parallel cross-entropy (Korthikanti: 4sbv/t)
    act = act + np.where(last, 4.0 * tokens / cp * V / tp, 0.0)
    if schedule == "dualpipe":      # each device holds two stages; PP + 1 microbatches (DeepSeek-V3, Table 2)
        in_flight = np.minimum(M, stages + 1)
        weights = weights * 2.0     # and two copies of the parameters
    else:                           # 1F1B and ZB-H1: stage i holds pp - i; interleaving adds (pp-1)/(pp v)
        in_flight = np.minimum(M, stages - i) * np.where(v > 1, 1.0 + (stages - 1) / (stages * v), 1.0)
    activations = act * in_flight
    # buffers: DDP gradient buckets (or FSDP's gathered units), pipeline send/receive of one microbatch
    per_layer_params = (attn + shapes.norms) + np.where(dense_layers > 0, dense_ffn, shared + routed + shapes.router)
    buffers = np.where(zero >= 3, FSDP_UNITS_IN_FLIGHT * per_layer_params * w,
                       np.where(dp * cp * ep > 1, DDP_BUCKET_BYTES, 0.0))
    buffers = buffers + np.where(pp > 1, 2.0 * tokens / cp * h * w / np.where(sp, tp, 1), 0.0)
    return StageMemory(layers, weights, grads, state, activations, buffers)


def _assumptions(opt, mode, zero, master, tune, adapters, sp, flash, pp, v, M, schedule) -> tuple[str, ...]:
    out = [f"optimizer {opt}: {OPTIMIZERS[opt]['source']}",
           f"recomputation '{mode}' (Korthikanti et al. 2022: none keeps every input backward reads, selective "
           "recomputes the attention core, full keeps each layer's input)",
           "FlashAttention: no s² scores stored" if flash else "attention scores stored (no FlashAttention)",
           "sequence parallelism: the norm and dropout activations sharded by tp" if sp else
           "no sequence parallelism: norm inputs and dropout masks replicated on every tp rank",
           ("ZeRO-0: every replica keeps full optimizer state, gradients and weights",
            "ZeRO-1: optimizer state sharded over the data-parallel group",
            "ZeRO-2: optimizer state and gradients sharded over the data-parallel group",
            "ZeRO-3 / FSDP: optimizer state, gradients and weights sharded; two layers gathered at a time")[zero],
           "an fp32 master copy of the trainable weights" if master else "no fp32 master copy",
           f"framework: {Stacks.pytorch_eager.runtime_source}"]
    if tune != "full":
        out.append(f"{tune}: rank-{adapters[0]} adapters on "
                   + ("the attention projections" if adapters[1] == "attention" else "every linear layer of the blocks")
                   + ", base frozen"
                   + (f"; base linears in NF4, {_BUFFERS['nf4_bits_per_parameter']['source']}" if tune == "qlora"
                      else ""))
    if schedule == "dualpipe":
        out.append("DualPipe (DeepSeek-V3 report, Table 2): two copies of the parameters, pp + 1 microbatches in "
                   "flight")
    elif pp > 1:
        out.append(f"{schedule}: stage i holds min({M}, pp - i) microbatches in flight"
                   + (f", x (1 + (pp-1)/(pp·{v})) interleaved (Korthikanti et al. 2022, 4.2.3)" if v > 1 else "")
                   + (" (ZB-H1 keeps 1F1B's memory, Qi et al. 2023)" if schedule == "zero_bubble" else ""))
    return tuple(out)


__all__ = ["TrainingMemoryModel", "TrainingMemoryResult", "StageMemory", "check_layout"]
