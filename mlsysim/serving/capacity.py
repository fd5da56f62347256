"""Replicas for a load: serving, batching and queueing together.

A replica under continuous batching is a pool of request slots: as many as its KV cache holds
(``ContinuousBatchingModel``) up to the engine's batch cap. A request holds a slot for its
prefill and its decode steps; every prefill the replica runs stalls the decode steps of the
others, so decode stretches by 1/(1 - prefill share). The scheduler works in iterations: a
request's first token waits for the iteration under way, for the prefills queued ahead of it,
and for the iteration that runs its prefill beside the others' decode step. With a load balancer that sends each
request to a free slot, the replicas form one M/G/c queue of c = replicas × slots servers
(``TailLatencyModel``). Prefill and decode times come from ``ServingModel`` (one vectorized
call over batch sizes), never from a roofline of their own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..errors import InputError
from ..run import DEFAULT_OUTPUT_LEN, Run, whole
from ..solver import Result, Solver, only_run
from ..units import format_number, format_si, parse, quantity
from .batching import GPU_MEMORY_UTILIZATION, ContinuousBatchingResult, batch
from .queueing import TailLatencyModel, TailLatencyResult, check_cv, response_quantile
from .serving import ServingOptions, serve


class Replica:
    """One replica: its prefill time, its decode ITL at every batch size, and its request slots."""

    def __init__(self, run: Run, cap: int, options: ServingOptions, *, max_seq_len=None, mean_request_tokens=None,
                 page_size=16, request_length_distribution=None, gpu_memory_utilization=GPU_MEMORY_UTILIZATION):
        self.prompt = float(run.prompt_len if run.prompt_len is not None else run.context)
        self.output = float(run.output_len if run.output_len is not None else DEFAULT_OUTPUT_LEN)
        held = float(self.prompt + self.output if mean_request_tokens is None else mean_request_tokens)
        longest = float(max(held, self.prompt + self.output) if max_seq_len is None else max_seq_len)
        dist = request_length_distribution or ("fixed" if held >= longest else "exponential")
        group = run.at(layout=replace(run.layout, pp=1), prompt_len=None, output_len=None)
        self.batching = batch(group.at(seq_len=longest), held, cap, page_size, dist, gpu_memory_utilization,
                              options)
        self.slots = self.batching.max_active_requests
        self.sizes = np.arange(1.0, cap + 1.0)
        table = serve(group.at(seq_len=self.prompt + self.output / 2.0, prompt_len=self.prompt, batch_size=self.sizes),
                      options)
        self.prefill = float(table.ttft_s[0])              # one prompt at batch 1: the GPU time it takes
        self.itl_table = np.asarray(table.itl_s, dtype=float)

    def itl(self, batch):
        """Decode step time at ``batch`` sequences (interpolated; a partial batch costs what one does)."""
        return np.interp(batch, self.sizes, self.itl_table)

    def iteration(self, batch, rate):
        """Mean time of one scheduler iteration at ``batch`` running sequences and ``rate`` arrivals per
        second here: a decode step, stretched by the prefills that share the replica's time."""
        return self.itl(batch) / (1.0 - rate * self.prefill)

    def first_token(self, batch, rate):
        """Mean time from a request's slot to its first token. Where other sequences run, it waits for the
        iteration under way (half of one, on average) and its prefill runs in an iteration beside their
        decode step; prefills queued ahead of it delay it as in an M/D/1 queue of the prefill share."""
        share = rate * self.prefill
        others = np.clip(np.asarray(batch, dtype=float) - 1.0, 0.0, 1.0)
        return others * (0.5 * self.iteration(batch, rate) + self.itl(batch)) + \
            share * self.prefill / (2.0 * (1.0 - share)) + self.prefill

    def service(self, batch, rate):
        """Slot holding time of a request at ``batch`` busy slots and ``rate`` arrivals per second here:
        its first token, then one iteration per further output token."""
        return self.first_token(batch, rate) + (self.output - 1.0) * self.iteration(batch, rate)

    def saturation_rate(self, slots):
        """Arrivals per second that fill ``slots`` slots: λ·s(slots, λ) = slots, where s grows with λ
        without bound as the prefills approach the whole of the replica's time."""
        return self._filling_rate(slots, 1.0)

    def closed_loop(self, users: int) -> tuple[float, float, float]:
        """(requests per second, mean TTFT, mean ITL) with ``users`` clients that each send a request when
        their last one completes (a benchmark at fixed concurrency): Little's law over the users, with only
        the other users' prefills queued ahead of a request and stalling its decode steps."""
        if users > self.slots:
            raise InputError(f"{users} concurrent requests exceed the replica's {self.slots} request slots "
                             f"(its KV cache and batch cap); the wait for a slot is not modelled here")
        n = float(users)
        rate = self._filling_rate(n, (n - 1.0) / n)
        others = rate * (n - 1.0) / n
        return rate, float(self.first_token(n, others)), float(self.iteration(n, others))

    def _filling_rate(self, slots, sharing):
        """The arrival rate λ that keeps ``slots`` requests in flight (Little: λ·s = slots), the prefills
        of ``sharing`` of the arrivals sharing each request's replica time (bisection below 1/prefill)."""
        slots = np.asarray(slots, dtype=float)
        lo, hi = np.zeros_like(slots), np.full_like(slots, 1.0 / self.prefill)
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            over = mid * self.service(slots, mid * sharing) > slots
            lo, hi = np.where(over, lo, mid), np.where(over, mid, hi)
        rate = 0.5 * (lo + hi)
        return float(rate) if rate.ndim == 0 else rate

    def busy_slots(self, rate) -> float:
        """Slots busy at ``rate`` arrivals per second (Little: b = λ·s(b)), below the saturation rate."""
        lo, hi = 0.0, float(self.slots)
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if rate * self.service(mid, rate) > mid else (lo, mid)
        return 0.5 * (lo + hi)

    def unloaded_tail(self, q, cv) -> float:
        """The q-quantile of a request's latency on an idle replica (one sequence, no queue)."""
        return response_quantile(q, 0.0, 1.0, float(self.service(1.0, 0.0)), cv)


