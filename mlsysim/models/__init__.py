"""Workloads: types, the model zoo, vision architectures and lowering to operators."""


def __getattr__(name: str):
    from . import registry

    if hasattr(registry, name):
        return getattr(registry, name)
    raise AttributeError(f"module 'mlsysim.models' has no attribute '{name}'")
