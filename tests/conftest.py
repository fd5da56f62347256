"""Shared test helpers: the ``mlsysim`` command, run in-process (its entry point, as the console script
calls it) or, for the few end-to-end checks, as a real process."""
import contextlib
import io
import json
import subprocess
import sys
from dataclasses import dataclass

from mlsysim.cli.main import main


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def cli(*args) -> Outcome:
    """``mlsysim ARGS`` through its entry point in this process: exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return Outcome(code, out.getvalue(), err.getvalue())


def process(*args, timeout=120) -> Outcome:
    """``python -m mlsysim ARGS`` as a separate process (the installed command end to end)."""
    done = subprocess.run([sys.executable, "-m", "mlsysim", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)
    return Outcome(done.returncode, done.stdout, done.stderr)


def one_json(out) -> dict:
    assert out.stdout.count("\n") <= 1, "stdout must hold exactly one JSON object"
    return json.loads(out.stdout)
