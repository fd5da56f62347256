"""The batch size to run serving replicas at: the most throughput whose P99 latency meets the SLA.

Every batch size from 1 to the cap is evaluated at once: a replica's decode time at each batch
comes from one vectorized ``ServingModel`` call (through ``serving.capacity.Replica``) and the
queue of the whole pool from ``TailLatencyModel``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..run import Run, whole
from ..serving.batching import GPU_MEMORY_UTILIZATION
from ..serving.capacity import Replica, either, latency_target, request_run
from ..serving.queueing import TailLatencyModel, check_cv
from ..serving.serving import ServingOptions
from ..solver import Result, Solver, only_run
from ..units import format_number, format_si, parse, quantity


@dataclass(frozen=True)
class BatchingOptimizerResult(Result):
    """The batch size with the most throughput inside the P99 SLA, and the whole curve."""

    objective_value: float
    best_config: dict
    best_batch_size: int
    is_feasible: bool
    max_throughput_tokens_per_s: float
    p99_latency_s: float
    slo_headroom_ratio: float
    total_searched: int
    sla_latency_s: float
    batch_sizes: np.ndarray
    throughput_tokens_per_s: np.ndarray
    decode_tokens_per_s: np.ndarray
    itl_s: np.ndarray
    mean_latency_s: np.ndarray
    p99_latency_curve_s: np.ndarray
    fits_memory: np.ndarray
    meets_sla: np.ndarray

    @property
    def max_throughput(self): return self.max_throughput_tokens_per_s
    @property
    def p99_latency(self): return quantity(self.p99_latency_s, "ms")
    @property
    def sla_latency(self): return quantity(self.sla_latency_s, "ms")

    def summary(self) -> str:
        state = "meets" if self.is_feasible else "misses"
        return (f"batch {self.best_batch_size}: {self.max_throughput_tokens_per_s:,.0f} tokens/s, P99 "
                f"{self.p99_latency} ({state} the {self.sla_latency} SLA)")


class BatchingOptimizer(Solver):
    """The batch size per replica that maximizes throughput while P99 latency meets the SLA."""

    needs = ("model", "hardware")

    def solve(self, model, hardware=None, sla_latency=None, arrival_rate=None, num_replicas=1, prompt_len=None,
              output_len=None, max_batch=256, precision="fp16", efficiency=None, service_cv=1.0, *,
              max_seq_len=None, mean_request_tokens=None, page_size=16, kv_precision=None, weight_precision=None,
              activation_precision=None, tp=1, stack=None, arrival_cv=1.0,
              gpu_memory_utilization=GPU_MEMORY_UTILIZATION, seq_len=None, sla_latency_ms=None,
              arrival_rate_qps=None, max_search_batch=None, output_tokens=None, options=None
              ) -> BatchingOptimizerResult:
        """Sweep batch sizes 1..``max_batch`` at once; each replica decodes that many sequences while busy.

        ``model`` may be a :class:`~mlsysim.run.Run` of the requests. The batch sets a replica's throughput
        (ServingModel's decode at that batch) and each request's time in service; the queue of
        ``arrival_rate`` requests over ``num_replicas`` replicas adds the wait. 0.1.0 names:
        ``sla_latency_ms``, ``arrival_rate_qps``, ``max_search_batch``, ``seq_len`` (prompt).
        """
        if isinstance(model, Run):
            only_run(BatchingOptimizer.solve, locals())
        target = latency_target(sla_latency, sla_latency_ms, "sla_latency")
        rate_in = either("arrival_rate", arrival_rate, "arrival_rate_qps", arrival_rate_qps, None)
        if rate_in is None:
            raise InputError("arrival_rate is required (requests per second)")
        lam = parse(rate_in, "1/s", "arrival_rate", positive=True)
        replicas = whole("num_replicas", num_replicas)
        cap = whole("max_batch", max_batch if max_search_batch is None else max_search_batch)
        cv = check_cv("service_cv", service_cv)
        run = request_run(model, hardware, prompt_len, output_len, seq_len, output_tokens, precision=precision,
                          weight_precision=weight_precision, activation_precision=activation_precision,
                          kv_precision=kv_precision, stack=stack, efficiency=efficiency, tp=tp)
        rep = Replica(run, cap, options or ServingOptions(), max_seq_len=max_seq_len,
                      mean_request_tokens=mean_request_tokens, page_size=page_size,
                      gpu_memory_utilization=gpu_memory_utilization)
        b = rep.sizes
        rate = lam / replicas
        share = rate * rep.prefill
        fits = b <= rep.batching.paged_max_sequences
        service = np.full_like(b, np.inf) if share >= 1.0 else rep.service(b, rate)
        throughput = replicas * rep.saturation_rate(b) * rep.output
        stable = lam * service < replicas * b
        tail = TailLatencyModel().solve(lam, np.where(stable, service, 1.0), replicas * b.astype(np.int64), cv,
                                        arrival_cv=arrival_cv, slo=target, allow_unstable=True)
        p99 = np.where(stable, tail.p99_response_s, np.inf)
        ok = fits & stable & (p99 <= target)
        if ok.any():
            i = int(np.argmax(np.where(ok, throughput, -np.inf)))
            binding = _optimizer_binding(ok, fits, i, b)
        else:
            i = int(np.argmin(np.where(fits, p99, np.inf))) if fits.any() else 0
            if not fits.any():
                binding = "memory: not one request fits the KV cache"
            elif np.isfinite(p99[i]):
                binding = (f"no batch size meets the SLA: the best P99 is {format_si(float(p99[i]), 's')} "
                           f"at batch {i + 1}")
            else:
                binding = f"{format_number(lam)} QPS saturates {replicas} replica(s) at every batch size"
        notes = [f"each busy replica decodes b sequences at a {format_number(rep.prompt + rep.output / 2)}-token "
                 "context (the saturated operating point, where the tail is decided; lighter load runs smaller "
                 "batches)",
                 "throughput: the most requests per second the replicas sustain at that batch, prefills included",
                 "queue: one M/G/c over replicas x b slots (TailLatencyModel)",
                 f"memory: at most {rep.batching.paged_max_sequences} sequences fit the paged KV cache"]
        best = int(b[i])
        return BatchingOptimizerResult(
            objective_value=float(throughput[i]), best_config={"max_batch_size": best}, best_batch_size=best,
            is_feasible=bool(ok[i]), max_throughput_tokens_per_s=float(throughput[i]), p99_latency_s=float(p99[i]),
            slo_headroom_ratio=float(p99[i] / target), total_searched=int(b.size), sla_latency_s=target,
            batch_sizes=b.astype(np.int64), throughput_tokens_per_s=throughput,
            decode_tokens_per_s=replicas * b / rep.itl_table, itl_s=rep.itl_table, mean_latency_s=service,
            p99_latency_curve_s=p99, fits_memory=fits, meets_sla=ok, assumptions=tuple(notes), binding=binding)


def _optimizer_binding(ok, fits, i, b) -> str:
    if i + 1 == b.size:
        return f"search limit: batch {int(b[i])} is the largest searched"
    if not fits[i + 1]:
        return f"memory: batch {int(b[i + 1])} does not fit the KV cache"
    if ok[i + 1:].any():
        return "throughput: the larger batches that meet the SLA sustain less"
    return f"P99 latency: batch {int(b[i + 1])} would miss the SLA"
