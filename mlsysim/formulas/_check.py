"""Reading the formula library's arguments: a quantity of the right dimension becomes an SI float.

Every public formula checks its arguments here and then calls its SI core. A dimensioned argument
may be a pint Quantity (any registry), an :class:`~mlsysim.units.SIValue` or a string such as
``"400 GB/s"``; a plain number is refused, because its unit would be a guess. Counts and fractions
are plain numbers (or dimensionless quantities such as ``Q_(8e9, "param")``).
"""
from __future__ import annotations

import functools

import numpy as np

from ..errors import InputError, UnitError
from ..units import _NUMBER, SIValue, unit_factor

#: kind -> (internal unit, example, pint unit for results)
KINDS = {
    "data size": ("B", "'16 GB'", "byte"),
    "data rate": ("B/s", "'400 GB/s'", "byte / second"),
    "time": ("s", "'30 s'", "second"),
    "rate": ("1/s", "'120 Hz'", "hertz"),
    "FLOP count": ("FLOP", "'3e23 FLOP'", "FLOP"),
    "compute rate": ("FLOP/s", "'989 TFLOPS'", "FLOP / second"),
    "power": ("W", "'700 W'", "watt"),
    "price": ("USD", "'30000 USD'", "USD"),
    "energy price": ("USD/kWh", "'0.12 USD/kWh'", "USD / kilowatt_hour"),
    "data price": ("USD/GB", "'0.09 USD/GB'", "USD / gigabyte"),
    "length": ("m", "'1000 km'", "meter"),
}
_DIM = {kind: unit_factor(unit)[1] for kind, (unit, _, _) in KINDS.items()}


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"


def _refuse(name: str, kind: str, value) -> UnitError:
    shown = f"{value!r} (a plain number)" if isinstance(value, (int, float, np.ndarray)) else f"{value}"
    return UnitError(f"{name} must be {_article(kind)} {kind} (e.g. {KINDS[kind][1]}), got {shown}")


def si(value, kind: str, name: str, *, positive: bool = False):
    """``value`` as an SI float (in the kind's internal unit, e.g. B/s, USD/kWh scaled to USD/J)."""
    dim = _DIM[kind]
    if isinstance(value, SIValue):
        if value.dim != dim:
            raise _refuse(name, kind, value)
        out = float(value)
    elif isinstance(value, str):
        m = _NUMBER.match(value)
        if not m or not m.group(2):
            raise _refuse(name, kind, repr(value))
        try:
            factor, got = unit_factor(m.group(2))
        except UnitError:
            raise _refuse(name, kind, repr(value)) from None
        if got != dim:
            raise _refuse(name, kind, repr(value))
        out = float(m.group(1).replace("_", "").replace(",", "")) * factor
    elif hasattr(value, "magnitude") and hasattr(value, "units"):
        out = _from_pint(value, kind, name)
    else:
        raise _refuse(name, kind, value)
    out = out if np.ndim(out) else float(out)
    if np.any(np.isnan(out)):
        raise InputError(f"{name} must be a number, got {value}")
    if np.any(out < 0) or (positive and np.any(out == 0)):
        raise InputError(f"{name} must be {'positive' if positive else 'non-negative'}, got {value}")
    return out


def _from_pint(value, kind: str, name: str):
    mag = value.magnitude
    mag = np.asarray(mag, dtype=float) if np.ndim(mag) else float(mag)
    try:
        factor, got = unit_factor(format(value.units, "~").replace(" ", ""))
    except UnitError:                                   # a unit our table does not know: ask pint
        import pint

        try:
            return value.to(KINDS[kind][2]).magnitude * _pint_scale(kind)
        except (pint.DimensionalityError, pint.UndefinedUnitError, AttributeError, ValueError):
            raise _refuse(name, kind, value) from None
    if got != _DIM[kind]:
        raise _refuse(name, kind, value)
    return mag * factor


_PINT_TO_TABLE = {"byte": "B", "second": "s", "hertz": "Hz", "watt": "W", "meter": "m", "kilowatt_hour": "kWh",
                  "gigabyte": "GB"}


@functools.lru_cache(maxsize=None)
def _pint_scale(kind: str) -> float:
    """SI value of one of the kind's result unit (for 'energy price', USD/kWh in USD/J)."""
    unit = "".join(_PINT_TO_TABLE.get(tok, tok) for tok in KINDS[kind][2].split())
    return unit_factor(unit)[0]


def number(value, name: str, *, minimum: float | None = None, maximum: float | None = None, integer=False,
           positive=False):
    """A dimensionless argument (a count or a fraction): a number, an array, or a dimensionless quantity."""
    if isinstance(value, bool):
        raise InputError(f"{name} must be a number, got {value!r}")
    if isinstance(value, str):
        m = _NUMBER.match(value)
        if not m:
            raise InputError(f"{name}: cannot read {value!r} as a number")
        factor, dim = unit_factor(m.group(2)) if m.group(2) else (1.0, "")
        if dim:
            raise UnitError(f"{name} must be a plain number (a count or a fraction), got {value!r}")
        out = float(m.group(1).replace("_", "").replace(",", "")) * factor
    elif isinstance(value, SIValue):
        if value.dim:
            raise UnitError(f"{name} must be a plain number (a count or a fraction), got {value}")
        out = float(value)
    elif hasattr(value, "magnitude") and hasattr(value, "units"):
        try:
            unit = format(value.units, "~").replace(" ", "")
            factor, dim = unit_factor(unit) if unit else (1.0, "")
        except UnitError:
            dim = "?" if not getattr(value, "dimensionless", False) else ""
            factor = 1.0
        if dim:
            raise UnitError(f"{name} must be a plain number (a count or a fraction), got {value}")
        mag = value.magnitude
        out = (np.asarray(mag, dtype=float) if np.ndim(mag) else float(mag)) * factor
    else:
        try:
            out = np.asarray(value, dtype=float) if np.ndim(value) else float(value)
        except (TypeError, ValueError):
            raise InputError(f"{name} must be a number, got {value!r}") from None
    if np.any(np.isnan(out)):
        raise InputError(f"{name} must be a number, got {value!r}")
    if minimum is not None and np.any(out < minimum):
        raise InputError(f"{name} must be at least {minimum:g}, got {value!r}")
    if maximum is not None and np.any(out > maximum):
        raise InputError(f"{name} must be at most {maximum:g}, got {value!r}")
    if positive and np.any(out <= 0):
        raise InputError(f"{name} must be positive, got {value!r}")
    if integer and np.any(np.asarray(out) != np.round(out)):
        raise InputError(f"{name} must be a whole number, got {value!r}")
    return out


def result(value, kind: str):
    """An SI result as a pint Quantity in the kind's unit (arrays stay arrays)."""
    from ..units import Q_

    return Q_(value / _pint_scale(kind), KINDS[kind][2])


def link(core):
    """Decorator: the public, unit-checked formula keeps its SI core as ``.si``."""
    def wrap(public):
        public.si = core
        return public
    return wrap
