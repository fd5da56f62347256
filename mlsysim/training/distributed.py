"""One training step of a model spread over a fleet with tensor, pipeline, data and expert parallelism.

Each device runs a *sharded view* of the model (a TP shard is a transformer with 1/tp of the
heads, FFN width and vocabulary; a PP stage holds 1/pp of the layers), timed by the engine
like any other model; this module adds what the engine cannot see from one device: the
collectives between devices, the pipeline bubble, and how the sharding divides memory.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..engine.device import resident
from ..engine.engine import solve_step
from ..engine.timing import step_times
from ..errors import InputError
from ..formulas.training import bubble_fraction_si
from ..hardware.links import FABRIC_ALPHA, NVLINK_ALPHA
from ..models.families.base import LM_CONTEXT
from ..models.families.decoder import LORA_RANK
from ..run import DEFAULT_VIRTUAL_STAGES, Layout, Run, fraction, resolve_fleet, whole
from ..solver import Result, Solver, only_run, verdict
from ..units import format_si, quantity
from . import collectives as cc
from .memory import check_layout, chunked, microbatching, pipeline_schedule, training_memory
from .moe import routed_bytes
from .topology import bisection_fraction, effective_bandwidth

#: backward is twice the forward's GEMM work, so it is this share of a microbatch's compute
BACKWARD_SHARE = {False: 2 / 3, True: 3 / 4}       # with recomputation: 2 of 1 + 1 + 2
#: share of the data-parallel collective that overlapping can hide: the last gradient buckets
#: and the SMs NCCL takes from the GEMMs leave the rest exposed (published MLSys·im default)
DEFAULT_OVERLAP = 0.85
_LEGACY = {"tp_size": "tp", "pp_size": "pp", "ep_size": "ep", "dp_size": "dp", "microbatch_count": "microbatches",
           "gradient_accumulation_steps": "microbatches"}


@dataclass(frozen=True)
class DistributedResult(Result):
    """Per-step times (s), per-device memory (bytes) and fleet rates; arrays when batch_size is one."""

    step_time_s: object
    compute_time_s: object
    bubble_time_s: object
    bubble_fraction: object
    tp_comm_s: object
    pp_comm_s: object
    ep_comm_s: object
    dp_comm_s: object
    dp_exposed_s: object
    scaling_efficiency: object
    samples_per_s: object
    tokens_per_s: object                 # None for models without tokens
    mfu: object
    weights_b: object
    gradients_b: object
    optimizer_b: object
    activations_b: object
    memory_capacity_b: float
    feasible: object
    parallelism: dict
    #: the context-parallel ring's exposed time, hardware FLOPs utilization (recomputation counted), and the
    #: most loaded device's whole footprint (buffers and the framework's own included)
    cp_comm_s: object = 0.0
    hfu: object = None
    memory_total_b: object = None
    #: the software stack the step assumes (an execution profile's key, ``mlsysim.Stacks``)
    execution_profile: str = ""
    #: the engine's profile of one microbatch on the heaviest stage's shard (timed as resident)
    node_profile: object = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.pop("node_profile")
        return out

    @property
    def memory_per_device_b(self):
        if self.memory_total_b is not None:
            return self.memory_total_b
        return self.weights_b + self.gradients_b + self.optimizer_b + self.activations_b

    @property
    def communication_time_s(self):
        """Communication on the critical path (the hidden part of the DP collective excluded)."""
        return self.tp_comm_s + self.cp_comm_s + self.pp_comm_s + self.ep_comm_s + self.dp_exposed_s

    @property
    def step_time_range(self):
        """(low, high) seconds: the 10th-90th percentile band where a measured step time is expected, from the
        validation suite's training errors (``mlsysim.validation.bands``)."""
        from ..zoo.bands import band
        return band("training", self.step_time_s, self._device)

    @property
    def mfu_range(self):
        """(low, high) MFU (the training band, inverted: a longer step is a lower MFU)."""
        from ..zoo.bands import band
        return band("training", self.mfu, self._device, rate=True)

    @property
    def _device(self):
        return getattr(self.node_profile, "hardware_name", None)

    @property
    def comm_fraction(self):
        """The share of the step spent communicating."""
        return self.communication_time_s / self.step_time_s

    @property
    def comm_breakdown(self) -> dict:
        return {"dp": self.dp_exposed_s, "tp": self.tp_comm_s, "cp": self.cp_comm_s, "pp": self.pp_comm_s,
                "ep": self.ep_comm_s}

    # -- figures with units (and the 0.1.0 names) -----------------------------------------------
    @property
    def step_latency(self): return quantity(self.step_time_s, "s")
    step_latency_total = step_latency

    @property
    def compute_latency(self): return quantity(self.compute_time_s, "s")

    @property
    def communication_latency(self): return quantity(self.communication_time_s, "ms")

    @property
    def dp_communication_latency(self): return quantity(self.dp_comm_s, "ms")

    @property
    def tp_communication_latency(self): return quantity(self.tp_comm_s, "ms")

    @property
    def pp_communication_latency(self): return quantity(self.pp_comm_s, "ms")

    @property
    def ep_communication_latency(self): return quantity(self.ep_comm_s, "ms")

    @property
    def pipeline_bubble_latency(self): return quantity(self.bubble_time_s, "ms")

    @property
    def effective_throughput(self):
        """Tokens per second for language models, samples per second otherwise."""
        if self.tokens_per_s is None:
            return quantity(self.samples_per_s, "samples/s")
        return quantity(self.tokens_per_s, "tokens/s")

    @property
    def memory_per_device(self): return quantity(self.memory_per_device_b, "GB")

    memory_footprint = memory_per_device

    @property
    def memory_utilization(self): return self.memory_per_device_b / self.memory_capacity_b


