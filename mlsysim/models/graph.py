"""Lowering: a workload and a phase become an operator table with real shapes.

Phases: ``forward`` (one inference: a CNN image, an encoder sequence), ``prefill`` (a prompt of
``seq_len`` tokens), ``decode`` (one new token per sequence against a ``seq_len`` context),
``train`` (forward, backward, optimizer step). Sizes may be NumPy arrays for sweeps.
"""
from __future__ import annotations

import numpy as np

from ..engine.ops import ATTN_DECODE, ATTN_PREFILL, CONV, DWCONV, FUSED, OpBuilder, OpTable
from ..hardware.types import PRECISION_BYTES
from .types import CNNWorkload, DiffusionWorkload, SparseTransformerWorkload, SSMWorkload, TransformerWorkload

PHASES = ("forward", "prefill", "decode", "train")
#: Adam with mixed precision: fp32 master, two fp32 moments, a 16-bit weight copy, read and written
OPTIMIZER_BYTES_PER_PARAM = {"adam": 4 * 3 * 2 + 2 + 2, "sgd": 4 * 2 * 2 + 2 + 2}


class Precisions:
    """Bytes per element of weights, activations and KV cache, and the compute precision name."""

    __slots__ = ("w", "a", "kv", "compute", "names")

    def __init__(self, weights: str, activations: str, kv: str, compute: str):
        self.w, self.a, self.kv = PRECISION_BYTES[weights], PRECISION_BYTES[activations], PRECISION_BYTES[kv]
        self.compute = compute
        self.names = (weights, activations, kv, compute)


def lower(model, phase: str, batch, seq_len, prec: Precisions, *, fuse_epilogues: bool = False,
          recompute: bool = False, optimizer: str = "adam", past_len=0) -> OpTable:
    """The operator table of ``model`` in ``phase``."""
    ops = OpBuilder(prec.compute, prec.a)
    fwd_phase = "prefill" if phase == "train" else phase
    if isinstance(model, TransformerWorkload):
        _transformer(ops, model, fwd_phase, batch, seq_len, prec, logits_all=phase == "train", past=past_len)
    elif isinstance(model, SSMWorkload):
        _ssm(ops, model, fwd_phase, batch, seq_len, prec)
    elif isinstance(model, CNNWorkload) and model.arch:
        _vision(ops, model, batch, prec, fuse_epilogues)
    else:
        _fused(ops, model, batch, prec)
    if phase == "train":
        _backward(ops, recompute)
        params = model.parameter_count()
        ops.memory("optimizer", "optimizer", params * OPTIMIZER_BYTES_PER_PARAM[optimizer], flops=10.0 * params)
    return ops.table()


# --- transformers ----------------------------------------------------------------------------
def _transformer(ops: OpBuilder, m: TransformerWorkload, phase, B, S, p: Precisions, logits_all=False, past=0):
    """Decode: one token against a context of S. Prefill: S new tokens after ``past`` already cached
    (a prefix-cache hit, an earlier chunk, or the context a speculative verification extends)."""
    h, H, KV, d, L = m.hidden_dim, m.heads, m.n_kv_heads, m.d_head, m.layers
    decode = phase == "decode"
    T = B * (1 if decode else S)                 # tokens processed this step
    a = p.a
    norm_cls = "norm"
    ops.memory("embedding", "embedding", T * h * (a + p.w))
    ops.memory("attn_norm", norm_cls, 2 * T * h * a, flops=4 * T * h, count=L)

    # attention projections
    if m.is_mla:
        _mla(ops, m, T, B, S, decode, p, past)
    else:
        ops.gemm("qkv_proj", T, (H + 2 * KV) * d, h, p.w, count=L)
        ops.memory("rope", "elementwise", 2 * T * (H + KV) * d * a, flops=3 * T * (H + KV) * d, count=L)
        for count, window in _attention_layers(m):
            ctx = S if window is None else np.minimum(S, window)
            if decode:
                kv_bytes = 2 * B * KV * ctx * d * p.kv
                ops.add("attention", "attention", ATTN_DECODE, 4.0 * B * H * ctx * d, kv_bytes + 2 * B * H * d * a,
                        1.0, ctx, d, B * KV, count)
            else:
                keys = S + past if window is None else np.minimum(S + past, window)
                flops = 4.0 * B * H * d * _attended_pairs(S, window, m.is_decoder, past)
                cached = 2 * B * KV * (keys - S if window is None else np.maximum(keys - S, 0)) * d * p.kv
                ops.add("attention", "attention", ATTN_PREFILL, flops, B * S * (2 * H + 2 * KV) * d * a + cached,
                        S, keys, d, B * H, count)
                ops.memory("kv_write", "kv_cache", 2 * B * S * KV * d * p.kv, count=count)
        ops.gemm("o_proj", T, h, H * d, p.w, count=L)
    ops.memory("residual", "elementwise", 3 * T * h * a, flops=T * h, count=2 * L)
    ops.memory("mlp_norm", norm_cls, 2 * T * h * a, flops=4 * T * h, count=L)

    # feed-forward: dense layers, then experts
    moe = isinstance(m, SparseTransformerWorkload)
    dense_layers = m.dense_layers if moe else L
    if dense_layers:
        _mlp(ops, "mlp", T, h, m.dense_ffn_dim() if not moe else (m.ffn_dim or m.dense_ffn_dim()),
             m.is_gated, p, dense_layers)
    if moe:
        _moe(ops, m, T, h, p, L - dense_layers)

    ops.memory("final_norm", norm_cls, 2 * T * h * a, flops=4 * T * h)
    if m.vocab_size and m.is_decoder:
        rows = T if logits_all else B                     # serving keeps only the last position's logits
        ops.gemm("lm_head", rows, m.vocab_size, h, p.w)


