"""The ``mlsysim`` command: one module per command under ``cli/commands``.

Errors reach the user as one sentence (on stderr, or as ``{"status": "error"}`` on stdout with
``-o json``) and an exit code: 0 ok, 1 bad input, 2 does not fit, 3 an assert failed.
``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import sys

import typer

from ..errors import MlsysimError, OOMError
from .output import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_OK, Finished, dumps, scan_format

COMMANDS = ("eval", "serve", "optimize", "fit", "cheapest", "audit", "zoo", "schema", "explain", "validate")

app = typer.Typer(add_completion=True, no_args_is_help=True, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="MLSys·im: predict latency, throughput, memory, cost and carbon of ML systems.")


@app.callback()
def _root(ctx: typer.Context,
          output: str = typer.Option("text", "--output", "-o", help="text, json or markdown (any command)")):
    """MLSys·im: predict latency, throughput, memory, cost and carbon of ML systems.

    Example: mlsysim eval Llama3_8B H100 --batch-size 8
    """
    ctx.obj = {"output": output}


_REGISTERED: set[str] = set()


def _register(args: list[str]) -> None:
    """Load only the command being run (each one imports what it needs); all of them for help."""
    import importlib

    words = [a for i, a in enumerate(args)
             if not a.startswith("-") and (i == 0 or args[i - 1] not in ("-o", "--output"))]
    wanted = [words[0]] if words and words[0] in COMMANDS else COMMANDS
    for name in wanted:
        if name not in _REGISTERED:
            importlib.import_module(f".commands.{name}", __package__).register(app)
            _REGISTERED.add(name)


def main(argv=None) -> None:
    """Entry point of the console script and ``python -m mlsysim``."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
    fmt = scan_format(args)
    _register(args)
    try:
        app(args, standalone_mode=False, prog_name="mlsysim")
    except Finished as done:
        sys.exit(done.code)
    except OOMError as exc:
        _fail(str(exc), EXIT_INFEASIBLE, fmt, debug, exc)
    except MlsysimError as exc:
        _fail(str(exc), EXIT_INPUT, fmt, debug, exc)
    except Exception as exc:  # usage errors from the parser, and anything unforeseen: still one sentence
        if hasattr(exc, "format_message"):            # a bad option, a missing argument
            _fail(exc.format_message(), EXIT_INPUT, fmt, debug, exc)
        if type(exc).__name__ == "Exit":              # --help and explicit exits
            sys.exit(getattr(exc, "exit_code", 0) or 0)
        if type(exc).__name__ == "Abort":             # Ctrl-C at a prompt
            sys.exit(EXIT_INPUT)
        _fail(f"internal error: {exc}", EXIT_INPUT, fmt, debug, exc)
    sys.exit(EXIT_OK)


def _fail(message: str, code: int, fmt: str, debug: bool, exc: BaseException) -> None:
    if debug:
        raise exc
    text = message
    if fmt == "json":
        print(dumps({"status": "error", "error": text, "exit_code": code}))
    print(f"error: {text}", file=sys.stderr)
    sys.exit(code)
