"""Schemas of the facts files, checked at load, and the one sentence that says what is wrong.

A schema mirrors a file's layout with the building blocks below (``block``, ``entries``,
``required``, ``text``, ``number``, quantity types such as ``DataSize`` ...). They are
pydantic-core schemas, the validation engine of pydantic 2. The same layout declared as
``BaseModel`` classes validates the same way, but building those classes costs ~12 ms for
hardware.yaml alone (pydantic generates each class's schema in Python) against ~1 ms here,
and every CLI call loads the hardware and model files.

:func:`check` words the first problem as one sentence naming the file, the entry and the
key (``hardware.yaml: cloud.H100: unknown key 'memory.bandwith'; did you mean
'memory.bandwidth'?``), so a typo never surfaces later as a bare ``KeyError`` or a key that
is silently ignored. :func:`register` ties a schema to a file of ``zoo/data`` so that
``load_data`` checks it; the zoo's own schemas live in ``zoo/schemas/<name>.py``, imported
when their file is first loaded.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
from typing import Any, Callable

from pydantic_core import PydanticCustomError, SchemaValidator, ValidationError, core_schema

from ..errors import InputError, closest
from ..units import parse

Schema = core_schema.CoreSchema


# --- building blocks ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Required:
    schema: Schema


def required(schema: Schema) -> _Required:
    """Marks a key of a :func:`block` that every mapping must give."""
    return _Required(schema)


def block(check: Callable[[dict], None] | None = None, **keys: Schema | _Required) -> Schema:
    """A mapping of exactly these keys, each optional unless ``required``.

    ``check(mapping)``, run once the keys are valid, raises ``ValueError`` for a rule that
    spans keys (its message names them).
    """
    fields = {key: core_schema.typed_dict_field(s.schema if isinstance(s, _Required) else s,
                                                 required=isinstance(s, _Required))
              for key, s in keys.items()}
    schema = core_schema.no_info_before_validator_function(
        _known_keys(tuple(keys)), core_schema.typed_dict_schema(fields, extra_behavior="forbid"))
    return core_schema.no_info_after_validator_function(_then_return(check), schema) if check else schema


def _known_keys(known: tuple[str, ...]):
    def refuse_unknown(value):
        if isinstance(value, dict):
            for key in value:
                if key not in known:
                    raise PydanticCustomError("unknown_key", "unknown key",
                                              {"key": str(key), "suggestions": closest(str(key), known)})
        return value
    return refuse_unknown


def _then_return(check: Callable[[Any], None]):
    def run(value):
        check(value)
        return value
    return run


def nullable(schema: Schema) -> Schema:
    """``schema``, or ``null`` for a figure the source does not give."""
    return core_schema.nullable_schema(schema)


def entries(schema: Schema) -> Schema:
    """A mapping of free names (registry keys) to entries of ``schema``."""
    return core_schema.dict_schema(text, schema)


def items(schema: Schema) -> Schema:
    """A list of entries of ``schema``."""
    return core_schema.list_schema(schema)


def kinds(key: str, default: str, **schemas: Schema) -> Schema:
    """A mapping whose ``key`` (``default`` when absent) names which of ``schemas`` it follows."""
    validators = {kind: SchemaValidator(s) for kind, s in schemas.items()}

    def by_kind(value):
        if not isinstance(value, dict):
            raise PydanticCustomError("dict_type", "not a mapping")
        kind = value.get(key, default)
        if kind not in validators:
            raise PydanticCustomError("unknown_kind", "'{key}' must be one of {kinds}, got {got}",
                                      {"key": key, "kinds": ", ".join(validators), "got": repr(kind)})
        return validators[kind].validate_python(value)

    return core_schema.no_info_plain_validator_function(by_kind)


def number(**bounds: float) -> Schema:
    """A plain number (an int is accepted), within ``gt``/``ge``/``lt``/``le`` bounds."""
    return core_schema.float_schema(strict=True, allow_inf_nan=False, **bounds)


def integer(**bounds: int) -> Schema:
    return core_schema.int_schema(strict=True, **bounds)


def choice(*values: str) -> Schema:
    return core_schema.literal_schema(list(values))


text = core_schema.str_schema(strict=True)
flag = core_schema.bool_schema(strict=True)
names = core_schema.list_schema(text)
count = integer(gt=0)
positive = number(gt=0)
fraction = number(ge=0, le=1)


def quantity(unit: str, kind: str, example: str) -> Schema:
    """A figure written with its unit, such as ``"80 GiB"``, of ``unit``'s dimension.

    Read by ``units.parse``, as the records' field types (``core.types.Bytes`` ...) read it
    when the entry is built; a bare number is refused here because the facts files write
    every dimensioned figure with its unit.
    """
    def check_quantity(value):
        if isinstance(value, str) and not _is_number(value):
            try:
                parse(value, unit, kind)
                return value
            except InputError:
                pass
        raise PydanticCustomError("quantity", "must be {kind} (e.g. '{example}'), got {got}",
                                  {"kind": kind, "example": example, "got": repr(value)})

    return core_schema.no_info_plain_validator_function(check_quantity)


def _is_number(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


DataSize = quantity("B", "a data size", "80 GiB")
Bandwidth = quantity("B/s", "a bandwidth", "3.35 TB/s")
Time = quantity("s", "a time", "5 us")
Power = quantity("W", "a power", "700 W")
Energy = quantity("J", "an energy", "12.7 Wh")


# --- rules across entries -----------------------------------------------------------------------
def refers(data: dict, section: str, key: str, target: str) -> None:
    """Refuse an entry of ``section`` whose ``key`` names no entry of ``target`` in the same file.

    For a file-level ``block`` check; the message names the entry, as the sentence cannot.
    """
    known = data.get(target) or {}
    for name, entry in (data.get(section) or {}).items():
        ref = entry.get(key)
        if ref is not None and ref not in known:
            hint = closest(ref, known)
            raise ValueError(f"{section}.{name}: '{key}' names no entry of {target}, got {ref!r}"
                             + (f"; did you mean {', '.join(hint)}?" if hint else ""))


# --- checking -----------------------------------------------------------------------------------
def check(data: Any, schema: Schema, where: str, entry_depth: int = 0) -> None:
    """Validate ``data`` against ``schema``; a problem raises :class:`InputError` as one sentence.

    The sentence reads ``<where>: <entry>: <problem with key>``: the entry is the first
    ``entry_depth`` keys of the path to the problem (``cloud.H100``; a list item is named by
    its ``id``) and the key is the rest (``memory.capacity``).
    """
    _check(SchemaValidator(schema), data, where, entry_depth)


def check_entry(fact: Any, schema: Schema, kind: str) -> None:
    """Check one entry built by a user rather than read from a file; the sentence names it by its ``name``."""
    name = fact.get("name") if isinstance(fact, dict) else None
    _check(SchemaValidator(schema), fact, f"{kind} entry {name!r}" if name else f"{kind} entry", 0)


def _check(validator: SchemaValidator, data, where: str, entry_depth: int) -> None:
    try:
        validator.validate_python(data)
    except ValidationError as exc:
        raise InputError(_sentence(where, data, exc.errors()[0], entry_depth)) from None


def _sentence(where: str, data, error: dict, entry_depth: int) -> str:
    loc, named = error["loc"], ()          # named: the key an unknown/missing-key error is about
    if error["type"] == "unknown_key":
        named = (error["ctx"]["key"],)
    elif error["type"] == "missing":
        loc, named = loc[:-1], loc[-1:]
    entry, path = (loc[:entry_depth], loc[entry_depth:]) if len(loc) >= entry_depth else ((), loc)
    key = ".".join(map(str, path + named))
    return ": ".join([where] + ([_entry_name(data, entry)] if entry else []) + [_problem(error, key)])


def _entry_name(data, path) -> str:
    name, node = "", data
    for part in path:
        in_list = isinstance(node, list)
        node = node[part]
        if in_list:
            name += f"[{node.get('id', part) if isinstance(node, dict) else part}]"
        else:
            name += f".{part}" if name else str(part)
    return name


def _problem(error: dict, key: str) -> str:
    kind = error["type"]
    if kind == "unknown_key":
        stem = key.rpartition(".")[0]
        hint = ", ".join(f"'{stem}.{s}'" if stem else f"'{s}'" for s in error["ctx"]["suggestions"])
        return f"unknown key '{key}'" + (f"; did you mean {hint}?" if hint else "")
    if kind == "missing":
        return f"missing required key '{key}'"
    if kind == "dict_type":
        message = f"must be a mapping of keys, got {error['input']!r}"
    elif error["msg"].startswith("Input should be "):
        message = f"must be {error['msg'].removeprefix('Input should be ')}, got {error['input']!r}"
    else:
        message = error["msg"].removeprefix("Value error, ")
    return f"'{key}' {message}" if key else message


# --- the schema of each file of zoo/data ----------------------------------------------------------
_FILES: dict[str, tuple[SchemaValidator, int]] = {}


def register(name: str, schema: Schema, entry_depth: int) -> None:
    """Have ``load_data(name)`` check ``zoo/data/<name>.yaml`` against ``schema``.

    ``entry_depth`` is how many keys name one entry: 2 for ``cloud.H100``, 1 for a flat file.
    """
    _FILES[name] = (SchemaValidator(schema), entry_depth)


def has_schema(name: str) -> bool:
    """Whether ``zoo/data/<name>.yaml`` has a schema (``zoo/schemas/<name>.py``, imported here, or :func:`register`)."""
    if name not in _FILES and find_spec(f"{__package__}.schemas.{name}") is not None:
        import_module(f"{__package__}.schemas.{name}")
    return name in _FILES


def check_file(name: str, data) -> None:
    """Check the parsed ``zoo/data/<name>.yaml`` against its schema.

    A file with no schema passes unchecked here; ``tests/test_facts.py`` insists that every
    shipped file has one.
    """
    if has_schema(name):
        validator, entry_depth = _FILES[name]
        _check(validator, data, f"{name}.yaml", entry_depth)
