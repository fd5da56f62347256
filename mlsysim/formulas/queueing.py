"""Queues and speedups: Erlang B and C for a pool of servers (M/M/c), wait percentiles, Amdahl's law.

SI cores (``*_si``: floats or NumPy arrays; rates in 1/s, times in s) that the serving solvers
call, and unit-checked public formulas around them. Reference: Kleinrock (1975), *Queueing
Systems* vol. 1, §3.5 (M/M/c); Harchol-Balter (2013), *Performance Modeling and Design of Computer
Systems*, ch. 14.
"""
from __future__ import annotations

import math

import numpy as np

from ._check import link, number, result, si

#: an Erlang B below this is zero for every purpose (and arithmetic on it would turn subnormal)
_NEGLIGIBLE = 1e-300


def _first_step(load: float) -> int:
    return max(1, int(load - 12.0 * math.sqrt(load)))


def _like(value, *inputs):
    return value if any(np.ndim(x) for x in inputs) else float(value)


# --- SI cores ----------------------------------------------------------------------------------------
def erlang_b_si(load, servers):
    """B(c, a): probability that c servers offered a Erlangs are all busy (loss system).

    By the recursion B_k = a·B_{k−1} / (k + a·B_{k−1}): every step stays in [0, 1], so a pool of
    thousands of servers neither overflows (a^c / c!) nor loses precision. Below k = a − 12√a
    the recursion contracts any starting value to B_k by a factor e^−72, so it starts there
    from 1 rather than from k = 0; once B is below 1e−300 it can only shrink, and stops.
    ``servers`` may be an array too (a scan over pool sizes).
    """
    c = np.asarray(servers)
    if np.ndim(load) == 0 and c.ndim == 0:
        a, b = float(load), 1.0
        for k in range(_first_step(a), int(c) + 1):
            b = a * b / (k + a * b)
            if b < _NEGLIGIBLE:
                return 0.0
        return b
    a = np.asarray(load, dtype=float)
    shape = np.broadcast_shapes(a.shape, c.shape)
    b, t = np.ones(shape), np.empty(shape)
    out = np.zeros(shape) if c.ndim else None
    for k in range(_first_step(float(a.min())), int(c.max()) + 1):
        np.multiply(a, b, out=t)
        np.add(t, k, out=b)
        np.divide(t, b, out=b)
        if out is not None:
            np.copyto(out, b, where=c == k)
        if k % 64 == 0 and b.max() < _NEGLIGIBLE:
            b[:] = 0.0
            break
    return b if out is None else out


def erlang_c_si(load, servers):
    """C(c, a) = B / (1 − ρ(1 − B)), ρ = a/c: probability that an arrival waits (1 when ρ ≥ 1)."""
    rho = np.asarray(load, dtype=float) / servers
    b = erlang_b_si(load, servers)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = b / (1.0 - rho * (1.0 - b))
    return _like(np.where(rho < 1.0, np.clip(c, 0.0, 1.0), 1.0), load, servers)


def wait_quantile_si(q, wait_probability, wait_rate):
    """t_q with P(W > t) = C·e^(−(cμ−λ)·t) = 1 − q: ln(C/(1−q)) / (cμ−λ), or 0 when C ≤ 1 − q."""
    with np.errstate(divide="ignore"):
        t = np.log(wait_probability / (1.0 - q)) / wait_rate
    return np.where(wait_probability > 1.0 - q, t, 0.0)


def mmc_si(arrival_rate, service_rate, servers, quantiles=(0.5, 0.99)):
    """M/M/c at λ, μ, c: (ρ = λ/(cμ), P(wait) = C(c, λ/μ), mean wait C/(cμ − λ), wait quantiles).

    An unstable queue (λ ≥ cμ) waits forever: P(wait) 1, waits infinite.
    """
    rho = arrival_rate / (servers * service_rate)
    if rho >= 1.0:
        return rho, 1.0, math.inf, tuple(math.inf for _ in quantiles)
    pw = erlang_c_si(arrival_rate / service_rate, servers)
    rate = servers * service_rate - arrival_rate
    return rho, pw, pw / rate, tuple(float(wait_quantile_si(q, pw, rate)) for q in quantiles)


def amdahl_speedup_si(p, s):
    """S = 1 / ((1 − p) + p/s): a fraction p of the work sped up s-fold (Amdahl 1967)."""
    return 1.0 / ((1.0 - p) + p / s)


# --- unit-checked public formulas ------------------------------------------------------------------
@link(erlang_c_si)
def erlang_c(offered_load, servers):
    """Erlang C: probability that an arrival to an M/M/c queue offered a = λ/μ Erlangs waits (Kleinrock §3.5).
    C = [aᶜ/c! · c/(c−a)] / [Σ_{k<c} aᵏ/k! + aᶜ/c! · c/(c−a)], computed through Erlang B."""
    return erlang_c_si(number(offered_load, "offered_load", minimum=0), number(servers, "servers", minimum=1,
                                                                               integer=True))


@link(erlang_b_si)
def erlang_b(offered_load, servers):
    """Erlang B: probability that c servers offered a Erlangs are all busy, aᶜ/c! / Σ_{k≤c} aᵏ/k!."""
    return erlang_b_si(number(offered_load, "offered_load", minimum=0), number(servers, "servers", minimum=0,
                                                                               integer=True))


@link(mmc_si)
def mmc_queue(arrival_rate, service_rate, servers):
    """An M/M/c queue (Poisson arrivals λ, exponential service μ per server, c servers; Kleinrock §3.5).

    Returns a dict: ``utilization`` ρ = λ/(cμ), ``wait_probability`` (Erlang C), ``mean_wait`` C/(cμ − λ),
    ``p50_wait`` and ``p99_wait`` from P(W > t) = C·e^(−(cμ−λ)t). Waits are infinite when ρ ≥ 1.
    """
    lam = si(arrival_rate, "rate", "arrival_rate")
    mu = si(service_rate, "rate", "service_rate", positive=True)
    c = number(servers, "servers", minimum=1, integer=True)
    rho, pw, mean, (p50, p99) = mmc_si(lam, mu, int(c))
    return {"utilization": rho, "wait_probability": float(pw), "mean_wait": result(mean, "time"),
            "p50_wait": result(p50, "time"), "p99_wait": result(p99, "time")}


@link(amdahl_speedup_si)
def amdahl_speedup(parallel_fraction, speedup):
    """Amdahl's law: S = 1 / ((1 − p) + p/s) (Amdahl 1967, "Validity of the single processor approach")."""
    return amdahl_speedup_si(number(parallel_fraction, "parallel_fraction", minimum=0, maximum=1),
                             number(speedup, "speedup", positive=True))


__all__ = ["amdahl_speedup", "amdahl_speedup_si", "erlang_b", "erlang_b_si", "erlang_c", "erlang_c_si",
           "mmc_queue", "mmc_si", "wait_quantile_si"]
