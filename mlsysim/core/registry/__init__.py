"""0.1.0 path of the registries: ``Registry`` is the zoo's namespace type (``mlsysim.zoo.registry``), and
``PluginRegistry`` the entry-point registries third parties fill."""
from ...zoo.registry import Registry
from .plugin_manager import Registry as PluginRegistry
from .plugin_manager import constants_registry, hardware_registry, model_registry

__all__ = ["PluginRegistry", "Registry", "constants_registry", "hardware_registry", "model_registry"]
