"""0.1.0 path of the errors (``mlsysim.errors``); ``MLSysError`` is 0.1.0's name of the base."""
from ..errors import MlsysimError as MLSysError
from ..errors import OOMError, SLAViolation


class ThermalThrottleWarning(UserWarning):
    """Sustained utilization may clock the device down (0.1.0's warning category, kept for filters)."""


__all__ = ["MLSysError", "OOMError", "SLAViolation", "ThermalThrottleWarning"]
