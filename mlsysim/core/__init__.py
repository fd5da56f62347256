"""Shared foundations (units, the base of every typed record), and 0.1.0's ``mlsysim.core`` namespace:
its names load on first access from the modules that hold them, so ``import mlsysim.core`` stays cheap."""
import importlib

from .. import units as _units
from ..units import Q_

#: 0.1.0 name -> module (under ``mlsysim``) that holds it
_LAZY = {
    **dict.fromkeys(("Hardware",), "hardware.registry"), **dict.fromkeys(("Models",), "models.registry"),
    **dict.fromkeys(("Systems", "Tiers"), "systems.registry"), **dict.fromkeys(("Infra",), "infra.registry"),
    **dict.fromkeys(("Scenario", "Scenarios", "Applications", "Fleet"), "core.scenarios"),
    **dict.fromkeys(("ResolverFactory",), "core.resolver_factory"),
    **dict.fromkeys(("Pipeline", "CompositionError"), "core.pipeline"),
    **dict.fromkeys(("dTime", "model_memory"), "core.formulas"),
    **dict.fromkeys(("Domain", "Wall", "wall", "walls_for_resolver", "walls_in_domain", "taxonomy"), "core.walls"),
}
_SUBMODULES = {"constants", "config", "evaluation"}

__all__ = ["Q_"]  # and ureg, created on first access


def __getattr__(name: str):
    if name == "ureg":
        return _units.ureg
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f"mlsysim.{_LAZY[name]}"), name)
    if name.endswith("Result"):
        return getattr(importlib.import_module("mlsysim.core.results"), name)
    if name.startswith("calc_"):
        return getattr(importlib.import_module("mlsysim.core.formulas"), name)
    raise AttributeError(f"module 'mlsysim.core' has no attribute '{name}'")
