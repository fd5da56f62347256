"""Operating ML systems: shared-cluster scheduling (wall 16), privacy and fairness costs (wall 20),
software efficiency (wall 3) and compute-optimal scaling (wall 11).

- OrchestrationModel: jobs of ``gpus_per_job`` GPUs on a cluster of ``cluster_gpus`` queue like
  requests on ``cluster_gpus // gpus_per_job`` servers; the M/M/c figures come from
  ``TailLatencyModel`` (Erlang C).
- ResponsibleEngineeringModel: DP-SGD's cost in time (published slowdowns by implementation),
  memory (materialized per-example gradients) and noise (the Gaussian-DP central limit theorem),
  and the samples a subgroup fairness evaluation needs.
- EfficiencyModel: the gap between achieved and peak FLOP/s, operator class by operator class,
  from the engine's own operator times.
- ScalingModel: Chinchilla compute-optimal parameters and tokens.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine.engine import Engine, device_for, resolve_hardware, resolve_model
from ..errors import InputError, UnitError
from ..hardware.types import PRECISION_BYTES, normalize_precision
from ..units import format_si, parse, quantity
from .base import Result, Solver, verdict, whole
from .queueing import TailLatencyModel

_DAY, _HOUR = 86400.0, 3600.0


def _positive(name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a positive number, got {value!r}")
    return float(value)


# --- OrchestrationModel --------------------------------------------------------------------------
@dataclass(frozen=True)
class OrchestrationResult(Result):
    """Scheduler queueing of jobs on a shared cluster (times in SI seconds)."""

    servers: int
    arrival_rate_per_s: float
    mean_job_s: float
    utilization: float            # busy job slots / slots
    gpu_utilization: float        # busy GPUs / all GPUs (slots times job size may leave GPUs stranded)
    stranded_gpus: int
    wait_probability: float
    mean_wait_s: float
    p95_wait_s: float
    p99_wait_s: float
    mean_queue_length: float

    @property
    def is_stable(self): return verdict(self.utilization < 1.0)
    @property
    def cluster_utilization(self): return self.gpu_utilization
    @property
    def avg_wait_time_days(self): return self.mean_wait_s / _DAY
    @property
    def mean_wait_hours(self): return self.mean_wait_s / _HOUR
    @property
    def avg_queue_length(self): return self.mean_queue_length
    @property
    def mean_wait(self): return quantity(self.mean_wait_s, "h")

    def summary(self) -> str:
        return (f"{self.servers} job slots at {self.utilization:.0%}: P(wait) {self.wait_probability:.2f}, "
                f"mean wait {self.mean_wait_s / _HOUR:.2f} h, P95 {self.p95_wait_s / _HOUR:.2f} h, "
                f"{self.mean_queue_length:.2f} jobs queued")


class OrchestrationModel(Solver):
    """How long jobs wait for a shared GPU cluster (M/M/c through Erlang C) — wall 16 (multi-tenancy)."""

    walls = (16,)

    def solve(self, arrival_rate_jobs_per_day=None, mean_job_hours=None, cluster_gpus=None, gpus_per_job=1, *,
              job_cv=1.0, fleet=None, avg_job_duration_days=None) -> OrchestrationResult:
        """Queueing of Poisson job arrivals, each holding ``gpus_per_job`` GPUs for ``mean_job_hours``.

        A cluster of ``cluster_gpus`` (default: the ``fleet``'s accelerators) runs
        ``cluster_gpus // gpus_per_job`` jobs at once, first come first served, jobs of one size.
        ``job_cv`` is the coefficient of variation of job length (1: exponential). 0.1.0's
        ``avg_job_duration_days`` is accepted in place of ``mean_job_hours``.
        """
        lam_day = _positive("arrival_rate_jobs_per_day", arrival_rate_jobs_per_day)
        if mean_job_hours is None and avg_job_duration_days is not None:
            mean_job_hours = _positive("avg_job_duration_days", avg_job_duration_days) * 24.0
        hours = _positive("mean_job_hours", mean_job_hours)
        if cluster_gpus is None and fleet is not None:
            cluster_gpus = int(getattr(fleet, "total_accelerators", 0) or 0)
        gpus = whole("cluster_gpus", cluster_gpus)
        per_job = whole("gpus_per_job", gpus_per_job)
        if per_job > gpus:
            raise InputError(f"a job of {per_job} GPUs cannot run on a cluster of {gpus}")
        slots = gpus // per_job
        lam, s = lam_day / _DAY, hours * _HOUR
        rho = lam * s / slots
        if rho >= 1.0:
            raise InputError(f"{lam_day:g} jobs/day of {hours:g} h on {per_job} GPUs each saturate the cluster's "
                             f"{slots} job slots ({gpus} GPUs; utilization {rho:.2f}); add GPUs, shorten jobs or "
                             f"admit fewer than {slots / hours * 24.0:.3g} jobs/day")
        q = TailLatencyModel().solve(arrival_rate=lam, service_time=s, servers=slots, service_cv=job_cv)
        notes = [f"{slots} job slots = {gpus} GPUs // {per_job} GPUs per job; jobs of one size, first come first "
                 "served, no preemption or backfill",
                 "Poisson arrivals; M/M/c waiting (Erlang C) from TailLatencyModel"
                 + ("" if job_cv == 1.0 else f", Allen-Cunneen-corrected for job-length CV {job_cv:g}")]
        stranded = gpus - slots * per_job
        if stranded:
            notes.append(f"{stranded} GPUs can never run a {per_job}-GPU job")
        return OrchestrationResult(
            servers=slots, arrival_rate_per_s=lam, mean_job_s=s, utilization=rho,
            gpu_utilization=lam * s * per_job / gpus, stranded_gpus=stranded, wait_probability=q.wait_probability,
            mean_wait_s=q.mean_wait_s, p95_wait_s=q.p95_wait_s, p99_wait_s=q.p99_wait_s,
            mean_queue_length=lam * q.mean_wait_s, assumptions=tuple(notes),
            binding=f"job slots {rho:.0%} busy" + (f"; {stranded} GPUs stranded by job size" if stranded else ""))


# --- ResponsibleEngineeringModel ------------------------------------------------------------------
#: DP-SGD throughput slowdown vs SGD by implementation (low, high): Beltran et al., "Efficient and
#: Scalable Implementation of Differentially Private Deep Learning without Shortcuts", SaTML 2026
#: (arXiv:2406.17298): naive Opacus 2.6-8x lower throughput; Ghost Clipping "roughly halves this
#: cost" (taken as half the extra time); their JAX implementation about 1.2x
DP_SLOWDOWN = {"opacus": (2.6, 8.0), "ghost_clipping": (1.8, 4.5), "jax": (1.2, 1.2)}
#: implementations that materialize one gradient per example (ghost clipping keeps only norms)
_PER_EXAMPLE = {"opacus": True, "ghost_clipping": False, "jax": True}
_Z = {0.90: 1.6448536269514722, 0.95: 1.959963984540054, 0.99: 2.5758293035489004}


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def gdp_delta(mu: float, eps: float) -> float:
    """delta(eps) of a mu-GDP mechanism (Dong, Roth & Su, Gaussian Differential Privacy, JRSS-B 2022)."""
    return _phi(-eps / mu + mu / 2.0) - math.exp(eps) * _phi(-eps / mu - mu / 2.0)


def gdp_mu(eps: float, delta: float) -> float:
    """The largest mu for which mu-GDP gives (eps, delta)-DP (bisection on the monotone delta(mu))."""
    lo, hi = 1e-6, 100.0
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if gdp_delta(mid, eps) > delta:
            hi = mid
        else:
            lo = mid
    return lo


def dp_sgd_noise_multiplier(eps: float, delta: float, sample_rate: float, steps: float) -> float:
    """Noise multiplier sigma for DP-SGD at (eps, delta): the GDP central limit theorem
    mu = q sqrt(T (e^(1/sigma^2) - 1)) (Bu, Dong, Long & Su, 'Deep Learning with Gaussian Differential
    Privacy', HDSR 2020), solved for sigma. Accurate when q sqrt(T) stays moderate."""
    mu = gdp_mu(eps, delta)
    x = (mu / sample_rate) ** 2 / steps
    return 1.0 / math.sqrt(math.log1p(x))


@dataclass(frozen=True)
class ResponsibleResult(Result):
    """Costs of privacy (DP-SGD) and of fairness evaluation."""

    epsilon: float
    delta: float
    implementation: str
    dp_slowdown_factor: float
    dp_slowdown_range: tuple[float, float]
    base_training_time_s: float | None
    effective_training_time_s: float | None
    per_example_gradient_bytes: float | None
    noise_multiplier: float | None
    min_subgroup_prevalence: float
    subgroup_samples_needed: float
    total_samples_needed: float
    fairness_data_ratio: float

    @property
    def privacy_cost_ratio(self): return self.dp_slowdown_factor
    @property
    def additional_data_requirement(self): return self.fairness_data_ratio
    @property
    def effective_training_time(self):
        return None if self.effective_training_time_s is None else quantity(self.effective_training_time_s, "h")

    def summary(self) -> str:
        noise = "" if self.noise_multiplier is None else f", noise multiplier {self.noise_multiplier:.2f}"
        return (f"DP-SGD (eps {self.epsilon:g}, {self.implementation}): {self.dp_slowdown_factor:.1f}x slower"
                f"{noise}; fairness: {self.total_samples_needed:,.0f} samples for {self.subgroup_samples_needed:,.0f}"
                f" in a {self.min_subgroup_prevalence:.1%} subgroup")


class ResponsibleEngineeringModel(Solver):
    """What differential privacy and subgroup fairness evaluation cost — wall 20 (safety)."""

    walls = (20,)

    def solve(self, base_training_time=None, epsilon=1.0, delta=1e-5, min_subgroup_prevalence=0.01, *,
              implementation="opacus", model=None, batch_size=None, dataset_size=None, epochs=1.0,
              grad_precision="fp32", ci_half_width=0.02, confidence=0.95, metric_value=0.5) -> ResponsibleResult:
        """DP-SGD overheads and fairness-evaluation data.

        Time: ``base_training_time`` times the published slowdown of ``implementation``
        (``opacus``, ``ghost_clipping``, ``jax``; the slowdown does not depend on epsilon, the
        noise does). Memory: one gradient per example (``model`` and ``batch_size``). Noise: the
        DP-SGD noise multiplier for ``dataset_size``, ``batch_size`` and ``epochs``. Fairness: the
        samples to estimate a rate near ``metric_value`` within ``±ci_half_width`` at
        ``confidence`` on a subgroup of prevalence ``min_subgroup_prevalence`` (normal approximation).
        """
        eps = _positive("epsilon", epsilon)
        dlt = _positive("delta", delta)
        if dlt >= 1.0:
            raise InputError(f"delta must be below 1 (typically < 1/dataset size), got {delta!r}")
        if implementation not in DP_SLOWDOWN:
            raise InputError(f"unknown DP-SGD implementation '{implementation}'; use one of {', '.join(DP_SLOWDOWN)}")
        prev = _positive("min_subgroup_prevalence", min_subgroup_prevalence)
        if prev > 1.0:
            raise InputError(f"min_subgroup_prevalence is a fraction in (0, 1], got {min_subgroup_prevalence!r}")
        if confidence not in _Z:
            raise InputError(f"confidence must be one of {', '.join(map(str, _Z))}, got {confidence!r}")
        h = _positive("ci_half_width", ci_half_width)
        p = float(metric_value)
        if not 0.0 < p < 1.0:
            raise InputError(f"metric_value is a rate in (0, 1), got {metric_value!r}")

        low, high = DP_SLOWDOWN[implementation]
        slowdown = math.sqrt(low * high)
        notes = [f"DP-SGD slowdown {low:g}-{high:g}x for {implementation}, central {slowdown:.2f}x (geometric mean): "
                 "Beltran et al., SaTML 2026 (arXiv:2406.17298)"]
        base = eff = None
        if base_training_time is not None:
            base = parse(base_training_time, "h", "base_training_time", positive=True)
            eff = base * slowdown
        grad_bytes = None
        if model is not None:
            m = resolve_model(model)
            b = whole("batch_size", batch_size if batch_size is not None else 1)
            per = PRECISION_BYTES[normalize_precision(grad_precision)]
            grad_bytes = m.parameter_count() * per * b if _PER_EXAMPLE[implementation] else 0.0
            notes.append(f"per-example gradients: {m.name}'s parameters x {per:g} B x batch {b}"
                         if grad_bytes else "ghost clipping keeps per-example norms, not per-example gradients")
        sigma = None
        if dataset_size is not None:
            n = _positive("dataset_size", dataset_size)
            b = _positive("batch_size", batch_size if batch_size is not None else 1)
            if b > n:
                raise InputError(f"batch_size {b:g} exceeds dataset_size {n:g}")
            q, steps = b / n, _positive("epochs", epochs) * n / b
            sigma = dp_sgd_noise_multiplier(eps, dlt, q, steps)
            notes.append(f"noise multiplier from the Gaussian-DP central limit theorem (Bu et al. 2020): sampling rate "
                         f"{q:.3g}, {steps:,.0f} steps; the averaged gradient's noise is {sigma / b:.3g} clip norms")
        z = _Z[confidence]
        n_sub = z * z * p * (1.0 - p) / (h * h)
        notes.append(f"fairness: n = z^2 p(1-p)/h^2 = {n_sub:,.0f} subgroup samples (z {z:.2f}, p {p:g}, h {h:g}), "
                     f"divided by prevalence {prev:g}")
        return ResponsibleResult(
            epsilon=eps, delta=dlt, implementation=implementation, dp_slowdown_factor=slowdown,
            dp_slowdown_range=(low, high), base_training_time_s=base, effective_training_time_s=eff,
            per_example_gradient_bytes=grad_bytes, noise_multiplier=sigma, min_subgroup_prevalence=prev,
            subgroup_samples_needed=n_sub, total_samples_needed=n_sub / prev, fairness_data_ratio=1.0 / prev,
            assumptions=tuple(notes), binding=f"DP-SGD {slowdown:.1f}x training time")


# --- EfficiencyModel -----------------------------------------------------------------------------
_TYPE_CLASSES = {"ffn": ("gemm",), "attention": ("attention",), "conv": ("conv",)}
LOSSES = ("launch overhead", "memory bound", "tile and shape waste")


@dataclass(frozen=True)
class ClassEfficiency:
    """One operator class's share of the step and where its FLOP/s went (SI seconds, FLOP)."""

    op_class: str
    time_s: float
    time_share: float
    flops: float
    achieved_flops: float
    efficiency: float                 # achieved / peak
    losses_s: dict                    # time beyond the ideal flops/peak, by cause
    main_loss: str


@dataclass(frozen=True)
class EfficiencyResult(Result):
    """Achieved against peak FLOP/s, explained by operator class."""

    model_name: str
    hardware_name: str
    mfu: float
    peak_flops: float
    achievable_flops: float
    latency_s: float
    ideal_s: float
    classes: tuple[ClassEfficiency, ...]
    losses_s: dict
    workload_type: str | None = None
    use_flash_attention: bool = True

    @property
    def overhead_breakdown(self) -> dict:
        """Each loss as a fraction of the step time."""
        return {k: v / self.latency_s for k, v in self.losses_s.items()}

    def summary(self) -> str:
        worst = max(self.losses_s, key=self.losses_s.get)
        rows = ", ".join(f"{c.op_class} {c.time_share:.0%} of time at {c.efficiency:.0%}" for c in self.classes[:4])
        return f"MFU {self.mfu:.1%} ({format_si(self.achievable_flops, 'FLOP/s')}); main loss {worst}; {rows}"


class EfficiencyModel(Solver):
    """Why achieved FLOP/s fall short of peak, operator class by operator class — wall 3 (software)."""

    walls = (3,)

    def solve(self, model, hardware, batch_size=1, precision="fp16", workload_type=None, use_flash_attention=True,
              efficiency=None, *, seq_len=None, phase=None, stack=None, is_training=False) -> EfficiencyResult:
        """The engine's profile, decomposed: each operator's time = ideal (FLOPs / peak) + tile and shape
        waste (calibrated compute time beyond ideal) + memory bound (memory time beyond compute) + launch
        overhead. ``workload_type`` (``ffn``, ``attention``, ``conv``) makes ``mfu`` that class's efficiency.
        """
        if workload_type is not None and workload_type not in _TYPE_CLASSES:
            raise InputError(f"unknown workload_type '{workload_type}'; use one of {', '.join(_TYPE_CLASSES)}")
        m, hw = resolve_model(model), resolve_hardware(hardware)
        prof = Engine.solve(m, hw, batch_size=batch_size, precision=precision, efficiency=efficiency,
                            seq_len=seq_len, phase=phase, stack=stack, is_training=is_training)
        if np.ndim(prof.latency_s):
            raise InputError("EfficiencyModel explains one configuration; give scalar batch_size and seq_len")
        ops = prof.op_table
        t_c, t_m, t_l = (np.asarray(a, dtype=float).reshape(len(ops.names), -1)[:, 0] for a in prof.op_times)
        count = np.asarray(ops.count, dtype=float).reshape(len(ops.names), -1)[:, 0]
        flops = np.asarray(ops.flops, dtype=float).reshape(len(ops.names), -1)[:, 0]
        peak = float(prof.peak_flops_b)
        ideal, parts = _time_parts(t_c, t_m, t_l, flops, peak, prof.stack)
        unfused = 0
        if not use_flash_attention:
            dev = device_for(hw, float(np.min(prof.memory_parts["weights"])))   # the view the step was timed on
            unfused = _standard_attention(ops, ideal, parts, dev, PRECISION_BYTES[normalize_precision(precision)],
                                          peak, prof.stack, efficiency)
        total = sum(parts.values()) + ideal
        latency = float((total * count).sum())
        parts = {k: v * count for k, v in parts.items()}
        ideal = ideal * count
        total = total * count
        classes = []
        for name in dict.fromkeys(ops.classes):
            sel = np.array([c == name for c in ops.classes])
            t = float(total[sel].sum())
            if t <= 0:
                continue
            f = float((flops * count)[sel].sum())
            losses = {k: float(v[sel].sum()) for k, v in parts.items()}
            classes.append(ClassEfficiency(op_class=name, time_s=t, time_share=t / latency, flops=f,
                                           achieved_flops=f / t, efficiency=f / t / peak, losses_s=losses,
                                           main_loss=max(losses, key=losses.get)))
        classes.sort(key=lambda c: -c.time_s)
        losses = {k: float(v.sum()) for k, v in parts.items()}
        mfu = float(prof.mfu) * float(prof.latency_s) / latency
        if workload_type is not None:
            picked = [c for c in classes if c.op_class in _TYPE_CLASSES[workload_type]]
            if not picked:
                have = ", ".join(c.op_class for c in classes)
                raise InputError(f"{m.name} has no {workload_type} operators; it has {have}")
            mfu = sum(c.flops for c in picked) / sum(c.time_s for c in picked) / peak
        notes = [f"{m.name} {prof.phase}, batch {batch_size}, {precision}, {prof.stack} stack on {hw.name}: "
                 "operator times from Engine.solve",
                 "tile and shape waste: the calibrated compute time beyond FLOPs/peak (wave and tile quantization, "
                 "short K, small M); memory bound: memory time beyond compute time; launch overhead: kernel launch "
                 "gaps the stack does not hide"]
        if not use_flash_attention:
            notes.append(f"standard attention: {unfused} fused attention operator(s) replaced by QK^T, softmax and PV "
                         "kernels that write, read and rewrite the full S x keys score matrix in memory and compute "
                         "the masked half too; decode attention already reads the whole KV cache, so it is unchanged")
        worst = max(losses, key=losses.get)
        return EfficiencyResult(model_name=m.name, hardware_name=hw.name, mfu=mfu, peak_flops=peak,
                                achievable_flops=mfu * peak, latency_s=latency, ideal_s=float(ideal.sum()),
                                classes=tuple(classes), losses_s=losses,
                                workload_type=workload_type, use_flash_attention=bool(use_flash_attention),
                                assumptions=tuple(notes),
                                binding=f"{worst}: {losses[worst] / latency:.0%} of the step")


def _time_parts(t_c, t_m, t_l, flops, peak, stack):
    """Each operator's ideal time (FLOPs at peak) and its losses, per instance."""
    busy = np.maximum(t_c, t_m)
    ideal = np.minimum(flops / peak, t_c)
    return ideal, {"launch overhead": np.maximum(t_l - busy, 0.0) if stack == "eager" else np.array(t_l),
                   "memory bound": np.maximum(t_m - t_c, 0.0), "tile and shape waste": t_c - ideal}


def _standard_attention(ops, ideal, parts, dev, act_bytes, peak, stack, efficiency) -> int:
    """Re-time each fused prefill attention as unfused kernels, in place; returns how many.

    QK^T (a batched GEMM writing G x S x keys scores), softmax (reads and writes them) and PV (reads
    them): the full square is computed and moved, where the fused kernel keeps it on chip.
    """
    from ..engine import timing

    rows = np.flatnonzero(np.asarray(ops.kind).reshape(len(ops.names), -1)[:, 0] == timing.ATTN_PREFILL)
    for i in rows:
        M, N, K, G = (float(np.ravel(x[i])[0]) for x in (ops.M, ops.N, ops.K, ops.G))
        prec = int(np.ravel(ops.prec[i])[0])
        scores = G * M * N * act_bytes
        kinds = np.array([timing.GEMM, timing.SOFTMAX, timing.GEMM])
        flops = np.array([2.0 * G * M * N * K, 5.0 * G * M * N, 2.0 * G * M * N * K])
        nbytes = np.array([G * (M + N) * K * act_bytes + scores, 2.0 * scores, scores + G * (N + M) * K * act_bytes])
        tc, tm, tl = timing.op_times(dev, kinds, np.full(3, prec), flops, nbytes,
                                     np.array([M, 0.0, M]), np.array([N, 0.0, K]), np.array([K, 0.0, N]),
                                     np.array([G, 1.0, G]), stack=stack, efficiency=efficiency)
        k_ideal, k_parts = _time_parts(tc, tm, tl, np.array([flops[0], 0.0, flops[2]]), peak, stack)
        for name, arr in k_parts.items():
            parts[name][i] = float(arr.sum())
        # the model's FLOPs stay the useful (causal) ones: the kernels' time beyond them is waste
        parts["tile and shape waste"][i] += max(float(k_ideal.sum()) - ideal[i], 0.0)
    return len(rows)


# --- ScalingModel --------------------------------------------------------------------------------
#: training FLOPs per parameter per token (forward 2, backward 4; Kaplan et al. 2020)
TRAIN_FLOPS_PER_PARAM_TOKEN = 6.0
#: compute-optimal tokens per parameter (Hoffmann et al. 2022, Chinchilla: 70B parameters, 1.4T tokens)
CHINCHILLA_TOKENS_PER_PARAM = 20.0
#: sustained MFU assumed when the budget is given as accelerator time
REFERENCE_MFU = 0.40


@dataclass(frozen=True)
class ScalingResult(Result):
    """Compute-optimal model size and data for a training budget."""

    compute_budget_flops: float
    optimal_parameters: float
    optimal_tokens: float
    tokens_per_parameter: float

    def summary(self) -> str:
        return (f"C = {self.compute_budget_flops:.3g} FLOP: {self.optimal_parameters / 1e9:,.1f} B parameters on "
                f"{self.optimal_tokens / 1e12:,.2f} T tokens ({self.tokens_per_parameter:.0f} tokens/parameter)")


class ScalingModel(Solver):
    """Chinchilla compute-optimal parameters and tokens (C = 6 N D, D/N = 20) — wall 11."""

    walls = (11,)

    def solve(self, compute_budget=None, target_model_size=None, *, compute_budget_flops=None, hardware=None,
              mfu=REFERENCE_MFU, tokens_per_parameter=CHINCHILLA_TOKENS_PER_PARAM) -> ScalingResult:
        """Split ``compute_budget`` (FLOP, or accelerator time on ``hardware``, default H100, at ``mfu``)
        into parameters N and tokens D. With ``target_model_size`` N is fixed and D = C / 6N."""
        budget = compute_budget if compute_budget is not None else compute_budget_flops
        if budget is None:
            raise InputError("compute_budget is required (FLOP, e.g. 5.88e23, or accelerator time, e.g. '1000 days')")
        notes = ["C = 6 N D (Kaplan et al. 2020); compute-optimal D/N = 20 (Hoffmann et al. 2022, Chinchilla)"]
        try:
            c = parse(budget, "FLOP", "compute_budget", positive=True)
        except UnitError:
            t = parse(budget, "s", "compute_budget", positive=True)
            hw = resolve_hardware(hardware or "H100")
            u = _positive("mfu", mfu)
            if u > 1:
                raise InputError(f"mfu must be in (0, 1], got {mfu!r}") from None
            c = t * hw.peak_at("bf16") * u
            notes.append(f"budget {format_si(t, 's')} of {hw.name} at {u:.0%} MFU (bf16 dense peak)")
        k = _positive("tokens_per_parameter", tokens_per_parameter)
        if target_model_size is not None:
            n = parse(target_model_size, "", "target_model_size", positive=True)
            d = c / (TRAIN_FLOPS_PER_PARAM_TOKEN * n)
            notes.append("model size given: tokens = C / 6N")
        else:
            n = math.sqrt(c / (TRAIN_FLOPS_PER_PARAM_TOKEN * k))
            d = k * n
        return ScalingResult(compute_budget_flops=c, optimal_parameters=n, optimal_tokens=d,
                             tokens_per_parameter=d / n, assumptions=tuple(notes),
                             binding="compute budget" + (" at the given model size" if target_model_size else ""))


__all__ = ["EfficiencyModel", "EfficiencyResult", "OrchestrationModel", "OrchestrationResult",
           "ResponsibleEngineeringModel", "ResponsibleResult", "ScalingModel", "ScalingResult",
           "dp_sgd_noise_multiplier"]