def _attention_layers(m: TransformerWorkload):
    """(layer count, window or None) groups: sliding-window layers attend to at most ``window`` tokens."""
    if not m.sliding_window:
        return ((m.layers, None),)
    if m.sliding_window_layers == "all":
        return ((m.layers, m.sliding_window),)
    windowed = m.layers // 2
    return ((windowed, m.sliding_window), (m.layers - windowed, None))


def _attended_pairs(S, window, causal: bool, past=0):
    """Query-key pairs S new tokens compute after ``past`` cached ones (causal: each row sees every
    earlier position, up to ``window`` of them)."""
    if not causal:
        return S * S if window is None else S * np.minimum(S, window)
    if window is None:
        return S * past + S * (S + 1) / 2
    return _window_sum(S + past, window) - _window_sum(past, window)


def _window_sum(n, w):
    """sum of min(j, w) for j = 1..n."""
    m = np.minimum(n, w)
    return m * (m + 1) / 2 + np.maximum(n - w, 0) * w


def _mla(ops: OpBuilder, m: TransformerWorkload, T, B, S, decode, p: Precisions, past=0):
    """Multi-head latent attention: the cache holds one compressed latent per token."""
    h, H, L = m.hidden_dim, m.heads, m.layers
    r, rope, nope = m.kv_lora_rank, m.qk_rope_head_dim or 0, m.qk_nope_head_dim or m.d_head
    v = m.v_head_dim or m.d_head
    if m.q_lora_rank:
        ops.gemm("q_down", T, m.q_lora_rank, h, p.w, count=L)
        ops.gemm("q_up", T, H * (nope + rope), m.q_lora_rank, p.w, count=L)
    else:
        ops.gemm("q_proj", T, H * (nope + rope), h, p.w, count=L)
    ops.gemm("kv_down", T, r + rope, h, p.w, count=L)
    if decode:
        # weights absorbed: scores and values are computed in the latent space
        ops.gemm("q_absorb", T, r, nope, p.w, G=H, count=L)
        kv_bytes = B * S * (r + rope) * p.kv
        ops.add("attention", "attention", ATTN_DECODE, 2.0 * B * H * S * (2 * r + rope), kv_bytes, H, S, r + rope,
                B, L)
        ops.gemm("v_absorb", T, v, r, p.w, G=H, count=L)
    else:
        ops.gemm("kv_up", T, H * (nope + v), r, p.w, count=L)
        flops = 2.0 * B * H * (nope + rope + v) * _attended_pairs(S, None, True, past)
        cached = B * past * (r + rope) * p.kv          # the cached latents, read and expanded
        ops.add("attention", "attention", ATTN_PREFILL, flops,
                B * S * H * (2 * (nope + rope) + 2 * v) * p.a + cached, S, S + past, nope + rope, B * H, L)
        ops.memory("kv_write", "kv_cache", B * S * (r + rope) * p.kv, count=L)
    ops.gemm("o_proj", T, h, H * v, p.w, count=L)


def _mlp(ops: OpBuilder, name, T, h, ffn, gated, p: Precisions, count, G=1.0, weight_elems=None):
    up = 2 * ffn if gated else ffn
    ops.gemm(f"{name}_up", T, up, h, p.w, count=count, G=G,
             weight_elems=None if weight_elems is None else weight_elems * up * h)
    ops.memory(f"{name}_act", "elementwise", (3 if gated else 2) * T * ffn * G * p.a, flops=5 * T * ffn * G,
               count=count)
    ops.gemm(f"{name}_down", T, h, ffn, p.w, count=count, G=G,
             weight_elems=None if weight_elems is None else weight_elems * ffn * h)


