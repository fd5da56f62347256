"""Decoder-only transformers (GPT, Llama, Qwen, ...): causal attention with a KV cache.

Per layer: a norm, the QKV projection (grouped-query heads), RoPE, attention (prefill: the
causal square, compute-bound; decode: one query row reading the whole cache, memory-bound),
the output projection, two residual adds, a second norm and the MLP (gated or not); then a
final norm and the LM head. This family is also the base of the encoder, MoE and MLA
families, which override the attention or the feed-forward block.
"""
from __future__ import annotations

import math

import numpy as np

from ...errors import InputError
from ...formulas.memory import kv_cache_si
from ...ops import ATTN_DECODE, ATTN_PREFILL, QUANTIZED_MATMUL, OpBuilder
from ...units import SIValue
from .base import LM_CONTEXT, Family, Shard

#: LoRA as a training run's ``lora`` flag means it: rank-16 adapters on the four attention projections (MLPerf
#: Training's llama2_70b_lora: adapter_dim 16, target_modules attention)
LORA_RANK = 16


class DecoderFamily(Family):
    name = "decoder"
    group = "transformer"
    language_model = True
    decoder = True
    sample = "token"
    default_seq_len = LM_CONTEXT

    def default_phase(self, w, training: bool) -> str:
        return "train" if training else "decode"

    # -- operators --------------------------------------------------------------------------------
    def forward(self, ops: OpBuilder, m, phase, B, S, p, *, past, stack, logits_all) -> None:
        """Decode: one token against a context of S. Prefill: S new tokens after ``past`` already cached
        (a prefix-cache hit, an earlier chunk, or the context a speculative verification extends). The
        kernels are those ``stack`` launches for each piece of a layer."""
        h, L = m.hidden_dim, m.layers
        kernels = stack.kernels
        decode = phase == "decode"
        T = B * (1 if decode else S)                 # tokens processed this step
        a = p.a
        training = logits_all                        # a training step computes every position's logits
        self.embed(ops, m, T, p, kernels, training)
        in_norm = kernels.residual == "in_norm"
        norm(ops, "attn_norm", T, h, m.norm, kernels, p, L, in_norm, training)
        self.attention(ops, m, T, B, S, decode, p, past, kernels, cache=self.decoder and not training)
        if not in_norm:
            ops.memory("residual", "elementwise", 3 * T * h * a, flops=T * h, count=2 * L)
        norm(ops, "mlp_norm", T, h, m.norm, kernels, p, L, in_norm, training)
        self.feed_forward(ops, m, T, p, kernels)
        norm(ops, "final_norm", T, h, m.norm, kernels, p, 1, in_norm, training)
        self.head(ops, m, T, B, p, logits_all)

    def embed(self, ops: OpBuilder, m, T, p, kernels, training: bool) -> None:
        """Token embeddings, plus learned position embeddings and their add where the model has them."""
        embeddings(ops, T, m.hidden_dim, p, 2 if m.positions == "learned" else 1, kernels, False, training)

    def attention(self, ops: OpBuilder, m, T, B, S, decode, p, past, kernels, cache: bool) -> None:
        """Grouped-query attention: QKV projection, RoPE, attention per window group, the cache write (when
        the step keeps a KV cache: serving, not training), output projection."""
        h, H, KV, d, L = m.hidden_dim, m.heads, m.n_kv_heads, m.d_head, m.layers
        a = p.a
        if kernels.qkv == "merged":
            linear(ops, "qkv_proj", T, (H + 2 * KV) * d, h, p, kernels, L)
        else:
            linear(ops, "q_proj", T, H * d, h, p, kernels, L)
            linear(ops, "kv_proj", T, KV * d, h, p, kernels, 2 * L)
        if m.positions == "rope":
            rope(ops, T, H, KV, d, a, kernels.rope, L)
        new = B * (1 if decode else S)                       # tokens whose keys and values are written
        written = 2 * new * KV * d * p.kv_bytes if cache and kernels.kv_write == "in_attention" else 0.0
        for count, window in attention_layers(m):
            ctx = S if window is None else np.minimum(S, window)
            if decode:
                kv_bytes = 2 * B * KV * ctx * d * p.kv_bytes
                ops.add("attention", "attention", ATTN_DECODE, 4.0 * B * H * ctx * d,
                        kv_bytes + 2 * B * H * d * a + written, 1.0, ctx, d, B * KV, count)
            else:
                keys = S + past if window is None else np.minimum(S + past, window)
                flops = 4.0 * B * H * d * attended_pairs(S, window, m.is_decoder, past)
                cached = 2 * B * KV * (keys - S if window is None else np.maximum(keys - S, 0)) * d * p.kv_bytes
                ops.add("attention", "attention", ATTN_PREFILL, flops,
                        B * S * (2 * H + 2 * KV) * d * a + cached + written, S, keys, d, B * H, count)
        if cache:
            kv_write(ops, B, new, S + (0 if decode else past), 2 * KV * d, p, kernels.kv_write, L)
        linear(ops, "o_proj", T, h, H * d, p, kernels, L)

    def feed_forward(self, ops: OpBuilder, m, T, p, kernels) -> None:
        mlp(ops, "mlp", T, m.hidden_dim, m.dense_ffn_dim(), m.is_gated, p, kernels, m.layers)

    def head(self, ops: OpBuilder, m, T, B, p, logits_all) -> None:
        """The LM head: every position's logits when training, then the loss over them in fp32 (transformers'
        ForCausalLMLoss upcasts the logits; Megatron's vocab-parallel cross-entropy runs in fp32); only the
        last position's logits when serving."""
        V = m.vocab_size
        if V:
            ops.gemm("lm_head", T if logits_all else B, V, m.hidden_dim, p.w)
            if logits_all:
                ops.memory("logits_fp32", "elementwise", T * V * (p.a + 4.0))
                ops.memory("cross_entropy", "softmax", 8.0 * T * V, flops=5.0 * T * V)

    def bias_gradients(self, ops: OpBuilder, m, gemms: list, p) -> None:
        """Where the projections carry biases, autograd sums each one's output gradient over the tokens: a
        reduction kernel per biased linear in the backward pass (the LM head has none)."""
        if m.linear_bias:
            for name, _, _, _, _, _, M, N, _, G, count in gemms:
                if name != "lm_head":
                    ops.memory(f"{name}_bias_grad", "norm", M * N * G * p.a, flops=M * N * G, count=count)

    # -- memory -----------------------------------------------------------------------------------
    def kv_bytes_per_layer_token(self, m, kv_bytes: float) -> float:
        """K and V of one token in one layer: the formula library's 2·L·H_kv·d_head·S·B·bytes at L = S = B = 1."""
        return kv_cache_si(1, m.n_kv_heads, m.d_head, 1, 1, kv_bytes)

    def kv_cache_bytes(self, m, S, B, kv_bytes: float):
        """KV-cache bytes for ``B`` sequences of ``S`` tokens (sliding-window layers capped at the window)."""
        per_layer = self.kv_bytes_per_layer_token(m, kv_bytes)
        if m.sliding_window:
            windowed = np.minimum(S, m.sliding_window)
            n_win = m.layers if m.sliding_window_layers == "all" else m.layers // 2
            tokens = n_win * windowed + (m.layers - n_win) * S
        else:
            tokens = m.layers * S
        return per_layer * tokens * B

    def activation_bytes(self, m, phase, B, S, p, recompute: str):
        h, L = m.hidden_dim, m.layers
        if phase == "train":            # every layer, the layer recomputed at a time, the fp32 logits
            kept = L * layer_activations(m, B * S, S, mode=recompute, a=p.a)
            working = layer_activations(m, B * S, S, a=p.a) if recompute == "full" else 0.0
            return kept + working + 4.0 * B * S * m.vocab_size
        tokens = B * (1 if phase == "decode" else S)
        ffn = m.ffn_dim or m.dense_ffn_dim()
        return tokens * (4 * h + 3 * ffn) * p.a + B * m.vocab_size * 4.0   # live buffers + fp32 logits

    def trainable_params(self, m, lora: bool) -> float:
        if lora:        # r x (inputs + outputs) per adapted projection
            return min(LORA_RANK * sum(k + n for k, n in m.attention_matrices()) * m.layers, m.parameter_count())
        return m.parameter_count()

    # -- parallelism ------------------------------------------------------------------------------
    def check_layout(self, m, tp: int, pp: int, ep: int) -> None:
        if tp > 1 and m.heads % tp:
            raise InputError(f"tp={tp} must divide {m.name}'s {m.heads} attention heads")
        if pp > 1 and pp > m.layers:
            raise InputError(f"pp={pp} exceeds {m.name}'s {m.layers} layers")
        if ep > 1:
            raise InputError(f"ep={ep} needs a mixture-of-experts model; {m.name} is dense (use ep=1)")

    def expert_params(self, m) -> float:
        """Parameters in routed experts (none in a dense model)."""
        return 0.0

    def split(self, m, tp: int, pp: int, ep: int, layers: int | None = None) -> Shard:
        """The heaviest pipeline stage's TP/EP shard: a transformer with 1/tp of the heads, the FFN width
        and the vocabulary, and 1/pp of the layers or ``layers`` of them (the end stages also hold an
        embedding matrix)."""
        P = m.parameter_count()
        h, L, V = m.hidden_dim, m.layers, m.vocab_size
        embed = V * h
        expert_total = self.expert_params(m)
        per_layer = max(P - embed * (1 if m.tied_embeddings else 2) - expert_total, 0.0) / L
        Ls = layers or math.ceil(L / pp)
        ends = P - expert_total - per_layer * L if pp == 1 else embed     # both vocab matrices, or one per end stage
        dense = (Ls * per_layer + ends) / tp
        expert = Ls * expert_total / L / (tp * ep)
        update = {"layers": Ls, "heads": m.heads // tp, "kv_heads": math.ceil(m.n_kv_heads / tp),
                  "head_dim": m.d_head, "ffn_dim": math.ceil(m.dense_ffn_dim() / tp),
                  "vocab_size": math.ceil(V / tp), "parameters": SIValue(dense + expert, "count")}
        update, moe_layers = self.shard_experts(m, update, Ls, tp, ep)
        return Shard(m.model_copy(update=update), dense, expert, Ls, moe_layers)

    def shard_experts(self, m, update: dict, layers: int, tp: int, ep: int) -> tuple[dict, int]:
        """The expert part of a shard's record (dense models have none)."""
        return update, 0

    def tp_all_reduces(self, m, layers: int) -> int:
        """All-reduces per forward pass a tensor-parallel rank joins: after attention and after the MLP."""
        return 2 * layers


