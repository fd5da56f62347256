"""The differential explainer (0.1.0's ``mlsysim.core.explainers``): why one configuration is faster than
another, from the roofline bound each sits on.

It reads two :class:`PerformanceProfile` results (or 0.1.0's pipeline dicts holding one under
``"SingleNodeModel"``) and explains the speed-up with :mod:`mlsysim.analysis.explain`'s reasoning (which
ratio the speed-up tracks: bandwidth when both are memory-bound, FLOP/s when both are compute-bound, a
regime shift otherwise), naming the wall of :mod:`mlsysim.analysis.walls` that binds each side.
"""
from __future__ import annotations

import logging
from typing import Any

from ..analysis.explain import _reason, compare
from ..analysis.walls import wall

logger = logging.getLogger(__name__)

#: the wall each roofline bound is (Compute: wall 1, Memory: wall 2, launch overhead: wall 3, Software)
BOUND_WALL = {"Compute": 1, "Memory": 2, "Overhead": 3}


class DifferentialExplainer:
    """Explains the performance delta between a baseline and a proposal."""

    @staticmethod
    def compare_performance(baseline: Any, proposal: Any) -> str:
        """A text block: the speed-up, both regimes with their walls, and why the speed-up is what it is
        (``"performance decreases"`` when the proposal is slower)."""
        base, prop = _profile(baseline), _profile(proposal)
        if base is None or prop is None:
            logger.debug("differential analysis skipped: %r or %r holds no latency", type(baseline), type(proposal))
            return "Cannot perform differential analysis: missing latency metrics."
        t_base, t_prop = _seconds(base), _seconds(prop)
        if not (t_base > 0 and t_prop > 0):
            return "Cannot perform differential analysis: a latency is not a positive time."
        speedup = t_base / t_prop
        b_bound, p_bound = _bound(base), _bound(prop)
        bw = _ratio(prop, base, "peak_bw_b")
        fl = _ratio(prop, base, "peak_flops_b")
        lines = ["Differential Analysis: Proposal vs. Baseline",
                 f"• Speedup: {speedup:.2f}x ({t_base * 1e3:.3g} ms -> {t_prop * 1e3:.3g} ms)",
                 f"• Baseline Regime: {b_bound}-bound ({_wall_name(b_bound)})",
                 f"• Proposal Regime: {p_bound}-bound ({_wall_name(p_bound)})", ""]
        if speedup < 1.0:
            lines.append("Conclusion: The proposed change decreased performance; " + _reason(
                b_bound, p_bound, bw, fl, speedup))
        else:
            lines.append("Analysis: " + _reason(b_bound, p_bound, bw, fl, speedup) + ".")
        return "\n".join(lines)

    @staticmethod
    def compare_hardware(model, baseline_hardware, proposal_hardware, **solve_kw) -> str:
        """Solve ``model`` on both devices (``Engine.solve`` keywords pass through) and explain the change."""
        c = compare(model, [baseline_hardware, proposal_hardware], **solve_kw)[0]
        return (f"{c.baseline} -> {c.proposal}: {c.speedup:.2f}x; {c.base_bound}-bound "
                f"({_wall_name(c.base_bound)}) -> {c.new_bound}-bound ({_wall_name(c.new_bound)}); {c.reason}")


def _profile(x):
    if isinstance(x, dict):
        x = x.get("SingleNodeModel", x.get("performance"))
    return x if x is not None and (hasattr(x, "latency_s") or hasattr(x, "latency")) else None


def _seconds(p) -> float:
    if getattr(p, "latency_s", None) is not None:
        return float(p.latency_s)
    lat = p.latency
    return float(lat.m_as("s")) if hasattr(lat, "m_as") else float(lat)


def _bound(p) -> str:
    text = str(getattr(p, "bottleneck", "Unknown"))
    for name in BOUND_WALL:
        if name.lower() in text.lower():
            return name
    return text


def _ratio(new, old, attr) -> float:
    a, b = getattr(new, attr, None), getattr(old, attr, None)
    try:
        return float(a) / float(b)
    except (TypeError, ValueError, ZeroDivisionError):
        return float("nan")


def _wall_name(bound: str) -> str:
    n = BOUND_WALL.get(bound)
    return f"wall {n}, {wall(n).name}" if n else "no roofline wall"


__all__ = ["DifferentialExplainer", "BOUND_WALL"]
