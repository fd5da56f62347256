"""0.1.0's formatting helpers for narrative text (textbook chapters, notebooks): numbers from pint
Quantities (or this package's SIValues) as strings, LaTeX and Markdown.

A figure that rounds to ``0`` at the precision asked is an error, not a silent zero: a chapter that
prints "0.0 ms" for 40 µs says something false.
"""
from __future__ import annotations

from .units import SIValue

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


class Markdown(str):
    """Text that notebooks (Jupyter, marimo, Quarto) render as Markdown and ``str()`` leaves as is."""

    def _repr_markdown_(self) -> str:
        return str(self)

    @property
    def data(self) -> str:            # IPython's Markdown keeps its text here
        return str(self)


def _pint(value):
    """A pint Quantity for an SIValue (in the unit it reads in); anything else unchanged."""
    return value.to(value.unit) if isinstance(value, SIValue) else value


def _is_quantity(value) -> bool:
    return hasattr(value, "magnitude") and hasattr(value, "units") and hasattr(value, "to")


def _number(val: float, precision: int, commas: bool, allow_zero: bool, who: str) -> str:
    text = f"{val:{',' if commas else ''}.{precision}f}"
    if not allow_zero and float(text.replace(",", "")) == 0.0 and abs(val) > 1e-12:
        raise ValueError(f"{who}: {val} formats as '{text}' at precision={precision}; raise the precision "
                         f"(or pass allow_zero=True if a zero is meant)")
    return text


def fmt(quantity, unit=None, precision=1, commas=True, allow_zero=False) -> str:
    """The number alone (no unit), in ``unit`` when given; a plain number is taken as already in it."""
    quantity = _pint(quantity)
    if _is_quantity(quantity):
        quantity = (quantity.to(unit) if unit else quantity).magnitude
    return _number(float(quantity), precision, commas, allow_zero, "fmt")


def fmt_full(quantity, precision=1, commas=True) -> str:
    """``"2,039 GB/s"``: value and unit from the quantity itself, so they cannot disagree."""
    quantity = _pint(quantity)
    if not _is_quantity(quantity):
        raise TypeError(f"fmt_full needs a quantity, got {type(quantity).__name__}; use fmt for numbers")
    value = _number(float(quantity.magnitude), precision, commas, False, "fmt_full")
    return f"{value} {quantity.units:~P}"


def fmt_split(quantity, precision=1, commas=True) -> tuple[str, str]:
    """(value, unit) strings, for tables with a unit column."""
    value, _, unit = fmt_full(quantity, precision, commas).partition(" ")
    return value, unit


def _ratio(ratio) -> float:
    ratio = _pint(ratio)
    return float(ratio.m_as("")) if _is_quantity(ratio) else float(ratio)


def fmt_percent(ratio, precision=1, commas=False) -> str:
    """A ratio (0-1, or a dimensionless quantity such as FLOP/FLOP) as a percentage number."""
    return fmt(_ratio(ratio) * 100, precision=precision, commas=commas)


def _mantissa_exponent(val, precision: int) -> tuple[str, int]:
    val = _pint(val)
    base, exp = f"{float(val.magnitude if _is_quantity(val) else val):.{precision}e}".split("e")
    return f"{float(base):.{precision}f}", int(exp)


def sci(val, precision=2) -> str:
    """``4.10 × 10⁹``: scientific notation in plain Unicode."""
    base, exp = _mantissa_exponent(val, precision)
    return f"{base} × 10{str(exp).translate(_SUPERSCRIPT)}"


def sci_latex(val, precision=2) -> str:
    r"""``4.10 \times 10^{9}``: scientific notation in LaTeX."""
    base, exp = _mantissa_exponent(val, precision)
    return f"{base} \\times 10^{{{exp}}}"


def md(latex_str) -> Markdown:
    return Markdown(latex_str)


def md_math(expression) -> Markdown:
    return Markdown(f"${expression}$")


def md_sci(val, precision=2) -> Markdown:
    return md_math(sci_latex(val, precision=precision))


def md_frac(numerator, denominator, result=None, unit=None) -> Markdown:
    """``$\\frac{num}{den}$ = result unit``."""
    text = f"$\\frac{{{numerator}}}{{{denominator}}}$"
    if result is not None:
        text += f" = {result}"
    if unit is not None:
        text += f" {unit}"
    return Markdown(text)


def display_value(value, unit=None, precision=1, commas=True) -> dict:
    """The raw value beside its formatted string."""
    return {"value": value, "str": fmt(value, unit=unit, precision=precision, commas=commas)}


def display_percent(ratio, precision=0) -> dict:
    """A ratio, its percentage as text and as LaTeX."""
    ratio = _ratio(ratio)
    pct = f"{ratio * 100:.{precision}f}"
    return {"value": ratio, "str": pct, "math": md_math(f"{pct}\\%")}


def display_fraction(numerator, denominator, result=None, unit=None, precision=2) -> dict:
    """A quotient, its text and its LaTeX fraction."""
    value = _pint(numerator) / _pint(denominator)
    if result is None:
        result = f"{value:.{precision}g}"
    frac = md_frac(sci_latex(numerator, precision), sci_latex(denominator, precision), result=result, unit=unit)
    return {"value": value, "str": result, "frac": frac}


def check(condition, message) -> None:
    """Stop a chapter whose computed figures no longer support its sentence."""
    if not condition:
        raise ValueError(f"Narrative broken: {message}")