def layer_activations(m, tokens, seq, *, tp=1, cp=1, sp=False, mode="none", flash=True, dropout=False, a=2.0):
    """Bytes one transformer layer keeps for backward for ``tokens`` tokens (of sequences of ``seq``) on one
    rank: Korthikanti et al. 2022 (section 4.1) written from the layer's shapes. ``none`` keeps every input
    the backward pass reads: the two norms' inputs and the residual branches' dropout masks (replicated over
    TP unless sequence parallelism shards them), the QKV and MLP inputs, Q, K, V, the output projection's
    input, the MLP's intermediates (a gated one keeps its gate and up outputs and the down projection's
    input), and without FlashAttention the softmax output (and its dropout); ``selective`` recomputes the
    attention core, so no s² term; ``full`` keeps only the layer's input. GPT-3's shapes give the paper's
    sbh(34/t + 5as/(ht))."""
    T = tokens / cp
    h = m.hidden_dim
    # sequence parallelism shards the replicated part by TP (a plain flag keeps this traceable as a polynomial)
    shard = (tp if sp else 1) if isinstance(sp, (bool, np.bool_)) else np.where(sp, tp, 1)
    if mode == "full":
        return a * T * h / shard
    if m.is_mla:
        qd = kvd = m.attention_params() / (4 * h)
    else:
        qd, kvd = m.heads * m.d_head, m.n_kv_heads * m.d_head
    mask = 1.0 if dropout else 0.0
    replicated = T * h * (4 * a + 2 * mask)
    attention = T * a * (2 * qd + 2 * kvd)
    per_ffn = (3.0 if m.is_gated else 2.0) * a
    experts = getattr(m, "experts", 0)
    if experts:
        width = m.expert_ffn_dim or m.dense_ffn_dim()
        mlp = T * (m.active_experts * (a * h + per_ffn * width) + m.shared_experts * per_ffn * width + 4.0 * experts)
    else:
        mlp = T * per_ffn * m.dense_ffn_dim()
    scores = 0.0
    if mode == "none":               # the softmax output (and its dropout's output and mask), or its statistics
        scores = m.heads * T * seq * (2 * a + 1.0 if dropout else a) if not flash else 4.0 * m.heads * T
    return replicated / shard + (attention + mlp + scores) / tp


