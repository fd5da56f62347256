"""Units at the edges, SI floats inside.

pint costs ~0.2 s to import and ~0.3 s to build a registry, and tens of microseconds per
operation, so the package never uses it on a hot path. Instead:

* ``parse(value, dim, what)`` turns a user's input (a number in SI, a string such as
  ``"80 GiB"``, or a pint Quantity) into an SI float, checking its dimension with a small
  table-driven parser of our own;
* results carry :class:`SIValue`, a ``float`` holding the SI magnitude that also knows a
  display unit, formats itself readably and converts to pint on request (``.to``);
* ``ureg`` and ``Q_`` (pint) are created on first access, never at import.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

from .errors import InputError, UnitError

# --- the unit table: name -> (factor to SI, dimension) ----------------------------------
# Dimensions are canonical strings of base symbols with integer exponents, e.g. "B/s".
_BASE: dict[str, tuple[float, dict[str, int]]] = {
    "B": (1.0, {"B": 1}), "byte": (1.0, {"B": 1}), "bytes": (1.0, {"B": 1}),
    "bit": (0.125, {"B": 1}), "b": (0.125, {"B": 1}), "bits": (0.125, {"B": 1}),
    "s": (1.0, {"s": 1}), "sec": (1.0, {"s": 1}), "second": (1.0, {"s": 1}), "seconds": (1.0, {"s": 1}),
    "min": (60.0, {"s": 1}), "minute": (60.0, {"s": 1}),
    "h": (3600.0, {"s": 1}), "hr": (3600.0, {"s": 1}), "hour": (3600.0, {"s": 1}), "hours": (3600.0, {"s": 1}),
    "d": (86400.0, {"s": 1}), "day": (86400.0, {"s": 1}), "days": (86400.0, {"s": 1}),
    "year": (365.0 * 86400.0, {"s": 1}), "yr": (365.0 * 86400.0, {"s": 1}),
    "FLOP": (1.0, {"FLOP": 1}), "flop": (1.0, {"FLOP": 1}), "FLOPs": (1.0, {"FLOP": 1}),
    "op": (1.0, {"FLOP": 1}), "OP": (1.0, {"FLOP": 1}), "ops": (1.0, {"FLOP": 1}),
    "FLOPS": (1.0, {"FLOP": 1, "s": -1}), "OPS": (1.0, {"FLOP": 1, "s": -1}),
    "J": (1.0, {"J": 1}), "joule": (1.0, {"J": 1}),
    "W": (1.0, {"J": 1, "s": -1}), "watt": (1.0, {"J": 1, "s": -1}),
    "Wh": (3600.0, {"J": 1}),
    "Hz": (1.0, {"s": -1}),
    "bps": (0.125, {"B": 1, "s": -1}),
    "kg": (1.0, {"kg": 1}), "g": (1e-3, {"kg": 1}), "gram": (1e-3, {"kg": 1}),
    "t": (1e3, {"kg": 1}), "tonne": (1e3, {"kg": 1}),
    "gCO2": (1e-3, {"kg": 1}), "gCO2e": (1e-3, {"kg": 1}), "tCO2": (1e3, {"kg": 1}), "tCO2e": (1e3, {"kg": 1}),
    "L": (1.0, {"L": 1}), "liter": (1.0, {"L": 1}),
    "m": (1.0, {"m": 1}), "meter": (1.0, {"m": 1}),
    "USD": (1.0, {"USD": 1}), "usd": (1.0, {"USD": 1}), "dollar": (1.0, {"USD": 1}), "$": (1.0, {"USD": 1}),
    "param": (1.0, {}), "params": (1.0, {}), "Kparam": (1e3, {}), "Mparam": (1e6, {}), "Bparam": (1e9, {}),
    "Tparam": (1e12, {}), "parameter": (1.0, {}), "parameters": (1.0, {}),
    "token": (1.0, {}), "tokens": (1.0, {}), "count": (1.0, {}), "sample": (1.0, {}), "samples": (1.0, {}),
    "request": (1.0, {}), "requests": (1.0, {}), "sequence": (1.0, {}), "sequences": (1.0, {}),
    "%": (0.01, {}), "1": (1.0, {}),
}
_PREFIX = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50,
           "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18, "Z": 1e21,
           "m": 1e-3, "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "n": 1e-9, "p": 1e-12}
_NO_PREFIX = {"h", "d", "min", "%", "1", "$", "t", "year", "yr", "day", "days", "hour", "hours"}
_TOKEN = re.compile(r"\s*([*/])?\s*([^\s*/^]+)(?:\^(-?\d+))?")
_NUMBER = re.compile(r"^\s*([-+]?(?:\d[\d_,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")

#: the SI unit each dimension is expressed in internally, for messages
SI_NAME = {"B": "bytes", "s": "seconds", "FLOP": "FLOP", "J": "joules", "kg": "kg", "L": "litres",
           "m": "metres", "USD": "USD"}


def _unit_atom(name: str) -> tuple[float, dict[str, int]]:
    if name in _BASE:
        return _BASE[name]
    for p in ("Ki", "Mi", "Gi", "Ti", "Pi"):
        if name.startswith(p) and name[2:] in ("B", "byte", "bytes", "b", "bit"):
            f, d = _BASE[name[2:]]
            return f * _PREFIX[p], d
    if len(name) > 1 and name[0] in _PREFIX and name[1:] in _BASE and name[1:] not in _NO_PREFIX:
        f, d = _BASE[name[1:]]
        return f * _PREFIX[name[0]], d
    raise UnitError(f"unknown unit '{name}'")


@lru_cache(maxsize=512)
def unit_factor(unit: str) -> tuple[float, str]:
    """(factor to SI, canonical dimension) of a unit expression such as 'TB/s' or 'gCO2/kWh'."""
    unit = unit.strip().replace("·", "*").replace("per ", "/")
    if unit in ("", "1", "dimensionless"):
        return 1.0, ""
    factor, dims = 1.0, {}
    pos = 0
    first = True
    while pos < len(unit):
        m = _TOKEN.match(unit, pos)
        if not m or m.end() == pos:
            raise UnitError(f"cannot read unit '{unit}'")
        op, name, exp = m.group(1), m.group(2), int(m.group(3) or 1)
        if op is None and not first:
            op = "*"
        sign = -1 if op == "/" else 1
        f, d = _unit_atom(name)
        factor *= f ** (sign * exp)
        for k, v in d.items():
            dims[k] = dims.get(k, 0) + sign * exp * v
        pos, first = m.end(), False
    return factor, _dim_string(dims)


def _dim_string(dims: dict[str, int]) -> str:
    num = [k if v == 1 else f"{k}^{v}" for k, v in sorted(dims.items()) if v > 0]
    den = [k if v == -1 else f"{k}^{-v}" for k, v in sorted(dims.items()) if v < 0]
    s = "*".join(num) or ("1" if den else "")
    return s + "".join("/" + d for d in den)


def dimension_of(unit: str) -> str:
    return unit_factor(unit)[1]


def to_si(magnitude: float, unit: str) -> float:
    return magnitude * unit_factor(unit)[0]


def from_si(value: float, unit: str) -> float:
    return value / unit_factor(unit)[0]


def parse(value, unit: str, what: str, *, positive: bool = False, allow_zero: bool = True) -> float:
    """Read ``value`` as a quantity of ``unit``'s dimension and return it in SI.

    ``value`` may be a number (taken to be in ``unit``), a string such as ``"3.35 TB/s"``,
    an :class:`SIValue`, or a pint Quantity. Raises :class:`UnitError` naming ``what`` on a
    wrong dimension, NaN or infinity, or a sign that is not allowed.
    """
    factor, dim = unit_factor(unit)
    if isinstance(value, SIValue):
        if value.dim != dim:
            raise UnitError(f"{what} must be in {unit} (a {_dim_words(dim)}), got {value}")
        si = float(value)
    elif isinstance(value, bool):
        raise InputError(f"{what} must be a number with units of {unit}, got {value!r}")
    elif isinstance(value, (int, float)):
        si = float(value) * factor
    elif isinstance(value, str):
        m = _NUMBER.match(value)
        if not m:
            raise InputError(f"{what}: cannot read '{value}' as a quantity (expected e.g. '10 {unit}')")
        mag = float(m.group(1).replace("_", "").replace(",", ""))
        u = m.group(2) or unit
        f2, d2 = unit_factor(u)
        if d2 != dim:
            raise UnitError(f"{what} must be in {unit} (a {_dim_words(dim)}), got '{value}'")
        si = mag * f2
    elif hasattr(value, "magnitude") and hasattr(value, "units"):
        u = format(value.units, "~").replace(" ", "")
        try:
            f2, d2 = unit_factor(u)
        except UnitError:
            si = float(value.to(_pint_name(unit)).magnitude) * factor
        else:
            if d2 != dim:
                raise UnitError(f"{what} must be in {unit} (a {_dim_words(dim)}), got {value}")
            si = float(value.magnitude) * f2
    else:
        try:
            si = float(value) * factor
        except (TypeError, ValueError):
            raise InputError(f"{what} must be a number with units of {unit}, got {value!r}") from None
    if not math.isfinite(si):
        raise InputError(f"{what} must be finite, got {value!r}")
    if positive and si <= 0:
        raise InputError(f"{what} must be positive, got {value!r}")
    if not allow_zero and si == 0:
        raise InputError(f"{what} must be non-zero, got {value!r}")
    if si < 0:
        raise InputError(f"{what} must not be negative, got {value!r}")
    return si


def _dim_words(dim: str) -> str:
    return {"B": "data size", "B/s": "bandwidth", "s": "time", "FLOP": "FLOP count", "FLOP/s": "compute rate",
            "J": "energy", "J/s": "power", "USD": "price", "": "plain number"}.get(dim, f"quantity of dimension {dim}")


def _pint_name(unit: str) -> str:
    return unit.replace("FLOPs", "FLOP")


# --- a float that knows its unit ----------------------------------------------------------
class SIValue(float):
    """A result figure: the float is the SI magnitude; ``unit`` is how it reads.

    ``.magnitude`` is the value in ``unit`` (as pint's would be); ``.to(u)`` gives a pint
    Quantity; ``.m_as(u)`` a float without touching pint. Arithmetic yields plain SI floats.
    """

    __slots__ = ("unit",)

    def __new__(cls, si: float, unit: str):
        obj = float.__new__(cls, si)
        obj.unit = unit
        return obj

    def __reduce__(self):
        return (SIValue, (float(self), self.unit))

    @property
    def dim(self) -> str:
        return unit_factor(self.unit)[1]

    @property
    def magnitude(self) -> float:
        return float(self) / unit_factor(self.unit)[0]

    m = magnitude

    @property
    def units(self) -> str:
        return self.unit

    def m_as(self, unit: str) -> float:
        f, d = unit_factor(unit)
        if d != self.dim:
            raise UnitError(f"cannot express {self} in {unit}")
        return float(self) / f

    def to(self, unit: str):
        """A pint Quantity in ``unit`` (builds the pint registry on first use)."""
        return Q_(self.m_as(unit), _pint_name(unit))

    def __repr__(self) -> str:
        mag = self.magnitude
        if 0.01 <= abs(mag) < 1e5 or mag == 0:
            return f"{format_number(mag)} {self.unit}"
        return format_si(float(self), self.unit)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if not spec:
            return repr(self)
        if spec.endswith("~") or spec.endswith("P"):
            return format(self.magnitude, spec.rstrip("~P")) + " " + self.unit
        return format(self.magnitude, spec)

    def _other_si(self, other):
        """The other operand in SI, or None when it is not a number or a quantity."""
        if isinstance(other, (int, float)):
            return float(other)
        if hasattr(other, "units") and hasattr(other, "magnitude"):
            return parse(other, self.unit, "comparison operand")
        return None

    def _compare(self, other, op):
        value = self._other_si(other)
        return NotImplemented if value is None else op(float(self), value)

    def __lt__(self, other): return self._compare(other, float.__lt__)
    def __le__(self, other): return self._compare(other, float.__le__)
    def __gt__(self, other): return self._compare(other, float.__gt__)
    def __ge__(self, other): return self._compare(other, float.__ge__)
    def __eq__(self, other): return self._compare(other, float.__eq__)
    def __ne__(self, other): return self._compare(other, float.__ne__)
    __hash__ = float.__hash__


def quantity(value, unit: str):
    """A result figure with its unit: a scalar becomes an SIValue; a sweep stays an array (in SI)."""
    if getattr(value, "ndim", 0):
        return value
    return SIValue(float(value), unit)


# --- readable formatting ------------------------------------------------------------------
_LADDERS = {
    "B": (("B", 1.0), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("PB", 1e15)),
    "B/s": (("B/s", 1.0), ("KB/s", 1e3), ("MB/s", 1e6), ("GB/s", 1e9), ("TB/s", 1e12), ("PB/s", 1e15)),
    "FLOP": (("FLOP", 1.0), ("KFLOP", 1e3), ("MFLOP", 1e6), ("GFLOP", 1e9), ("TFLOP", 1e12), ("PFLOP", 1e15),
             ("EFLOP", 1e18), ("ZFLOP", 1e21)),
    "FLOP/s": (("FLOP/s", 1.0), ("KFLOP/s", 1e3), ("MFLOP/s", 1e6), ("GFLOP/s", 1e9), ("TFLOP/s", 1e12),
               ("PFLOP/s", 1e15), ("EFLOP/s", 1e18)),
    "s": (("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0)),
    "J": (("mJ", 1e-3), ("J", 1.0), ("kJ", 1e3), ("MJ", 1e6), ("GJ", 1e9)),
    "J/s": (("mW", 1e-3), ("W", 1.0), ("kW", 1e3), ("MW", 1e6)),
}


def format_number(x: float) -> str:
    """A number as a person reads it: three significant figures ('6.62', '85.9', '0.00543'), whole numbers
    and anything from 1,000 up grouped in thousands without decimals, the very small in e-notation."""
    if x != x:
        return "nan"
    ax = abs(x)
    if ax == 0:
        return "0"
    if ax >= 999.5 or (ax >= 1 and float(x).is_integer()):
        return f"{x:,.0f}"
    if ax < 1e-3:
        return f"{x:.2e}"
    text = f"{x:.3g}"                                     # 3 significant figures, then fixed notation
    decimals = max(0, 2 - math.floor(math.log10(abs(float(text)))))
    return f"{float(text):.{decimals}f}"


def format_si(si: float, unit: str = "") -> str:
    """An SI value with the unit on its ladder that reads best ('3.35 TB/s', '0.54 ms')."""
    if not unit:
        return format_number(si)
    f, dim = unit_factor(unit)
    ladder = _LADDERS.get(dim)
    if ladder is None or si == 0 or si != si:
        return f"{format_number(si / f)} {unit}"
    name, scale = ladder[0]
    for n, s in ladder:
        if abs(si) >= s * 0.9995:
            name, scale = n, s
    return f"{format_number(si / scale)} {name}"


# --- pint, created on first use -------------------------------------------------------------
_UREG = None


def _registry():
    global _UREG
    if _UREG is None:
        import pint

        reg = pint.UnitRegistry()
        for line in ("FLOP = [flop] = flop = FLOPs", "FLOPS = FLOP / second",
                     "TFLOPS = 1e12 * FLOP / second", "TOPS = 1e12 * FLOP / second",
                     "param = [] = parameter = params", "token = [] = tokens",
                     "USD = [currency] = dollar = usd", "gCO2 = gram", "tCO2 = tonne"):
            reg.define(line)
        reg.formatter.default_format = "~P"
        pint.set_application_registry(reg)
        _UREG = reg
    return _UREG


def __getattr__(name: str):
    if name == "ureg":
        return _registry()
    raise AttributeError(f"module 'mlsysim.units' has no attribute '{name}'")


def Q_(*args, **kw):  # noqa: N802 - the conventional pint spelling
    """pint Quantity constructor of the package registry (created on first call)."""
    return _registry().Quantity(*args, **kw)
