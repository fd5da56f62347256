"""Failures and checkpoints: MTBF of parts in series, failure odds, Young–Daly, availability.

SI cores (``*_si``, seconds, floats or NumPy arrays) for the solvers; unit-checked public formulas
around them. Lifetimes are exponential throughout, so rates of parts in series add.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ._check import link, number, result, si


# --- SI cores ----------------------------------------------------------------------------------------
def young_daly_interval_si(delta_s, mtbf_s):
    """τ* = √(2·δ·M): Young's (1974) first-order optimum checkpoint interval."""
    return np.sqrt(2.0 * delta_s * mtbf_s)


def daly_interval_si(delta_s, mtbf_s):
    """τ* = √(2δM)·(1 + √(δ/2M)/3 + (δ/2M)/9) − δ for δ < 2M, else M (Daly 2006, eq. 37)."""
    x = delta_s / (2.0 * mtbf_s)
    tau = np.sqrt(2.0 * delta_s * mtbf_s) * (1 + np.sqrt(x) / 3 + x / 9) - delta_s
    return np.where(delta_s < 2.0 * mtbf_s, tau, mtbf_s)


def daly_wall_time_si(work_s, tau_s, delta_s, mtbf_s, restart_s):
    """T = M·e^{R/M}·(e^{(τ+δ)/M} − 1)·W/τ: expected wall time of W of work (Daly 2006, eq. 20)."""
    m = mtbf_s
    return m * np.exp(restart_s / m) * np.expm1((tau_s + delta_s) / m) * work_s / tau_s


def checkpoint_goodput_si(delta_s, tau_s, restart_s, mtbf_s):
    """Goodput ≈ 1 − δ/τ − R/M (first order; floored at 0): time writing and time restarting are lost."""
    return np.maximum(0.0, 1.0 - delta_s / tau_s - restart_s / mtbf_s)


def series_mtbf_si(counts, mtbfs_s):
    """1/MTBF = Σ nᵢ/MTBFᵢ: parts in series, any one failing stops the whole."""
    return 1.0 / sum(n / m for n, m in zip(counts, mtbfs_s))


def cluster_mtbf_si(component_mtbf_s, n, correlation_factor=1.0):
    """MTBF_cluster = MTBF_component / N · k (k < 1 for correlated failures)."""
    return component_mtbf_s / n * correlation_factor


def failure_probability_si(mtbf_s, duration_s):
    """P(≥1 failure) = 1 − e^(−T/MTBF)."""
    return -np.expm1(-duration_s / mtbf_s)


def availability_stacked_si(availability, replicas):
    """A_system = 1 − (1 − A)^k: k independent replicas, up while any one is."""
    return 1.0 - (1.0 - availability) ** replicas


# --- unit-checked public formulas ------------------------------------------------------------------
@link(young_daly_interval_si)
def young_daly_interval(checkpoint_time, mtbf):
    """Optimal checkpoint interval τ* = √(2·δ·MTBF) (Young 1974; the form Daly 2006 refines)."""
    return result(young_daly_interval_si(si(checkpoint_time, "time", "checkpoint_time"),
                                         si(mtbf, "time", "mtbf", positive=True)), "time")


@link(daly_interval_si)
def daly_interval(checkpoint_time, mtbf):
    """Daly's (2006, eq. 37) higher-order optimum: √(2δM)·(1 + √(δ/2M)/3 + δ/18M) − δ, or M once δ ≥ 2M."""
    return result(daly_interval_si(si(checkpoint_time, "time", "checkpoint_time"),
                                   si(mtbf, "time", "mtbf", positive=True)), "time")


@link(daly_wall_time_si)
def daly_wall_time(work, interval, checkpoint_time, mtbf, restart_time="0 s"):
    """Expected wall time of ``work`` under exponential failures: M·e^{R/M}·(e^{(τ+δ)/M} − 1)·W/τ (Daly 2006)."""
    return result(daly_wall_time_si(si(work, "time", "work"), si(interval, "time", "interval", positive=True),
                                    si(checkpoint_time, "time", "checkpoint_time"),
                                    si(mtbf, "time", "mtbf", positive=True),
                                    si(restart_time, "time", "restart_time")), "time")


@link(checkpoint_goodput_si)
def checkpoint_goodput(checkpoint_time, interval, recovery_time, mtbf):
    """Fraction of time doing useful work, first order: 1 − δ/τ − R/MTBF, at least 0 (Young 1974)."""
    return float(checkpoint_goodput_si(si(checkpoint_time, "time", "checkpoint_time"),
                                       si(interval, "time", "interval", positive=True),
                                       si(recovery_time, "time", "recovery_time"),
                                       si(mtbf, "time", "mtbf", positive=True)))


@link(series_mtbf_si)
def node_mtbf(parts):
    """MTBF of a node whose parts fail independently, any one stopping it: 1/MTBF = Σ nᵢ/MTBFᵢ.

    ``parts`` is an iterable of ``(count, mtbf)`` pairs, e.g. ``[(8, "50000 h"), (8, "1e6 h")]``.
    """
    counts, mtbfs = [], []
    for i, (count, mtbf) in enumerate(parts):
        counts.append(number(count, f"parts[{i}] count", minimum=0))
        mtbfs.append(si(mtbf, "time", f"parts[{i}] mtbf", positive=True))
    if not any(np.any(c) for c in counts):
        raise InputError("node_mtbf needs at least one part with a non-zero count")
    return result(series_mtbf_si(counts, mtbfs), "time").to("hour")


@link(cluster_mtbf_si)
def cluster_mtbf(component_mtbf, n_components, correlation_factor=1.0):
    """MTBF of N identical parts in series: MTBF/N, times a factor k for correlated failures (k < 1)."""
    return result(cluster_mtbf_si(si(component_mtbf, "time", "component_mtbf", positive=True),
                                  number(n_components, "n_components", minimum=1),
                                  number(correlation_factor, "correlation_factor", minimum=0)), "time").to("hour")


@link(failure_probability_si)
def failure_probability(mtbf, duration):
    """Probability of at least one failure in ``duration``: 1 − e^(−T/MTBF) (exponential lifetimes)."""
    return failure_probability_si(si(mtbf, "time", "mtbf", positive=True), si(duration, "time", "duration"))


@link(availability_stacked_si)
def availability_stacked(availability, replicas):
    """Availability of k independent replicas, up while any one is: 1 − (1 − A)^k."""
    return availability_stacked_si(number(availability, "availability", minimum=0, maximum=1),
                                   number(replicas, "replicas", minimum=0))


__all__ = ["availability_stacked", "availability_stacked_si", "checkpoint_goodput", "checkpoint_goodput_si",
           "cluster_mtbf", "cluster_mtbf_si", "daly_interval", "daly_interval_si", "daly_wall_time",
           "daly_wall_time_si", "failure_probability", "failure_probability_si", "node_mtbf", "series_mtbf_si",
           "young_daly_interval", "young_daly_interval_si"]
