"""The solver contract: construct, call ``solve(...)`` with a run (``mlsysim.run.Run``) or the 0.1.0
keywords that build one, get an immutable result.

Results hold SI floats; properties named for a unit (``*_kwh``, ``*_kg``, ``*_usd``) are
plain numbers in that unit, and quantity-valued properties return ``SIValue``. Every
result carries the assumptions that produced it and the binding constraint, in words.
"""
from __future__ import annotations

import inspect
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from functools import lru_cache

import numpy as np

from .errors import InputError


class Solver:
    """Base of every model, solver and optimizer: stateless, configured by ``solve`` arguments."""

    #: the walls of the taxonomy this solver models (numbers, see ``mlsysim.analysis.walls``)
    walls: tuple[int, ...] = ()
    #: the inputs ``solve`` needs when it is not given a Run (what a Pipeline must supply); empty: the
    #: parameters without a default
    needs: tuple[str, ...] = ()

    def solve(self, **inputs) -> Result:  # pragma: no cover - the contract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@dataclass(frozen=True)
class Result:
    """Base of solver results: plain fields, assumptions, and a flat ``to_dict``."""

    assumptions: tuple[str, ...] = field(default=(), kw_only=True)
    binding: str = field(default="", kw_only=True)

    @classmethod
    def of(cls, values: dict):
        """The result with these fields, set at once: the frozen ``__init__`` sets them one by one, which
        for a solver run thousands of times inside a search costs as much as its arithmetic. Fields not
        given take their defaults; an unknown name, or a missing field without a default, is an error."""
        names, required, defaults, factories = _field_defaults(cls)
        if values.keys() != names:
            if not required <= values.keys() <= names:
                raise TypeError(f"{cls.__name__}.of: missing {sorted(required - values.keys())}, unknown "
                                f"{sorted(values.keys() - names)}")
            made = {name: make() for name, make in factories.items() if name not in values}
            values = {**defaults, **made, **values}
        result = object.__new__(cls)
        object.__setattr__(result, "__dict__", values)
        return result

    def to_dict(self) -> dict:
        """Fields as JSON-safe plain values (arrays become lists)."""
        out = {}
        for f in fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out


@lru_cache(maxsize=None)
def _field_defaults(cls) -> tuple[frozenset, frozenset, dict, dict]:
    """A result class's field names, the required ones, the others' defaults, and its default factories."""
    required, defaults, factories = set(), {}, {}
    for f in fields(cls):
        if f.default is not MISSING:
            defaults[f.name] = f.default
        elif f.default_factory is not MISSING:
            factories[f.name] = f.default_factory
        else:
            required.add(f.name)
    return frozenset(f.name for f in fields(cls)), frozenset(required), defaults, factories


def real(x):
    """A scalar figure as a float; a sweep's as a float array."""
    return float(x) if np.ndim(x) == 0 else np.asarray(x, dtype=float)


def verdict(x):
    """A scalar yes/no as a bool; a sweep's as a boolean array."""
    if type(x) is bool:
        return x
    return bool(x) if np.ndim(x) == 0 else np.asarray(x, dtype=bool)


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Result):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):       # a record inside a result (a candidate)
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


def only_run(solve, given: dict) -> None:
    """Refuse run inputs passed beside a Run: the run carries them, so they would be dropped.

    ``given`` is the ``locals()`` of a ``solve`` whose first argument is a Run; any run input among the
    other arguments that differs from ``solve``'s default is named in the error.
    """
    from .run import RUN_KEYWORDS

    extra = [name for name, default in _defaults(solve).items() if name in RUN_KEYWORDS and name in given
             and given[name] is not default and not _same(given[name], default)]
    if extra:
        raise InputError(f"the Run carries the run's inputs; give {', '.join(extra)} when building it "
                         f"(Run.build(...)), not beside it")


@lru_cache(maxsize=None)
def _defaults(solve) -> dict:
    params = list(inspect.signature(solve).parameters.values())[2:]     # after self and the run
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def _same(a, b) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
