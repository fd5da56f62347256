"""The ``mlsysim`` command: one module per command under ``cli/commands``.

Errors reach the user as one sentence (on stderr, or as ``{"status": "error"}`` on stdout with
``-o json``; with ``-o html`` stdout stays empty) and an exit code: 0 ok, 1 bad input, 2 does not fit,
3 an assert failed; whatever a user types, never "internal error" (tests/test_fuzz_cli.py generates
command lines and plans to hold it to that). ``-o html`` is every command's markdown output made one
standalone page (``_html_main``). ``--debug`` shows the traceback instead; ``--version`` prints the
installed version.
"""
from __future__ import annotations

import sys

import typer

from ..errors import InputError, MlsysimError, OOMError
from .output import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_OK, Finished, dumps, nesting_problem, scan_format

COMMANDS = ("eval", "serve", "optimize", "fit", "cheapest", "audit", "zoo", "schema", "explain",
            "validate", "mcp", "ui", "sweep")

app = typer.Typer(add_completion=True, no_args_is_help=True, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="MLSys·im: predict latency, throughput, memory, cost and carbon of ML systems.")


class _VersionAsked(Exception):
    """``--version`` was given: print it (in the output format asked) and stop."""


def _ask_version(value: bool) -> None:
    if value:
        raise _VersionAsked()


def version() -> str:
    """The installed package's version (its metadata), else the source tree's ``__version__``."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("mlsysim")
    except PackageNotFoundError:
        import mlsysim
        return str(getattr(mlsysim, "__version__", "unknown"))


@app.callback()
def _root(ctx: typer.Context,
          output: str = typer.Option("text", "--output", "-o", help="text, json, markdown or html (any command)"),
          _version: bool = typer.Option(False, "--version", is_eager=True, callback=_ask_version,
                                        help="print the version and exit")):
    """MLSys·im: predict latency, throughput, memory, cost and carbon of ML systems.

    Example: mlsysim eval Llama3_8B H100 --batch-size 8
    """
    ctx.obj = {"output": output}


_REGISTERED: set[str] = set()


def _words(args: list[str]) -> list[str]:
    """The command line's words that are no option or format name: the command, its subcommand, arguments."""
    return [a for i, a in enumerate(args)
            if not a.startswith("-") and (i == 0 or args[i - 1] not in ("-o", "--output"))]


def _register(args: list[str]) -> None:
    """Load only the command being run (each one imports what it needs); all of them for help."""
    import importlib

    words = _words(args)
    if not words and "--version" in args and not {"-h", "--help"} & set(args):
        return                                      # nothing but the version: no command to load
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
    if fmt == "html":
        _html_main(args, debug)
    _run(args, fmt, debug)


def _html_main(args: list[str], debug: bool) -> None:
    """``-o html``: the command runs in markdown mode (``output.choose`` hands it ``markdown``) and what it
    prints becomes one standalone page (``cli.html.markdown_to_html``). Errors stay one sentence on stderr with
    their exit code, and stdout stays empty; help and shell-completion scripts are passed through as text."""
    import contextlib
    import io

    from .html import markdown_to_html

    captured, shown_help = io.StringIO(), {"help": False}
    code = EXIT_OK
    with contextlib.redirect_stdout(captured):
        try:
            _run(args, "html", debug, shown_help)
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (EXIT_OK if done.code is None else EXIT_INPUT)
    text = captured.getvalue()
    passthrough = shown_help["help"] or bool({"-h", "--help", "--show-completion", "--install-completion"}
                                             & set(args))
    if code == EXIT_INPUT and not passthrough:        # an error: its sentence is on stderr, and stdout stays
        text = ""                                     # empty even if the command had begun its output
    if text.strip():
        words = _words(args)
        named = words[:2] if words[:1] == ["optimize"] else words[:1]
        title = " ".join(["mlsysim", *(w for w in named if w.isidentifier())])
        try:
            sys.stdout.write(text if passthrough else markdown_to_html(text, title))
            sys.stdout.flush()
        except BrokenPipeError:
            _quiet_stdout()
            sys.exit(EXIT_INPUT)
    sys.exit(code)


