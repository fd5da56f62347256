"""The base of every typed record, and pydantic field types that read units into SI.

A field declared ``Bytes`` accepts ``"80 GiB"``, a pint Quantity, an ``SIValue`` or a bare
number in bytes, and stores an :class:`~mlsysim.units.SIValue` (a float in SI that
remembers the unit it was given in). Records are frozen and reject unknown keys.
"""
from __future__ import annotations

from functools import cached_property
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
)

from ..errors import InputError
from ..units import SIValue, parse, unit_factor


def _si_field(unit: str, description: str, positive: bool = False):
    def validate(value: Any) -> SIValue:
        if isinstance(value, SIValue) and value.dim == unit_factor(unit)[1]:
            return value
        try:
            si = parse(value, unit, "", positive=positive)
        except InputError as exc:          # pydantic names the field; keep the sentence short
            raise ValueError(str(exc).strip()) from None
        shown = unit
        if isinstance(value, str):
            rest = value.strip().split(None, 1)
            if len(rest) == 2:
                shown = rest[1]
        elif hasattr(value, "units") and not isinstance(value, SIValue):
            shown = format(value.units, "~").replace(" ", "")
            try:
                unit_factor(shown)
            except Exception:
                shown = unit
        return SIValue(si, shown)

    schema = {"anyOf": [{"type": "number"}, {"type": "string"}],
              "description": f"{description}: a number in {unit} or a string with units, e.g. '10 {unit}'"}
    return Annotated[SIValue, PlainValidator(validate), PlainSerializer(lambda v: repr(v), return_type=str),
                     WithJsonSchema(schema)]


Bytes = _si_field("B", "a data size")
Bandwidth = _si_field("B/s", "a bandwidth")
FlopRate = _si_field("FLOP/s", "a compute rate")
Flops = _si_field("FLOP", "a FLOP count")
Seconds = _si_field("s", "a duration")
Watts = _si_field("W", "a power")
Joules = _si_field("J", "an energy")
Dollars = _si_field("USD", "a price")
Hertz = _si_field("Hz", "a frequency")
Count = _si_field("count", "a count")


def _one_sentence(kind: str, exc: ValidationError) -> str:
    """The first problem pydantic found, as one sentence naming the field."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "input"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "is not a field of this record"
    elif err["type"] == "missing":
        msg = "is required"
    more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
    return f"{kind}: '{where}' {msg}{more}"


def _cached_names(cls) -> list[str]:
    return [n for k in cls.__mro__ for n, v in vars(k).items() if isinstance(v, cached_property)]


class Record(BaseModel):
    """Frozen, strict base of every zoo entry and user-built record."""

    # defer_build: a record type's validator is built on its first use, so a command pays only for the
    # types it touches (building all of them at import is most of the command line's start-up)
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True,
                              protected_namespaces=(), ignored_types=(cached_property,), defer_build=True)

    def __init__(self, **data):
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise InputError(_one_sentence(type(self).__name__, exc)) from None

    def model_copy(self, *, update=None, deep: bool = False):
        """A copy with ``update`` applied; figures derived from the old values are dropped, not carried."""
        copy = super().model_copy(update=update, deep=deep)
        for name in _cached_names(type(self)):
            copy.__dict__.pop(name, None)
        return copy

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other) -> bool:
        return self is other or (type(self) is type(other) and self.__dict__ == other.__dict__)


class Metadata(Record):
    """Where a record's figures come from."""

    source: str = ""
    sources: dict[str, str] = {}
    url: str | None = None
    description: str | None = None
    last_verified: str | None = None
    #: the Hugging Face repository of the weights (what a serving engine loads)
    checkpoint: str | None = None

    @property
    def source_url(self) -> str | None:
        return self.url


# -- 0.1.0's pint-valued field type, for records users declared with it ----------------------------
def validate_quantity(v: Any):
    """A pint Quantity from a Quantity, a number or a string such as ``"80 GiB"``."""
    from ..units import ureg

    if isinstance(v, ureg.Quantity):
        return v
    if isinstance(v, (int, float, str)) and not isinstance(v, bool):
        try:
            return ureg.Quantity(v)
        except Exception as exc:
            raise ValueError(f"cannot read a quantity from {v!r}: {exc}") from None
    raise ValueError(f"expected a quantity, got {type(v).__name__}")


def serialize_quantity(v) -> str:
    return f"{v:~P}"


#: a pydantic field holding a pint Quantity (0.1.0's ``Quantity``); this package's records use ``Bytes`` & co.
Quantity = Annotated[Any, AfterValidator(validate_quantity), PlainSerializer(serialize_quantity, return_type=str)]