@dataclass(frozen=True)
class _Links:
    """What one accelerator gets of its node's scale-up link and of the fabric (bytes/s, s)."""

    per_node: int
    intra_bw: float
    intra_alpha: float
    nic_bw: float
    fabric_alpha: float

    def over(self, span):
        """The link of a group spread over ``span`` consecutive ranks: inside the node when it fits (arrays
        welcome)."""
        inside = np.asarray(span) <= self.per_node
        return np.where(inside, self.intra_bw, self.nic_bw), np.where(inside, self.intra_alpha, self.fabric_alpha)


def _links(fleet, notes) -> _Links:
    node, fab = fleet.node, fleet.fabric
    g = node.accelerators_per_node
    port = min(float(fab.bandwidth), float(node.nic_bandwidth or math.inf))
    nic = port * min(1.0, node.nics_per_node / g) / fab.oversubscription_ratio    # NIC ports shared by g
    if not fab.latency:
        notes.append(f"fabric latency not given; {format_si(FABRIC_ALPHA, 's')} assumed")
    return _Links(g, float(node.intra_node_bw) or nic,                            # no scale-up link: the NIC
                  float(getattr(node.scale_up, "latency", None) or NVLINK_ALPHA), nic,
                  float(fab.latency or FABRIC_ALPHA))


