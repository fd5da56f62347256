"""The operator-level timing engine: lowering, calibrated operator times, ``Engine.solve``."""


def __getattr__(name: str):
    if name in ("Engine", "PerformanceProfile"):
        from . import engine, profile

        return getattr(engine, name, None) or getattr(profile, name)
    raise AttributeError(f"module 'mlsysim.engine' has no attribute '{name}'")
