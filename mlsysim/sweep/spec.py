"""The sweep file: its plan, its axes (lists or ranges of values at plan keys) and its objectives, checked once,
and the grid they span (the format is in ``mlsysim/sweep/__init__.py``)."""
from __future__ import annotations

import itertools
import json
import math
import typing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from ..cli.output import is_file
from ..errors import InputError
from ..plan import Plan, _check_keys, _read_yaml
from ..units import SIValue

#: the keys a sweep file may hold
KEYS = ("plan", "axes", "objectives")
#: the plan keys whose grid points one array solve answers together (the engine takes arrays for them)
VECTOR_AXES = ("workload.batch_size", "workload.seq_len")
#: the most grid points a sweep may span (a row is a few kilobytes: a million rows fill gigabytes)
MAX_POINTS = 1_000_000
_RANGE_KEYS = ("start", "stop", "num", "scale")


@dataclass(frozen=True)
class Sweep:
    """A checked sweep: the plan's mapping, each axis's values by its dotted path, the objectives."""

    plan: dict
    axes: dict
    objectives: dict
    where: str                 # the plan's name in messages (its file, or the sweep file's inline plan)

    @property
    def size(self) -> int:
        return math.prod(len(values) for values in self.axes.values())

    def points(self):
        """Each grid point's axis values, in the order of the axes (the last one changing fastest)."""
        return itertools.product(*self.axes.values())

    def point_plan(self, values) -> dict:
        """The plan's mapping at one grid point: copied along each axis's path only, the rest shared."""
        data = dict(self.plan)
        for path, value in zip(self.axes, values):
            *sections, key = path.split(".")
            node = data
            for name in sections:
                inner = {} if node.get(name) is None else node[name]
                if not isinstance(inner, dict):
                    break                       # a section that is no mapping: the plan's check says so
                node[name] = node = dict(inner)
            else:
                node[key] = value
        return data

    def group_key(self, values) -> str:
        """What a grid point shares with the points one array solve can answer with it: its values at every
        axis but batch size and sequence length."""
        return json.dumps([v for path, v in zip(self.axes, values) if path not in VECTOR_AXES], default=str)


def load_sweep(path) -> Sweep:
    """Read and check a sweep file; every problem is one sentence naming the file and the key."""
    path = Path(path)
    if not is_file(str(path)):
        raise InputError(f"sweep file '{path}' not found")
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: a sweep file is a mapping of plan, axes and objectives")
    return parse_sweep(data, str(path), path.parent)


def parse_sweep(data: dict, where: str = "sweep", folder: Path = Path(".")) -> Sweep:
    """A sweep from its mapping; ``folder`` is where a plan named by file is looked for."""
    _check_keys(data, where)
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise InputError(f"{where}: unknown key '{unknown[0]}'; a sweep file holds {', '.join(KEYS)}")
    for key in ("plan", "axes"):
        if data.get(key) is None:
            raise InputError(f"{where}: missing required key '{key}'")
    plan, plan_where = _plan(data["plan"], where, folder)
    axes = _axes(data["axes"], where)
    objectives = {} if data.get("objectives") is None else _objectives(data["objectives"], where)
    return Sweep(plan, axes, objectives, plan_where)


def _plan(given, where: str, folder: Path) -> tuple[dict, str]:
    """The plan's mapping (read from its file, relative to the sweep file, or given inline) and its name."""
    if isinstance(given, str):
        if "\x00" in given:
            raise InputError(f"{where}: a plan file's name cannot hold a NUL character")
        path = folder / given
        data = _read_yaml(path)
        if not isinstance(data, dict):
            raise InputError(f"{path}: a plan must be a mapping of keys (version, name, workload, hardware, ...)")
        _check_keys(data, str(path))
        return data, str(path)
    if isinstance(given, dict):
        return given, f"{where}: plan"
    raise InputError(f"{where}: 'plan' is a plan file's name or the plan itself (a mapping), not {given!r}")


