"""Registries that third-party packages fill through entry points (0.1.0's plugin interface): a package
declaring ``[project.entry-points."mlsysim.hardware"] MyChip = "pkg:CHIP"`` adds ``MyChip`` to
``hardware_registry``; groups are read on first lookup, so importing this module costs nothing."""
from __future__ import annotations

import importlib.metadata
import logging
from typing import Any, TypeVar

from ...errors import UnknownNameError

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Registry:
    """Named items of one entry-point group, plus those registered by hand."""

    def __init__(self, entry_point_group: str):
        self.group = entry_point_group
        self._items: dict[str, Any] = {}
        self._loaded = False

    def _load_plugins(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for ep in importlib.metadata.entry_points(group=self.group):
            try:
                self._items.setdefault(ep.name, ep.load())
            except Exception as exc:        # a broken plugin must not break the package
                logger.error("plugin %r of %r failed to load: %s", ep.name, self.group, exc)

    def register(self, name: str, item: Any) -> None:
        self._items[name] = item

    def get(self, name: str) -> Any:
        self._load_plugins()
        if name not in self._items:
            raise UnknownNameError(self.group, name, list(self._items))
        return self._items[name]

    def all(self) -> dict[str, Any]:
        self._load_plugins()
        return dict(self._items)


hardware_registry = Registry("mlsysim.hardware")
model_registry = Registry("mlsysim.models")
constants_registry = Registry("mlsysim.constants")
solver_registry = Registry("mlsysim.solvers")
