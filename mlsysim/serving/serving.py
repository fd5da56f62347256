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

from ..engine.device import resident
from ..engine.engine import figures_at
from ..errors import InputError, OOMError
from ..hardware.links import scale_up
from ..run import Layout, Run, check_sizes, resolve_hardware, whole
from ..solver import Result, Solver, only_run, verdict
from ..training.collectives import pipeline_hand_off, tensor_parallel
from ..units import format_si, parse, quantity
from .speculative import Speculation

#: the link a disaggregated deployment ships the KV cache over, when none is given: one InfiniBand NDR
#: port (400 Gb/s = 50 GB/s per direction)
DEFAULT_KV_LINK = 50e9
#: the share of a device's memory the automatic pipeline depth leaves for everything but weights and KV
PIPELINE_FILL = 0.9
_ONE_DEVICE = Layout()


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
    #: the stack's own device footprint (CUDA context, framework kernels: ``Stacks.<key>.runtime_bytes``)
    runtime_bytes: float
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
    #: the software stack the figures assume (an execution profile's key, ``mlsysim.Stacks``)
    execution_profile: str = ""
    #: the share of a decode step the devices compute or move memory (the rest is launch gaps)
    decode_busy_fraction: object = None

    @property
    def memory_bytes(self):
        """Per device: weights, KV cache, activations, any draft model, and the runtime itself."""
        return self.weights_bytes + self.kv_cache_bytes + self.activation_bytes + self.draft_bytes + \
            self.runtime_bytes

    @property
    def memory_utilization(self):
        return self.memory_bytes / self.memory_capacity_bytes

    @property
    def ttft_range(self):
        """(low, high) seconds: the 10th-90th percentile band where a measured TTFT is expected, from the
        validation suite's serving errors (``mlsysim.validation.bands``)."""
        from ..zoo.bands import band
        return band("serving", self.ttft_s, self.hardware_name)

    @property
    def itl_range(self):
        """(low, high) seconds of the inter-token latency (the serving band)."""
        from ..zoo.bands import band
        return band("serving", self.itl_s, self.hardware_name)

    @property
    def tokens_per_s_range(self):
        """(low, high) of the output tokens per second (the serving band, inverted)."""
        from ..zoo.bands import band
        return band("serving", self.tokens_per_s, self.hardware_name, rate=True)

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


@dataclass(frozen=True)
class ServingOptions:
    """What a deployment adds to a run: chunked prefill, a prefix-cache hit, a disaggregated decode
    pool and its link, speculative decoding. Every option is checked once and used, or refused."""

    prefill_chunk_tokens: int | None = None
    cached_prefix_len: float = 0.0
    decode_hardware: object = None
    kv_link_bandwidth: float | None = None
    speculation: Speculation | None = None

    @classmethod
    def build(cls, prefill_chunk_tokens=None, cached_prefix_len=0, decode_hardware=None, kv_link_bandwidth=None,
              draft_model=None, draft_acceptance_rate=None, draft_len=None) -> ServingOptions:
        if (prefill_chunk_tokens, decode_hardware, kv_link_bandwidth, draft_model, draft_acceptance_rate,
                draft_len) == _NONE and cached_prefix_len == 0:
            return _PLAIN
        if decode_hardware is None and kv_link_bandwidth is not None:
            raise InputError("kv_link_bandwidth is the link to a separate decode pool; give decode_hardware too")
        if draft_model is None and (draft_acceptance_rate is not None or draft_len is not None):
            raise InputError("draft_acceptance_rate and draft_len describe speculative decoding; give draft_model")
        return cls(None if prefill_chunk_tokens is None else whole("prefill_chunk_tokens", prefill_chunk_tokens),
                   float(check_sizes("cached_prefix_len", cached_prefix_len, minimum=0.0)),
                   None if decode_hardware is None else resolve_hardware(decode_hardware),
                   None if kv_link_bandwidth is None else parse(kv_link_bandwidth, "B/s", "kv_link_bandwidth",
                                                                positive=True),
                   None if draft_model is None else Speculation(draft_model, draft_acceptance_rate, draft_len))


_NONE = (None,) * 6
_PLAIN = ServingOptions()


