"""Schema of ``textbook.yaml``: MLSys·im 0.1.0's textbook figures and default assumptions, each a value, its
unit (a pint unit of ``mlsysim.units.ureg``; absent for a pure number) and its source."""
import math

from pydantic_core import PydanticCustomError, core_schema

from ..facts import block, entries, flag, register, required, text


def _number_or_text(value):
    """A finite number (0.1.0's figure) or text (0.1.0's ranges such as ``"100-500"``)."""
    if isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)
                                  and math.isfinite(value)):
        return value
    raise PydanticCustomError("number_or_text", "must be a number or text, got {got}", {"got": repr(value)})


def _consistent(figure: dict) -> None:
    value, unit = figure["value"], figure.get("unit")
    if isinstance(value, str) and (unit is not None or figure.get("as_number") or figure.get("traceable")):
        raise ValueError(f"a text value ({value!r}) takes no 'unit', 'as_number' or 'traceable'")
    if figure.get("as_number") and unit is None:
        raise ValueError("'as_number' needs the 'unit' the number is in")
    if unit is not None:
        from ...units import ureg

        try:
            ureg.parse_units(unit)
        except Exception:  # pint raises several kinds for an unknown or malformed unit
            raise ValueError(f"'unit' is not a unit mlsysim's registry knows, got {unit!r}") from None


FIGURE = block(_consistent, value=required(core_schema.no_info_plain_validator_function(_number_or_text)), unit=text,
               as_number=flag, traceable=flag, source=required(text))

SCHEMA = block(constants=required(entries(FIGURE)), defaults=required(entries(FIGURE)))

register("textbook", SCHEMA, entry_depth=2)
