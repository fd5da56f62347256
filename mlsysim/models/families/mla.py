"""Multi-head latent attention (DeepSeek-V2/V3): the KV cache holds one compressed latent per token.

Queries go through an optional low-rank projection; keys and values are compressed to a
``kv_lora_rank`` latent plus a shared RoPE key. In decode the up-projections are absorbed into
the query and output side, so attention reads only the latents; in prefill the latents are
expanded back to full keys and values. ``MLAMoEFamily`` is DeepSeek's combination with experts.
"""
from __future__ import annotations

from ...ops import ATTN_DECODE, ATTN_PREFILL, OpBuilder
from .decoder import DecoderFamily, attended_pairs, kv_write, linear
from .moe import MoEFamily


class MLAFamily(DecoderFamily):
    name = "mla"

    def attention(self, ops: OpBuilder, m, T, B, S, decode, p, past, kernels, cache: bool) -> None:
        h, H, L = m.hidden_dim, m.heads, m.layers
        r, rope, nope = m.kv_lora_rank, m.qk_rope_head_dim or 0, m.qk_nope_head_dim or m.d_head
        v = m.v_head_dim or m.d_head
        if m.q_lora_rank:
            linear(ops, "q_down", T, m.q_lora_rank, h, p, kernels, L)
            linear(ops, "q_up", T, H * (nope + rope), m.q_lora_rank, p, kernels, L)
        else:
            linear(ops, "q_proj", T, H * (nope + rope), h, p, kernels, L)
        linear(ops, "kv_down", T, r + rope, h, p, kernels, L)
        new = B * (1 if decode else S)
        written = new * (r + rope) * p.kv_bytes if cache and kernels.kv_write == "in_attention" else 0.0
        if decode:
            # weights absorbed: scores and values are computed in the latent space
            ops.gemm("q_absorb", T, r, nope, p.w, G=H, count=L)
            kv_bytes = B * S * (r + rope) * p.kv_bytes
            ops.add("attention", "attention", ATTN_DECODE, 2.0 * B * H * S * (2 * r + rope), kv_bytes + written, H,
                    S, r + rope, B, L)
            ops.gemm("v_absorb", T, v, r, p.w, G=H, count=L)
        else:
            linear(ops, "kv_up", T, H * (nope + v), r, p, kernels, L)
            flops = 2.0 * B * H * (nope + rope + v) * attended_pairs(S, None, True, past)
            cached = B * past * (r + rope) * p.kv_bytes          # the cached latents, read and expanded
            ops.add("attention", "attention", ATTN_PREFILL, flops,
                    B * S * H * (2 * (nope + rope) + 2 * v) * p.a + cached + written, S, S + past, nope + rope,
                    B * H, L)
        if cache:
            kv_write(ops, B, new, S + (0 if decode else past), r + rope, p, kernels.kv_write, L)   # latent + RoPE key
        linear(ops, "o_proj", T, h, H * v, p, kernels, L)

    def kv_bytes_per_layer_token(self, m, kv_bytes: float) -> float:
        return (m.kv_lora_rank + (m.qk_rope_head_dim or 0)) * kv_bytes


class MLAMoEFamily(MLAFamily, MoEFamily):
    """Latent attention and routed experts together (DeepSeek-V2/V3)."""

    name = "mla_moe"
