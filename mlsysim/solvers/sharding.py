"""Sharding a model over devices: what one tensor/pipeline/expert-parallel rank holds and computes.

A tensor-parallel shard of a transformer is itself a transformer with fewer heads, a narrower FFN
and a slice of the vocabulary; a pipeline stage has fewer layers. Timing that view on one device
is how every multi-device solver gets its per-device compute without re-deriving any roofline.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from ..models.types import SparseTransformerWorkload, TransformerWorkload
from ..units import SIValue


@dataclass(frozen=True)
class Shard:
    """What one device holds: the view to time, its parameter count split dense/expert, its layers."""

    view: object
    dense_params: float
    expert_params: float
    layers: int
    moe_layers: int


@lru_cache(maxsize=512)
def shard_of(model, tp: int, pp: int, ep: int) -> Shard:
    """The heaviest pipeline stage's TP/EP shard (cached, so repeated solves reuse its lowering)."""
    P = model.parameter_count()
    if not isinstance(model, TransformerWorkload):
        return Shard(model, P, 0.0, 0, 0)
    h, L, V = model.hidden_dim, model.layers, model.vocab_size
    embed = V * h
    moe = isinstance(model, SparseTransformerWorkload)
    e_ffn = (model.expert_ffn_dim or model.dense_ffn_dim()) if moe else 0
    expert_total = (L - model.dense_layers) * model.experts * model.ffn_matrices() * h * e_ffn if moe else 0.0
    per_layer = max(P - embed * (1 if model.tied_embeddings else 2) - expert_total, 0.0) / L
    Ls = math.ceil(L / pp)
    ends = P - expert_total - per_layer * L if pp == 1 else embed     # both vocab matrices, or one per end stage
    dense = (Ls * per_layer + ends) / tp
    expert = Ls * expert_total / L / (tp * ep)
    update = {"layers": Ls, "heads": model.heads // tp, "kv_heads": math.ceil(model.n_kv_heads / tp),
              "head_dim": model.d_head, "ffn_dim": math.ceil(model.dense_ffn_dim() / tp),
              "vocab_size": math.ceil(V / tp), "parameters": SIValue(dense + expert, "count")}
    moe_layers = 0
    if moe:
        dense_layers = min(Ls, round(model.dense_layers * Ls / L))
        moe_layers = Ls - dense_layers
        # a device computes top-k rows for each of its tokens, spread over at least k experts
        update |= {"experts": max(model.experts // ep, model.active_experts), "expert_ffn_dim": math.ceil(e_ffn / tp),
                   "dense_layers": dense_layers}
    return Shard(model.model_copy(update=update), dense, expert, Ls, moe_layers)


@lru_cache(maxsize=64)
def resident(hw):
    """The device with unbounded memory: the shard is timed as resident, and feasibility is
    judged here on the sharded footprint, which the engine cannot see from one device."""
    return hw.model_copy(update={"memory": hw.memory.model_copy(update={"capacity": float("inf")})})
