"""Grid points evaluated as ``mlsysim eval`` evaluates a plan: each point validated as a plan, the points on one
device that differ only in batch size and sequence length solved as one array, the others one by one.

A row is the point's axis values, its ``status`` (``ok``, ``infeasible``, ``sla_failed`` as ``mlsysim eval`` says,
or ``error``), the ``reason`` it is not ok, and the figures of the eval JSON envelope (``p_latency_ms``, ...).
"""
from __future__ import annotations

import numpy as np

from ..engine.engine import solve_step
from ..engine.timing import step_times
from ..errors import MlsysimError, OOMError
from ..evaluation.scorecard import FAIL, SystemEvaluation, _macro_lens, device_levels
from ..plan import check_asserts, parse_plan, plan_run, run_plan
from .spec import Sweep


def evaluate_points(sweep: Sweep, items) -> list[tuple[int, dict]]:
    """The rows of the grid points ``items`` ((index, axis values) pairs), each with its index, in index order."""
    groups: dict[str, list] = {}
    for index, values in items:
        groups.setdefault(sweep.group_key(values), []).append((index, values))
    rows = []
    for members in groups.values():
        rows += _group(sweep, members)
    return sorted(rows, key=lambda row: row[0])


def _group(sweep: Sweep, members: list) -> list[tuple[int, dict]]:
    """Points sharing all values but batch size and sequence length: one array solve on one device."""
    plans, rows = [], []
    for index, values in members:
        try:
            plans.append((index, values, parse_plan(sweep.point_plan(values), sweep.where)))
        except MlsysimError as exc:
            rows.append((index, _failed(sweep, values, exc)))
    if len(plans) > 1 and plans[0][2].hardware.total == 1:
        return rows + _as_array(sweep, plans)
    return rows + [(index, _one(sweep, values, plan)) for index, values, plan in plans]


def _one(sweep: Sweep, values, plan) -> dict:
    try:
        evaluation, violations = run_plan(plan)
    except MlsysimError as exc:
        return _failed(sweep, values, exc)
    return _row(sweep, values, evaluation, violations)


def _as_array(sweep: Sweep, plans: list) -> list[tuple[int, dict]]:
    """Each point's run built (and so checked) on its own, then one array solve of their steps; a group the
    array refuses as a whole (one point beyond the model's context window) is evaluated point by point."""
    runs, rows = [], []
    for index, values, plan in plans:
        try:
            runs.append((index, values, plan, plan_run(plan)))
        except MlsysimError as exc:
            rows.append((index, _failed(sweep, values, exc)))

    def one_by_one():
        return rows + [(index, _one(sweep, values, plan)) for index, values, plan, _ in runs]

    seqs = [run.seq_len for *_, run in runs]
    if not runs or (None in seqs and len(set(seqs)) > 1):
        return one_by_one()
    first = runs[0][3]
    batch = np.array([run.batch_size for *_, run in runs], dtype=float)
    seq = seqs[0] if len(set(seqs)) == 1 else np.array(seqs, dtype=float)
    try:
        profile = solve_step(first.at(site=None, batch_size=batch, seq_len=seq))
    except MlsysimError:
        return one_by_one()
    evaluations = _lenses(profile, [(plan, run) for _, _, plan, run in runs])
    for (index, values, plan, _), evaluation in zip(runs, evaluations):
        asserts = plan.constraints.asserts if plan.constraints else []
        rows.append((index, _row(sweep, values, evaluation, check_asserts(evaluation, asserts))))
    return rows


def _lenses(p, points: list) -> list[SystemEvaluation]:
    """Each point of an array solve read through the three lenses as ``evaluate_run`` reads one solve
    (tests/test_sweep.py holds the rows equal to ``mlsysim eval``'s)."""
    n = len(points)

    def each(x):
        return np.broadcast_to(x, (n,))

    used, cap, fits = each(sum(p.memory_parts.values())), p.memory_capacity_b, each(p.feasible)
    latency, compute, memory = each(p.latency_s), each(p.latency_compute_s), each(p.latency_memory_s)
    band = p.latency_range
    low, high = (None, None) if band is None else (each(band[0]), each(band[1]))
    throughput, mfu, bound, energy = each(p.samples_per_step / p.latency_s), each(p.mfu), each(p.bottleneck), \
        each(p.energy_j)
    classes = _bottleneck_classes(p, n)
    out = []
    for i, (plan, run) in enumerate(points):
        feas, perf = device_levels(run, used[i], cap, bool(fits[i]), latency[i],
                                   None if band is None else (low[i], high[i]), float(throughput[i]),
                                   p.throughput_unit, mfu[i], bound[i], classes[i], energy[i])
        macro = _macro_lens(run.hardware, run.site, (compute[i] + memory[i]) / latency[i], run.profile)
        out.append(SystemEvaluation(plan.name, feas, perf, macro))
    return out


def _bottleneck_classes(p, n: int) -> np.ndarray:
    """Each point's operator class that takes the most time (``PerformanceProfile.bottleneck_op``, per point)."""
    ops, k = p.op_table, len(p.op_table.names)

    def per_op(x):
        return np.broadcast_to(np.asarray(x).reshape(k, -1), (k, n))

    busy, overhead = step_times(*(per_op(t) for t in p.op_times), p.execution_profile)
    per_class = np.zeros((len(ops.class_names), n))
    np.add.at(per_class, ops.class_index, (busy + overhead) * per_op(ops.count))
    return np.asarray(ops.class_names)[per_class.argmax(axis=0)]


def _row(sweep: Sweep, values, evaluation: SystemEvaluation, violations: list[str]) -> dict:
    """A point's row: its axis values, status and reason, then the eval JSON envelope's figures."""
    status = "infeasible" if evaluation.feasibility.status == FAIL else ("sla_failed" if violations else "ok")
    reason = evaluation.feasibility.summary if status == "infeasible" else "; ".join(violations) or None
    figures = {k: v.item() if isinstance(v, np.generic) else v for k, v in evaluation.to_dict().items()}
    return {**dict(zip(sweep.axes, values)), "status": status, "reason": reason, **figures, "violations": violations}


def _failed(sweep: Sweep, values, exc: MlsysimError) -> dict:
    """The row of a point that could not be evaluated: does not fit (an OOM refusal), or is no valid plan."""
    return {**dict(zip(sweep.axes, values)), "status": "infeasible" if isinstance(exc, OOMError) else "error",
            "reason": str(exc)}
