"""Continuous batching: how many sequences fit the KV cache, paged or reserved up front (wall 5).

A serving engine gives the KV cache what its weights and activations leave of the memory it may
use (vLLM's ``gpu_memory_utilization``, 0.9 by default). A static allocator reserves the longest
allowed sequence for every request; a paged one (vLLM's PagedAttention, Kwon et al. 2023) hands
out fixed-size pages as a sequence grows, so a request of S tokens holds ⌈S/p⌉ pages. Over a
distribution of request lengths the expected pages are a sum of tail probabilities,
E⌈S/p⌉ = Σ_k P(S > k·p), which also weights each page by the bytes it adds (a sliding-window
layer stops adding once its window is full). The concurrency each allocator allows sets the
decode batch, and ``ServingModel`` times the decode step at that batch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..errors import InputError
from ..run import Run, check_sizes, fraction, whole
from ..solver import Result, Solver, only_run
from ..units import SIValue, format_si
from .serving import ServingOptions, serve

#: share of device memory a serving engine may use; the rest is kept for the CUDA context, the
#: allocator and workspaces (vLLM's ``gpu_memory_utilization`` default, vllm-project/vllm#1018)
GPU_MEMORY_UTILIZATION = 0.9
DISTRIBUTIONS = ("exponential", "uniform", "fixed")


# --- request lengths ----------------------------------------------------------------------------
def capped_exponential_scale(mean: float, max_len: float) -> float:
    """Scale μ of X ~ Exp(μ) such that min(X, max_len) has mean ``mean``: μ(1 - e^(-max/μ)) = mean.

    ``inf`` when the mean is the maximum (every request at full length).
    """
    if mean >= max_len:
        return math.inf
    lo, hi = mean, max_len * max_len / (2.0 * (max_len - mean))    # h(μ) ≥ max - max²/(2μ) bounds it
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid * -math.expm1(-max_len / mid) < mean:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return 0.5 * (lo + hi)


def length_tail(x, mean: float, max_len: float, distribution: str):
    """P(S > x) for request lengths S of the given mean, never above ``max_len`` tokens.

    ``exponential``: Exp capped at the maximum (its scale chosen to keep the mean);
    ``uniform``: uniform on the widest interval of that mean within [0, max]; ``fixed``: all at the mean.
    """
    x = np.asarray(x, dtype=float)
    if distribution == "fixed" or mean >= max_len:
        return (x < mean).astype(float)
    if distribution == "uniform":
        lo = max(0.0, 2.0 * mean - max_len)
        hi = 2.0 * mean - lo
        return np.clip((hi - x) / (hi - lo), 0.0, 1.0)
    scale = capped_exponential_scale(mean, max_len)
    return np.where(x < max_len, np.exp(-x / scale), 0.0)


def expected_pages(mean: float, max_len: float, page: int, distribution: str) -> float:
    """E⌈S/p⌉ = Σ_{k ≥ 0} P(S > k·p): the pages a request holds on average."""
    k = np.arange(math.ceil(max_len / page))
    return float(length_tail(k * page, mean, max_len, distribution).sum())


def paged_bytes(kv_bytes, mean: float, max_len: float, page: int, distribution: str) -> float:
    """E[kv_bytes(p·⌈S/p⌉)]: page k is held with probability P(S > (k-1)p) and adds its own bytes."""
    edges = np.arange(math.ceil(max_len / page) + 1) * float(page)
    added = np.diff(kv_bytes(edges))
    return float(length_tail(edges[:-1], mean, max_len, distribution) @ added)


# --- the solver ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContinuousBatchingResult(Result):
    """Paged vs static KV allocation on one device (or one tensor-parallel rank): SI floats.

    Fields without ``static_`` describe the paged allocator; ``ttft_s`` is the prefill of one
    mean-length prompt at batch 1.
    """

    model_name: str
    hardware_name: str
    max_seq_len: float
    mean_request_tokens: float
    page_size: int
    request_length_distribution: str
    max_batch_size: int
    feasible: bool
    memory_capacity_bytes: float
    usable_bytes: float
    weights_bytes: float
    activation_bytes_per_seq: float
    kv_budget_bytes: float
    kv_bytes_per_token: float
    expected_pages: float
    paged_bytes_per_seq: float
    static_bytes_per_seq: float
    paged_max_sequences: int
    static_max_sequences: int
    max_active_requests: int
    static_max_active_requests: int
    paged_internal_fragmentation: float
    static_internal_fragmentation: float
    itl_s: float
    static_itl_s: float
    throughput_tokens_per_s: float
    static_throughput_tokens_per_s: float
    #: paged over static throughput; None when neither holds a sequence (no ratio to give)
    speedup_vs_static: float | None
    ttft_s: float

    @property
    def paged_kv_cache_bytes(self) -> float:
        """KV bytes in use when the paged allocator runs its active batch."""
        return self.max_active_requests * (self.paged_bytes_per_seq - self.activation_bytes_per_seq)

    @property
    def static_kv_cache_bytes(self) -> float:
        return self.static_max_active_requests * (self.static_bytes_per_seq - self.activation_bytes_per_seq)

    # -- with units, and the 0.1.0 names ----------------------------------------------------------
    @property
    def throughput_tokens_per_sec(self): return self.throughput_tokens_per_s
    @property
    def static_throughput_tokens_per_sec(self): return self.static_throughput_tokens_per_s
    @property
    def paged_kv_cache_size(self): return SIValue(self.paged_kv_cache_bytes, "GB")
    @property
    def static_kv_cache_size(self): return SIValue(self.static_kv_cache_bytes, "GB")
    @property
    def memory_fragmentation_pct(self): return 100.0 * self.paged_internal_fragmentation
    @property
    def ttft(self): return SIValue(self.ttft_s, "ms")
    @property
    def itl(self): return SIValue(self.itl_s, "ms")

    def summary(self) -> str:
        if not self.feasible:
            return f"infeasible: {self.binding}"
        return (f"paged {self.max_active_requests} sequences, {self.throughput_tokens_per_s:,.0f} tokens/s; static "
                f"{self.static_max_active_requests} sequences, {self.static_throughput_tokens_per_s:,.0f} tokens/s "
                f"({self.speedup_vs_static:.2f}x)")


class ContinuousBatchingModel(Solver):
    """Concurrent sequences and decode throughput under paged vs static KV allocation — wall 5."""

    walls = (5,)
    needs = ("model", "hardware")

    def solve(self, model, hardware=None, max_seq_len=None, mean_request_tokens=None, max_batch_size=256,
              page_size=16, precision="fp16", efficiency=None, *, kv_precision=None, weight_precision=None,
              activation_precision=None, request_length_distribution="exponential", tp=1, stack=None,
              gpu_memory_utilization=GPU_MEMORY_UTILIZATION, seq_len=None, options=None) -> ContinuousBatchingResult:
        """Sequences that fit with ``page_size``-token pages vs reserving ``max_seq_len`` each.

        ``model`` may be a :class:`~mlsysim.run.Run` (its ``seq_len`` is the longest sequence). Requests hold
        ``mean_request_tokens`` on average (default: all at ``max_seq_len``), distributed as
        ``request_length_distribution`` (``exponential`` capped at the maximum, ``uniform`` or ``fixed``).
        ``seq_len`` is the 0.1.0 name of ``max_seq_len``; ``options`` (ServingOptions) the deployment's.
        """
        if isinstance(model, Run):
            only_run(ContinuousBatchingModel.solve, locals())
            run = model
        else:
            if max_seq_len is not None and seq_len is not None and max_seq_len != seq_len:
                raise InputError("give the longest sequence once: max_seq_len and seq_len are synonyms")
            run = Run.build(model, hardware, purpose="serving", seq_len=max_seq_len if max_seq_len is not None
                            else seq_len, precision=precision, weight_precision=weight_precision,
                            activation_precision=activation_precision, kv_precision=kv_precision, stack=stack,
                            efficiency=efficiency, tp=tp)
        return batch(run, mean_request_tokens, max_batch_size, page_size, request_length_distribution,
                     gpu_memory_utilization, options or ServingOptions())


def batch(run: Run, mean_request_tokens=None, max_batch_size=256, page_size=16,
          request_length_distribution="exponential", gpu_memory_utilization=GPU_MEMORY_UTILIZATION,
          options: ServingOptions = ServingOptions()) -> ContinuousBatchingResult:
    """What ``ContinuousBatchingModel.solve`` computes. The run's ``seq_len`` is the longest sequence; a run
    that describes requests (``prompt_len``, ``output_len``) sets the mean a request holds, and the longest
    when no ``seq_len`` is given."""
    run.refuse("ContinuousBatchingModel", "pp")
    model, hw = run.workload, run.hardware
    request = None if run.prompt_len is None else float(run.prompt_len) + float(run.output_len or 0.0)
    max_len = float(run.seq_len if run.seq_len is not None else (request or run.context))
    if mean_request_tokens is None:
        mean_request_tokens = max_len if request is None else min(request, max_len)
    mean = float(check_sizes("mean_request_tokens", mean_request_tokens))
    if mean > max_len:
        raise InputError(f"mean_request_tokens ({mean:g}) cannot exceed max_seq_len ({max_len:g})")
    window = getattr(model, "context_length", None)
    if window and max_len > window:
        raise InputError(f"max_seq_len ({max_len:g}) exceeds {model.name}'s context window of {window} tokens")
    cap = whole("max_batch_size", max_batch_size)
    page = whole("page_size", page_size)
    if request_length_distribution not in DISTRIBUTIONS:
        raise InputError(f"unknown request_length_distribution '{request_length_distribution}'; use one of "
                         f"{', '.join(DISTRIBUTIONS)}")
    share = fraction("gpu_memory_utilization", gpu_memory_utilization, open_low=True)
    run = run.at(layout=replace(run.layout, pp=1), prompt_len=None, output_len=None)  # one tensor-parallel group

    one = serve(run.at(seq_len=mean, batch_size=1), options)
    # KV bytes per device as a function of tokens: the model's own shape (windows included),
    # scaled to this rank's share at the KV precision of the run
    per_device = one.kv_cache_bytes / float(model.kv_cache_bytes(mean, 1, "fp16"))

    def kv(tokens):
        return per_device * model.kv_cache_bytes(tokens, 1, "fp16")

    capacity = one.memory_capacity_bytes
    usable = share * capacity
    act = float(one.activation_bytes)
    budget = max(usable - one.weights_bytes - one.runtime_bytes, 0.0)   # none left when the weights do not fit
    paged = paged_bytes(kv, mean, max_len, page, request_length_distribution) + act
    static = float(kv(max_len)) + act
    n_paged = max(0, math.floor(budget / paged))
    n_static = max(0, math.floor(budget / static))
    active, active_static = min(n_paged, cap), min(n_static, cap)
    pages = expected_pages(mean, max_len, page, request_length_distribution)

    batches = np.array([max(active, 1), max(active_static, 1)], dtype=float)
    decode = serve(run.at(seq_len=mean, batch_size=batches), options)
    itl, itl_static = (float(x) for x in decode.itl_s)
    tps = active / itl
    tps_static = active_static / itl_static
    speedup = tps / tps_static if tps_static else (math.inf if tps else None)

    notes = [f"KV budget: {share:g} of {format_si(capacity, 'B')} less {format_si(one.weights_bytes, 'B')} of "
             f"weights and {format_si(one.runtime_bytes, 'B')} of runtime (CUDA context, framework) = "
             f"{format_si(budget, 'B')}; each sequence also "
             f"keeps {format_si(act, 'B')} of decode activations",
             f"request lengths: {request_length_distribution}, mean {mean:g} of at most {max_len:g} tokens; a "
             f"request holds its pages until it ends (its full length)",
             f"decode timed at a {mean:g}-token context by ServingModel at each allocator's batch"]
    binding = _binding(budget, active, n_paged, cap, one.weights_bytes + one.runtime_bytes, usable)
    return ContinuousBatchingResult(
        model_name=model.name, hardware_name=hw.name, max_seq_len=max_len, mean_request_tokens=mean,
        page_size=page, request_length_distribution=request_length_distribution, max_batch_size=cap,
        feasible=active >= 1, memory_capacity_bytes=capacity, usable_bytes=usable,
        weights_bytes=one.weights_bytes, activation_bytes_per_seq=act, kv_budget_bytes=budget,
        kv_bytes_per_token=float(kv(1.0)), expected_pages=pages, paged_bytes_per_seq=paged,
        static_bytes_per_seq=static, paged_max_sequences=n_paged, static_max_sequences=n_static,
        max_active_requests=active, static_max_active_requests=active_static,
        paged_internal_fragmentation=1.0 - mean / (page * pages),
        static_internal_fragmentation=1.0 - mean / max_len,
        itl_s=itl, static_itl_s=itl_static, throughput_tokens_per_s=tps, static_throughput_tokens_per_s=tps_static,
        speedup_vs_static=speedup, ttft_s=float(one.ttft_s), assumptions=tuple(notes), binding=binding)


def _binding(budget, active, n_paged, cap, resident, usable) -> str:
    if budget <= 0:
        return (f"memory: the weights and the runtime ({format_si(resident, 'B')}) leave no KV cache in the usable "
                f"{format_si(usable, 'B')}")
    if active < 1:
        return f"memory: {format_si(budget, 'B')} of KV cache holds not one request"
    if n_paged > cap:
        return f"batch cap: max_batch_size {cap} binds before the KV cache ({n_paged} would fit)"
    return f"memory: the KV cache holds {n_paged} sequences"
