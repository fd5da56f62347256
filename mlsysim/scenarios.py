"""Scenarios: a workload on a system with a target, evaluated through the three lenses."""
from __future__ import annotations

from .core.types import Metadata, Record, Seconds, Watts
from .errors import UnknownNameError
from .evaluation.scorecard import SystemEvaluation, SystemEvaluator
from .hardware.types import HardwareNode
from .models.types import Workload
from .run import DEFAULT_REGION
from .systems.types import Fleet
from .zoo.registry import Registry, load_data

#: the order in which a device's own precision is chosen when a scenario names none
NATIVE_ORDER = ("fp16", "bf16", "int8", "fp8", "fp32")


class Scenario(Record):
    """A use case: what runs, where, and what it must achieve."""

    name: str
    description: str = ""
    workload: Workload
    system: HardwareNode | Fleet
    sla_latency: Seconds | None = None
    target_accuracy: float | None = None
    power_budget: Watts | None = None
    training: bool = False
    tp: int = 1
    pp: int = 1
    metadata: Metadata = Metadata()

    @property
    def is_distributed(self) -> bool:
        return isinstance(self.system, Fleet)

    def evaluate(self, batch_size=None, precision=None, duration_days=365, region=DEFAULT_REGION) -> SystemEvaluation:
        """The scorecard at ``batch_size`` (default: 1 per device, one per replica on a fleet);
        macro over ``duration_days`` of operation in ``region``."""
        hw = self.system.node.accelerator if self.is_distributed else self.system
        if batch_size is None:
            batch_size = self.system.total_accelerators // (self.tp * self.pp) if self.is_distributed else 1
        prec = precision or next(p for p in NATIVE_ORDER if hw.compute.rate(p))
        fleet = self.system if self.is_distributed else None
        return SystemEvaluator.evaluate(self.name, self.workload, hw, batch_size=batch_size, precision=prec,
                                        fleet_obj=fleet, duration_days=duration_days, region=region,
                                        is_training=self.training, sla_latency_s=self.sla_latency, tp=self.tp,
                                        pp=self.pp)


def _system(name: str):
    from .hardware.registry import Hardware
    from .systems.registry import Systems

    if name in Hardware:
        return Hardware.get(name)
    if name in Systems.Clusters:
        return Systems.Clusters.get(name)
    raise UnknownNameError("system", name, Hardware.names() + Systems.Clusters.names())


def _build() -> Registry:
    from .models.registry import Models

    entries, aliases = {}, {}
    for key, f in load_data("scenarios").items():
        entries[key] = Scenario(name=f["name"], description=f.get("description", ""),
                                workload=Models.get(f["workload"]), system=_system(f["system"]),
                                sla_latency=f.get("sla_latency"), power_budget=f.get("power_budget"),
                                training=f.get("training", False), tp=f.get("tp", 1), pp=f.get("pp", 1),
                                metadata=Metadata(source=f.get("source", "")))
        aliases.update({a: key for a in f.get("aliases") or ()})
    return Registry("Scenarios", "scenario", entries, aliases=aliases)


Scenarios = _build()
Applications = Scenarios