def request_run(model, hardware, prompt_len, output_len, seq_len, output_tokens, **fields) -> Run:
    """The run of a load of requests (``seq_len`` and ``output_tokens`` are the 0.1.0 names of the
    prompt and output lengths); a Run passes through."""
    if isinstance(model, Run):
        return model
    return Run.build(model, hardware, purpose="serving",
                     prompt_len=either("prompt_len", prompt_len, "seq_len", seq_len),
                     output_len=either("output_len", output_len, "output_tokens", output_tokens), **fields)


def either(name, value, old, old_value, default=None):
    """One value under two names (a current one and its 0.1.0 synonym)."""
    if value is not None and old_value is not None and value != old_value:
        raise InputError(f"give {name} once: {name} and {old} are synonyms")
    return value if value is not None else (old_value if old_value is not None else default)


def latency_target(value, value_ms, name) -> float:
    if value is not None and value_ms is not None:
        raise InputError(f"give the latency target once: {name} and {name}_ms are synonyms")
    if value is None and value_ms is None:
        raise InputError(f"{name} is required (the P99 request latency to meet, e.g. '2 s')")
    return parse(value, "s", name, positive=True) if value is not None else \
        parse(value_ms, "ms", f"{name}_ms", positive=True)


def variability(value, old_value) -> float:
    """The service-time CV, given under its current or its 0.1.0 name."""
    return check_cv("service_cv", either("service_cv", value, "service_time_cv", old_value, 1.0))


