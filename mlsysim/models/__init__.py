"""Workloads: types, the model zoo, vision architectures and lowering to operators."""

#: names served from the Hugging Face importer (0.1.0's ``mlsysim.models.import_hf_model``)
_IMPORTER = ("import_hf_model",)


def __getattr__(name: str):
    import importlib

    if name in _IMPORTER:
        return getattr(importlib.import_module(".importer", __name__), name)
    registry = importlib.import_module(".registry", __name__)
    if name != "registry" and hasattr(registry, name):
        return getattr(registry, name)
    raise AttributeError(f"module 'mlsysim.models' has no attribute '{name}'")
