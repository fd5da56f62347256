"""Queueing on a pool of servers: Erlang C, tail percentiles, general service (wall 7).

In an M/M/c queue a request waits with the Erlang C probability, and then for an exponential
time of rate ``c/s - λ``. General service and bursty arrivals stretch that wait by the
Allen–Cunneen factor ``(ca² + cs²)/2`` (Kingman's, for one server). A response adds the
request's own service, whose distribution is fitted to its mean and coefficient of variation
(a constant, a shifted exponential, or a balanced two-phase hyperexponential), so the P99
response is a true quantile of wait + service, not the wait's quantile plus the mean service.
Every function takes SI floats and works unchanged on NumPy arrays.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..core.slices import map_slices
from ..errors import InputError
from ..formulas import queueing as _q
from ..solver import Result, Solver, verdict
from ..units import format_number, parse, quantity

#: without a given SLO, a P99 response within this many mean service times counts as met (0.1.0's rule)
DEFAULT_SLO_SERVICE_TIMES = 5.0
_QUANTILES = (0.5, 0.95, 0.99)


# --- the pure functions -------------------------------------------------------------------------
# Erlang B and C and the wait quantile are the formula library's cores (``mlsysim.formulas.queueing``),
# under this module's names: the book's equation and the solver's answer are one implementation.
erlang_b = _q.erlang_b_si
erlang_c = _q.erlang_c_si
wait_quantile = _q.wait_quantile_si


def service_phases(service_time, cv):
    """The service-time distribution with this mean and CV: a constant part and exponential phases.

    ``(shift, [(probability, rate), ...])``: cv 0 is a constant; 0 < cv <= 1 a constant plus an
    exponential of mean s·cv; cv > 1 a hyperexponential with balanced means (each phase carries
    half the mean).
    """
    s = service_time
    if cv == 0.0:
        return s, []
    if cv <= 1.0:
        return s * (1.0 - cv), [(1.0, 1.0 / (s * cv))]
    p = 0.5 * (1.0 + math.sqrt((cv * cv - 1.0) / (cv * cv + 1.0)))
    return 0.0 * s, [(p, 2.0 * p / s), (1.0 - p, 2.0 * (1.0 - p) / s)]


def response_tail(t, wait_probability, wait_rate, service_time, cv):
    """P(wait + service > t), the service fitted by :func:`service_phases`."""
    shift, phases = service_phases(service_time, cv)
    u = np.maximum(t - shift, 0.0)
    if not phases:
        return np.where(t >= shift, wait_probability * np.exp(-wait_rate * u), 1.0)
    return np.exp(_LogTail(wait_probability, wait_rate, phases)(u)[0])


class _LogTail:
    """ln P(W + X > u) and its slope: W is 0 or, with probability pw, Exp(theta); X exponential phases.

    Each phase contributes e^(-m·u)·K(u), m the slower of its two rates, so nothing overflows
    however far apart the rates are: P(Exp(a) + Exp(b) > u) = e^(-m·u)(1 + m·u·g), with
    g = (1 - e^(-Δu))/(Δu) and Δ = |a - b|. The per-point constants are computed once.
    """

    def __init__(self, pw, theta, phases):
        self.m0 = np.minimum(theta, _slowest(phases))
        self.pw = pw
        self.phases, far = [], 0.0
        for p, rate in phases:
            m, gap = np.minimum(theta, rate), np.abs(theta - rate)
            lag = m - self.m0
            self.phases.append((p, gap, theta < rate, 1.0 - pw, pw * m, (1.0 - pw) * (rate - m),
                                lag if len(phases) > 1 else None))
            with np.errstate(divide="ignore", invalid="ignore"):   # K(u) far out (u·g -> 1/gap), slowest phases
                far = far + np.where(lag == 0.0, p * ((1.0 - pw) * (theta >= rate) + pw * (1.0 + m / gap)), 0.0)
        self.far = far

    def start(self, level, lo, hi):
        """Where the tail's asymptote e^(-m0·u)·K(inf) crosses ``level``, kept inside [lo, hi]."""
        with np.errstate(divide="ignore", invalid="ignore"):
            u = (np.log(self.far) - level) / self.m0
        return np.clip(np.where(np.isfinite(u), u, hi), lo, hi)

    def __call__(self, u):
        total = slope = 0.0
        for p, gap, service_faster, idle, pm, idle_rate, lag in self.phases:
            x = gap * u
            em = np.expm1(-x)
            with np.errstate(divide="ignore", invalid="ignore"):
                g = np.where(x > 1e-12, -em / x, 1.0)
            e = 1.0 + em
            own = np.where(service_faster, e, 1.0)        # the service's own tail, relative to e^(-m·u)
            k = idle * own + self.pw + pm * u * g
            dk = pm * e - idle_rate * own
            if lag is not None:
                shrink = np.exp(-lag * u)
                k, dk = shrink * k, shrink * (dk - lag * k)
            total, slope = total + p * k, slope + p * dk
        # far past the quantile the tail underflows to 0: log 0 = -inf reads as "below the level", and the
        # caller's bracket closes in from above
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(total) - self.m0 * u, slope / total - self.m0