# --- replicas for a load -------------------------------------------------------------------------
@dataclass(frozen=True)
class ServingCapacityResult(Result):
    """Replicas for a load under a P99 target, SI floats; ``bottleneck`` names what decided it."""

    model_name: str
    hardware_name: str
    feasible: bool
    required_replicas: int
    qps_target: float
    per_replica_qps_capacity: float
    qps_capacity: float
    utilization: float
    target_p99_latency_s: float
    estimated_p99_latency_s: float
    base_request_latency_s: float
    queue_wait_p99_s: float
    active_batch_size: float
    max_batch_size: int
    #: mean time to first token at the load once a slot is free (the scheduler's iteration under way,
    #: prefills queued ahead, the iteration that runs the prefill beside the others' decode step)
    ttft_s: float
    #: inter-token latency at the load: a decode step at the busy batch, stretched by the prefills
    itl_s: float
    prefill_share: float
    #: the GPU time of one prompt's prefill alone (the time to first token on an idle replica)
    prefill_s: float
    bottleneck: str
    queue: TailLatencyResult | None
    batching: ContinuousBatchingResult

    @property
    def ttft(self): return quantity(self.ttft_s, "ms")
    @property
    def itl(self): return quantity(self.itl_s, "ms")
    @property
    def target_p99_latency(self): return quantity(self.target_p99_latency_s, "ms")
    @property
    def estimated_p99_latency(self): return quantity(self.estimated_p99_latency_s, "ms")
    @property
    def base_request_latency(self): return quantity(self.base_request_latency_s, "ms")
    @property
    def queue_wait_p99(self): return quantity(self.queue_wait_p99_s, "ms")

    def summary(self) -> str:
        if not self.feasible:
            return f"infeasible ({self.bottleneck}): {self.binding}"
        return (f"{self.required_replicas} replica{'s' if self.required_replicas > 1 else ''} for "
                f"{format_number(self.qps_target)} QPS: P99 "
                f"{self.estimated_p99_latency} (target {self.target_p99_latency}), batch "
                f"{self.active_batch_size:.0f} of {self.max_batch_size} per replica, {self.bottleneck} binds")