class ServingModel(Solver):
    """How fast an LLM serves on a device (or a tensor/pipeline-parallel group of them) — wall 4."""

    walls = (4,)
    needs = ("model", "hardware")

    def solve(self, model, hardware=None, seq_len=None, batch_size=1, precision="fp16", efficiency=None, *,
              prompt_len=None, output_len=None, weight_precision=None, activation_precision=None,
              kv_precision=None, tp=1, pp=None, stack=None, prefill_chunk_tokens=None, cached_prefix_len=0,
              decode_hardware=None, kv_link_bandwidth=None, network_bandwidth=None, draft_model=None,
              draft_acceptance_rate=None, draft_len=None, raise_errors=False, options=None,
              runtime_overhead=None, calibration=None) -> ServingResult:
        """TTFT of a ``prompt_len`` prompt, ITL at a ``seq_len`` context, memory per device.

        ``model`` may be a :class:`~mlsysim.run.Run` carrying every run input. Without ``prompt_len`` the
        prompt is ``seq_len`` tokens; with ``output_len``, ITL is taken at the mean context of the
        generation and ``request_latency_s`` covers all of it. ``pp=None`` picks the fewest pipeline
        stages that fit the weights. ``network_bandwidth`` is the 0.1.0 name of ``kv_link_bandwidth``.
        ``options`` (a :class:`ServingOptions`) stands for the deployment keywords. ``runtime_overhead``
        replaces the stack's own device footprint (CUDA context, framework) in the memory fit; ``calibration``
        (a file ``mlsysim audit`` writes) the timing constants.
        """
        if isinstance(model, Run):
            only_run(ServingModel.solve, locals())
            run = model
        else:
            run = Run.build(model, hardware, purpose="serving", batch_size=batch_size, seq_len=seq_len,
                            prompt_len=prompt_len, output_len=output_len, precision=precision,
                            weight_precision=weight_precision, activation_precision=activation_precision,
                            kv_precision=kv_precision, stack=stack, efficiency=efficiency, tp=tp, pp=pp,
                            runtime_overhead=runtime_overhead, calibration=calibration)
        if options is None:
            if kv_link_bandwidth is not None and network_bandwidth is not None:
                raise InputError("give the KV link once: kv_link_bandwidth and network_bandwidth are synonyms")
            options = ServingOptions.build(prefill_chunk_tokens, cached_prefix_len, decode_hardware,
                                           kv_link_bandwidth if kv_link_bandwidth is not None else network_bandwidth,
                                           draft_model, draft_acceptance_rate, draft_len)
        elif (prefill_chunk_tokens, cached_prefix_len, decode_hardware, kv_link_bandwidth, network_bandwidth,
              draft_model, draft_acceptance_rate, draft_len) != (None, 0, None, None, None, None, None, None):
            raise InputError("give the deployment options once: as options=ServingOptions(...) or as keywords")
        return serve(run, options, raise_errors)