def response_quantile(q, wait_probability, wait_rate, service_time, cv):
    """The q-quantile of wait + service: Newton on the log tail, inside a bracket that always holds it."""
    shift, phases = service_phases(service_time, cv)
    w = wait_quantile(q, wait_probability, wait_rate)
    if not phases:
        return shift + w
    level = math.log(1.0 - q)
    # at least the quantile of the wait or of the service alone (each phase's share of the tail
    # bounds the service's from below); at most the sum of their (1+q)/2-quantiles (a union bound)
    service_lo = functools.reduce(np.maximum, [max(math.log(p / (1.0 - q)), 0.0) / rate for p, rate in phases]) \
        if len(phases) > 1 else -level / phases[0][1]
    lo = np.maximum(w, service_lo)
    hi = wait_quantile((1.0 + q) / 2.0, wait_probability, wait_rate) + math.log(2.0 / (1.0 - q)) / _slowest(phases)
    lo, hi = (np.array(x, dtype=float) for x in np.broadcast_arrays(lo, hi))
    tail = _LogTail(wait_probability, wait_rate, phases)
    u = tail.start(level, lo, hi)
    for _ in range(60):
        log_tail, slope = tail(u)
        excess = log_tail - level                         # > 0: u is still below the quantile
        np.copyto(lo, u, where=excess > 0.0)
        np.copyto(hi, u, where=excess <= 0.0)
        step = u - excess / slope
        step = np.where((step >= lo) & (step <= hi), step, 0.5 * (lo + hi))
        # Newton converges quadratically: once a step and the miss are ~1e-6, the next u is good to ~1e-12
        converged = np.all((np.abs(step - u) <= 1e-6 * u) & (np.abs(excess) <= 1e-6))
        u = step
        if converged:
            break
    u = shift + u
    return u if u.ndim else float(u)


def _slowest(phases):
    return functools.reduce(np.minimum, [rate for _, rate in phases])


def _like(value, *inputs):
    return value if any(np.ndim(x) for x in inputs) else float(value)


# --- the solver ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TailLatencyResult(Result):
    """Waiting and response times of a server pool, SI seconds (arrays over array inputs)."""

    arrival_rate: object
    service_time_s: object
    servers: object
    service_cv: float
    arrival_cv: float
    utilization: object
    is_stable: object
    wait_probability: object
    mean_wait_s: object
    p50_wait_s: object
    p95_wait_s: object
    p99_wait_s: object
    mean_response_s: object
    p50_response_s: object
    p95_response_s: object
    p99_response_s: object
    slo_s: object
    slo_violation_probability: object
    slo_headroom_ratio: object

    @property
    def meets_slo(self):
        """P99 response within the SLO."""
        return verdict(self.slo_headroom_ratio <= 1.0)

    # -- with units, and the 0.1.0 names ----------------------------------------------------------
    @property
    def queue_utilization(self): return self.utilization
    @property
    def p50_latency(self): return quantity(self.p50_response_s, "ms")
    @property
    def p95_latency(self): return quantity(self.p95_response_s, "ms")
    @property
    def p99_latency(self): return quantity(self.p99_response_s, "ms")
    @property
    def mean_latency(self): return quantity(self.mean_response_s, "ms")
    @property
    def p50_wait(self): return quantity(self.p50_wait_s, "ms")
    @property
    def p95_wait(self): return quantity(self.p95_wait_s, "ms")
    @property
    def p99_wait(self): return quantity(self.p99_wait_s, "ms")
    @property
    def mean_wait(self): return quantity(self.mean_wait_s, "ms")

    def summary(self) -> str:
        if np.ndim(self.utilization):
            return f"{np.size(self.utilization):,} operating points, utilization up to {np.max(self.utilization):.2f}"
        if not self.is_stable:
            return f"unstable: utilization {self.utilization:.2f}"
        return (f"utilization {self.utilization:.2f}, P(wait) {self.wait_probability:.3f}, "
                f"P50/P99 response {self.p50_latency} / {self.p99_latency}")



