"""Accelerators: types and the hardware zoo."""


def __getattr__(name: str):
    from . import registry

    if hasattr(registry, name):
        return getattr(registry, name)
    raise AttributeError(f"module 'mlsysim.hardware' has no attribute '{name}'")
