"""0.1.0 import path for the unit registry: ``from mlsysim.core.constants import Q_, ureg``.

Facts do not live here; they live in ``mlsysim/zoo/data``.
"""
from .. import units as _units
from ..units import Q_

__all__ = ["Q_"]  # and ureg, created on first access


def __getattr__(name: str):
    if name == "ureg":
        return _units.ureg
    raise AttributeError(f"module 'mlsysim.core.constants' has no attribute '{name}'")
