"""One error family: every problem a user can cause is an ``MlsysimError`` with one clear sentence."""
from __future__ import annotations

import difflib


class MlsysimError(Exception):
    """Base of every error MLSys·im raises on purpose."""


class InputError(MlsysimError, ValueError):
    """A bad input: wrong value, sign, type or combination. Also a ``ValueError`` for old callers."""


class UnitError(InputError):
    """A quantity of the wrong dimension, or a unit that cannot be read."""


class UnknownNameError(InputError, KeyError, AttributeError):
    """A registry name that does not exist; the message suggests the closest names.

    Also a ``KeyError`` and an ``AttributeError``, so ``hasattr(Hardware, name)`` still works.
    """

    def __init__(self, kind: str, name: str, choices):
        self.kind, self.name = kind, name
        self.suggestions = closest(name, choices)
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown {kind} '{name}'{hint}")

    def __str__(self) -> str:  # KeyError would add quotes
        return self.args[0]


class UnsupportedPrecisionError(InputError):
    """A precision the device has no datasheet rate for."""


class OOMError(MlsysimError):
    """The workload does not fit in the device's memory."""

    def __init__(self, message: str, required_bytes: float = 0.0, available_bytes: float = 0.0):
        super().__init__(message)
        self.required_bytes = float(required_bytes)
        self.available_bytes = float(available_bytes)


class SLAViolation(MlsysimError):
    """A service-level target is missed."""


def closest(name: str, choices, n: int = 3) -> list[str]:
    """The registry names nearest to ``name`` (case-insensitive), best first."""
    choices = list(choices)
    lower = {c.lower(): c for c in choices}
    hits = difflib.get_close_matches(name.lower(), list(lower), n=n, cutoff=0.5)
    subs = [c for c in choices if name.lower() in c.lower() and c.lower() not in hits]
    return [lower[h] for h in hits] + subs[: max(0, n - len(hits))]