class DistributedModel(Solver):
    """Step time, scaling efficiency and per-device memory of training over TP × CP × PP × DP × EP (wall 14)."""

    walls = (14,)
    needs = ("model", "fleet", "batch_size")

    def solve(self, model, fleet=None, batch_size=None, seq_len=LM_CONTEXT, precision="bf16", tp=1, pp=1, dp=None, ep=1,
              microbatches=None, zero_stage=0, activation_recomputation=None, overlap=DEFAULT_OVERLAP,
              v_stages=None, efficiency=None, is_lora=False, moe_routing_imbalance_factor=1.0,
              congestion_factor=1.0, straggler_factor=1.0, *, cp=1, recompute=None, optimizer="adam",
              layers_per_stage=None, schedule=None, ep_overlap=None, tp_overlap=0.0, stack=None,
              **legacy) -> DistributedResult:
        """One optimizer step of ``batch_size`` sequences (global) of ``seq_len`` tokens.

        ``model`` may be a training :class:`~mlsysim.run.Run` on a fleet. ``tp × cp × pp × dp × ep`` must
        equal the fleet's accelerators (``dp`` defaults to what is left); ``batch_size`` defaults to one
        sequence per replica per microbatch and ``pp`` microbatches (the fewest that fill a 1F1B pipeline).
        ``microbatches`` per step per replica default to one sequence each when ``pp > 1`` and to one
        otherwise. ``layers_per_stage`` splits the layers unevenly; ``schedule`` is ``1f1b``,
        ``interleaved`` (with ``v_stages``, default 2 as in TorchTitan), ``zero_bubble`` or ``dualpipe``.
        ``recompute`` is ``none``, ``selective`` or ``full`` (``activation_recomputation=True`` is 0.1.0's
        selective). ``overlap`` is the share of the data-parallel collective allowed to hide behind
        backward compute, ``ep_overlap`` that of the expert all-to-all (default: none, all of it under
        DualPipe), ``tp_overlap`` that of the tensor-parallel collectives behind the layer's GEMMs
        (Transformer Engine's userbuffers, Megatron-LM's ``--tp-comm-overlap``; default none). 0.1.0
        names (``tp_size``, ``microbatch_count``, ``overlap_comm`` ...) are accepted.
        """
        tp, pp, dp, ep, microbatches, overlap = _legacy(legacy, tp, pp, dp, ep, microbatches, overlap)
        if recompute is not None and activation_recomputation is not None:
            raise InputError("give recomputation once: recompute='none'|'selective'|'full' (or the 0.1.0 "
                             "activation_recomputation flag)")
        mode = recompute if recompute is not None else (activation_recomputation or False)
        taken = [f"{name} {value}" for name, value, unset in (
            ("recomputation", "none", recompute is None and activation_recomputation is None),
            ("optimizer", optimizer, optimizer == "adam"), ("ZeRO stage", zero_stage, zero_stage == 0),
            ("stack", "pytorch_eager (PyTorch with AMP)", stack is None),
            ("schedule", "1F1B" if v_stages in (None, 1) else "interleaved", schedule is None),
            ("virtual stages", f"{DEFAULT_VIRTUAL_STAGES} per device (TorchTitan's default for an interleaved "
             "schedule)", schedule == "interleaved" and v_stages is None),
            ("context parallelism", "none", cp == 1)) if unset]
        if batch_size is None and not isinstance(model, Run):
            taken.append("global batch: one sequence per replica per microbatch, pp microbatches")
        if isinstance(model, Run):
            taken = []
            only_run(DistributedModel.solve, {**locals(), "tp": tp, "pp": pp, "dp": dp, "ep": ep,
                                              "microbatches": microbatches, "activation_recomputation": None,
                                              "recompute": None})
            run = model
        else:
            if fleet is None:
                raise InputError("give the fleet (a Fleet, or a cluster name such as 'Lab_64_H100')")
            fleet = resolve_fleet(fleet)
            if batch_size is None:           # the degrees are checked before they size the default batch
                tp, cp, pp, ep = (whole(name, value) for name, value in (("tp", tp), ("cp", cp), ("pp", pp),
                                                                          ("ep", ep)))
                dp = None if dp is None else whole("dp", dp)
                batch_size = default_batch(fleet, tp, cp, pp, dp, ep)
            run = Run.build(model, fleet=fleet, training=True, batch_size=batch_size, seq_len=seq_len,
                            precision=precision, efficiency=efficiency, tp=tp, pp=pp, dp=dp, ep=ep, cp=cp,
                            microbatches=microbatches, v_stages=v_stages, zero_stage=zero_stage, recompute=mode,
                            optimizer=optimizer, lora=is_lora, layers_per_stage=layers_per_stage, schedule=schedule,
                            stack=stack)
        return train_step(run, overlap, moe_routing_imbalance_factor, congestion_factor, straggler_factor, ep_overlap,
                          tp_overlap,
                          defaults=("defaults taken: " + "; ".join(taken),) if taken else ())


