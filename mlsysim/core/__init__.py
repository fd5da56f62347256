"""Shared foundations: units re-exported under their 0.1.0 paths, and the base of every typed record."""
from .. import units as _units
from ..units import Q_

__all__ = ["Q_"]  # and ureg, created on first access


def __getattr__(name: str):
    if name == "ureg":
        return _units.ureg
    if name == "constants":
        from . import constants
        return constants
    raise AttributeError(f"module 'mlsysim.core' has no attribute '{name}'")
