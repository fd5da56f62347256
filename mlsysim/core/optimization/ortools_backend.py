"""Discrete optimization with Google OR-Tools' CP-SAT (the ``ortools`` extra).

For integer layouts (TP/PP/DP splits, counts, placements) under constraints: the solver prunes infeasible
assignments without enumerating them. Install it with ``pip install 'mlsysim[ortools]'``.
"""
from __future__ import annotations

import time
from typing import Callable

from ...errors import InputError
from .protocol import OptimizationResult

try:
    from ortools.sat.python import cp_model
except ImportError as exc:                      # the registry turns this into the one-sentence install hint
    raise ImportError("The discrete back end needs OR-Tools: pip install 'mlsysim[ortools]' "
                      "(or pip install ortools).") from exc

_STATUS = {cp_model.OPTIMAL: "OPTIMAL", cp_model.FEASIBLE: "FEASIBLE", cp_model.INFEASIBLE: "INFEASIBLE",
           cp_model.MODEL_INVALID: "MODEL_INVALID", cp_model.UNKNOWN: "UNKNOWN"}


class ORToolsDiscreteBackend:
    """A CP-SAT model built by the caller: ``compile(builder_fn)`` where ``builder_fn(model)`` adds the
    variables, constraints and objective to a ``cp_model.CpModel`` and returns ``{name: IntVar}``."""

    def __init__(self):
        self.model = cp_model.CpModel()
        self.solver = cp_model.CpSolver()
        self.variables: dict = {}
        self.status = None

    def compile(self, builder_fn: Callable) -> ORToolsDiscreteBackend:
        if not callable(builder_fn):
            raise InputError("builder_fn must be a function of a cp_model.CpModel")
        variables = builder_fn(self.model)
        if not isinstance(variables, dict) or not variables:
            raise InputError("builder_fn must return the model's variables as a non-empty {name: IntVar}")
        self.variables = variables
        return self

    def solve(self, time_limit_seconds: float = 60.0, **kwargs) -> OptimizationResult:
        """Run CP-SAT for at most ``time_limit_seconds``; other keywords set its parameters (``num_workers``,
        ``random_seed`` ...)."""
        if not self.variables:
            raise InputError("compile the back end with a model before solving")
        self.solver.parameters.max_time_in_seconds = float(time_limit_seconds)
        for key, value in kwargs.items():
            if not hasattr(self.solver.parameters, key):
                raise InputError(f"CP-SAT has no parameter {key!r}")
            setattr(self.solver.parameters, key, value)
        start = time.perf_counter()
        self.status = self.solver.Solve(self.model)
        elapsed = (time.perf_counter() - start) * 1000.0
        feasible = self.status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        config, value = {}, 0.0
        if feasible:
            config = {name: int(self.solver.Value(var)) for name, var in self.variables.items()}
            has_objective = getattr(self.model, "has_objective", None) or self.model.HasObjective
            if has_objective():                 # a pure satisfaction model has no objective value
                value = float(self.solver.ObjectiveValue())
        return OptimizationResult(
            feasible=feasible, optimal_value=value, best_configuration=config,
            metrics={"ortools_status": _STATUS.get(self.status, "UNKNOWN"),
                     "conflicts": int(self.solver.NumConflicts()), "branches": int(self.solver.NumBranches()),
                     "wall_time_s": float(self.solver.WallTime())},
            solver_name="ortools.sat.python.cp_model", solve_time_ms=elapsed)
