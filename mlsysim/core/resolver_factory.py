"""0.1.0's lookup of solver classes by name: the package's own (``mlsysim.solvers``) and those third
parties add through the ``mlsysim.solvers`` entry-point group."""
from __future__ import annotations

import logging

from ..errors import UnknownNameError
from ..solver import Solver
from .registry.plugin_manager import solver_registry

logger = logging.getLogger(__name__)


class ResolverFactory:
    """``ResolverFactory.get("ServingModel")`` is ``mlsysim.ServingModel``."""

    @staticmethod
    def list_available() -> dict[str, type[Solver]]:
        import mlsysim
        from mlsysim import solvers

        found = {}
        for name in mlsysim._EXPORTS:
            try:
                found[name] = getattr(solvers, name)
            except AttributeError:        # not a solver
                continue
        for name, plugin in solver_registry.all().items():
            if isinstance(plugin, type) and issubclass(plugin, Solver):
                found[name] = plugin
            else:
                logger.warning("plugin %r is not a solver (mlsysim.solver.Solver) and is ignored", name)
        return found

    @classmethod
    def get(cls, name: str) -> type[Solver]:
        available = cls.list_available()
        if name not in available:
            raise UnknownNameError("solver", name, list(available))
        return available[name]