class TailLatencyModel(Solver):
    """Waiting and response-time percentiles of ``servers`` identical servers fed by one queue — wall 7."""

    walls = (7,)

    def solve(self, arrival_rate=None, service_time=None, servers=None, service_cv=None, *, arrival_cv=1.0,
              slo=None, allow_unstable=False, arrival_rate_qps=None, service_latency_ms=None, num_replicas=None,
              service_time_cv=None) -> TailLatencyResult:
        """Percentiles for Poisson-like arrivals at ``arrival_rate`` (per second) and a mean ``service_time``.

        A bare ``service_time`` is in seconds (0.1.0's ``service_latency_ms`` in milliseconds).
        ``arrival_rate``, ``service_time`` and ``servers`` may be arrays (a sweep). ``slo`` is the
        P99 response target (default: 5 mean service times); an unstable queue raises unless
        ``allow_unstable``, which reports it with infinite waits.
        """
        lam = _rate(_one("arrival_rate", arrival_rate, "arrival_rate_qps", arrival_rate_qps))
        if service_time is not None and service_latency_ms is not None:
            raise InputError("give the service time once: service_time and service_latency_ms are synonyms")
        if service_time is None and service_latency_ms is None:
            raise InputError("service_time is required (the mean time one server spends on a request)")
        s = _sizes("service_time", service_time, "s") if service_time is not None else \
            _sizes("service_latency_ms", service_latency_ms, "ms")
        c = _servers(_one("servers", servers, "num_replicas", num_replicas, default=1))
        cv = check_cv("service_cv", _one("service_cv", service_cv, "service_time_cv", service_time_cv, default=1.0))
        ca = check_cv("arrival_cv", arrival_cv)
        slo_s = DEFAULT_SLO_SERVICE_TIMES * s if slo is None else _sizes("slo", slo, "s")

        load = lam * s
        rho = load / c
        stable = rho < 1.0
        if not allow_unstable and not np.all(stable):
            raise InputError(_saturation_sentence(lam, s, c, rho))
        return _tail(lam, s, c, cv, ca, slo_s, rho, stable, slo is None)


#: figures of one operating point, in the order ``_point_figures`` returns them
_FIGURES = ("wait_probability", "mean_wait_s", "p50_wait_s", "p95_wait_s", "p99_wait_s", "mean_response_s",
            "p50_response_s", "p95_response_s", "p99_response_s", "slo_violation_probability")
#: big sweeps are computed in slices of this many points (cache-sized, one per thread)
SLICE = 65536


def _point_figures(lam, s, c, cv, ca, slo_s):
    """Every figure of ``_FIGURES`` for (arrays of) operating points; unstable points get infinite waits."""
    ok = lam * s < c
    lam = np.where(ok, lam, 0.0)                             # unstable points are replaced at the end
    pw = np.asarray(erlang_c(lam * s, c), dtype=float)
    rate = (c / s - lam) / ((ca * ca + cv * cv) / 2.0)        # conditional wait: Exp(rate), Allen-Cunneen
    waits = [wait_quantile(q, pw, rate) for q in _QUANTILES]
    responses = [response_quantile(q, pw, rate, s, cv) for q in _QUANTILES]
    violation = response_tail(slo_s, pw, rate, s, cv)
    figures = (pw, pw / rate, *waits, pw / rate + s, *responses, violation)
    return [np.where(ok, x, 1.0 if name in ("wait_probability", "slo_violation_probability") else np.inf)
            for name, x in zip(_FIGURES, figures)]


def _figures(lam, s, c, cv, ca, slo_s) -> dict:
    """``_point_figures`` over any shape: scalars directly, big sweeps slice by slice on the cores."""
    shape = np.broadcast_shapes(*(np.shape(x) for x in (lam, s, c, slo_s)))
    if not shape:
        return {k: float(v) for k, v in zip(_FIGURES, _point_figures(lam, s, c, cv, ca, slo_s))}
    flat = [np.broadcast_to(x, shape).reshape(-1) for x in (lam, s, c, slo_s)]
    n = flat[0].size

    def one(i):
        return _point_figures(*(x[i:i + SLICE] for x in flat[:3]), cv, ca, flat[3][i:i + SLICE])

    parts = map_slices(one, n, SLICE)
    return {k: np.concatenate([p[j] for p in parts]).reshape(shape) for j, k in enumerate(_FIGURES)}