def attention_layers(m):
    """(layer count, window or None) groups: sliding-window layers attend to at most ``window`` tokens."""
    if not m.sliding_window:
        return ((m.layers, None),)
    if m.sliding_window_layers == "all":
        return ((m.layers, m.sliding_window),)
    windowed = m.layers // 2
    return ((windowed, m.sliding_window), (m.layers - windowed, None))


def attended_pairs(S, window, causal: bool, past=0):
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


def embeddings(ops: OpBuilder, T, h, p, lookups: int, kernels, normalized: bool, training: bool) -> None:
    """``lookups`` embedding tables gathered for T tokens and summed (then LayerNorm-ed when
    ``normalized``): separate kernels, or one that gathers, sums and normalizes."""
    a = p.a
    if kernels.embedding == "fused":
        ops.memory("embedding", "embedding", T * h * (lookups * p.w + a), flops=lookups * T * h)
        return
    ops.memory("embedding", "embedding", T * h * (a + p.w), count=lookups)
    if lookups > 1:
        ops.memory("embedding_add", "elementwise", 3 * T * h * a, flops=T * h, count=lookups - 1)
    if normalized:
        norm(ops, "embedding_norm", T, h, "layernorm", kernels, p, 1, False, training)


def norm(ops: OpBuilder, name, T, h, kind, kernels, p, count, residual: bool, training: bool = False) -> None:
    """A norm over T tokens of width h: one kernel (reading the residual too when it adds it), or an
    RMSNorm written as fp32 tensor operations (cast, square, mean, add eps and rsqrt per token, scale,
    cast back, weight: 8 kernels). An eager stack training under autocast runs a LayerNorm in fp32: a cast
    in, the norm in fp32, a cast back where the next matmul takes its input (torch.autocast's fp32 ops)."""
    a, x = p.a, T * h
    if kernels.norm != "fp32_chain" or (kind == "layernorm" and not training):
        ops.memory(name, "norm", (4 if residual else 2) * x * a, flops=(5 if residual else 4) * x, count=count)
        return
    ops.memory(f"{name}_cast", "elementwise", x * (a + 4.0), count=2 * count)      # to fp32 and back
    if kind == "layernorm":
        ops.memory(name, "norm", 8.0 * x, flops=4 * x, count=count)
    else:
        ops.memory(f"{name}_square_scale", "elementwise", 8.0 * x, flops=x, count=2 * count)
        ops.memory(f"{name}_mean", "norm", 4.0 * x, flops=x, count=count)
        ops.memory(f"{name}_rsqrt", "elementwise", 8.0 * T, flops=T, count=2 * count)
        ops.memory(f"{name}_weight", "elementwise", 3.0 * x * a, flops=x, count=count)


