"""Simulations (0.1.0's ``mlsysim.sim.simulations``): a scenario, a persona, and a choice make a ledger.

:class:`ResourceSimulation` answers "what does this choice of region, duration (and batch, precision,
utilization) cost the persona's whole deployment?" with this package's models: the scenario's step through
:class:`~mlsysim.engine.engine.Engine` (or, for a training scenario on a fleet, through
:class:`~mlsysim.training.distributed.DistributedModel` with the scenario's TP and PP), then the persona's
deployment (the scenario's system times the persona's scale) through
:class:`~mlsysim.operations.sustainability.SustainabilityModel`,
:class:`~mlsysim.operations.economics.EconomicsModel` and
:class:`~mlsysim.operations.reliability.ReliabilityModel`.

Where the persona's devices stand alone (phones, vehicles, sensors) the deployment counts each device with its
host but no data-centre network, and a failure idles only the device that failed; a training job on a
cluster is one synchronous job, so a failure stops every device until it restarts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..units import Q_
from .ledger import EconomicMetrics, PerformanceMetrics, ReliabilityMetrics, SustainabilityMetrics, SystemLedger
from .personas import Persona, Personas

#: choice keys ResourceSimulation reads
CHOICES = ("region", "duration_days", "batch_size", "precision", "utilization", "seq_len")


@dataclass
class SimulationResult:
    """A ledger and the series behind it, for plots."""

    ledger: SystemLedger
    plots: dict[str, Any] = field(default_factory=dict)


class BaseSimulation:
    """A scenario (a workload on a system) seen by a persona; ``evaluate(choice)`` gives a ledger."""

    def __init__(self, scenario, persona: Persona | str = "cloud"):
        from ..scenarios import Scenario, Scenarios

        if isinstance(scenario, str):
            scenario = Scenarios.get(scenario)
        if not isinstance(scenario, Scenario):
            raise InputError(f"a simulation needs a Scenario (or a scenario's name), got {type(scenario).__name__}")
        self.scenario = scenario
        self.persona = Personas.get(persona) if not isinstance(persona, Persona) else persona

    def evaluate(self, choice: dict[str, Any]) -> SystemLedger:
        """The ledger of ``choice`` (a mapping of the simulation's choice keys)."""
        raise NotImplementedError(f"{type(self).__name__} does not define evaluate()")

    def run(self, choice: dict[str, Any]) -> SimulationResult:
        """:meth:`evaluate` with the series a plot of it needs."""
        return SimulationResult(self.evaluate(choice))


class ResourceSimulation(BaseSimulation):
    """Energy, carbon, water, TCO and reliability of the persona's whole deployment of the scenario.

    ``choice`` keys: ``region`` (a grid, default ``US_Avg``), ``duration_days`` (365), ``batch_size``,
    ``precision``, ``seq_len`` (the step's inputs; defaults: the scenario's), ``utilization`` (the
    accelerators' activity that power follows; default: the package's measured training activity).
    """

    def evaluate(self, choice: dict[str, Any] | None = None) -> SystemLedger:
        choice = dict(choice or {})
        unknown = sorted(set(choice) - set(CHOICES))
        if unknown:
            raise InputError(f"unknown choice {', '.join(map(repr, unknown))}; use some of {', '.join(CHOICES)}")
        perf, per_copy = self._performance(choice)
        from ..infra.registry import Grids

        grid = Grids.get(choice.get("region", "US_Avg"))
        days = choice.get("duration_days", 365.0)
        if isinstance(days, bool) or not isinstance(days, (int, float)) or not (days > 0 and math.isfinite(days)):
            raise InputError(f"duration_days must be a positive number of days, got {days!r}")
        fleet, synchronous = self._deployment()
        from ..operations.economics import EconomicsModel
        from ..operations.reliability import DEFAULT_RESTART_S, ReliabilityModel

        mfu = min(max(perf.mfu, 0.0), 1.0)
        eco = EconomicsModel().solve(fleet, days, grid=grid, utilization=choice.get("utilization"),
                                     mfu=mfu if mfu > 0 else None)
        impact = eco.footprint
        seconds = float(days) * 86400.0
        rel = ReliabilityModel().solve(fleet, job_hours=seconds / 3600.0)
        failures = float(rel.expected_failures)
        restart = DEFAULT_RESTART_S
        devices = fleet.total_accelerators
        # a synchronous job stops whole for each restart; independent devices lose only their own time
        lost = failures * restart / seconds if synchronous else failures * restart / (seconds * devices)
        goodput = max(0.0, 1.0 - lost)
        copies = devices / per_copy
        fleet_rate = float(perf.throughput.m_as("1/s")) * copies
        done = fleet_rate * seconds * goodput
        ledger = SystemLedger(
            mission_name=self.scenario.name, track_name=self.persona.name,
            choice_summary=f"Region: {grid.name}, Duration: {float(days):g} days, "
                           f"{devices:,} devices ({self.persona.unit_of_scale})"
                           + ("" if perf.feasible else "; the step does not fit the devices' memory"),
            performance=PerformanceMetrics(latency=perf.latency, throughput=Q_(fleet_rate, "1/s"), mfu=mfu,
                                           hfu=min(max(perf.hfu, 0.0), 1.0), bottleneck=perf.bottleneck,
                                           feasible=perf.feasible),
            sustainability=SustainabilityMetrics(energy=Q_(float(impact.total_energy_kwh.m_as("kWh")), "kWh"),
                                                 carbon_kg=float(impact.carbon_footprint_kg), pue=float(impact.pue),
                                                 water_liters=float(impact.water_usage_liters)),
            economics=EconomicMetrics(capex=float(eco.capex_usd), opex=float(eco.total_opex_usd),
                                      tco=float(eco.tco_usd),
                                      cost_per_million=float(eco.total_opex_usd) / done * 1e6 if done > 0 else
                                      math.inf),
            reliability=ReliabilityMetrics(mttf=Q_(float(rel.fleet_mtbf_hours), "hour"), goodput=goodput,
                                           recovery_time=Q_(restart / 60.0, "minute"), expected_failures=failures))
        ledger.validate()
        return ledger

    def run(self, choice: dict[str, Any] | None = None) -> SimulationResult:
        """The ledger, and carbon and TCO of the same choice in every priced region (for a bar chart)."""
        from ..infra.registry import Grids

        ledger = self.evaluate(choice)
        regions = [k for k, g in Grids.items() if g.electricity_usd_kwh is not None]
        by_region = {k: self.evaluate({**(choice or {}), "region": k}) for k in regions}
        return SimulationResult(ledger, {"region": regions,
                                         "carbon_kg": [by_region[k].sustainability.carbon_kg for k in regions],
                                         "tco_usd": [by_region[k].economics.tco for k in regions]})

    # --- the pieces ------------------------------------------------------------------------------------------
    def _performance(self, choice):
        """One step of the scenario (a profile-like object with latency, throughput, mfu, hfu, bottleneck) and
        how many devices one copy of it occupies."""
        from ..systems.types import Fleet

        s = self.scenario
        kw = {k: choice[k] for k in ("batch_size", "precision", "seq_len") if k in choice}
        if isinstance(s.system, Fleet) and s.training:
            from ..training.distributed import DistributedModel

            r = DistributedModel().solve(s.workload, s.system, tp=s.tp, pp=s.pp, **kw)
            return _Step(Q_(float(r.step_time_s), "s"), Q_(float(r.samples_per_s), "1/s"), float(r.mfu),
                         float(r.hfu), "Communication" if float(r.comm_fraction) > 0.5 else "Compute",
                         bool(r.feasible)), s.system.total_accelerators
        from ..engine.engine import Engine

        hw = s.system.node.accelerator if isinstance(s.system, Fleet) else s.system
        if "precision" not in kw:                       # the device's own precision, as Scenario.evaluate picks it
            from ..scenarios import NATIVE_ORDER

            kw["precision"] = next((p for p in NATIVE_ORDER if hw.compute.rate(p)), "fp16")
        p = Engine.solve(s.workload, hw, is_training=s.training, **kw)
        return _Step(Q_(float(p.latency_s), "s"), Q_(float(p.throughput.m_as("1/s")), "1/s"), float(p.mfu),
                     float(p.hfu), str(p.bottleneck), bool(p.feasible)), 1

    def _deployment(self):
        """The persona's deployment of the scenario's system, and whether it runs as one synchronous job."""
        from ..systems.registry import Fabrics
        from ..systems.types import Fleet, Node

        s, scale = self.scenario, self.persona.scale_factor
        if isinstance(s.system, Fleet):
            count = max(1, round(s.system.count * scale))
            fleet = s.system if count == s.system.count else s.system.model_copy(update={"count": count})
            return fleet, bool(s.training)
        node = Node(name=f"{s.system.name} (standalone)", accelerator=s.system, accelerators_per_node=1,
                    intra_node_bw="50 GB/s", nics_per_node=0)
        fleet = Fleet(name=f"{self.persona.unit_of_scale} of {s.system.name}", node=node,
                      count=max(1, round(scale)), fabric=Fabrics.Ethernet_10G)
        return fleet, False


@dataclass(frozen=True)
class _Step:
    latency: Any
    throughput: Any
    mfu: float
    hfu: float
    bottleneck: str
    feasible: bool = True
