"""The solver contract: construct, call ``solve(**inputs)``, get an immutable result.

Results hold SI floats; properties named for a unit (``*_kwh``, ``*_kg``, ``*_usd``) are
plain numbers in that unit, and quantity-valued properties return ``SIValue``. Every
result carries the assumptions that produced it and the binding constraint, in words.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from ..errors import InputError


class Solver:
    """Base of every model, solver and optimizer: stateless, configured by ``solve`` arguments."""

    #: the walls of the taxonomy this solver models (numbers, see ``mlsysim.walls``)
    walls: tuple[int, ...] = ()

    def solve(self, **inputs) -> Result:  # pragma: no cover - the contract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@dataclass(frozen=True)
class Result:
    """Base of solver results: plain fields, assumptions, and a flat ``to_dict``."""

    assumptions: tuple[str, ...] = field(default=(), kw_only=True)
    binding: str = field(default="", kw_only=True)

    def to_dict(self) -> dict:
        """Fields as JSON-safe plain values (arrays become lists)."""
        out = {}
        for f in fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out


def whole(name: str, value) -> int:
    """A count the user gives (degrees, workers, job sizes): a whole number >= 1, or one clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def real(x):
    """A scalar figure as a float; a sweep's as a float array."""
    return float(x) if np.ndim(x) == 0 else np.asarray(x, dtype=float)


def verdict(x):
    """A scalar yes/no as a bool; a sweep's as a boolean array."""
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
    return value
