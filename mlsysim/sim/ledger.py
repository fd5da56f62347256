"""The ledger of a simulation (0.1.0's ``mlsysim.sim.ledger``): performance, sustainability, economics and
reliability of one choice, in one immutable record."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..errors import InputError
from ..units import Q_


@dataclass(frozen=True)
class PerformanceMetrics:
    """Latency of one step, throughput of the whole fleet, MFU and HFU, the bound, and whether the step fits
    the devices' memory (a step that does not is still timed, as the engine times it, and says so)."""

    latency: Q_
    throughput: Q_
    mfu: float
    hfu: float
    bottleneck: str
    feasible: bool = True


@dataclass(frozen=True)
class SustainabilityMetrics:
    """Facility energy over the duration, operational carbon (kg CO2e), PUE and water (litres)."""

    energy: Q_
    carbon_kg: float
    pue: float
    water_liters: float


@dataclass(frozen=True)
class EconomicMetrics:
    """Purchase, operating cost and their total over the duration (USD); operating cost per million of the
    throughput's units (inferences, samples or tokens)."""

    capex: float
    opex: float
    tco: float
    cost_per_million: float


@dataclass(frozen=True)
class ReliabilityMetrics:
    """Fleet mean time between failures, the share of device time doing work, and the restart per failure."""

    mttf: Q_
    goodput: float
    recovery_time: Q_
    expected_failures: float = 0.0


@dataclass(frozen=True)
class SystemLedger:
    """The four axes of one simulated choice, with what was simulated."""

    performance: PerformanceMetrics
    sustainability: SustainabilityMetrics
    economics: EconomicMetrics
    reliability: ReliabilityMetrics
    mission_name: str
    track_name: str
    choice_summary: str

    def validate(self) -> None:
        """Raise :class:`~mlsysim.errors.InputError` when a figure breaks a physical invariant."""
        checks = [(0.0 <= self.performance.mfu <= 1.0, f"MFU {self.performance.mfu} must be between 0 and 1"),
                  (float(self.performance.latency.m) >= 0, "latency cannot be negative"),
                  (self.sustainability.carbon_kg >= 0, "carbon cannot be negative"),
                  (self.economics.tco >= 0, "TCO cannot be negative"),
                  (0.0 <= self.reliability.goodput <= 1.0, "goodput must be between 0 and 1")]
        for ok, why in checks:
            if not ok:
                raise InputError(f"ledger of {self.mission_name}: {why}")

    def to_dict(self) -> dict[str, Any]:
        """The headline figures, flat (for JSON, tables and plots)."""
        return {"mission": self.mission_name, "track": self.track_name, "choice": self.choice_summary,
                "latency_ms": float(self.performance.latency.m_as("ms")),
                "throughput_sps": float(self.performance.throughput.m_as("1/s")),
                "mfu_pct": self.performance.mfu * 100.0, "bottleneck": self.performance.bottleneck,
                "feasible": self.performance.feasible,
                "energy_kwh": float(self.sustainability.energy.m_as("kWh")),
                "carbon_kg": self.sustainability.carbon_kg, "water_liters": self.sustainability.water_liters,
                "capex_usd": self.economics.capex, "opex_usd": self.economics.opex, "tco_usd": self.economics.tco,
                "cost_per_million_usd": self.economics.cost_per_million,
                "mttf_hours": float(self.reliability.mttf.m_as("hour")),
                "goodput_pct": self.reliability.goodput * 100.0}

    def to_df(self):
        """:meth:`to_dict` as a one-row pandas DataFrame (pandas must be installed)."""
        try:
            import pandas as pd
        except ImportError:
            raise InputError("to_df needs pandas: pip install pandas") from None
        return pd.DataFrame([self.to_dict()])

    def as_nested(self) -> dict[str, Any]:
        """Every metric, grouped by axis (quantities as strings)."""
        def plain(d):
            return {k: (str(v) if hasattr(v, "m_as") else v) for k, v in d.items()}
        return {"mission": self.mission_name, "track": self.track_name, "choice": self.choice_summary,
                **{axis: plain(asdict(getattr(self, axis)))
                   for axis in ("performance", "sustainability", "economics", "reliability")}}
