"""Optimization back ends behind one protocol (0.1.0's ``mlsysim.core.optimization``).

``OptimizationRegistry.get_backend(kind)`` gives an uncompiled back end for the shape of a problem:
``exhaustive`` (a NumPy grid, always available), ``continuous`` (SciPy, the ``opt`` extra) or ``discrete``
(OR-Tools CP-SAT, the ``ortools`` extra). Each is compiled with the problem, then ``solve()`` returns an
:class:`OptimizationResult`. The back ends load lazily, so importing this package needs neither extra.
"""
from __future__ import annotations

from .protocol import OptimizationResult, OptimizerProtocol

__all__ = ["OptimizationRegistry", "OptimizationResult", "OptimizerProtocol"]


def __getattr__(name: str):
    if name == "OptimizationRegistry":
        from .registry import OptimizationRegistry
        return OptimizationRegistry
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
