"""LLM serving: time to first token, inter-token latency, memory, on the operator-level engine.

Prefill and decode are the engine's own phases; tensor parallelism times one shard of the
model and adds its all-reduces on the scale-up link; pipeline stages add their hand-offs.
Chunked prefill, prefix caching, disaggregated prefill/decode and speculative decoding are
compositions of those same engine calls, never a separate roofline.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine.engine import Engine, check_sizes, resolve_hardware, resolve_model
from ..errors import InputError, OOMError, UnsupportedPrecisionError
from ..hardware.types import PRECISION_BYTES, normalize_precision
from ..models.types import TransformerWorkload
from ..units import format_si, parse, quantity
from . import collectives as cc
from .base import Result, Solver, verdict
from .sharding import resident, shard_of

#: KV formats any device can store (and dequantize on the fly); 8- and 4-bit ones need the chip's support
_KV_ALWAYS = ("fp32", "fp16", "bf16")
#: the link a disaggregated deployment ships the KV cache over, when none is given: one InfiniBand NDR port
DEFAULT_KV_LINK = 50e9


@dataclass(frozen=True)
class ServingResult(Result):
    """SI floats (arrays when the batch size or context is an array)."""

    model_name: str
    hardware_name: str
    batch_size: object
    prompt_len: object
    output_len: object
    context_len: object
    tp: int
    pp: int
    ttft_s: object
    itl_s: object
    tokens_per_s: object
    request_latency_s: object
    weights_bytes: float
    kv_cache_bytes: object
    activation_bytes: object
    draft_bytes: object
    memory_capacity_bytes: float
    feasible: object
    kv_bytes_per_token: float
    prefill_bound: object
    decode_bound: object
    tp_comm_per_token_s: object
    prefill_chunks: int
    prefill_chunk_time_s: object
    decode_stall_bound_s: object
    kv_transfer_s: object
    cached_prefix_len: float
    tokens_per_step: float
    energy_per_token_j: object

    @property
    def memory_bytes(self):
        """Per device: weights, KV cache, activations and any draft model."""
        return self.weights_bytes + self.kv_cache_bytes + self.activation_bytes + self.draft_bytes

    @property
    def memory_utilization(self):
        return self.memory_bytes / self.memory_capacity_bytes

    @property
    def prompt_cache_hit_ratio(self):
        return self.cached_prefix_len / self.prompt_len

    # -- 0.1.0 names, with units ----------------------------------------------------------------
    @property
    def ttft(self): return quantity(self.ttft_s, "ms")
    @property
    def itl(self): return quantity(self.itl_s, "ms")
    @property
    def tokens_per_sec(self): return self.tokens_per_s
    @property
    def kv_cache_size(self): return quantity(self.kv_cache_bytes, "GB")
    @property
    def model_weights_size(self): return quantity(self.weights_bytes, "GB")
    @property
    def total_memory_required(self): return quantity(self.memory_bytes, "GB")
    @property
    def decode_stall_bound(self):
        return None if self.decode_stall_bound_s is None else quantity(self.decode_stall_bound_s, "ms")
    @property
    def prefill_chunk_time(self): return self.decode_stall_bound

    def summary(self) -> str:
        return (f"TTFT {format_si(float(np.max(self.ttft_s)), 's')}, ITL {format_si(float(np.max(self.itl_s)), 's')}, "
                f"{float(np.max(self.tokens_per_s)):,.0f} tokens/s, memory "
                f"{format_si(float(np.max(self.memory_bytes)), 'B')} of {format_si(self.memory_capacity_bytes, 'B')}")




class ServingModel(Solver):
    """How fast an LLM serves on a device (or a tensor/pipeline-parallel group of them) — wall 4."""

    walls = (4,)

    def solve(self, model, hardware, seq_len=None, batch_size=1, precision="fp16", efficiency=None, *,
              prompt_len=None, output_len=None, weight_precision=None, activation_precision=None,
              kv_precision=None, tp=1, pp=None,
              stack="compiled", prefill_chunk_tokens=None, cached_prefix_len=0, decode_hardware=None,
              kv_link_bandwidth=None, network_bandwidth=None, draft_model=None, draft_acceptance_rate=None,
              draft_len=4, raise_errors=False) -> ServingResult:
        """TTFT of a ``prompt_len`` prompt, ITL at a ``seq_len`` context, memory per device.

        Without ``prompt_len`` the prompt is ``seq_len`` tokens; with ``output_len``, ITL is taken
        at the mean context of the generation and ``request_latency_s`` covers all of it.
        ``pp=None`` picks the fewest pipeline stages that fit the weights.
        """
        model = resolve_model(model)
        if not isinstance(model, TransformerWorkload) or not model.is_decoder:
            raise InputError(f"{model.name} is not a decoder language model; serving needs one "
                             f"(use `mlsysim eval` for other workloads)")
        hw = resolve_hardware(hardware)
        B = check_sizes("batch_size", batch_size)
        P = check_sizes("prompt_len", prompt_len if prompt_len is not None else
                        (seq_len if seq_len is not None else 2048))
        gen = None if output_len is None else check_sizes("output_len", output_len)
        ctx = check_sizes("seq_len", seq_len) if seq_len is not None else (P if gen is None else P + gen / 2)
        window = model.context_length
        longest = P + (gen if gen is not None else 0)
        if window and np.any(np.maximum(longest, ctx) > window):
            raise InputError(f"a {np.max(np.maximum(longest, ctx)):g}-token sequence exceeds {model.name}'s "
                             f"context window of {window} tokens")
        cached = float(check_sizes("cached_prefix_len", cached_prefix_len, minimum=0.0))
        if np.any(cached >= P):
            raise InputError(f"cached_prefix_len ({cached:g}) must be shorter than the prompt ({np.min(P):g} tokens)")
        prec = normalize_precision(precision)
        kvprec = _kv_precision(hw, kv_precision or ("fp16" if prec in ("int4", "fp4") else prec))
        tp = int(check_sizes("tp", tp))
        if model.heads % tp:
            raise InputError(f"tp={tp} must divide {model.name}'s {model.heads} attention heads")
        kw = dict(precision=prec, efficiency=efficiency, weight_precision=weight_precision, kv_precision=kvprec,
                  activation_precision=activation_precision, stack=stack)
        pp, notes = _pipeline_depth(model, hw, tp, pp, prec, weight_precision, kvprec, B, max(np.max(longest),
                                                                                               np.max(ctx)))
        view, device = shard_of(model, tp, pp, 1).view, resident(hw)
        link_bw, link_alpha = _scale_up(hw)

        # prefill: the prompt's uncached tokens (in chunks, each attending to what came before)
        chunk = None if prefill_chunk_tokens is None else int(check_sizes("prefill_chunk_tokens",
                                                                          prefill_chunk_tokens))
        ttft, stall, n_chunks, prefill = self._prefill(view, device, B, P, cached, chunk, kw, model, tp, pp,
                                                       link_bw, link_alpha)
        # decode on the decode pool (disaggregated) or here
        dec_hw = hw if decode_hardware is None else resolve_hardware(decode_hardware)
        dec_view, dec_dev = (view, device) if decode_hardware is None else \
            (shard_of(model, tp, pp, 1).view, resident(dec_hw))
        tp_comm = _tp_comm(model, B, tp, pp, prec, link_bw, link_alpha) + _pp_comm(model, B, pp, link_bw, link_alpha)
        spec = None if draft_model is None else _Speculation(draft_model, draft_acceptance_rate, draft_len, notes)

        def per_token(context):
            """One generated token's latency at ``context``: a decode step, or a speculative round."""
            step = Engine.solve(dec_view, dec_dev, phase="decode", batch_size=B, seq_len=context, **kw)
            plain = step.latency_s * pp + tp_comm
            if spec is None:
                return plain, step
            return spec.per_token(dec_view, dec_dev, B, context, tp_comm, pp, kw), step

        itl, step = per_token(ctx)
        kv_transfer = 0.0
        if decode_hardware is not None:
            bw = parse(kv_link_bandwidth or network_bandwidth or DEFAULT_KV_LINK, "B/s", "kv_link_bandwidth",
                       positive=True)
            kv_transfer = model.kv_cache_bytes(P, B, kvprec) / bw
            ttft = ttft + kv_transfer
            notes.append(f"disaggregated: the prompt's KV cache crosses a {format_si(bw, 'B/s')} link to "
                         f"{dec_hw.name} before decoding")
        request = None
        if gen is not None:    # the mean context of the generation stands for its average step (ITL is ~linear)
            request = ttft + gen * (itl if seq_len is None else per_token(P + gen / 2)[0])
        draft_bytes = 0.0 if spec is None else spec.bytes(dec_dev, B, np.maximum(ctx, longest), kw)

        kv_dev = dec_view.kv_cache_bytes(np.maximum(ctx, longest), B, kvprec)
        weights = float(step.memory_parts["weights"])
        acts = step.memory_parts["activations"]
        capacity = float(dec_hw.memory.capacity)
        total = weights + kv_dev + acts + draft_bytes
        feasible = total <= capacity
        if raise_errors and np.any(~np.asarray(feasible)):
            need = float(np.max(total))
            raise OOMError(f"{model.name} needs {format_si(need, 'B')} per device but {dec_hw.name} has "
                           f"{format_si(capacity, 'B')}", required_bytes=need, available_bytes=capacity)
        notes += [f"tp={tp}: 2 all-reduces per layer on the {format_si(link_bw, 'B/s')} scale-up link"] if tp > 1 \
            else []
        binding = _binding(prefill.bottleneck, step.bottleneck, feasible)
        power = step.energy_j / step.latency_s * tp * pp          # the whole group, while decoding
        return ServingResult(
            model.name, hw.name if decode_hardware is None else f"{hw.name} -> {dec_hw.name}", B, P, gen, ctx, tp,
            pp,
            ttft, itl, B / itl, request, weights, kv_dev, acts, draft_bytes, capacity, verdict(feasible),
            model.kv_bytes_per_token(kvprec), prefill.bottleneck, step.bottleneck, tp_comm, n_chunks, stall, stall,
            kv_transfer, cached, 1.0 if spec is None else spec.expected, power * itl / B,
            assumptions=tuple(notes), binding=binding)

    # -- phases ------------------------------------------------------------------------------------
    @staticmethod
    def _prefill(view, device, B, P, cached, chunk, kw, model, tp, pp, link_bw, link_alpha):
        new = P - cached
        if chunk is None:
            prof = Engine.solve(view, device, phase="prefill", batch_size=B, seq_len=new, past_len=cached, **kw)
            comm = _tp_comm(model, B * new, tp, pp, kw["precision"], link_bw, link_alpha) + \
                _pp_comm(model, B * new, pp, link_bw, link_alpha)
            return prof.latency_s * pp + comm, None, 1, prof
        if isinstance(new, np.ndarray):
            raise InputError("chunked prefill takes one prompt length at a time")
        n = math.ceil(new / chunk)
        sizes = np.full(n, float(chunk))
        sizes[-1] = new - chunk * (n - 1)
        past = cached + chunk * np.arange(n, dtype=float)
        Bc = np.expand_dims(B, -1) if isinstance(B, np.ndarray) else B
        prof = Engine.solve(view, device, phase="prefill", batch_size=Bc, seq_len=sizes, past_len=past, **kw)
        comm = _tp_comm(model, Bc * sizes, tp, pp, kw["precision"], link_bw, link_alpha) + \
            _pp_comm(model, Bc * sizes, pp, link_bw, link_alpha)
        times = prof.latency_s * pp + comm
        full = times[..., :-1] if n > 1 else times
        return times.sum(axis=-1), full.max(axis=-1), n, _FirstChunk(prof)


