"""Solvers composed in order: each stage reads the shared inputs and what earlier stages found.

A stage is a solver (``ServingModel()``, ``Engine``), a ``(name, solver)`` pair, or a
``(name, solver, kwargs)`` triple whose third item is a dict of fixed arguments or a function
``kwargs(inputs, results) -> dict`` that builds them from the shared inputs and the results of
the stages before it. Without a builder a stage takes, by parameter name, the shared inputs and
the fields of earlier results; what the user passed wins over what a stage produced, so an
upstream figure never silently replaces an input. Every stage's result is stored under its name,
and each registered callback's ``on_stage_end(stage_name, result)`` runs after it.
"""
from __future__ import annotations

import dataclasses
import inspect
import typing

from ..errors import InputError
from .walls import wall, walls_for_resolver

_META = {"assumptions", "binding"}


class _Stage:
    __slots__ = ("name", "solver", "builder", "params", "required", "var_kw", "produces")

    def __init__(self, name, solver, builder):
        solve = getattr(solver, "solve", None)
        if not callable(solve):
            raise InputError(f"pipeline stage '{name}' must be a solver with a solve() method, "
                             f"got {type(solver).__name__}")
        if builder is not None and not (callable(builder) or isinstance(builder, dict)):
            raise InputError(f"pipeline stage '{name}': the third item must be a dict of arguments or a "
                             f"function (inputs, results) -> dict, got {type(builder).__name__}")
        self.name, self.solver, self.builder = name, solver, builder
        sig = inspect.signature(solve)
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        self.params = [p.name for p in sig.parameters.values() if p.kind in kinds and p.name != "self"]
        self.required = list(getattr(solver, "needs", ()) or (
            p.name for p in sig.parameters.values()
            if p.kind in kinds and p.default is inspect.Parameter.empty and p.name != "self"))
        self.var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
        self.produces = _produces(solve)

    @property
    def resolver(self) -> str:
        return self.solver.__name__ if isinstance(self.solver, type) else type(self.solver).__name__

    @property
    def walls(self):
        numbers = getattr(self.solver, "walls", ()) or ()
        return [wall(n) for n in numbers] if numbers else walls_for_resolver(self.resolver)


def _produces(solve):
    """The result class a solve() is annotated to return, or None."""
    try:
        hint = typing.get_type_hints(solve).get("return")
    except Exception:          # an annotation that does not resolve: unknown, not an error
        return None
    return hint if dataclasses.is_dataclass(hint) else None


def _fields(result) -> dict:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return {f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.name not in _META}
    return {}


class Pipeline:
    """Solvers run in order, sharing inputs and results; see the module docstring."""

    def __init__(self, stages, name: str = "pipeline"):
        if isinstance(stages, (str, bytes)) or not hasattr(stages, "__iter__"):
            raise InputError(f"Pipeline takes a list of stages, got {type(stages).__name__}")
        self.name = name
        self._stages: list[_Stage] = []
        self._callbacks: list = []
        for spec in stages:
            if isinstance(spec, tuple):
                if len(spec) not in (2, 3) or not isinstance(spec[0], str):
                    raise InputError("a pipeline stage tuple is (name, solver) or (name, solver, kwargs)")
                stage = _Stage(spec[0], spec[1], spec[2] if len(spec) == 3 else None)
            else:
                stage_name = spec.__name__ if isinstance(spec, type) else type(spec).__name__
                stage = _Stage(stage_name, spec, None)
            if any(s.name == stage.name for s in self._stages):
                raise InputError(f"two pipeline stages are named '{stage.name}'; name them with (name, solver)")
            self._stages.append(stage)
        if not self._stages:
            raise InputError("a Pipeline needs at least one stage (a solver such as ServingModel())")

    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self._stages]

    def register_callback(self, callback) -> Pipeline:
        """Add an object whose ``on_stage_end(stage_name, result)`` runs after every stage
        (and ``on_stage_start(stage_name, kwargs)`` before it, when it has one)."""
        if not callable(getattr(callback, "on_stage_end", None)):
            raise InputError(f"a pipeline callback needs an on_stage_end(stage_name, result) method; "
                             f"{type(callback).__name__} has none")
        self._callbacks.append(callback)
        return self

    def run(self, **inputs) -> dict:
        """Run every stage in order; returns {stage name: result}."""
        results: dict = {}
        produced: dict = {}              # field name -> value, the latest stage's winning
        for stage in self._stages:
            kwargs = self._kwargs(stage, inputs, results, produced)
            for cb in self._callbacks:
                start = getattr(cb, "on_stage_start", None)
                if callable(start):
                    start(stage.name, dict(kwargs))
            result = stage.solver.solve(**kwargs)
            results[stage.name] = result
            produced.update(_fields(result))
            for cb in self._callbacks:
                cb.on_stage_end(stage.name, result)
        return results

    def _kwargs(self, stage: _Stage, inputs: dict, results: dict, produced: dict) -> dict:
        if stage.var_kw and stage.builder is None:
            kwargs = {**produced, **inputs}
        else:
            kwargs = {k: inputs[k] for k in stage.params if k in inputs}
            if stage.builder is None:
                kwargs.update({k: produced[k] for k in stage.params if k in produced and k not in inputs})
            else:
                built = stage.builder if isinstance(stage.builder, dict) else stage.builder(dict(inputs),
                                                                                            dict(results))
                if not isinstance(built, dict):
                    raise InputError(f"the kwargs builder of stage '{stage.name}' must return a dict, "
                                     f"got {type(built).__name__}")
                kwargs.update(built)
        missing = [k for k in stage.required if k not in kwargs]
        if missing:
            raise InputError(f"stage '{stage.name}' ({stage.resolver}) needs {', '.join(missing)}, which "
                             f"neither the inputs nor an earlier stage provide")
        return kwargs

    def explain(self) -> str:
        """The stages as text: walls, what each needs and where from, the flow, domains covered."""
        lines = [f"Pipeline '{self.name}': {' → '.join(self.stage_names)}"]
        upstream: set = set()
        domains = []
        for i, s in enumerate(self._stages, 1):
            ws = s.walls
            for w in ws:
                if w.domain not in domains:
                    domains.append(w.domain)
            wall_text = ", ".join(f"{w.number} {w.name}" for w in ws) or "none"
            lines.append(f"  {i}. {s.name} ({s.resolver}) — walls: {wall_text}")
            if s.builder is not None:
                lines.append("     inputs: built by its kwargs function")
            needs = ", ".join(f"{k} (from earlier stage)" if k in upstream else k for k in s.required)
            lines.append(f"     requires: {needs or 'nothing'}")
            prod = s.produces.__name__ if s.produces else "a result"
            lines.append(f"     produces: {prod}")
            if s.produces:
                upstream |= {f.name for f in dataclasses.fields(s.produces)} - _META
        lines.append(f"  domains covered: {', '.join(d.value for d in domains) or 'none'}")
        return "\n".join(lines)

    def __len__(self) -> int:
        return len(self._stages)

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r}: {' -> '.join(self.stage_names)})"
