"""State-space language models (Mamba): a fixed-size recurrent state instead of a KV cache.

Per layer: a norm, the input projection, a short causal convolution, the x and dt
projections, the selective scan (reads and writes the fp32 state once per step), the output
projection and a residual add; then the LM head on the last position.
"""
from __future__ import annotations

from ...ops import OpBuilder
from .base import LM_CONTEXT, Family

#: bytes per element of the recurrent state, kept in fp32 whatever the weights are
STATE_BYTES = 4.0


class SSMFamily(Family):
    name = "ssm"
    group = "ssm"
    language_model = True
    sample = "token"
    default_seq_len = LM_CONTEXT
    fixed_state = True

    def default_phase(self, w, training: bool) -> str:
        return "train" if training else "decode"

    def forward(self, ops: OpBuilder, m, phase, B, S, p, *, past, stack, logits_all) -> None:
        h, L, inner, n = m.hidden_dim, m.layers, m.expand * m.hidden_dim, m.state_size
        T = B * (1 if phase == "decode" else S)
        dt_rank = -(-h // 16)
        ops.memory("embedding", "embedding", T * h * (p.a + p.w))
        ops.memory("norm", "norm", 2 * T * h * p.a, count=L)
        ops.gemm("in_proj", T, 2 * inner, h, p.w, count=L)
        ops.memory("conv1d", "elementwise", 2 * T * inner * p.a + inner * m.conv_kernel * p.w,
                   flops=2 * T * inner * m.conv_kernel, count=L)
        ops.gemm("x_proj", T, dt_rank + 2 * n, inner, p.w, count=L)
        ops.gemm("dt_proj", T, inner, dt_rank, p.w, count=L)
        state = B * inner * n * STATE_BYTES              # the recurrent state, read and written per step
        ops.memory("selective_scan", "scan", 2 * state + 4 * T * inner * p.a, flops=9.0 * T * inner * n, count=L)
        ops.gemm("out_proj", T, h, inner, p.w, count=L)
        ops.memory("residual", "elementwise", 3 * T * h * p.a, count=L)
        if m.vocab_size:
            ops.gemm("lm_head", B, m.vocab_size, h, p.w)

    def kv_cache_bytes(self, m, S, B, kv_bytes: float):
        """The recurrent state: the same size at any context length."""
        return B * m.layers * m.expand * m.hidden_dim * m.state_size * STATE_BYTES
