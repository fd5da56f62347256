"""Output formats and exit codes shared by every command.

stdout carries only the payload (exactly one JSON object with ``-o json``, also on error);
diagnostics go to stderr.
"""
from __future__ import annotations

import json
import math

from ..errors import InputError

FORMATS = ("text", "json", "markdown")
EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_ASSERT = 0, 1, 2, 3


class Finished(Exception):
    """A command has printed its payload and ends with ``code``."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def choose(ctx, local: str | None, supported=FORMATS) -> str:
    """The command's own ``-o`` if given, else the global one; refuse a format the command lacks."""
    fmt = local or ((ctx.find_root().obj or {}).get("output") if ctx is not None else None) or "text"
    if fmt not in FORMATS:
        raise InputError(f"unsupported output format '{fmt}'; use one of {', '.join(FORMATS)}")
    if fmt not in supported:
        raise InputError(f"output format '{fmt}' is not supported by this command; use {', '.join(supported)}")
    return fmt


def scan_format(argv: list[str]) -> str:
    """The output format named anywhere on the command line (so errors can be shaped before parsing)."""
    for i, arg in enumerate(argv):
        if arg in ("-o", "--output") and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--output="):
            return arg.split("=", 1)[1]
    return "text"


def dumps(obj) -> str:
    return json.dumps(_safe(obj), allow_nan=False)


def _safe(value):
    """JSON-safe: NumPy scalars and arrays to Python, non-finite floats to None."""
    if isinstance(value, dict):
        return {str(k): _safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe(v) for v in value]
    if hasattr(value, "tolist"):
        return _safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
