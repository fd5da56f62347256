"""Accelerators: types and the hardware zoo."""


def __getattr__(name: str):
    import importlib

    registry = importlib.import_module(".registry", __name__)
    if name != "registry" and hasattr(registry, name):
        return getattr(registry, name)
    raise AttributeError(f"module 'mlsysim.hardware' has no attribute '{name}'")
