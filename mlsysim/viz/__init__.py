"""Plots (the ``viz`` extra): a device roofline with a workload's operators, and the 3-lens scorecard.

matplotlib is imported only when a plot is drawn, never by ``import mlsysim`` or ``import mlsysim.viz``.
"""
from __future__ import annotations

import importlib
import os
import sys

from ..errors import InputError, MlsysimError

_EXPORTS = {"plot_roofline": "roofline", "plot_evaluation_scorecard": "scorecard",
            # 0.1.0's book style and fleet roofline
            "COLORS": "plots", "set_book_style": "plots", "setup_plot": "plots", "plot_distributed_roofline": "plots"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mlsysim.viz' has no attribute '{name}'")


def __dir__():
    return __all__


def pyplot():
    """matplotlib.pyplot, on the non-interactive Agg backend when there is no display to draw on."""
    try:
        import matplotlib
    except ImportError:
        raise MlsysimError("plots need the viz extra: pip install 'mlsysim[viz]'") from None
    headless = sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless and "matplotlib.pyplot" not in sys.modules and "MPLBACKEND" not in os.environ:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def new_axes(ax, figsize):
    """(figure, axes): the caller's axes, or a fresh figure of ``figsize`` inches."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = pyplot().subplots(figsize=figsize, layout="constrained")
    return fig, ax


def save(fig, path) -> None:
    """Write ``fig`` to ``path``; the format follows the suffix (.png or .svg)."""
    if path is None:
        return
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".png", ".svg"):
        raise InputError(f"plot path '{path}' must end in .png or .svg")
    fig.savefig(path, dpi=150 if suffix == ".png" else None)
