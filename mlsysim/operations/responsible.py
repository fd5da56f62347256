"""Responsible engineering (wall 20): what privacy (DP-SGD) and subgroup fairness evaluation cost.

DP-SGD's cost in time (published slowdowns by implementation), memory (materialized per-example
gradients) and noise (the Gaussian-DP central limit theorem), and the samples a subgroup
fairness evaluation needs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InputError
from ..ops import PRECISION_BYTES, normalize_precision
from ..run import positive, resolve_model, whole
from ..solver import Result, Solver
from ..units import parse, quantity

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
        eps = positive("epsilon", epsilon)
        dlt = positive("delta", delta)
        if dlt >= 1.0:
            raise InputError(f"delta must be below 1 (typically < 1/dataset size), got {delta!r}")
        if implementation not in DP_SLOWDOWN:
            raise InputError(f"unknown DP-SGD implementation '{implementation}'; use one of {', '.join(DP_SLOWDOWN)}")
        prev = positive("min_subgroup_prevalence", min_subgroup_prevalence)
        if prev > 1.0:
            raise InputError(f"min_subgroup_prevalence is a fraction in (0, 1], got {min_subgroup_prevalence!r}")
        if confidence not in _Z:
            raise InputError(f"confidence must be one of {', '.join(map(str, _Z))}, got {confidence!r}")
        h = positive("ci_half_width", ci_half_width)
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
            n = positive("dataset_size", dataset_size)
            b = positive("batch_size", batch_size if batch_size is not None else 1)
            if b > n:
                raise InputError(f"batch_size {b:g} exceeds dataset_size {n:g}")
            q, steps = b / n, positive("epochs", epochs) * n / b
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


__all__ = ["ResponsibleEngineeringModel", "ResponsibleResult", "dp_sgd_noise_multiplier"]
