"""Mixture-of-experts transformers (Mixtral, DeepSeek, ...): all experts held, a few computed per token.

The feed-forward block of a MoE layer is a router and one grouped GEMM over the experts the
step's tokens touch (T tokens each routed to k of E experts touch E·(1 - (1 - k/E)^T) of them
on average), plus any shared experts every token passes through; the first ``dense_layers``
layers keep a dense MLP. Expert parallelism splits the experts over ``ep`` ranks.
"""
from __future__ import annotations

import math

from ...errors import InputError
from ...ops import OpBuilder
from .decoder import DecoderFamily, mlp

#: routing kernels per MoE layer: a grouped kernel's top-k softmax and token alignment (vLLM fused_moe:
#: topk_softmax, moe_align_block_size); an expert loop's softmax, top-k, renormalizing sum and divide,
#: cast and one-hot mask (transformers MixtralSparseMoeBlock)
ROUTING_KERNELS = {"grouped": 2, "loop": 6}


class MoEFamily(DecoderFamily):
    name = "moe"
    group = "moe"

    def feed_forward(self, ops: OpBuilder, m, T, p, kernels) -> None:
        if m.dense_layers:
            mlp(ops, "mlp", T, m.hidden_dim, m.ffn_dim or m.dense_ffn_dim(), m.is_gated, p, kernels, m.dense_layers)
        layers = m.layers - m.dense_layers
        E, k, h = m.experts, m.active_experts, m.hidden_dim
        ffn = self.expert_ffn(m)
        ops.gemm("router", T, E, h, p.w, count=layers)
        touched = E * (1.0 - (1.0 - k / E) ** T)        # expected distinct experts hit by T tokens
        rows = T * k / touched                           # tokens per touched expert
        if kernels.moe == "loop":
            # per touched expert: gather its tokens, its MLP, weight its output, scatter-add it back
            each = layers * touched
            ops.memory("routing", "softmax", T * E * (p.a + 4.0), flops=5 * T * E,
                       count=ROUTING_KERNELS["loop"] * layers)
            ops.memory("expert_gather", "elementwise", 2 * rows * h * p.a, count=each)
            mlp(ops, "experts", rows, h, ffn, m.is_gated, p, kernels, each)
            # the routing-weight multiply (2 tensors moved) and index_add_ (3): 2.5 per kernel on average
            ops.memory("expert_weight_add", "elementwise", 2.5 * rows * h * p.a, flops=rows * h, count=2 * each)
        else:
            ops.memory("routing", "softmax", T * E * (p.a + 4.0), flops=5 * T * E,
                       count=ROUTING_KERNELS["grouped"] * layers)
            mlp(ops, "experts", rows, h, ffn, m.is_gated, p, kernels, layers, G=touched, weight_elems=touched)
        if m.shared_experts:
            mlp(ops, "shared_expert", T, h, ffn * m.shared_experts, m.is_gated, p, kernels, layers)

    def expert_ffn(self, m) -> int:
        return m.expert_ffn_dim or m.dense_ffn_dim()

    def check_layout(self, m, tp: int, pp: int, ep: int) -> None:
        super().check_layout(m, tp, pp, 1)
        if ep > 1 and m.experts % ep:
            raise InputError(f"ep={ep} must divide {m.name}'s {m.experts} experts")

    def expert_params(self, m) -> float:
        return (m.layers - m.dense_layers) * m.experts * m.ffn_matrices() * m.hidden_dim * self.expert_ffn(m)

    def shard_experts(self, m, update: dict, layers: int, tp: int, ep: int) -> tuple[dict, int]:
        """A rank holds 1/ep of each MoE layer's experts (a device computes top-k rows for each of its
        tokens, so at least k), each 1/tp as wide."""
        dense_layers = min(layers, round(m.dense_layers * layers / m.layers))
        update |= {"experts": max(m.experts // ep, m.active_experts),
                   "expert_ffn_dim": math.ceil(self.expert_ffn(m) / tp), "dense_layers": dense_layers}
        return update, layers - dense_layers
