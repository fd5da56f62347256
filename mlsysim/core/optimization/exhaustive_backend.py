"""Grid search with NumPy: every point of a regular grid (or of given values) evaluated, the least kept.

For small problems whose objective has cliffs a gradient cannot cross (a queue that saturates, a model that
stops fitting): the objective may return ``inf`` (or anything >= 1e10) for an infeasible point.
"""
from __future__ import annotations

import itertools
import time
from typing import Any, Callable, Sequence

import numpy as np

from ...errors import InputError
from .protocol import OptimizationResult

#: an objective at or above this marks an infeasible point (0.1.0's convention)
INFEASIBLE = 1e10


class ExhaustiveBackend:
    """Evaluate the objective at every grid point and return the global minimum (ties: the first point)."""

    def __init__(self):
        self.objective_fn: Callable | None = None
        self.axes: list[np.ndarray] = []
        self.names: list[str] = []
        self.grid_size: int | None = None
        self.vectorized = False

    def compile(self, objective_fn: Callable[[Any], float], ranges: Sequence, grid_size: int = 100,
                names: Sequence[str] | None = None, integer: bool = False,
                vectorized: bool = False) -> ExhaustiveBackend:
        """``ranges``: per variable a ``(low, high)`` pair sampled at ``grid_size`` evenly spaced points (whole
        numbers only with ``integer``), or a list of the values to try. ``objective_fn`` takes one point (a
        NumPy vector) and returns the value to minimize; with ``vectorized`` it takes a matrix of points (one
        per row) and returns their values at once. ``names`` label the variables in the result."""
        if not callable(objective_fn):
            raise InputError("objective_fn must be a function of one point")
        if isinstance(grid_size, bool) or not isinstance(grid_size, int) or grid_size < 1:
            raise InputError(f"grid_size must be a whole number >= 1, got {grid_size!r}")
        axes = []
        for r in ranges:
            if isinstance(r, tuple) and len(r) == 2:
                lo, hi = float(r[0]), float(r[1])
                if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                    raise InputError(f"a range is (low, high) with low <= high, got {r!r}")
                axis = np.linspace(lo, hi, grid_size)
                axes.append(np.unique(np.round(axis)) if integer else axis)
            else:
                values = np.asarray(list(r), dtype=float)
                if values.ndim != 1 or not values.size:
                    raise InputError(f"a variable's values are a (low, high) pair or a list, got {r!r}")
                axes.append(values)
        if not axes:
            raise InputError("the grid needs at least one variable")
        names = list(names) if names is not None else [f"x{i}" for i in range(len(axes))]
        if len(names) != len(axes):
            raise InputError(f"{len(names)} names for {len(axes)} variables")
        self.objective_fn, self.axes, self.names = objective_fn, axes, names
        self.grid_size, self.vectorized = grid_size, vectorized
        return self

    def solve(self, **kwargs) -> OptimizationResult:
        """Every point evaluated; the least objective and its point."""
        if self.objective_fn is None:
            raise InputError("compile the back end with an objective before solving")
        start = time.perf_counter()
        if self.vectorized:
            mesh = np.meshgrid(*self.axes, indexing="ij")
            points = np.column_stack([m.ravel() for m in mesh])
            values = np.asarray(self.objective_fn(points), dtype=float).ravel()
        else:
            points = np.array(list(itertools.product(*self.axes)), dtype=float)
            values = np.array([float(self.objective_fn(p)) for p in points])
        values = np.where(np.isnan(values), np.inf, values)
        best = int(np.argmin(values))
        optimum = float(values[best])
        point = {n: _plain(v) for n, v in zip(self.names, points[best])}
        elapsed = (time.perf_counter() - start) * 1000.0
        return OptimizationResult(
            feasible=bool(optimum < INFEASIBLE), optimal_value=optimum,
            best_configuration={"optimal_variable": next(iter(point.values())), "optimal_variables": point,
                                **point},
            metrics={"grid_points_evaluated": int(len(points)),
                     "feasible_points": int(np.sum(values < INFEASIBLE))},
            solver_name="numpy.exhaustive_grid", solve_time_ms=elapsed)


def _plain(v: float):
    """A grid coordinate as an int when it is whole."""
    return int(v) if float(v).is_integer() else float(v)
