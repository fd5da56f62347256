"""Output formats and exit codes shared by every command.

stdout carries only the payload (exactly one JSON object with ``-o json``, also on error);
diagnostics go to stderr.
"""
from __future__ import annotations

import json
import math

from ..errors import InputError

FORMATS = ("text", "json", "markdown", "html")
EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_ASSERT = 0, 1, 2, 3


class Finished(Exception):
    """A command has printed its payload and ends with ``code``."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def choose(ctx, local: str | None, supported=FORMATS) -> str:
    """The command's own ``-o`` if given, else the global one; refuse a format the command lacks.

    ``html`` is the markdown output made a page (``cli.main`` converts it with ``cli.html``): a command that
    writes markdown writes it as markdown, and one that refuses markdown refuses html the same way."""
    fmt = local or ((ctx.find_root().obj or {}).get("output") if ctx is not None else None) or "text"
    if fmt not in FORMATS:
        raise InputError(f"unsupported output format '{fmt}'; use one of {', '.join(FORMATS)}")
    if fmt == "html" and "markdown" in supported:
        return "markdown"
    if fmt not in supported:
        shown = [f for f in FORMATS if f in supported or (f == "html" and "markdown" in supported)]
        raise InputError(f"output format '{fmt}' is not supported by this command; use {', '.join(shown)}")
    return fmt


def scan_format(argv: list[str]) -> str:
    """The output format named on the command line (so errors can be shaped before parsing): the last one,
    as the parser takes it (a command's own ``-o`` comes after the global one, and wins), passing over names
    that are no format (``-o json eval --output plan.yaml`` still answers in JSON)."""
    fmt = "text"
    for i, arg in enumerate(argv):
        named = argv[i + 1] if arg in ("-o", "--output") and i + 1 < len(argv) else \
            arg.split("=", 1)[1] if arg.startswith("--output=") else None
        if named in FORMATS:
            fmt = named
    return fmt


def is_file(name: str) -> bool:
    """Whether ``name`` is an existing file; a name the system cannot even look up (too long, a NUL) is not."""
    from pathlib import Path

    try:
        return Path(name).is_file()
    except (OSError, ValueError):
        return False


def looks_like_plan(target: str) -> bool:
    """Whether a command's first argument is a plan file (a ``.yaml`` name or an existing file that is not
    JSON) rather than a registry name; a YAML file whose top level holds ``layers:`` is a model, not a plan."""
    from ..models.layers import is_layer_file

    if not (target.endswith((".yaml", ".yml")) or (is_file(target) and not target.endswith(".json"))):
        return False
    try:
        return not is_layer_file(target)
    except (OSError, ValueError, RecursionError):      # unreadable: reading it as a plan says why
        return True


#: the deepest nesting of lists and mappings a YAML or JSON file named on the command line may have (device,
#: model, calibration and plan files nest a few levels; far deeper ones crash or exhaust the parsers)
MAX_FILE_DEPTH = 64


def nesting_problem(name: str, limit: int = MAX_FILE_DEPTH) -> str | None:
    """Why a ``.yaml``/``.yml``/``.json`` file named on the command line cannot be read safely (nested beyond
    ``limit``), or None. Anything else about the file is left to the command that reads it."""
    import re

    lower = name.lower()
    if not lower.endswith((".yaml", ".yml", ".json")) or not is_file(name):
        return None
    try:
        with open(name, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, ValueError):                      # unreadable or not UTF-8: the command says so
        return None
    depth = 0
    if lower.endswith(".json"):
        for m in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
            token = m.group()
            if token in "[{":
                depth += 1
                if depth > limit:
                    line = text.count("\n", 0, m.start()) + 1
                    return f"{name}: arrays or objects nested more than {limit} levels deep (line {line})"
            elif token in "]}":
                depth -= 1
        return None
    import yaml

    try:
        for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > limit:
                    return (f"{name}: lists or mappings nested more than {limit} levels deep (line "
                            f"{event.start_mark.line + 1})")
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as exc:                # PyYAML >= 6.0.4 stops at its own depth limit first
        if "nesting depth" in str(exc.problem):
            return (f"{name}: lists or mappings nested more than {limit} levels deep (line "
                    f"{exc.problem_mark.line + 1})")
        return None                                    # malformed: the command's reader says where
    except yaml.YAMLError:
        return None
    return None


def progress_bar(fmt: str, what: str, stream=None):
    """A one-line progress bar on a terminal's stderr for long work (``show(done, total)``); None in JSON or
    markdown, or when stderr is not a terminal, so nothing but the payload is ever printed there."""
    import sys

    stream = stream or sys.stderr
    if fmt != "text" or not stream.isatty():
        return None

    def show(done, total):
        width = 30
        filled = int(width * done / max(total, 1))
        stream.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} {what}")
        if done >= total:
            stream.write("\n")
        stream.flush()
    return show


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
