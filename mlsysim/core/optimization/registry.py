"""Which back end solves which shape of problem; each is imported only when asked for."""
from __future__ import annotations

from ...errors import InputError
from .protocol import OptimizerProtocol

#: how to get each optional back end's library, in one sentence
INSTALL = {
    "continuous": "The continuous back end needs SciPy: pip install 'mlsysim[opt]'.",
    "discrete": "The discrete back end needs OR-Tools: pip install 'mlsysim[ortools]' (or pip install ortools).",
}


def _load_exhaustive():
    from .exhaustive_backend import ExhaustiveBackend
    return ExhaustiveBackend


def _load_scipy():
    from .scipy_backend import ScipyBackend
    return ScipyBackend


def _load_ortools():
    from .ortools_backend import ORToolsDiscreteBackend
    return ORToolsDiscreteBackend


class OptimizationRegistry:
    """Routes a problem to a back end by its mathematical class: ``exhaustive`` (grid search, NumPy),
    ``continuous`` (SciPy) or ``discrete`` (OR-Tools CP-SAT)."""

    _backend_loaders = {"exhaustive": _load_exhaustive, "continuous": _load_scipy, "discrete": _load_ortools}

    @classmethod
    def available(cls) -> dict[str, bool]:
        """Each class and whether its back end's library is installed."""
        from importlib.util import find_spec

        return {"exhaustive": True, "continuous": find_spec("scipy") is not None,
                "discrete": find_spec("ortools") is not None}

    @classmethod
    def get_backend(cls, mathematical_class: str) -> OptimizerProtocol:
        """A new, uncompiled back end for ``mathematical_class``; ImportError saying what to install when its
        library is missing."""
        loader = cls._backend_loaders.get(mathematical_class)
        if loader is None:
            raise InputError(f"unknown optimization class {mathematical_class!r}; use one of "
                             f"{', '.join(cls._backend_loaders)}")
        try:
            backend = loader()
        except ImportError as exc:
            raise ImportError(INSTALL[mathematical_class]) from exc
        return backend()