def linear(ops: OpBuilder, name, T, N, K, p, kernels, count, G=1.0, weight_elems=None) -> None:
    """A linear layer (G of them side by side for experts), and the kernels that quantize its input:
    an 8-bit matmul takes an 8-bit input; a stack may quantize activations for narrow weights too."""
    ops.gemm(name, T, N, K, p.w, count=count, G=G, weight_elems=weight_elems)
    if p.compute in QUANTIZED_MATMUL:
        quant = kernels.low_bit_input_quant
    else:
        quant = kernels.weight_only_input_quant if p.w < 2 else 0
    if quant:
        ops.memory(f"{name}_input_quant", "elementwise", T * K * G * (p.a + 1.0), flops=T * K * G,
                   count=quant * count)


def rope(ops: OpBuilder, T, H, KV, d, a, how: str, count) -> None:
    """Rotary position embedding of T tokens' query and key heads."""
    if how == "in_attention":
        return
    if how == "eager":           # per tensor: neg, cat, two multiplies, an add; cos/sin tables per step
        for name, heads in (("rope_q", H), ("rope_k", KV)):
            ops.memory(name, "elementwise", 2 * T * heads * d * a, flops=T * heads * d, count=5 * count)
        ops.memory("rope_tables", "elementwise", 8.0 * T * d, flops=T * d, count=8)
    elif how == "per_tensor":
        for name, heads in (("rope_q", H), ("rope_k", KV)):
            ops.memory(name, "elementwise", 2 * T * heads * d * a, flops=3 * T * heads * d, count=count)
    else:
        ops.memory("rope", "elementwise", 2 * T * (H + KV) * d * a, flops=3 * T * (H + KV) * d, count=count)


