"""A simulation's configuration (0.1.0's ``SimulationConfig`` and ``load_config``), and the stack a run
takes when it names none.

The stack (execution profile) a run uses, first match wins:

1. the ``stack=`` it is given (``Engine.solve(..., stack=...)``, ``--stack``, a plan's ``workload.stack``);
2. the stack of the active configuration: ``load_config({...,"stack": "textbook"})``,
   ``SimulationConfig(stack="textbook").activate()``, or for a block of code
   ``with SimulationConfig(stack="textbook"): ...``;
3. the environment variable ``MLSYSIM_STACK`` (``MLSYSIM_STACK=textbook mlsysim eval ...``);
4. the calibrated default for the run's purpose (``mlsysim.run.DEFAULT_STACK``).

``textbook`` is MLSys·im 0.1.0's first-order model, the one the textbook's figures were made with
(``docs/how-it-works/textbook.md``); with nothing configured every answer is the calibrated model's.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from .. import execution
from ..errors import InputError, UnknownNameError
from ..execution import ENV_VAR, configured_stack, stack_key

#: the configuration made active by ``load_config`` or ``activate`` (None: none is)
_ACTIVE: list = [None]


class SimulationConfig(BaseModel):
    """The inputs of one simulation, from a dict, YAML or JSON (0.1.0's fields, plus ``stack``).

    ``stack`` names the execution profile runs take when they give none (``textbook`` for the book's
    first-order model); it takes effect once the configuration is active (:meth:`activate`, or a
    ``with`` block). ``efficiency`` None leaves each stack its own (0.5 for ``textbook``, calibrated
    otherwise); 0.1.0 wrote 0.5 for it.
    """

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    hardware: str | None = None
    batch_size: int = 1
    precision: str = "fp16"
    efficiency: float | None = None
    fleet_size: int = 1
    fabric: str = "100GbE"
    region: str = "US_Avg"
    duration_days: float = 30.0
    stack: str | None = None
    _outer: list = PrivateAttr(default_factory=list)

    def __init__(self, **fields: Any):
        try:
            super().__init__(**fields)
        except ValidationError as exc:
            raise _sentence(exc) from None

    def model_post_init(self, __context: Any) -> None:
        if self.stack is not None:
            self.stack = stack_key(self.stack, "the configuration's stack")
        self._check_feasible()

    def _check_feasible(self) -> None:
        """0.1.0's pre-check: the weights alone must fit the accelerator (names it does not know are left to
        the solvers, which say what they are)."""
        if self.model is None or self.hardware is None:
            return
        from ..hardware.registry import Hardware
        from ..models.registry import Models

        try:
            model, hw = Models.get(self.model), Hardware.get(self.hardware)
        except UnknownNameError:
            return
        if model.parameters is None and model.model_size is None:
            return
        weights = model.weight_bytes(self.precision) if model.parameters is not None else float(model.model_size)
        if weights > float(hw.memory.capacity):
            raise InputError(f"configuration infeasible: {self.model} weights ({weights / 1e9:,.1f} GB) exceed "
                             f"{self.hardware} capacity ({float(hw.memory.capacity) / 1e9:,.1f} GB)")

    # -- making it the default ---------------------------------------------------------------------
    def activate(self) -> SimulationConfig:
        """Make this configuration the active one: its ``stack`` is what runs without one take."""
        _activate(self)
        return self

    def __enter__(self) -> SimulationConfig:
        self._outer.append(_ACTIVE[0])
        _activate(self)
        return self

    def __exit__(self, *exc) -> None:
        _activate(self._outer.pop())


def _activate(config: SimulationConfig | None) -> None:
    _ACTIVE[0] = config
    execution._CONFIGURED[0] = None if config is None else config.stack


def load_config(data: dict[str, Any] | str | os.PathLike | None = None, *, activate: bool = True) -> SimulationConfig:
    """A validated configuration from a dict (or a YAML or JSON file's path), made the active one unless
    ``activate=False``; ``load_config(None)`` (or ``{}``) clears what was configured. A bad field or an
    unknown stack is one sentence (``InputError``)."""
    if data is None:
        data = {}
    elif isinstance(data, (str, os.PathLike)):
        data = _read(Path(data))
    if not isinstance(data, dict):
        raise InputError(f"a configuration is a mapping of its fields, got {type(data).__name__}")
    config = SimulationConfig(**{str(k): v for k, v in data.items()})
    return config.activate() if activate else config


def _sentence(exc: ValidationError) -> InputError:
    """The first problem of a configuration as one sentence (a check's own sentence as it is)."""
    err = exc.errors()[0]
    own = (err.get("ctx") or {}).get("error")
    if isinstance(own, InputError):
        return own
    where = ".".join(str(p) for p in err["loc"]) or "configuration"
    msg = "is not a configuration field" if err["type"] == "extra_forbidden" else err["msg"]
    return InputError(f"configuration field '{where}' {msg[:1].lower()}{msg[1:]}")


def _read(path: Path) -> dict:
    if not path.is_file():
        raise InputError(f"configuration file '{path}' not found")
    import yaml

    try:
        data = yaml.safe_load(path.read_text())      # YAML reads JSON too
    except yaml.YAMLError as exc:
        raise InputError(f"configuration file '{path}' is not YAML or JSON ({str(exc).splitlines()[0]})") from None
    return data or {}


def active_config() -> SimulationConfig | None:
    """The active configuration, if any."""
    return _ACTIVE[0]


__all__ = ["ENV_VAR", "SimulationConfig", "active_config", "configured_stack", "load_config"]