def _moe(ops: OpBuilder, m: SparseTransformerWorkload, T, h, p: Precisions, layers):
    """Routed experts as one grouped GEMM over the experts the batch's tokens touch."""
    E, k = m.experts, m.active_experts
    ffn = m.expert_ffn_dim or m.dense_ffn_dim()
    ops.gemm("router", T, E, h, p.w, count=layers)
    touched = E * (1.0 - (1.0 - k / E) ** T)       # expected distinct experts hit by T tokens
    rows = T * k / touched                          # tokens per touched expert
    _mlp(ops, "experts", rows, h, ffn, m.is_gated, p, layers, G=touched, weight_elems=touched)
    if m.shared_experts:
        _mlp(ops, "shared_expert", T, h, ffn * m.shared_experts, m.is_gated, p, layers)


# --- state-space models ----------------------------------------------------------------------
def _ssm(ops: OpBuilder, m: SSMWorkload, phase, B, S, p: Precisions):
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
    state = B * inner * n * 4.0                      # fp32 recurrent state, read and written per step
    ops.memory("selective_scan", "scan", 2 * state + 4 * T * inner * p.a, flops=9.0 * T * inner * n, count=L)
    ops.gemm("out_proj", T, h, inner, p.w, count=L)
    ops.memory("residual", "elementwise", 3 * T * h * p.a, count=L)
    if m.vocab_size:
        ops.gemm("lm_head", B, m.vocab_size, h, p.w)


# --- vision ----------------------------------------------------------------------------------
def _vision(ops: OpBuilder, m: CNNWorkload, B, p: Precisions, fuse_epilogues: bool):
    a, w = p.a, p.w
    for layer in m.layer_list():
        kind = layer.kind
        if kind == "conv":
            hw_out = layer.h_out * layer.w_out
            depthwise = layer.groups > 1 and layer.groups == layer.cin
            K = layer.cin // layer.groups * layer.k * (layer.kw or layer.k)
            nbytes = B * (layer.cin * layer.h_in * layer.w_in + layer.cout * hw_out) * a + layer.params * w
            ops.add(layer.name, "conv", DWCONV if depthwise else CONV, 2.0 * B * layer.macs, nbytes,
                    B * hw_out, layer.cout // layer.groups, K, layer.groups)
        elif kind == "linear":
            cin = layer.cin
            ops.gemm(layer.name, B * max(layer.tokens, 1), layer.cout, cin, w)
        elif kind == "attention":
            S, H, d = layer.tokens, layer.heads, layer.head_dim
            ops.add(layer.name, "attention", ATTN_PREFILL, 4.0 * B * H * S * S * d, 4 * B * S * H * d * a,
                    S, S, d, B * H)
        elif kind == "pool":
            ops.memory(layer.name, "pool", B * (layer.elements * 2 + layer.cin * layer.h_in * layer.w_in) * a)
        elif not fuse_epilogues:       # norm / act / residual add: own kernels, or folded into the conv epilogue
            reads = 2 if kind == "add" else 1
            ops.memory(layer.name, kind, B * layer.elements * (reads + 1) * a, flops=B * layer.elements)


# --- workloads known only by totals ----------------------------------------------------------
def _fused(ops: OpBuilder, m, B, p: Precisions):
    flops = m.forward_flops() * B
    weights = m.parameter_count() * p.w if m.parameters is not None else float(m.model_size or 0.0)
    steps = m.denoising_steps if isinstance(m, DiffusionWorkload) else 1
    ops.add(m.name, "fused", FUSED, flops, weights * steps, B, 0.0, 0.0, 1.0)


# --- training --------------------------------------------------------------------------------
def _backward(ops: OpBuilder, recompute: bool):
    """Backward pass: each GEMM twice (input and weight gradients), attention ~2.5x, memory ops 2x."""
    forward = list(ops.rows)
    for name, cls, kind, prec, flops, nbytes, M, N, K, G, count in forward:
        if cls == "gemm" or kind in (CONV, DWCONV):
            ops.add(f"{name}_dgrad", cls, kind, flops, nbytes, M, K if cls == "gemm" else N, N if cls == "gemm" else K,
                    G, count, prec)
            ops.add(f"{name}_wgrad", cls, kind, flops, nbytes, K if cls == "gemm" else N, N if cls == "gemm" else K,
                    M, G, count, prec)
        elif kind == ATTN_PREFILL:
            ops.add(f"{name}_bwd", cls, kind, 2.5 * flops, 2.0 * nbytes, M, N, K, G, count, prec)
        else:
            ops.add(f"{name}_bwd", cls, kind, flops, 2.0 * nbytes, M, N, K, G, count, prec)
    if recompute:
        for row in forward:
            ops.rows.append((f"{row[0]}_recompute",) + row[1:])