def _run(args: list[str], fmt: str, debug: bool, shown_help: dict | None = None) -> None:
    """Parse and run one command line; always ends in ``sys.exit`` with the exit code."""
    _register(args)
    try:
        _check_arguments(args)
        if fmt == "json":
            _refuse_bare_group(args)
        if fmt == "html" and _words(args)[:1] == ["mcp"] and not {"-h", "--help"} & set(args):
            raise InputError("mlsysim mcp speaks the MCP protocol on stdout; -o html does not apply to it")
        app(args, standalone_mode=False, prog_name="mlsysim")
    except Finished as done:
        sys.exit(done.code)
    except _VersionAsked:
        print(dumps({"status": "ok", "version": version()}) if fmt == "json" else f"mlsysim {version()}")
        sys.exit(EXIT_OK)
    except OOMError as exc:
        _fail(str(exc), EXIT_INFEASIBLE, fmt, debug, exc)
    except MlsysimError as exc:
        _fail(str(exc), EXIT_INPUT, fmt, debug, exc)
    except MemoryError as exc:                        # a size far beyond any machine (a solver sweeping 2^53)
        _fail("the inputs need more memory than this machine has; give smaller sizes or counts", EXIT_INPUT, fmt,
              debug, exc)
    except BrokenPipeError:                           # the reader stopped early (| head): nothing more to say,
        _quiet_stdout()                               # and exit 1, silently, as the parser does on a broken pipe
        sys.exit(EXIT_INPUT)
    except OSError as exc:                            # a file named on the command line or in a plan
        _fail(_file_problem(exc), EXIT_INPUT, fmt, debug, exc)
    except Exception as exc:  # usage errors from the parser, and anything unforeseen: still one sentence
        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare `mlsysim` or `mlsysim optimize`: the help
            if shown_help is not None:                 # is printed, and it is the answer
                shown_help["help"] = True
            sys.exit(EXIT_OK)
        if hasattr(exc, "format_message"):            # a bad option, a missing argument
            _fail(exc.format_message(), EXIT_INPUT, fmt, debug, exc)
        if type(exc).__name__ == "Exit":              # --help and explicit exits
            sys.exit(getattr(exc, "exit_code", 0) or 0)
        if type(exc).__name__ == "Abort":             # Ctrl-C at a prompt
            sys.exit(EXIT_INPUT)
        _fail(f"internal error: {exc}", EXIT_INPUT, fmt, debug, exc)
    sys.exit(EXIT_OK)


def _refuse_bare_group(args: list[str]) -> None:
    """A command that groups others (``optimize``) given alone answers with its help on a terminal; in JSON the
    answer is one object, so it says which commands it takes."""
    words = _words(args)
    if len(words) != 1 or {"-h", "--help"} & set(args):
        return
    group = typer.main.get_group(app).commands.get(words[0])
    if getattr(group, "commands", None):              # a group (typer's own click, so no isinstance)
        raise InputError(f"mlsysim {words[0]} needs one of its commands: {', '.join(sorted(group.commands))}")


def _check_arguments(args: list[str]) -> None:
    """What no command could take: a NUL character (no file name or registry name holds one), a YAML or
    JSON file nested so deep that reading it would exhaust the parser (or crash it, for the C one), an option
    whose value is missing."""
    for i, arg in enumerate(args, 1):
        if "\x00" in arg:
            raise InputError(f"argument {i} holds a NUL character; no name, number or file name can")
        for name in (arg, arg.split("=", 1)[1] if arg.startswith("--") and "=" in arg else None):
            problem = name and nesting_problem(name)
            if problem:
                raise InputError(f"{problem}; such files are a few levels deep")
    _check_values(args)


def _check_values(args: list[str]) -> None:
    """An option that takes a value followed by another option (``--sort-by -o json``, ``--stack --training``)
    is missing its value: the parser would take the option for the value, silently."""
    from typer.main import get_command

    root = command = get_command(app)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return
        option = _option(command, arg) or _option(root, arg)
        if option is None:
            if not arg.startswith("-") and arg in getattr(command, "commands", {}):
                command = command.commands[arg]          # a command, or a group's subcommand
            i += 1
            continue
        takes_value = not getattr(option, "is_flag", False) and not getattr(option, "count", False)
        if takes_value and "=" not in arg and i + 1 < len(args):
            following = args[i + 1]
            if following in ("-h", "--help") or _option(command, following) or _option(root, following):
                raise InputError(f"option '{arg}' needs a value, but the option '{following}' follows it")
            i += 1                                       # its value, whatever it looks like (-3, say)
        i += 1


def _option(command, word: str):
    """The option of ``command`` that ``word`` (``--name`` or ``--name=value``) names, or None."""
    if not word.startswith("-") or word == "-":
        return None
    name = word.split("=", 1)[0]
    return next((p for p in getattr(command, "params", ()) if getattr(p, "param_type_name", "") == "option"
                 and name in (*p.opts, *p.secondary_opts)), None)


def _file_problem(exc: OSError) -> str:
    if exc.filename is None:
        return exc.strerror or str(exc) or type(exc).__name__
    from ..plan import file_problem
    return file_problem("file", exc.filename, exc)


def _quiet_stdout() -> None:
    """After a broken pipe, send what is left of stdout nowhere (so exiting does not fail once more)."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):     # stdout is no file (tests capture it)
        pass


def one_line(message) -> str:
    """A message as one printable line: line breaks become spaces, other control characters (and the
    undecodable bytes of a command line) their escapes."""
    text = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _fail(message: str, code: int, fmt: str, debug: bool, exc: BaseException) -> None:
    if debug:
        raise exc
    text = one_line(message) or type(exc).__name__
    if fmt == "json":
        print(dumps({"status": "error", "error": text, "exit_code": code}))
    print(f"error: {text}", file=sys.stderr)
    sys.exit(code)
