"""0.1.0's input guards for formulas and solvers. They raise ``InputError`` (a ``ValueError``, as 0.1.0's
did) so a zero bandwidth or a negative count is named before it turns into inf or nan downstream."""
from __future__ import annotations

from ..errors import InputError


def _magnitude(value) -> float:
    return getattr(value, "magnitude", value)


def validate_positive(val, name: str) -> None:
    if _magnitude(val) <= 0:
        raise InputError(f"{name} must be positive, got {val}")


def validate_nonnegative(val, name: str) -> None:
    if _magnitude(val) < 0:
        raise InputError(f"{name} must be non-negative, got {val}")


def validate_range(val, lo, hi, name: str) -> None:
    if not lo <= _magnitude(val) <= hi:
        raise InputError(f"{name} must be in [{lo}, {hi}], got {val}")


def validate_at_least(val, minimum, name: str) -> None:
    if _magnitude(val) < minimum:
        raise InputError(f"{name} must be >= {minimum}, got {val}")
