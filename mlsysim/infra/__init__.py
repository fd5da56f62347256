"""Grids, datacenters and cooling."""


def __getattr__(name: str):
    from . import registry

    if hasattr(registry, name):
        return getattr(registry, name)
    raise AttributeError(f"module 'mlsysim.infra' has no attribute '{name}'")