def _tail(lam, s, c, cv, ca, slo_s, rho, stable, default_slo) -> TailLatencyResult:
    figures = _figures(lam, s, c, cv, ca, slo_s)
    scalar = not np.ndim(rho)
    kingman = (ca * ca + cv * cv) / 2.0
    notes = [f"M/M/c waiting (Erlang C), stretched by the Allen-Cunneen factor (ca^2 + cs^2)/2 = {kingman:g} "
             f"for arrival CV {ca:g} and service CV {cv:g}",
             "one shared queue, first come first served; response = wait + a service drawn from a "
             f"{_service_words(cv)} of the given mean"]
    if default_slo:
        notes.append(f"SLO: P99 response within {DEFAULT_SLO_SERVICE_TIMES:g} mean service times")
    worst = float(np.max(rho))
    binding = (f"queue saturated: utilization {worst:.2f}" if not np.all(stable) else
               f"utilization {worst:.2f}" + ("" if scalar else " at the busiest point"))
    return TailLatencyResult(
        arrival_rate=lam, service_time_s=s, servers=c, service_cv=cv, arrival_cv=ca,
        utilization=float(rho) if scalar else rho, is_stable=verdict(stable), slo_s=slo_s,
        slo_headroom_ratio=figures["p99_response_s"] / slo_s, **figures, assumptions=tuple(notes), binding=binding)


def _service_words(cv: float) -> str:
    if cv == 0.0:
        return "constant"
    return "shifted exponential" if cv < 1.0 else ("exponential" if cv == 1.0 else "two-phase hyperexponential")


def _saturation_sentence(lam, s, c, rho) -> str:
    i = int(np.argmax(rho))

    def pick(x):
        return float(np.broadcast_to(x, np.shape(rho)).flat[i])

    lam_i, c_i, rho_i, need = pick(lam), int(pick(c)), pick(rho), math.floor(pick(lam * s)) + 1
    where = ""
    if np.ndim(rho):
        n = int(np.sum(rho >= 1.0))
        where = f" at {format_number(n)} of {format_number(np.size(rho))} points (worst shown)"
    return (f"arrival rate {lam_i:.3g}/s saturates {c_i} server{'s' if c_i != 1 else ''} (utilization "
            f"{rho_i:.2f}){where}; add servers (at least {need}) or lower the rate")


# --- input checks (arrays allowed) -----------------------------------------------------------------
def _one(name, value, old, old_value, default=None):
    if value is not None and old_value is not None and not _same(value, old_value):
        raise InputError(f"give {name} once: {name} and {old} are synonyms")
    out = value if value is not None else old_value
    if out is None:
        if default is None:
            raise InputError(f"{name} is required")
        return default
    return out


def _same(a, b) -> bool:
    try:
        return bool(np.all(np.asarray(a) == np.asarray(b)))
    except (TypeError, ValueError):
        return False


def _array(name, value):
    if isinstance(value, (list, tuple, np.ndarray)):
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise InputError(f"{name} must be numbers, got {value!r}") from None
        if arr.size == 0 or not np.all(np.isfinite(arr)):
            raise InputError(f"{name} must be finite numbers")
        return arr
    return None


def _rate(value):
    arr = _array("arrival_rate", value)
    if arr is None:
        return parse(value, "1/s", "arrival_rate")
    if np.any(arr < 0):
        raise InputError("arrival_rate must not be negative")
    return arr


def _sizes(name, value, unit):
    arr = _array(name, value)
    if arr is None:
        return parse(value, unit, name, positive=True)
    if np.any(arr <= 0):
        raise InputError(f"{name} must be positive")
    return arr * parse(1.0, unit, name)


def _servers(value):
    arr = _array("servers", value)
    v = arr if arr is not None else value
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating, np.ndarray)):
        raise InputError(f"servers must be a whole number >= 1, got {value!r}")
    if np.any(np.asarray(v) < 1) or np.any(np.asarray(v) % 1) or not np.all(np.isfinite(v)):
        raise InputError(f"servers must be a whole number >= 1, got {value!r}")
    return v.astype(np.int64) if arr is not None else int(v)


def check_cv(name, value):
    """A coefficient of variation: a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise InputError(f"{name} (coefficient of variation) must be a number >= 0, got {value!r}")
    return float(value)
