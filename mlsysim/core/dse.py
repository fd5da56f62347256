"""Declarative design-space exploration (0.1.0's ``mlsysim.core.dse``): a grid, an objective, constraints.

``DSE(space, objective, constraints)`` names the parameters and the values to try, the metric to minimize or
maximize (``"maximize: throughput"``, ``"minimize(latency_s)"``) and hard limits (``"memory_utilization <= 0.9"``).
``search(evaluator_fn)`` calls ``evaluator_fn(params)`` at every point of the grid, as 0.1.0 did. Without an
evaluator, ``search(model=..., hardware=..., ...)`` evaluates the grid through :meth:`Engine.solve` itself:
the numeric axes (``batch_size``, ``seq_len``, ``past_len``) go to the engine as one vectorized sweep per
combination of the other parameters (``hardware``, ``precision``, ``model``, ``stack``, ``phase`` ...), so a
grid of thousands of points costs a handful of solves. Metrics are dotted paths into what the evaluator
returns (attributes, keys; a quantity's magnitude), e.g. ``performance.latency`` of a scorecard or
``latency_s`` of a profile; a point whose result says it does not fit (``feasibility.status`` not PASS, or
``feasible`` False) is skipped.
"""
from __future__ import annotations

import itertools
import logging
import math
import operator
import re
from typing import Any, Callable

import numpy as np
from pydantic import BaseModel, Field

from ..errors import InputError

logger = logging.getLogger(__name__)

#: Engine.solve's inputs that may be NumPy arrays (swept in one call)
VECTOR_AXES = ("batch_size", "seq_len", "past_len")
_OPS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<": operator.lt,
        ">": operator.gt}
_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$")


class SearchSpace(BaseModel):
    """The parameters and the values each may take, e.g. ``{"tp": [1, 2, 4], "batch_size": [16, 32]}``."""

    parameters: dict[str, list[Any]]

    @property
    def size(self) -> int:
        return math.prod(len(v) for v in self.parameters.values())


class Objective(BaseModel):
    """``minimize`` or ``maximize`` a metric (a dotted path into the evaluation)."""

    direction: str = Field(pattern="^(minimize|maximize)$")
    metric: str


class Constraint(BaseModel):
    """A hard limit, ``<metric> <op> <number>`` with op one of < > <= >= == !=."""

    expression: str

    def parts(self) -> tuple[str, str, float]:
        m = _CONSTRAINT.match(self.expression)
        if not m:
            raise InputError(f"a constraint is '<metric> <op> <number>', e.g. 'latency_s < 0.05'; got "
                             f"{self.expression!r}")
        try:
            threshold = float(m.group(3))
        except ValueError:
            raise InputError(f"constraint {self.expression!r}: {m.group(3)!r} is not a number") from None
        return m.group(1), m.group(2), threshold


