"""Nodes, fabrics, fleets and deployment tiers."""


def __getattr__(name: str):
    from . import registry

    if hasattr(registry, name):
        return getattr(registry, name)
    raise AttributeError(f"module 'mlsysim.systems' has no attribute '{name}'")
