"""0.1.0 path of the single-accelerator roofline engine (``mlsysim.engine``)."""
from ..engine.engine import Engine
from ..engine.profile import PerformanceProfile

__all__ = ["Engine", "PerformanceProfile"]
