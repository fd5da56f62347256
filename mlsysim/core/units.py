"""0.1.0's unit aliases and counting conventions, over this package's one pint registry
(``mlsysim.units.ureg``, created on first use, as here: nothing below touches pint at import).

0.1.0 defined its own spellings (``MS`` a millisecond, ``Gbps`` gigabits per second); pint reads ``MS``
as megasiemens and ``Gbps`` as gigabaud, so each alias names the unit it means explicitly.
"""
from __future__ import annotations

from ..units import Q_

#: alias -> pint expression of the unit (or, for the per-element sizes, the quantity) it stands for
_UNITS = {
    "byte": "byte", "second": "second", "joule": "joule", "watt": "watt", "kilowatt": "kilowatt",
    "milliwatt": "milliwatt", "meter": "meter", "hour": "hour", "day": "day", "count": "count",
    "KB": "kilobyte", "MB": "megabyte", "GB": "gigabyte", "TB": "terabyte", "PB": "petabyte",
    "KiB": "kibibyte", "MiB": "mebibyte", "GiB": "gibibyte", "TiB": "tebibyte",
    "MS": "millisecond", "ms": "millisecond", "US": "microsecond", "NS": "nanosecond",
    "MILLISECOND": "millisecond", "MICROSECOND": "microsecond", "NANOSECOND": "nanosecond",
    "flop": "FLOP", "KFLOPs": "kiloFLOP", "MFLOPs": "megaFLOP", "GFLOP": "gigaFLOP", "GFLOPs": "gigaFLOP",
    "TFLOP": "teraFLOP", "TFLOPs": "teraFLOP", "PFLOPs": "petaFLOP", "EFLOP": "exaFLOP", "EFLOPs": "exaFLOP",
    "ZFLOPs": "zettaFLOP", "Gbps": "gigabit / second",
    "USD": "USD", "EUR": "USD",     # 0.1.0 priced euros one to one with dollars
    "param": "param", "Kparam": "kiloparam", "Mparam": "megaparam", "Bparam": "gigaparam", "Tparam": "teraparam",
}
#: bytes per element of each storage format (0.1.0's ``BYTES_*``), and Adam's two moments in fp32
_BYTES = {"BYTES_FP32": 4, "BYTES_INT32": 4, "BYTES_FP16": 2, "BYTES_INT8": 1, "BYTES_INT4": 0.5,
          "BYTES_ADAM_STATE": 8}

QUADRILLION, TRILLION, BILLION, MILLION, THOUSAND, HUNDRED = 1e15, 1e12, 1e9, 1e6, 1e3, 100
SECONDS_PER_MINUTE = MINUTES_PER_HOUR = 60
HOURS_PER_DAY = 24
SEC_PER_HOUR = SECONDS_PER_MINUTE * MINUTES_PER_HOUR
SEC_PER_DAY = SEC_PER_HOUR * HOURS_PER_DAY
DAYS_PER_MONTH, DAYS_PER_YEAR = 30, 365
SEC_PER_YEAR = SEC_PER_DAY * DAYS_PER_YEAR
SEC_PER_YEAR_LEAP = int(365.25 * SEC_PER_DAY)
HOURS_PER_YEAR = HOURS_PER_DAY * DAYS_PER_YEAR
BITS_PER_BYTE, MS_PER_SEC = 8, 1000
KIB_TO_BYTES, MIB_TO_BYTES, GIB_TO_BYTES = 1024, 1024**2, 1024**3

__all__ = ["Q_", *_UNITS, *_BYTES, "QUADRILLION", "TRILLION", "BILLION", "MILLION", "THOUSAND",
           "HUNDRED", "SECONDS_PER_MINUTE", "MINUTES_PER_HOUR", "HOURS_PER_DAY", "SEC_PER_HOUR", "SEC_PER_DAY",
           "DAYS_PER_MONTH", "DAYS_PER_YEAR", "SEC_PER_YEAR", "SEC_PER_YEAR_LEAP", "HOURS_PER_YEAR",
           "BITS_PER_BYTE", "MS_PER_SEC", "KIB_TO_BYTES", "MIB_TO_BYTES", "GIB_TO_BYTES"]  # and ureg, on first use


def __getattr__(name: str):
    from .. import units

    if name == "ureg":
        return units.ureg
    if name in _UNITS:
        return units.ureg.parse_units(_UNITS[name])
    if name in _BYTES:
        return Q_(_BYTES[name], "byte")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