def _axes(given, where: str) -> dict:
    if not isinstance(given, dict):
        raise InputError(f"{where}: 'axes' maps plan keys to values, e.g. workload.batch_size: [1, 8, 64]")
    if not given:
        raise InputError(f"{where}: 'axes' is empty; give at least one, e.g. workload.batch_size: [1, 8, 64]")
    axes = {}
    for path, values in given.items():
        kind = _kind(path, where)
        for other in axes:
            if path.startswith(other + ".") or other.startswith(path + "."):
                raise InputError(f"{where}: axes '{other}' and '{path}' overlap; vary a section or its keys, not both")
        if isinstance(values, dict):
            values = _range(values, kind, f"{where}: axis '{path}'")
        if not isinstance(values, list):
            raise InputError(f"{where}: axis '{path}' takes a list of values or a range {{start, stop, num, scale}}, "
                             f"not {values!r}")
        if not values:
            raise InputError(f"{where}: axis '{path}' has no values")
        axes[path] = values
    size = math.prod(len(v) for v in axes.values())
    if size > MAX_POINTS:
        raise InputError(f"{where}: the axes span {size:,} grid points; at most {MAX_POINTS:,}")
    return axes


def _kind(path: str, where: str):
    """The plan key a dotted path names, as the type a range of it takes: int, float, or None (no range)."""
    model, annotation = Plan, None
    for depth, part in enumerate(path.split(".")):
        fields = {f.alias or name: f for name, f in model.model_fields.items()} if model else {}
        field = fields.get(part) or (model.model_fields.get(part) if model else None)
        if field is None:
            at = ".".join(path.split(".")[:depth])
            choices = f"'{at}' holds no keys" if not fields else \
                f"{f'the keys of {at!r}' if at else 'the sections of a plan'} are {', '.join(fields)}"
            raise InputError(f"{where}: axis '{path}' is no plan key ({choices})")
        annotation = field.annotation
        model = next((t for t in _types(annotation) if isinstance(t, type) and issubclass(t, BaseModel)), None)
    types = _types(annotation)
    return int if int in types else float if any(t is float or t is SIValue for t in types) else None


def _types(annotation) -> list:
    """The types a field's annotation admits (unions and annotated types unwrapped)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _types(typing.get_args(annotation)[0])
    if origin is typing.Union or type(annotation).__name__ == "UnionType":
        return [t for arg in typing.get_args(annotation) for t in _types(arg)]
    return [annotation]


def _range(spec: dict, kind, what: str) -> list:
    """The values of ``{start, stop, num, scale}``: ``num`` points, evenly spaced (``linear``) or in equal
    ratios (``log``), whole numbers (repeats dropped) where the key takes whole numbers."""
    unknown = [k for k in spec if k not in _RANGE_KEYS]
    if unknown:
        raise InputError(f"{what}: unknown range key '{unknown[0]}'; a range has start, stop, num and scale")
    missing = [k for k in _RANGE_KEYS[:3] if k not in spec]
    if missing:
        raise InputError(f"{what}: a range needs {', '.join(missing)} (it has start, stop, num and scale)")
    if kind is None:
        raise InputError(f"{what} takes a list of values; a range needs a numeric key")
    start, stop, num, scale = spec["start"], spec["stop"], spec["num"], spec.get("scale", "linear")
    for name, value in (("start", start), ("stop", stop)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InputError(f"{what}: range {name} must be a finite number, got {value!r}")
    if isinstance(num, bool) or not isinstance(num, int) or not 1 <= num <= MAX_POINTS:
        raise InputError(f"{what}: range num must be a whole number from 1 to {MAX_POINTS:,}, got {num!r}")
    if scale not in ("linear", "log"):
        raise InputError(f"{what}: range scale must be linear or log, got {scale!r}")
    if scale == "log" and (start <= 0 or stop <= 0):
        raise InputError(f"{what}: a log range needs start and stop above 0, got {start!r} and {stop!r}")
    values = (np.geomspace if scale == "log" else np.linspace)(start, stop, num).tolist()
    return list(dict.fromkeys(round(v) for v in values)) if kind is int else values


def _objectives(given, where: str) -> dict:
    if not isinstance(given, dict):
        raise InputError(f"{where}: 'objectives' maps output columns to min or max, e.g. p_latency_ms: min")
    for column, sense in given.items():
        if sense not in ("min", "max"):
            raise InputError(f"{where}: objective '{column}' must be min or max, got {sense!r}")
    return dict(given)
