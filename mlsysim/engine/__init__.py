"""The timing engine: execution profiles applied to a workload's operators, calibrated operator times,
memory, and ``Engine.solve``."""


def __getattr__(name: str):
    if name in ("Engine", "SingleNodeModel", "PerformanceProfile"):
        from . import engine, profile

        return getattr(engine, name, None) or getattr(profile, name)
    raise AttributeError(f"module 'mlsysim.engine' has no attribute '{name}'")
