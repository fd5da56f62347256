"""The ``mlsysim`` command: one module per command under ``cli/commands``.

Errors reach the user as one sentence on stderr and an exit code (0 ok, 1 bad input,
2 does not fit, 3 an assert failed); ``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import sys

import typer

from ..errors import MlsysimError, OOMError

app = typer.Typer(add_completion=True, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="MLSys·im: predict latency, throughput, memory, cost and carbon of ML systems.")

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_ASSERT = 0, 1, 2, 3


def _register() -> None:
    from .commands import eval as eval_cmd
    from .commands import validate as validate_cmd

    eval_cmd.register(app)
    validate_cmd.register(app)


def main(argv=None) -> None:
    """Entry point of the console script and ``python -m mlsysim``."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
    _register()
    try:
        app(args, standalone_mode=False)
    except OOMError as exc:
        _fail(exc, EXIT_INFEASIBLE, debug)
    except MlsysimError as exc:
        _fail(exc, EXIT_INPUT, debug)
    except Exception as exc:  # usage errors from the parser, and anything unforeseen: still one sentence
        code = getattr(exc, "exit_code", None)
        if hasattr(exc, "format_message"):            # a usage error: bad option, missing argument
            _fail(exc.format_message(), EXIT_INPUT, debug, exc)
        if type(exc).__name__ == "Exit":              # --help, --version, and explicit exits
            sys.exit(code or 0)
        if type(exc).__name__ == "Abort":             # Ctrl-C at a prompt
            sys.exit(EXIT_INPUT)
        _fail(f"internal error: {exc}", EXIT_INPUT, debug, exc)
    sys.exit(EXIT_OK)


def _fail(message, code: int, debug: bool, exc=None) -> None:
    if debug:
        raise exc if exc is not None else message
    text = str(message)
    print(f"error: {text[0].lower() + text[1:] if text else text}", file=sys.stderr)
    sys.exit(code)