class DSE:
    """Grid search over ``space``: every point evaluated, the infeasible and constrained-out dropped, the rest
    ranked by the objective."""

    def __init__(self, space: dict[str, list[Any]], objective: str, constraints: list[str] | None = None):
        if not isinstance(space, dict) or not space:
            raise InputError("the design space is a mapping of parameter names to the values to try")
        space = {k: list(v) if isinstance(v, (list, tuple, range, np.ndarray)) else [v] for k, v in space.items()}
        if any(not v for v in space.values()):
            raise InputError("every parameter of the design space needs at least one value")
        self.space = SearchSpace(parameters=space)
        text = str(objective).strip()
        m = re.match(r"^(minimize|maximize)\s*(?::\s*(.+)|\(\s*(.+?)\s*\)|\s(.+))$", text, flags=re.IGNORECASE)
        if not m:
            raise InputError(f"invalid objective {objective!r}; write 'minimize: <metric>' or 'maximize: <metric>'")
        self.objective = Objective(direction=m.group(1).lower(), metric=next(g for g in m.groups()[1:] if g).strip())
        self.constraints = [Constraint(expression=c) for c in (constraints or [])]
        self._parsed = [c.parts() for c in self.constraints]

    # --- metrics -------------------------------------------------------------------------------------------
    def _worst(self) -> float:
        return math.inf if self.objective.direction == "minimize" else -math.inf

    def _get_metric_value(self, evaluation: Any, metric_path: str) -> float:
        """The number at ``metric_path`` (dotted, through keys and attributes; a quantity's magnitude); the worst
        value for the objective's direction when the path leads nowhere or to no number."""
        current = evaluation
        for part in metric_path.split("."):
            if isinstance(current, dict):
                current = current.get(part)
            else:
                current = getattr(current, part, None)
            if current is None:
                return self._worst()
        value = getattr(current, "magnitude", current)
        try:
            out = float(value)
        except (TypeError, ValueError):
            return self._worst()
        return out if not math.isnan(out) else self._worst()

    def _allowed(self, result: Any) -> bool:
        for path, op, threshold in self._parsed:
            value = self._get_metric_value(result, path)
            if not _OPS[op](value, threshold):
                return False
        return True

    def _points(self):
        keys = list(self.space.parameters)
        for combo in itertools.product(*self.space.parameters.values()):
            yield dict(zip(keys, combo))

    # --- search ----------------------------------------------------------------------------------------------
    def search(self, evaluator_fn: Callable[[dict], Any] | None = None, *, top: int = 5,
               **engine_inputs) -> dict[str, Any]:
        """The best point: ``{"best_params", "best_objective", "best_result", "top_candidates",
        "evaluated", "feasible"}``. ``evaluator_fn(params)`` evaluates one point (a point whose evaluation
        raises is skipped, as an infeasible one); without it, ``Engine.solve(**engine_inputs, **params)``
        evaluates the grid (vectorized over its numeric axes) and ``best_result`` is the best point's profile."""
        if evaluator_fn is None:
            candidates, evaluated = self._engine_candidates(engine_inputs)
        else:
            if engine_inputs:
                raise InputError("give either an evaluator function or Engine.solve's inputs, not both")
            candidates, evaluated = [], 0
            for params in self._points():
                evaluated += 1
                try:
                    result = evaluator_fn(params)
                except Exception as exc:  # an evaluator's refusal marks the point infeasible
                    logger.debug("point %s failed: %s", params, exc)
                    continue
                if not _feasible(result) or not self._allowed(result):
                    continue
                candidates.append({"params": params, "objective_value":
                                   self._get_metric_value(result, self.objective.metric), "result": result})
        if not candidates:
            raise InputError(f"no point of the {self.space.size}-point design space is feasible and meets the "
                             f"constraints")
        candidates.sort(key=lambda c: c["objective_value"], reverse=self.objective.direction == "maximize")
        best = candidates[0]
        if evaluator_fn is None:
            from ..engine.engine import Engine
            best["result"] = Engine.solve(**{**engine_inputs, **best["params"]})
        return {"best_params": best["params"], "best_objective": best["objective_value"],
                "best_result": best["result"], "top_candidates": candidates[:top], "evaluated": evaluated,
                "feasible": len(candidates)}

    def _engine_candidates(self, fixed: dict) -> tuple[list[dict], int]:
        """Every point through Engine.solve: one vectorized solve per combination of the non-numeric axes."""
        from ..engine.engine import Engine

        if "model" not in fixed and "model" not in self.space.parameters:
            raise InputError("searching through the engine needs a model (model=... or a 'model' axis)")
        params = self.space.parameters
        vec = [k for k in VECTOR_AXES if k in params and all(_is_number(v) for v in params[k])]
        other = [k for k in params if k not in vec]
        metrics = {self.objective.metric, *(p for p, _, _ in self._parsed)}
        candidates, evaluated = [], 0
        for combo in itertools.product(*(params[k] for k in other)):
            point = dict(zip(other, combo))
            grids = np.meshgrid(*(np.asarray(params[k], dtype=float) for k in vec), indexing="ij") if vec else []
            arrays = {k: g.ravel() for k, g in zip(vec, grids)}
            n = len(next(iter(arrays.values()))) if arrays else 1
            evaluated += n
            try:
                profile = Engine.solve(**{**fixed, **point, **{k: (v if len(v) > 1 else v[0])
                                                                 for k, v in arrays.items()}})
            except Exception as exc:  # the whole slice is refused (a model that cannot run there)
                logger.debug("slice %s failed: %s", point, exc)
                continue
            feasible = np.broadcast_to(np.asarray(getattr(profile, "feasible", True)), (n,)) if n > 1 else \
                np.array([bool(np.all(getattr(profile, "feasible", True)))])
            for i in range(n):
                if not feasible[i]:
                    continue
                row = {m: _pick(profile, m, i, n) for m in metrics}
                if not self._allowed(row):
                    continue
                values = {k: _plain(arrays[k][i]) for k in vec}
                candidates.append({"params": {**point, **values},
                                   "objective_value": self._get_metric_value(row, self.objective.metric),
                                   "result": row})
        return candidates, evaluated


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _plain(v):
    v = float(v)
    return int(v) if v.is_integer() else v


def _pick(profile, path: str, i: int, n: int):
    """Point ``i`` of a swept profile's figure at ``path`` (dotted), or None."""
    current = profile
    for part in path.split("."):
        current = current.get(part) if isinstance(current, dict) else getattr(current, part, None)
        if current is None:
            return None
    value = getattr(current, "magnitude", current)
    arr = np.asarray(value)
    if arr.ndim and n > 1:
        arr = arr.ravel()
        return arr[i].item() if arr.size == n else None
    return arr.item() if arr.size == 1 else None


def _feasible(result) -> bool:
    """False when an evaluation says it does not fit: a scorecard whose feasibility is not PASS, a profile
    or result whose ``feasible`` is False."""
    status = getattr(getattr(result, "feasibility", None), "status", None)
    if status is not None and str(getattr(status, "value", status)).upper() != "PASS":
        return False
    feasible = result.get("feasible", True) if isinstance(result, dict) else getattr(result, "feasible", True)
    try:
        return bool(np.all(feasible))
    except (TypeError, ValueError):
        return True


__all__ = ["DSE", "Constraint", "Objective", "SearchSpace", "VECTOR_AXES"]