class ServingCapacityModel(Solver):
    """Replicas that serve ``qps`` within a P99 latency: batching, serving and queueing — walls 4, 5 and 7."""

    walls = (4, 5, 7)
    needs = ("model", "hardware", "qps")

    def solve(self, model, hardware=None, qps=None, target_p99_latency=None, prompt_len=None, output_len=None,
              max_batch_size=256, precision="fp16", efficiency=None, max_replicas=1024, service_cv=None, *,
              max_seq_len=None, mean_request_tokens=None, page_size=16, request_length_distribution=None,
              kv_precision=None, weight_precision=None, activation_precision=None, tp=1, stack=None,
              arrival_cv=1.0, gpu_memory_utilization=GPU_MEMORY_UTILIZATION, target_p99_latency_ms=None,
              seq_len=None, output_tokens=None, service_time_cv=None, options=None) -> ServingCapacityResult:
        """The fewest replicas (each ``tp`` devices) whose P99 request latency meets the target at ``qps``.

        ``model`` may be a :class:`~mlsysim.run.Run` of the requests (its prompt and output lengths, tensor
        parallelism and precisions). Requests have ``prompt_len`` prompt and ``output_len`` generated
        tokens; ``service_cv`` is the variability of their service time (0: all alike; 1: exponential,
        e.g. output lengths). Each holds ``mean_request_tokens`` of KV (default prompt + output) in
        ``page_size`` pages; ``options`` (ServingOptions) are the deployment's (prefix cache, chunked
        prefill, speculative decoding). 0.1.0 names: ``target_p99_latency_ms``, ``seq_len`` (prompt),
        ``output_tokens``, ``service_time_cv``.
        """
        if isinstance(model, Run):
            only_run(ServingCapacityModel.solve, locals())
        if qps is None:
            raise InputError("qps is required (the request rate to serve, requests per second)")
        lam = parse(qps, "1/s", "qps", positive=True)
        target = latency_target(target_p99_latency, target_p99_latency_ms, "target_p99_latency")
        cv = variability(service_cv, service_time_cv)
        limit = whole("max_replicas", max_replicas)
        run = request_run(model, hardware, prompt_len, output_len, seq_len, output_tokens, precision=precision,
                          weight_precision=weight_precision, activation_precision=activation_precision,
                          kv_precision=kv_precision, stack=stack, efficiency=efficiency, tp=tp)
        rep = Replica(run, whole("max_batch_size", max_batch_size), options or ServingOptions(),
                      max_seq_len=max_seq_len, mean_request_tokens=mean_request_tokens, page_size=page_size,
                      request_length_distribution=request_length_distribution,
                      gpu_memory_utilization=gpu_memory_utilization)
        model, hw, tp = run.workload, run.hardware, run.layout.tp
        b = rep.batching
        notes = [f"a replica is {tp} x {hw.name} with {rep.slots} request slots (KV cache and batch cap)",
                 "a load balancer sends each request to a free slot: one M/G/c queue over every replica's slots",
                 "prefills run between decode steps: decode stretches by 1/(1 - prefill share)",
                 "a first token waits for the iteration under way, the prefills ahead of it and its own "
                 "prefill's iteration",
                 f"requests: {format_number(rep.prompt)} prompt + {format_number(rep.output)} output tokens, "
                 f"service-time CV {cv:g}, arrival CV {arrival_cv:g}"]
        base = float(rep.service(1.0, 0.0))

        def result(feasible, replicas, bottleneck, binding, queue=None, busy=0.0):
            per = float(rep.saturation_rate(rep.slots)) if rep.slots else 0.0
            rate = lam / replicas
            share = rate * rep.prefill
            loaded = queue is not None and share < 1.0
            itl = float(rep.iteration(max(busy, 1.0), rate)) if loaded else float(rep.itl(1.0))
            ttft = float(rep.first_token(max(busy, 1.0), rate)) if loaded else rep.prefill
            return ServingCapacityResult(
                model_name=model.name, hardware_name=hw.name, feasible=feasible, required_replicas=replicas,
                qps_target=lam, per_replica_qps_capacity=per, qps_capacity=per * replicas,
                utilization=lam / (per * replicas) if per else math.inf, target_p99_latency_s=target,
                estimated_p99_latency_s=queue.p99_response_s if queue else math.inf, base_request_latency_s=base,
                queue_wait_p99_s=queue.p99_wait_s if queue else math.inf, active_batch_size=busy,
                max_batch_size=rep.slots, ttft_s=ttft, itl_s=itl, prefill_share=share, prefill_s=rep.prefill,
                bottleneck=bottleneck,
                queue=queue, batching=b, assumptions=tuple(notes), binding=binding)

        if rep.slots < 1:
            return result(False, limit, "memory", b.binding)
        stable_min = math.floor(lam / float(rep.saturation_rate(rep.slots))) + 1

        def queue_at(replicas):
            rate = lam / replicas
            busy = rep.busy_slots(rate)
            tail = TailLatencyModel().solve(lam, float(rep.service(busy, rate)), replicas * rep.slots, cv,
                                            arrival_cv=arrival_cv, slo=target)
            return tail, busy

        if stable_min > limit:
            return result(False, limit, "capacity", f"{format_number(lam)} QPS needs at least {stable_min} replicas "
                                                    f"to keep up; max_replicas is {limit}")
        tail, busy = queue_at(limit)
        if tail.p99_response_s > target:
            alone = rep.unloaded_tail(0.99, cv)
            if base > target:
                why = "base latency", (f"one request alone takes {format_si(base, 's')} (prefill + "
                                       f"{format_number(rep.output)} decode steps), over the {format_si(target, 's')} "
                                       f"target")
            elif alone > target:
                why = "tail latency", (f"service-time variability (CV {cv:g}) puts the P99 of a request on an idle "
                                       f"replica at {format_si(alone, 's')}, over the {format_si(target, 's')} target")
            else:
                why = "capacity", f"even {limit} replicas leave P99 at {format_si(tail.p99_response_s, 's')}"
            return result(False, limit, why[0], why[1], tail, busy)
        lo, hi = stable_min, limit                   # P99 falls as replicas are added: bisect for the fewest
        best = (tail, busy)
        while lo < hi:
            mid = (lo + hi) // 2
            tail, busy = queue_at(mid)
            if tail.p99_response_s <= target:
                hi, best = mid, (tail, busy)
            else:
                lo = mid + 1
        tail, busy = best
        bottleneck = "capacity" if hi == stable_min else "tail latency"
        binding = (f"throughput: {hi} replicas of {format_number(float(rep.saturation_rate(rep.slots)))} QPS each"
                   if bottleneck == "capacity" else
                   f"P99 latency: {hi} replicas where {stable_min} would keep up")
        return result(True, hi, bottleneck, binding, tail, busy)