def serve(run: Run, options: ServingOptions = _PLAIN, raise_errors: bool = False) -> ServingResult:
    """The serving figures of ``run`` under ``options`` (what ``ServingModel.solve`` computes)."""
    lay = run.layout
    if run.fleet is not None or run.site is not None or lay.ep != 1 or lay.microbatches is not None or \
            lay.v_stages != 1 or _top(run.past_len):
        run.refuse("ServingModel", "fleet", "ep", "cp", "microbatches", "v_stages", "layers_per_stage", "schedule",
                   "past_len", "site")
    model, hw, p = run.workload, run.hardware, run.precisions
    family = model.family
    if not family.decoder:
        raise InputError(f"{model.name} is not a decoder language model; serving needs one "
                         f"(use `mlsysim eval` for other workloads)")
    B = run.batch_size
    P = run.prompt_len if run.prompt_len is not None else run.context
    gen = run.output_len
    ctx = run.seq_len if run.seq_len is not None else (P if gen is None else P + gen / 2)
    deepest = _larger(P + (gen if gen is not None else 0), ctx)     # the most tokens a sequence holds
    window = model.context_length
    if window and _top(deepest) > window:
        raise InputError(f"a {_top(deepest):g}-token sequence exceeds {model.name}'s context window of "
                         f"{window} tokens")
    cached = options.cached_prefix_len
    if cached and cached >= _least(P):
        raise InputError(f"cached_prefix_len ({cached:g}) must be shorter than the prompt ({_least(P):g} tokens)")
    tp = lay.tp
    pp, notes = _pipeline_depth(run, B, _top(deepest))
    family.check_layout(model, tp, pp, 1)
    view, device = family.shard(model, tp, pp, 1).view, resident(hw)
    step = run.at(workload=view, hardware=device, layout=_ONE_DEVICE, prompt_len=None, output_len=None,
                  phase="decode", batch_size=B, seq_len=ctx)          # the sizes are checked above
    link_bw, link_alpha = scale_up(hw) if tp > 1 or pp > 1 else (None, None)

    def comm(tokens):
        """Tensor-parallel all-reduces over every layer, and the hand-offs between pipeline stages."""
        if link_bw is None:
            return 0.0
        return tensor_parallel(tokens, model.hidden_dim, p.a, tp, family.tp_all_reduces(model, model.layers),
                               link_bw, link_alpha) + \
            ((pp - 1) * pipeline_hand_off(tokens, model.hidden_dim, p.a, link_bw, link_alpha) if pp > 1 else 0.0)

    # prefill: the prompt's uncached tokens (in chunks, each attending to what came before)
    ttft, stall, n_chunks, prefill_bound = _prefill(step, B, P, cached, options.prefill_chunk_tokens, pp, comm)
    # decode on the decode pool (disaggregated) or here
    dec_hw = hw if options.decode_hardware is None else options.decode_hardware
    dec_step = step if options.decode_hardware is None else step.on(resident(dec_hw))
    tp_comm = comm(B)
    spec = options.speculation
    if spec is not None:
        notes.append(spec.note)

    def per_token(context):
        """One generated token's latency at ``context``: a decode step, or a speculative round."""
        prof = figures_at(dec_step, "decode", B, context)
        plain = prof.latency_s * pp + tp_comm
        if spec is None:
            return plain, prof
        return spec.per_token(dec_step, B, context, tp_comm, pp), prof

    itl, decode = per_token(ctx)
    kv_transfer = 0.0
    if options.decode_hardware is not None:
        bw = options.kv_link_bandwidth or DEFAULT_KV_LINK
        kv_transfer = family.kv_cache_bytes(model, P, B, p.kv_bytes) / bw
        ttft = ttft + kv_transfer
        notes.append(f"disaggregated: the prompt's KV cache crosses a {format_si(bw, 'B/s')} link to "
                     f"{dec_hw.name} before decoding")
    request = None
    if gen is not None:    # the mean context of the generation stands for its average step (ITL is ~linear)
        request = ttft + gen * (itl if run.seq_len is None else per_token(P + gen / 2)[0])
    draft_bytes = 0.0 if spec is None else spec.bytes(dec_step, B, deepest)

    # the decode step's own footprint holds the KV cache at its context: the most a sequence holds, unless
    # the request generates past it
    kv_dev = decode.memory_parts["kv_cache"] if not isinstance(deepest, np.ndarray) and deepest == ctx else \
        family.kv_cache_bytes(view, deepest, B, p.kv_bytes)
    weights = float(decode.memory_parts["weights"])
    acts = decode.memory_parts["activations"]
    runtime = decode.memory_parts["runtime"]
    capacity = float(dec_hw.memory.capacity)
    total = weights + kv_dev + acts + draft_bytes + runtime
    feasible = total <= capacity
    if raise_errors and _top(total) > capacity:
        raise OOMError(f"{model.name} needs {format_si(_top(total), 'B')} per device but {dec_hw.name} has "
                       f"{format_si(capacity, 'B')}", required_bytes=_top(total), available_bytes=capacity)
    if tp > 1:
        notes.append(f"tp={tp}: 2 all-reduces per layer on the {format_si(link_bw, 'B/s')} scale-up link")
    power = decode.energy_j / decode.latency_s * tp * pp          # the whole group, while decoding
    return ServingResult.of({
        "model_name": model.name,
        "hardware_name": hw.name if options.decode_hardware is None else f"{hw.name} -> {dec_hw.name}",
        "batch_size": B, "prompt_len": P, "output_len": gen, "context_len": ctx, "tp": tp, "pp": pp,
        "ttft_s": ttft, "itl_s": itl, "tokens_per_s": B / itl, "request_latency_s": request,
        "weights_bytes": weights, "kv_cache_bytes": kv_dev, "activation_bytes": acts, "draft_bytes": draft_bytes,
        "runtime_bytes": runtime,
        "memory_capacity_bytes": capacity, "feasible": verdict(feasible),
        "kv_bytes_per_token": family.kv_cache_bytes(model, 1.0, 1.0, p.kv_bytes), "prefill_bound": prefill_bound,
        "decode_bound": decode.bottleneck, "tp_comm_per_token_s": tp_comm, "prefill_chunks": n_chunks,
        "prefill_chunk_time_s": stall, "decode_stall_bound_s": stall, "kv_transfer_s": kv_transfer,
        "cached_prefix_len": cached, "tokens_per_step": 1.0 if spec is None else spec.expected,
        "energy_per_token_j": power * itl / B, "execution_profile": run.profile.key,
        "decode_busy_fraction": (decode.latency_compute_s + decode.latency_memory_s) / decode.latency_s,
        "assumptions": tuple(notes), "binding": _binding(prefill_bound, decode.bottleneck, feasible)})