class _Speculation:
    """A draft model proposes ``k`` tokens; the target verifies them in one pass (Leviathan et al. 2023).

    With each drafted token accepted with probability alpha, a round yields 1 + alpha + ... + alpha^k
    tokens, so acceptance 0 can only be slower than plain decoding.
    """

    def __init__(self, draft_model, alpha, k, notes):
        self.draft = resolve_model(draft_model)
        alpha = 0.7 if alpha is None else alpha
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
            raise InputError(f"draft_acceptance_rate must be in [0, 1], got {alpha!r}")
        self.k = int(check_sizes("draft_len", k))
        self.expected = self.k + 1.0 if alpha == 1.0 else (1.0 - alpha ** (self.k + 1)) / (1.0 - alpha)
        notes.append(f"speculative decoding: {self.draft.name} drafts {self.k} tokens, acceptance {alpha:g} -> "
                     f"{self.expected:.2f} tokens per target pass")

    def per_token(self, view, device, B, context, tp_comm, pp, kw):
        draft = Engine.solve(self.draft, device, phase="decode", batch_size=B, seq_len=context, **kw)
        verify = Engine.solve(view, device, phase="prefill", batch_size=B, seq_len=self.k + 1, past_len=context,
                              **kw)
        return (self.k * draft.latency_s + verify.latency_s * pp + tp_comm) / self.expected

    def bytes(self, device, B, context, kw):
        prof = Engine.solve(self.draft, device, phase="decode", batch_size=B, seq_len=context, **kw)
        return prof.memory_parts["weights"] + prof.memory_parts["kv_cache"]