def default_batch(fleet, tp, cp, pp, dp, ep) -> int:
    """The global batch a layout needs at least: one sequence per data-parallel replica per microbatch, and
    as many microbatches as pipeline stages."""
    model_parallel = tp * cp * pp * ep
    replicas = (dp if dp is not None else max(fleet.total_accelerators // model_parallel, 1)) * ep
    return replicas * pp


#: the pipeline bubble of each schedule, in microbatch slots (forward and backward of one microbatch on the
#: slowest stage), for pp stages and v virtual stages: 1F1B (p-1)/v (Narayanan et al. 2021); ZB-H1 a third of
#: it, its backward split into input and weight gradients (Qi et al. 2023, section 3); DualPipe
#: (p/2-1)(F&B + B - 3W) with F = W = B/2 (DeepSeek-V3 report, Table 2)
BUBBLE_SLOTS = {"1f1b": lambda p, v: (p - 1) / v, "interleaved": lambda p, v: (p - 1) / v,
                "zero_bubble": lambda p, v: (p - 1) / (3 * v), "dualpipe": lambda p, v: 2 * (p / 2 - 1) / 3}
#: the operators of the embedding (first stage) and of the LM head and loss (last stage), by name
_FIRST, _LAST = ("embedding",), ("final_norm", "lm_head", "logits_fp32", "cross_entropy")


def train_step(run: Run, overlap=DEFAULT_OVERLAP, moe_routing_imbalance_factor=1.0, congestion_factor=1.0,
               straggler_factor=1.0, ep_overlap=None, tp_overlap=0.0, defaults: tuple = ()) -> DistributedResult:
    """What ``DistributedModel.solve`` computes for a training run on a fleet; ``defaults`` says, in words,
    which defaults the caller took (they join the assumptions)."""
    if run.fleet is None:
        raise InputError("DistributedModel needs a fleet: build the run with fleet=... (a Fleet or a cluster name)")
    run.refuse("DistributedModel", "prompt_len", "output_len", "past_len", "site")
    model, fleet, hw, lay = run.workload, run.fleet, run.hardware, run.layout
    family = model.family
    N, notes = fleet.total_accelerators, []
    tp, cp, pp, dp, ep, v = lay.tp, lay.cp, lay.pp or 1, lay.dp, lay.ep, lay.v_stages
    zero_stage = lay.zero_stage
    if tp * cp * pp * dp * ep != N:
        raise InputError(f"tp×cp×pp×dp×ep = {tp}×{cp}×{pp}×{dp}×{ep} = {tp * cp * pp * dp * ep} must equal the {N} "
                         f"accelerators of {fleet.name}")
    family.check_layout(model, tp, pp, ep)
    g = fleet.node.accelerators_per_node
    if tp > g:
        raise InputError(f"tp={tp} exceeds the {g} accelerators {fleet.node.name} joins on its scale-up link; "
                         f"tensor parallelism all-reduces every layer, so keep tp <= {g}")
    lm = family.language_model
    if lm and not hasattr(model, "attention_matrices"):
        raise InputError(f"training at scale is modelled for transformers and vision models; {model.name} is a "
                         f"{model.architecture} (time one device's training step with Engine.solve(..., "
                         f"is_training=True), or eval without accelerators)")
    S = run.context if lm else None
    if cp > 1 and not lm:
        raise InputError(f"context parallelism splits sequences; {model.name} has none (use cp=1)")
    split = check_layout(model, tp, cp, pp, ep, v, lay.layers_per_stage, S) if lm else \
        (None if pp == 1 else _refuse_pp(model))
    schedule = pipeline_schedule(lay.schedule, pp, v)
    fraction("overlap", overlap)
    ep_hidden = (1.0 if schedule == "dualpipe" else 0.0) if ep_overlap is None else fraction("ep_overlap", ep_overlap)
    tp_hidden = fraction("tp_overlap", tp_overlap)
    for name, value in (("moe_routing_imbalance_factor", moe_routing_imbalance_factor),
                        ("congestion_factor", congestion_factor), ("straggler_factor", straggler_factor)):
        fraction(name, value, 1.0, math.inf)

    B = run.batch_size
    replicas = dp * ep                               # expert ranks also split the batch
    batches = np.atleast_1d(np.asarray(B, dtype=float))
    if np.any(batches % 1):
        raise InputError(f"batch_size must be a whole number of sequences, got {B!r}")
    plan = [microbatching(int(b), replicas, pp, lay.microbatches) for b in batches]
    M = np.array([x[0] for x in plan], dtype=float)
    mb = np.array([x[1] for x in plan], dtype=float)
    if np.ndim(B) == 0:
        M, mb = float(M[0]), float(mb[0])

    # compute: the heaviest stage's shard, one microbatch, timed by the engine
    p = run.precisions
    stage_layers = max(split) if split else None
    shard, device = family.shard(model, tp, pp, ep, stage_layers), resident(hw)
    one = run.at(hardware=device, fleet=None, phase="train", seq_len=S / cp if lm else S,
                 layout=Layout(dp=dp, zero_stage=zero_stage, recompute=lay.recompute, optimizer=lay.optimizer,
                               lora=lay.lora))
    prof = solve_step(one.at(workload=shard.view, batch_size=mb))
    t_first, t_last, t_opt_engine, t_attn, t_cast = _split_times(prof)
    t_mb_view = prof.latency_s - t_opt_engine        # forward and backward of one microbatch on the view
    # ring attention: each rank's queries meet every key of the sequence, cp times what the view at S/cp sees
    t_mb_view = t_mb_view + (cp - 1) * t_attn
    if split:                                        # the slowest stage: its layers, and an end's extra work
        per_layer = (t_mb_view - t_first - t_last - t_cast) / shard.layers
        stages = [n * per_layer + (t_first if i == 0 else 0.0) + (t_last if i == pp - 1 else 0.0)
                  for i, n in enumerate(split)]
        t_mb = (np.maximum.reduce(stages) if np.ndim(per_layer) else max(stages)) + t_cast
    else:
        t_mb = t_mb_view
    group = dp * cp * ep                             # dense parameters are replicated over these ranks
    t_opt = t_opt_engine / (group if zero_stage >= 1 else 1)

    # per-microbatch communication on the critical path: TP all-reduces, CP ring, PP messages, EP all-to-alls
    link = _links(fleet, notes)
    full = lay.recompute == "full"
    passes = 2 * (3 if full else 2)
    grads = prof.memory_parts["gradients"] * (dp if zero_stage >= 2 else 1)
    weights_bytes = prof.memory_parts["weights"] * (dp if zero_stage >= 3 else 1)
    topology_known = _topology_known(fleet.fabric.topology, notes) if ep > 1 else True
    bubble_slots = BUBBLE_SLOTS[schedule](pp, chunked(stage_layers, v) if split else v) if pp > 1 else 0.0
    t = step_terms(model, link, fleet.fabric.topology if topology_known else "fat-tree", p.a, S if lm else 1.0,
                   tp=tp, cp=cp, pp=pp, dp=dp, ep=ep, v=v, zero=zero_stage, full=full, M=M, mb=mb, t_mb=t_mb,
                   t_opt=t_opt, t_attn=t_attn, layers=shard.layers, moe_layers=shard.moe_layers,
                   tp_all_reduces=family.tp_all_reduces(model, 1), grads=grads, weights=weights_bytes,
                   expert_share=shard.expert_params / max(shard.dense_params + shard.expert_params, 1.0),
                   bubble_slots=bubble_slots, overlap=overlap, ep_hidden=ep_hidden, tp_hidden=tp_hidden,
                   imbalance=moe_routing_imbalance_factor, congestion=congestion_factor, straggler=straggler_factor)
    tp_mb, cp_mb, pp_mb, ep_mb = t["tp_mb"], t["cp_mb"], t["pp_mb"], t["ep_mb"]
    dp_comm, dp_exposed, compute, bubble, step = t["dp_comm"], t["dp_exposed"], t["compute"], t["bubble"], t["step"]

    memory = _memory(run, split, S, M, mb, schedule) if lm else None
    if memory is None:
        parts = prof.memory_parts
        in_flight = np.minimum(M, pp)
        weights, gradients, optimizer = parts["weights"], parts["gradients"], parts["optimizer"]
        activations = parts["activations"] / tp * in_flight
        total = weights + gradients + optimizer + activations
    else:
        weights, gradients, optimizer, activations, total = memory
    capacity = float(hw.memory.capacity)
    full_model = solve_step(one.at(batch_size=1, layout=Layout(recompute=lay.recompute)))
    peak = N * hw.peak_at(run.precision)
    per_sample = full_model.op_table.model_flops / (S / cp if lm else 1) * (S if lm else 1)
    mfu = per_sample * B / (step * peak)
    hfu = mfu * full_model.op_table.flops_total / full_model.op_table.model_flops
    samples, eff = B / step, compute / step
    terms = {"pipeline bubble": bubble, "tensor-parallel all-reduces": M * tp_mb, "context-parallel ring": M * cp_mb,
             "pipeline point-to-point": M * pp_mb, "expert all-to-all": M * ep_mb,
             "data-parallel gradient sync": dp_exposed}
    return DistributedResult(
        step_time_s=step, compute_time_s=compute, bubble_time_s=bubble,
        bubble_fraction=bubble_fraction_si(bubble_slots, M), tp_comm_s=M * tp_mb, pp_comm_s=M * pp_mb,
        ep_comm_s=M * ep_mb, dp_comm_s=dp_comm, dp_exposed_s=dp_exposed, cp_comm_s=M * cp_mb,
        scaling_efficiency=eff, samples_per_s=samples, tokens_per_s=samples * S if lm else None, mfu=mfu, hfu=hfu,
        weights_b=weights, gradients_b=gradients, optimizer_b=optimizer, activations_b=activations,
        memory_total_b=total, memory_capacity_b=capacity, feasible=verdict(total <= capacity),
        parallelism={"tp": tp, "cp": cp, "pp": pp, "dp": dp, "ep": ep, "microbatches": M, "microbatch_size": mb,
                     "v_stages": v, "zero_stage": zero_stage, "schedule": schedule, "recompute": lay.recompute,
                     "optimizer": lay.optimizer, "layers_per_stage": list(split) if split else None},
        execution_profile=run.profile.key, node_profile=prof,
        binding=_binding(total, capacity, hw.name, eff, step, terms, prof.bottleneck),
        assumptions=_assumptions(shard, link, passes, overlap, zero_stage, ep, schedule, ep_hidden, tp_hidden, cp,
                                 run.layout.microbatches is None, pp) + tuple(notes) + defaults)


def step_terms(model, link, topology, a, S, *, tp, cp, pp, dp, ep, v, zero, full, M, mb, t_mb, t_opt, t_attn, layers,
               moe_layers, tp_all_reduces, grads, weights, expert_share, bubble_slots, overlap, ep_hidden,
               tp_hidden=0.0, imbalance=1.0, congestion=1.0, straggler=1.0) -> dict:
    """The step's communication and its assembly, for one layout or many: every argument may be an array (the
    layout search evaluates thousands at once with the same formulas). ``t_mb`` is one microbatch's forward and
    backward on the slowest stage, ``t_attn`` the attention's share of it (the context-parallel ring hides
    behind it), ``grads`` and ``weights`` the bytes of the slowest stage's gradients and weights before any
    ZeRO sharding, ``tp_all_reduces`` per layer per forward pass."""
    hidden = getattr(model, "hidden_dim", 0)
    forward_passes = np.where(full, 3.0, 2.0)       # forward, backward, and the forward again to recompute
    passes = 2 * forward_passes
    tokens = mb * S / cp
    # TP all-reduces of the microbatch activations, on the critical path
    tp_mb = cc.tensor_parallel(tokens, hidden, a, tp, forward_passes * tp_all_reduces * layers, *link.over(tp))
    # ... less what hides behind the GEMMs (everything but attention) where the stack overlaps them
    tp_mb = tp_mb - np.minimum(tp_hidden * tp_mb, np.maximum(t_mb - cp * t_attn, 0.0))
    # CP: keys and values around the ring (and their gradients back), under each block's attention
    kv = tokens * 2 * getattr(model, "n_kv_heads", 1) * getattr(model, "d_head", hidden) * a / tp
    ring = (cp - 1) * cc.point_to_point(kv, *link.over(tp * cp))
    exposed = np.maximum(ring - t_attn * cp / np.maximum(layers, 1) / forward_passes, 0.0)
    cp_mb = np.where(cp > 1, (1 + forward_passes) * layers * exposed, 0.0)
    # PP: neighbouring stages lie tp×cp×ep×dp ranks apart; each TP rank sends its 1/tp slice
    pp_mb = np.where(pp > 1, 2 * v * cc.pipeline_hand_off(tokens, hidden / tp, a, *link.over(tp * cp * ep * dp + 1)),
                     0.0)
    # EP: dispatch and combine all-to-alls of the routed tokens; across nodes at the fabric's bisection
    bw, alpha = link.over(tp * ep)
    across = tp * ep > link.per_node
    bw = np.where(across, effective_bandwidth(bw, 1.0, bisection_fraction(topology, np.maximum(
        tp * ep // link.per_node, 1))), bw)
    routed = routed_bytes(tokens, hidden, a, getattr(model, "active_experts", 1), imbalance) / tp
    ep_mb = np.where(ep > 1, (1.0 - ep_hidden) * passes * moe_layers * cc.all_to_all(routed, ep, bw, alpha), 0.0)
    tp_mb, cp_mb, pp_mb, ep_mb = (x * congestion for x in (tp_mb, cp_mb, pp_mb, ep_mb))
    # DP: gradients reduced and, with ZeRO, parameters gathered; a ring all-reduce is a reduce-scatter then an
    # all-gather, so each of those costs half of it
    reduce = _dp_all_reduce(grads, expert_share, tp, dp * cp, ep, link)
    gather_twice = _dp_all_reduce(weights, expert_share, tp, dp * cp, ep, link)
    per_mb = np.where(zero == 3, gather_twice + reduce / 2, np.where(zero == 2, reduce / 2, 0.0)) * congestion
    per_step = np.where(zero == 3, 0.0, np.where(zero == 2, reduce / 2, reduce)) * congestion
    backward = np.where(full, BACKWARD_SHARE[True], BACKWARD_SHARE[False]) * t_mb
    mb_window = np.where(zero == 3, t_mb, backward)    # ZeRO-3 prefetches gathers under the whole pass
    dp_comm = M * per_mb + per_step
    dp_exposed = M * (per_mb - np.minimum(overlap * per_mb, mb_window)) + per_step - \
        np.minimum(overlap * per_step, backward)
    # the pipeline: M microbatch slots, plus the schedule's bubble
    slot = t_mb + tp_mb + cp_mb + pp_mb + ep_mb
    bubble = bubble_slots * slot
    step = (M * slot + bubble + t_opt + dp_exposed) * straggler
    return {"tp_mb": tp_mb, "cp_mb": cp_mb, "pp_mb": pp_mb, "ep_mb": ep_mb, "dp_comm": dp_comm,
            "dp_exposed": dp_exposed, "compute": M * t_mb + t_opt, "bubble": bubble, "step": step}


def _topology_known(topology, notes) -> bool:
    try:
        bisection_fraction(topology, 2)
        return True
    except InputError:
        notes.append(f"topology '{topology}' not recognised; full bisection assumed")
        return False


def _refuse_pp(model):
    raise InputError(f"pipeline parallelism splits a transformer's layers; {model.name} takes data parallelism "
                     f"only (pp=1)")


def _split_times(prof) -> tuple:
    """Seconds of one microbatch's view spent on the first stage's own work (the embedding), on the last
    stage's (final norm, LM head, loss), on the optimizer, in attention (forward and backward), and casting
    the fp32 master weights (which scales with the parameters a stage holds, not its layers); arrays for a
    batch sweep."""
    ops = prof.op_table
    busy, overhead = step_times(*(np.asarray(a) for a in prof.op_times), prof.execution_profile)
    t = (busy + overhead) * np.asarray(ops.count)
    masks = _part_masks(ops.names, ops.classes)
    return tuple(t[mask].sum(axis=0) for mask in masks)


@lru_cache(maxsize=256)
def _part_masks(names: tuple, classes: tuple) -> tuple:
    names, classes = np.array(names), np.array(classes)
    opt = classes == "optimizer"
    first = np.char.startswith(names, _FIRST[0]) & ~opt
    last = np.zeros(len(names), dtype=bool)
    for prefix in _LAST:
        last |= np.char.startswith(names, prefix)
    last &= ~opt & ~first
    attn = (classes == "attention") & ~first & ~last & ~opt
    cast = np.char.startswith(names, "amp_weight_cast")
    return first, last, opt, attn, cast


def _memory(run, split, S, M, mb, schedule):
    """(weights, gradients, optimizer, activations, total) bytes on the most loaded device, from the training
    memory model on the same layout (element by element for a batch sweep)."""
    lay = run.layout
    kw = dict(tp=lay.tp, cp=lay.cp, dp=lay.dp, ep=lay.ep, v=lay.v_stages, schedule=schedule, zero=lay.zero_stage,
              optimizer=lay.optimizer, mode=lay.recompute, precision=run.precision,
              finetune="lora" if lay.lora else "full", lora_rank=LORA_RANK, lora_targets="attention")
    if np.ndim(mb) == 0:
        r = training_memory(run.workload, run.hardware, split, int(S), int(mb), int(M), **kw)
        return r.weights_b, r.gradients_b, r.optimizer_b, r.activations_b, r.total_b
    rs = [training_memory(run.workload, run.hardware, split, int(S), int(b), int(m), **kw) for b, m in zip(mb, M)]
    return tuple(np.array([getattr(r, f) for r in rs]) for f in ("weights_b", "gradients_b", "optimizer_b",
                                                                  "activations_b", "total_b"))


def _dp_all_reduce(nbytes, expert_share, tp, dp, ep, link):
    """Dense parameters are replicated over dp×ep ranks, experts over dp: a hierarchical all-reduce for each
    (arrays welcome)."""
    t = 0.0
    for share, ranks, span in ((1 - expert_share, dp * ep, tp), (expert_share, dp, tp * ep)):
        local = np.minimum(ranks, np.maximum(1, link.per_node // span))      # group members sharing a node
        nodes = np.ceil(ranks / local)
        t = t + np.where(share > 0, cc.hierarchical_all_reduce(nbytes * share, local, nodes, link.intra_bw,
                                                               link.nic_bw, link.intra_alpha, link.fabric_alpha), 0.0)
    return t


def _assumptions(shard, link, passes, overlap, zero_stage, ep, schedule, ep_hidden, tp_hidden, cp,
                 default_microbatches, pp) -> tuple[str, ...]:
    zero = ("gradients all-reduced once per step",
            "gradients reduce-scattered and parameters all-gathered once per step",
            "gradients reduce-scattered per microbatch, parameters all-gathered per step",
            "parameters all-gathered twice and gradients reduce-scattered per microbatch")[zero_stage]
    out = (
        f"layout: tp innermost (inside a node of {link.per_node}), then cp, ep, dp, pp outermost; the slowest "
        f"pipeline stage ({shard.layers} layers, with the embedding or the LM head where it holds them) sets the pace",
        f"TP: {passes} ring all-reduces of the microbatch activations per layer per step (2 forward, 2 backward, "
        "2 more with full recomputation), on the critical path"
        + (f" but for {tp_hidden:.0%} of them, hidden behind the layers' GEMMs" if tp_hidden else ""),
        "sequence parallelism: activations shard by tp (Korthikanti et al. 2022)",
        f"PP schedule {schedule}: bubble of " + {"1f1b": "(p-1)/v", "interleaved": "(p-1)/v (v: the slowest "
                                                  "stage's layers over its largest virtual stage's)",
                                                  "zero_bubble": "(p-1)/(3v) (ZB-H1, Qi et al. 2023)",
                                                  "dualpipe": "2(p/2-1)/3 (DeepSeek-V3 report, Table 2)"}[schedule]
        + " microbatch slots; one activation and one gradient message per microbatch per virtual stage",
        f"DP: hierarchical all-reduce (reduce-scatter on the scale-up link, ring across nodes at "
        f"{format_si(link.nic_bw, 'B/s')} per accelerator, all-gather); up to {overlap:.0%} hidden behind the "
        "backward compute of the last microbatch (ZeRO-3 gathers: the whole pass)",
        f"ZeRO-{zero_stage}: {zero}",
        "communication at 16-bit (32-bit for fp32 training); no reduction-compute term; α–β model",
        "memory: TrainingMemoryModel on the same layout (the most loaded stage's device)",
    )
    if default_microbatches and pp > 1:
        out += ("microbatches: one sequence each (Megatron-LM's --micro-batch-size 1), as many as the per-replica "
                "batch",)
    if cp > 1:
        out += (f"CP: ring attention over {cp} ranks; each layer passes keys and values (forward) and their "
                "gradients (backward) around the ring, hidden behind the attention of each block where it is "
                "longer",)
    if ep > 1:
        out += (f"EP: {passes} all-to-alls (dispatch and combine, forward and backward) of top-k routed tokens per "
                f"MoE layer; across nodes at the fabric's bisection; {ep_hidden:.0%} hidden behind compute"
                + (" (DualPipe overlaps them with the other microbatch's computation)" if schedule == "dualpipe"
                   else ""),)
    return out


def _binding(memory, capacity, hw_name, eff, step, terms, bottleneck) -> str:
    """In words, for the configuration that scales worst (sweeps) or the only one."""
    i = int(np.argmin(eff)) if np.ndim(eff) else None

    def at(x):
        return float(np.asarray(x).flat[i]) if i is not None and np.ndim(x) else float(x)

    if np.any(memory > capacity):
        worst = float(np.max(memory))
        return f"memory: {format_si(worst, 'B')} per device exceeds the {format_si(capacity, 'B')} of {hw_name}"
    name, t = max(((k, at(v)) for k, v in terms.items()), key=lambda kv: kv[1])
    kind = bottleneck if isinstance(bottleneck, str) else np.asarray(bottleneck).flat[i or 0]
    lead = f"compute ({str(kind).lower()}-bound kernels, scaling efficiency {at(eff):.0%})"
    return f"{lead}; the largest overhead is the {name} at {t / at(step):.0%} of the step" if t > 0 else lead


def _legacy(legacy, tp, pp, dp, ep, microbatches, overlap):
    """Map the 0.1.0 argument names onto the current ones."""
    values = {"tp": tp, "pp": pp, "dp": dp, "ep": ep, "microbatches": microbatches}
    overlap_comm = legacy.pop("overlap_comm", None)
    overlap_eff = legacy.pop("overlap_efficiency", None)
    for old, value in legacy.items():
        if old not in _LEGACY:
            raise InputError(f"DistributedModel.solve got an unknown argument '{old}'")
        values[_LEGACY[old]] = value
    if overlap_comm is not None:
        overlap = (DEFAULT_OVERLAP if overlap_eff is None else overlap_eff) if overlap_comm else 0.0
    return values["tp"], values["pp"], values["dp"], values["ep"], values["microbatches"], overlap


__all__ = ["DistributedModel", "DistributedResult"]
