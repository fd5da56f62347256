"""Continuous minimization with SciPy: bounded scalar search in one variable, L-BFGS-B or SLSQP otherwise."""
from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np
import scipy.optimize

from ...errors import InputError
from .protocol import OptimizationResult


class ScipyBackend:
    """For smooth objectives of continuous variables (a batch size treated as real, a clock, a fraction)."""

    def __init__(self):
        self.objective_fn: Callable | None = None
        self.bounds: list[tuple[float, float]] = []
        self.constraints: list = []
        self.is_scalar = False
        self.x0 = None

    def compile(self, objective_fn: Callable, bounds, constraints: list | None = None, is_scalar: bool = False,
                x0: Sequence[float] | None = None) -> ScipyBackend:
        """``objective_fn`` returns the value to minimize: of a float with ``is_scalar`` and no constraints
        (bounded scalar search), else of a vector (as SciPy's ``minimize`` calls it). ``bounds`` is one
        ``(low, high)`` pair or a list of them; ``constraints`` are SciPy's dictionaries
        (``{"type": "ineq", "fun": g}`` meaning g(x) >= 0). ``x0`` is the starting point (default: the lower
        bounds, as 0.1.0 started)."""
        if not callable(objective_fn):
            raise InputError("objective_fn must be a function")
        pairs = [bounds] if len(bounds) == 2 and not isinstance(bounds[0], (tuple, list)) else list(bounds)
        checked = []
        for pair in pairs:
            lo, hi = (float(v) for v in pair)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                raise InputError(f"bounds are (low, high) with low <= high, got {pair!r}")
            checked.append((lo, hi))
        if is_scalar and len(checked) != 1:
            raise InputError("a scalar problem has one (low, high) pair of bounds")
        self.objective_fn, self.bounds = objective_fn, checked
        self.constraints, self.is_scalar = list(constraints or []), is_scalar
        self.x0 = None if x0 is None else np.asarray(x0, dtype=float)
        return self

    def solve(self, **kwargs) -> OptimizationResult:
        """Run SciPy; ``kwargs`` are passed to its minimizer as ``options`` (e.g. ``maxiter``)."""
        if self.objective_fn is None:
            raise InputError("compile the back end with an objective before solving")
        start = time.perf_counter()
        if self.is_scalar and not self.constraints:
            method = "bounded"
            res = scipy.optimize.minimize_scalar(self.objective_fn, bounds=self.bounds[0], method=method,
                                                 options=kwargs or None)
            x = np.atleast_1d(res.x)
        else:
            method = "SLSQP" if self.constraints else "L-BFGS-B"
            x0 = self.x0 if self.x0 is not None else np.array([lo for lo, _ in self.bounds])
            res = scipy.optimize.minimize(self.objective_fn, x0, method=method, bounds=self.bounds,
                                          constraints=self.constraints, options=kwargs or None)
            x = np.atleast_1d(res.x)
        elapsed = (time.perf_counter() - start) * 1000.0
        point = {f"x{i}": float(v) for i, v in enumerate(x)}
        return OptimizationResult(
            feasible=bool(res.success), optimal_value=float(res.fun),
            best_configuration={"optimal_variable": float(x[0]), "optimal_variables": point},
            metrics={"scipy_iterations": int(getattr(res, "nit", 0) or 0),
                     "function_evaluations": int(getattr(res, "nfev", 0) or 0),
                     "message": str(getattr(res, "message", ""))},
            solver_name=f"scipy.optimize ({method})", solve_time_ms=elapsed)
