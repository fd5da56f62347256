"""What every workload family answers: its operators per phase, what it keeps in memory, its
KV-cache bytes, and what one tensor/pipeline/expert-parallel rank of it holds.

A family is behaviour, not data: the workload record (``models.types``) holds the shape and
names its family; the family reads the record. The engine, the serving and the training
models ask the family and never switch on the workload's type.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...errors import InputError
from ...execution import BARE, ExecutionProfile
from ...ops import OpBuilder, OpTable, train_step
from ...zoo.registry import load_data

#: what each optimizer keeps per trainable parameter (moments, their bytes, quantization blocks, factoring),
#: with sources: ``zoo/data/training.yaml``
OPTIMIZERS: dict = load_data("training")["optimizers"]
#: how much of its activations a training step recomputes in backward instead of keeping
RECOMPUTE_MODES = ("none", "selective", "full")


def optimizer_state_bytes(name: str, weight_bytes: float = 2.0, master: bool | None = None) -> float:
    """Resident optimizer bytes per trainable parameter: its moments (with their block scales) and, when
    ``master`` (default: the weights are narrower than fp32 and there is an optimizer), an fp32 master copy.
    Adafactor's factored row and column sums are a few bytes per matrix row: not counted per parameter
    (``TrainingMemoryModel`` counts them matrix by matrix)."""
    opt = OPTIMIZERS[name]
    moments = opt["moments"] * (opt["moment_bytes"] + (opt["block_bytes"] / opt["block"] if opt["block"] else 0.0))
    if master is None:
        master = weight_bytes < 4.0 and name != "none"
    return moments + (4.0 if master else 0.0)


def optimizer_step_bytes(name: str, weight_bytes: float = 2.0) -> float:
    """Memory traffic per parameter of one update: the state read and written, the weight and its
    gradient read."""
    return 2.0 * optimizer_state_bytes(name, weight_bytes) + 2.0 * weight_bytes


def recompute_mode(value) -> str:
    """``none``, ``selective`` or ``full``; the 0.1.0 flag maps True to ``selective``, False to ``none``."""
    if isinstance(value, bool):
        return "selective" if value else "none"
    if value in RECOMPUTE_MODES:
        return value
    raise InputError(f"recomputation must be one of {', '.join(RECOMPUTE_MODES)} (or True/False), got {value!r}")
#: the context a language model's step assumes when none is given
LM_CONTEXT = 2048


@dataclass(frozen=True, slots=True)
class TrainingState:
    """How a training step keeps its state: the optimizer, whether activations are recomputed, the
    ZeRO stage that shards state over ``dp`` data-parallel ranks, and whether only LoRA adapters train."""

    optimizer: str = "adam"
    recompute: str = "none"
    zero_stage: int = 0
    dp: int = 1
    lora: bool = False


@dataclass(frozen=True)
class Shard:
    """What one device holds: the view to time, its parameter count split dense/expert, its layers."""

    view: object
    dense_params: float
    expert_params: float
    layers: int
    moe_layers: int


class Family:
    """The base of every family: a workload known by totals, one fused operator per step."""

    name = "generic"
    #: the broad architecture class that published results (compression accuracy) are grouped by
    group = "opaque"
    #: counts tokens: a step has a sequence length, and prefill and decode phases exist
    language_model = False
    #: generates token by token from a KV cache: what LLM serving models
    decoder = False
    #: what one sample a data pipeline delivers is: "token", "image", or None (unknown)
    sample = None
    #: the context length a step assumes when none is given
    default_seq_len = 128
    #: carries a recurrent state of one size whatever the context (a state-space model): the context a decode
    #: step has seen changes nothing
    fixed_state = False

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<{self.name} family>"

    # -- phases -----------------------------------------------------------------------------------
    def default_phase(self, w, training: bool) -> str:
        return "train" if training else "forward"

    def check_phase(self, w, phase: str) -> None:
        if phase in ("prefill", "decode") and not self.language_model:
            raise InputError(f"phase '{phase}' needs a language model; {w.name} is not one")

    def throughput(self, phase: str, B, S):
        """(samples per step, what a sample is): tokens for decode and LM training."""
        if phase == "train" and self.language_model:
            return B * S, "tokens/s"
        return B, {"decode": "tokens/s", "prefill": "sequences/s"}.get(phase, "samples/s")

    # -- operators --------------------------------------------------------------------------------
    def lower(self, w, phase: str, B, S, p, *, past=0.0, stack: ExecutionProfile = BARE,
              training=TrainingState()) -> OpTable:
        """The operator table of one step: the forward pass, plus backward and update when training."""
        return self.operators(w, phase, B, S, p, past=past, stack=stack, training=training).table()

    def operators(self, w, phase: str, B, S, p, *, past=0.0, stack: ExecutionProfile = BARE,
                  training=TrainingState()) -> OpBuilder:
        """The operators of one step under ``stack`` (the kernels it launches and what it fuses), before
        they become a table (what :meth:`lower` and templates read)."""
        ops = OpBuilder(p)
        self.forward(ops, w, "prefill" if phase == "train" else phase, B, S, p, past=past, stack=stack,
                     logits_all=phase == "train")
        if phase == "train":
            forward = train_step(ops, w.parameter_count(), optimizer_step_bytes(training.optimizer, p.w),
                                 training.recompute == "full")
            gemms = [row for row in forward if row[1] == "gemm"]
            linears = sum(row[-1] for row in gemms)
            self.bias_gradients(ops, w, gemms, p)
            if p.w < 4 and not training.lora and np.any(np.asarray(linears) > 0):
                # mixed precision keeps fp32 master weights: each step casts every matmul's weights to the
                # matmul precision once (torch.autocast caches one cast per weight per forward pass); a MoE's
                # count of matmuls may vary over a sweep (the experts a batch reaches)
                ops.memory("amp_weight_cast", "elementwise",
                           w.parameter_count() * (4.0 + p.w) / np.maximum(linears, 1), count=linears)
        return ops

    def bias_gradients(self, ops: OpBuilder, w, gemms: list, p) -> None:
        """The kernels that reduce the biases' gradients over the tokens (a family without biases: none)."""

    def forward(self, ops: OpBuilder, w, phase, B, S, p, *, past, stack, logits_all) -> None:
        """A workload known only by FLOPs and bytes: one fused operator that reads its weights."""
        ops.add(w.name, "fused", 6, w.forward_flops() * B, self.weight_bytes(w, p) * self.weight_reads(w), B,
                0.0, 0.0, 1.0)

    def weight_reads(self, w) -> float:
        """How many times one inference reads the weights (a diffusion model: once per denoising step)."""
        return 1.0

    # -- memory -----------------------------------------------------------------------------------
    def weight_bytes(self, w, p) -> float:
        """The weights at the step's precision; a model known only by its size keeps that size."""
        return w.parameter_count() * p.w if w.parameters is not None else float(w.model_size or 0.0)

    def kv_cache_bytes(self, w, S, B, kv_bytes: float):
        """State kept per sequence between steps (none for a model without a cache)."""
        return 0.0

    def activation_bytes(self, w, phase, B, S, p, recompute: str):
        return 0.0

    def trainable_params(self, w, lora: bool) -> float:
        return w.parameter_count()

    def footprint(self, w, phase: str, B, S, p, training=TrainingState()) -> dict:
        """Resident bytes by part (arrays when B or S are): weights, KV cache, activations, gradients,
        optimizer state. ``S`` counts every token in the cache (cached and new)."""
        weights = self.weight_bytes(w, p)
        parts = {"weights": weights, "kv_cache": 0.0, "activations": 0.0, "gradients": 0.0, "optimizer": 0.0}
        if phase in ("prefill", "decode"):
            parts["kv_cache"] = self.kv_cache_bytes(w, S, B, p.kv_bytes)
        parts["activations"] = self.activation_bytes(w, phase, B, S, p, training.recompute)
        if phase == "train":
            trainable = self.trainable_params(w, training.lora)
            shard = float(training.dp)
            parts["gradients"] = trainable * p.w / (shard if training.zero_stage >= 2 else 1.0)
            parts["optimizer"] = trainable * optimizer_state_bytes(training.optimizer, p.w) / (
                shard if training.zero_stage >= 1 else 1.0)
            if training.zero_stage >= 3:
                parts["weights"] = weights / shard
        return parts

    # -- parallelism ------------------------------------------------------------------------------
    def check_layout(self, w, tp: int, pp: int, ep: int) -> None:
        """Refuse a tensor, pipeline or expert split the family cannot take."""
        if tp > 1 or pp > 1:
            raise InputError(f"tensor and pipeline parallelism are modelled for transformers; {w.name} "
                             f"can use data parallelism only (tp=1, pp=1)")
        if ep > 1:
            raise InputError(f"ep={ep} needs a mixture-of-experts model; {w.name} is dense (use ep=1)")

    def shard(self, w, tp: int, pp: int, ep: int, layers: int | None = None) -> Shard:
        """The heaviest pipeline stage's TP/EP shard (built once per split, so its lowering is reused); ``layers``
        the layers of that stage when the split is uneven."""
        return _shard(self, w, tp, pp, ep, layers)

    def split(self, w, tp: int, pp: int, ep: int, layers: int | None = None) -> Shard:
        """The shard itself: a data-parallel rank of a family not split by tp, pp or ep holds the whole model."""
        return Shard(w, w.parameter_count(), 0.0, 0, 0)

    def tp_all_reduces(self, w, layers: int) -> int:
        """All-reduces per forward pass a tensor-parallel rank joins (none: the family is not split by tp)."""
        return 0


@lru_cache(maxsize=512)
def _shard(family: Family, w, tp: int, pp: int, ep: int, layers: int | None) -> Shard:
    return family.split(w, tp, pp, ep, layers)