def _top(x) -> float:
    """The largest value of a size: itself, or the largest of a sweep's."""
    return float(x.max()) if isinstance(x, np.ndarray) else x


def _least(x) -> float:
    return float(x.min()) if isinstance(x, np.ndarray) else x


def _larger(a, b):
    """The larger of two sizes, each a float or a sweep's array."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.maximum(a, b)
    return a if a > b else b


def _prefill(step: Run, B, P, cached, chunk, pp, comm):
    """(TTFT, the longest chunk before the last, chunks, the bound) of the prompt's uncached tokens."""
    new = P - cached
    if chunk is None:
        prof = figures_at(step, "prefill", B, new, cached)
        return prof.latency_s * pp + comm(B * new), None, 1, prof.bottleneck
    if isinstance(new, np.ndarray):
        raise InputError("chunked prefill takes one prompt length at a time")
    n = math.ceil(new / chunk)
    sizes = np.full(n, float(chunk))
    sizes[-1] = new - chunk * (n - 1)
    past = cached + chunk * np.arange(n, dtype=float)
    Bc = np.expand_dims(B, -1) if isinstance(B, np.ndarray) else B
    prof = figures_at(step, "prefill", Bc, sizes, past)
    times = prof.latency_s * pp + comm(Bc * sizes)
    full = times[..., :-1] if n > 1 else times
    return times.sum(axis=-1), full.max(axis=-1), n, first_bound(prof.bottleneck)


def first_bound(bound) -> str:
    """The bound of a step (of its first configuration in a sweep)."""
    return bound if isinstance(bound, str) else str(np.asarray(bound).reshape(-1)[0])


def _pipeline_depth(run: Run, B, context) -> tuple[int, list]:
    """The pipeline depth: as given, or the fewest stages whose share of weights and KV fits one device."""
    notes = []
    model, hw, p, tp = run.workload, run.hardware, run.precisions, run.layout.tp
    if run.layout.pp is not None:
        return run.layout.pp, notes
    need = model.parameter_count() * p.w / tp + _top(model.family.kv_cache_bytes(model, context, B, p.kv_bytes)) / tp
    stages = max(1, math.ceil(need / (PIPELINE_FILL * float(hw.memory.capacity))))
    if stages > model.layers:
        return model.layers, notes + [f"even one layer per stage does not fit {hw.name}"]
    if stages > 1:
        notes.append(f"weights and KV cache need {format_si(need, 'B')} per tensor-parallel rank: "
                     f"{stages} pipeline stages of {hw.name}")
    return stages, notes


def _binding(prefill, decode, feasible) -> str:
    if not (feasible if isinstance(feasible, bool) else np.all(feasible)):
        return "memory: weights and KV cache exceed the device"
    return f"prefill {first_bound(prefill).lower()}-bound, decode {first_bound(decode).lower()}-bound"
