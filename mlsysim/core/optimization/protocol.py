"""What every optimization back end promises: ``compile`` the problem, ``solve`` it, one result shape."""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field


class OptimizationResult(BaseModel):
    """A back end's answer: whether a feasible point was found, the objective there (the minimized value for
    the grid and SciPy, CP-SAT's objective as the model states it), the point, solver figures and timing."""

    feasible: bool
    optimal_value: float
    best_configuration: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    solver_name: str
    solve_time_ms: float


@runtime_checkable
class OptimizerProtocol(Protocol):
    """A back end: ``compile(...)`` takes the problem in the back end's own terms and returns the back end;
    ``solve(**options)`` runs it."""

    def compile(self, *args, **kwargs) -> Any:
        ...

    def solve(self, **kwargs) -> OptimizationResult:
        ...