def kv_write(ops: OpBuilder, B, new, held, entry, p, how: str, count) -> None:
    """Writing ``new`` tokens' cache entries (``entry`` elements per token: keys and values) into the
    cache of B sequences that then holds ``held`` tokens each; concatenation copies the whole cache
    every step. Two kernels (keys and values) except a paged write."""
    kv = p.kv_bytes
    if how == "concat":
        ops.memory("kv_concat", "kv_cache", B * held * entry * kv, count=2 * count)
    elif how == "slice":
        ops.memory("kv_write", "kv_cache", new * entry * (p.a + kv) / 2, count=2 * count)
    elif how == "paged":
        ops.memory("kv_write", "kv_cache", new * entry * (p.a + kv), count=count)


def mlp(ops: OpBuilder, name, T, h, ffn, gated, p, kernels, count, G=1.0, weight_elems=None) -> None:
    """Up (gate and up when gated: one GEMM or two) projection, activation (and the gating multiply, one
    kernel or two; none when an ungated one runs in the up GEMM's epilogue), down projection; G independent
    experts."""
    per_matrix = None if weight_elems is None else weight_elems * ffn * h
    if gated and kernels.gate_up == "separate":
        linear(ops, f"{name}_gate_up", T, ffn, h, p, kernels, 2 * count, G, per_matrix)
    else:
        up = 2 * ffn if gated else ffn
        linear(ops, f"{name}_up", T, up, h, p, kernels, count, G, None if per_matrix is None else per_matrix * up / ffn)
    x = T * ffn * G
    if not gated and kernels.activation == "epilogue":
        pass
    elif gated and kernels.activation == "separate":
        ops.memory(f"{name}_act", "elementwise", 2 * x * p.a, flops=4 * x, count=count)
        ops.memory(f"{name}_gate_mul", "elementwise", 3 * x * p.a, flops=x, count=count)
    else:
        ops.memory(f"{name}_act", "elementwise", (3 if gated else 2) * x * p.a, flops=5 * x, count=count)
    linear(ops, f"{name}_down", T, h, ffn, p, kernels, count, G, per_matrix)