class _FirstChunk:
    """The bound of a chunked prefill, read from its first chunk."""

    def __init__(self, prof):
        b = prof.bottleneck
        self.bottleneck = b if isinstance(b, str) else str(np.asarray(b).reshape(-1)[0])


def _kv_precision(hw, kv: str) -> str:
    kv = normalize_precision(kv)
    if kv not in _KV_ALWAYS and not hw.compute.rate(kv):
        ok = [p for p in ("fp8", "int8", "int4") if hw.compute.rate(p)]
        raise UnsupportedPrecisionError(f"{hw.name} has no {kv} support for the KV cache; use "
                                        f"{', '.join(list(_KV_ALWAYS[1:]) + ok)}")
    return kv


def _pipeline_depth(model, hw, tp, pp, prec, wprec, kvprec, B, context):
    """The pipeline depth: as given, or the fewest stages whose share of weights and KV fits one device."""
    notes = []
    if pp is not None:
        return int(check_sizes("pp", pp)), notes
    per_param = PRECISION_BYTES[normalize_precision(wprec or prec)]
    need = model.parameter_count() * per_param / tp + float(np.max(model.kv_cache_bytes(context, B, kvprec))) / tp
    stages = max(1, math.ceil(need / (0.9 * float(hw.memory.capacity))))
    if stages > model.layers:
        return model.layers, notes + [f"even one layer per stage does not fit {hw.name}"]
    if stages > 1:
        notes.append(f"weights and KV cache need {format_si(need, 'B')} per tensor-parallel rank: "
                     f"{stages} pipeline stages of {hw.name}")
    return stages, notes


def _scale_up(hw):
    """The link that tensor-parallel ranks share: NVLink-class if the chip has one, else PCIe."""
    link = hw.nvlink or hw.interconnect
    if link is None:
        return 64e9, cc.NVLINK_ALPHA
    return float(link.bandwidth), float(link.latency or cc.NVLINK_ALPHA)


def _tp_comm(model, tokens, tp, pp, prec, bw, alpha):
    """Two all-reduces per layer (after attention and after the MLP) of tokens x hidden activations."""
    if tp == 1:
        return 0.0
    nbytes = tokens * model.hidden_dim * min(PRECISION_BYTES[prec], 2.0)
    return 2 * model.layers * cc.ring_all_reduce(nbytes, tp, bw, alpha)


def _pp_comm(model, tokens, pp, bw, alpha):
    if pp == 1:
        return 0.0
    return (pp - 1) * cc.point_to_point(tokens * model.hidden_dim * 2.0, bw, alpha)


def _binding(prefill, decode, feasible) -> str:
    if not np.all(feasible):
        return "memory: weights and KV cache exceed the device"
    b = decode if isinstance(decode, str) else str(np.asarray(decode).reshape(-1)[0])
    return f"prefill {str(prefill).lower()}-bound, decode {b.lower()}-bound"
