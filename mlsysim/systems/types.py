"""Nodes, fabrics and fleets: accelerators put together."""
from __future__ import annotations

from pydantic import Field

from ..core.types import Bandwidth, Bytes, Dollars, Metadata, Record, Seconds, Watts
from ..hardware.types import HardwareNode, IOInterconnect


class DeploymentTier(Record):
    name: str
    ram: Bytes
    storage: Bytes
    typical_latency_budget: Seconds
    metadata: Metadata = Metadata()


class NetworkFabric(Record):
    """A scale-out network; ``bandwidth`` is per port, per direction."""

    name: str
    topology: str = "fat-tree"
    bandwidth: Bandwidth
    latency: Seconds | None = None
    oversubscription_ratio: float = Field(default=1.0, ge=1.0)
    metadata: Metadata = Metadata()

    @property
    def bandwidth_gbs(self) -> float:
        return float(self.bandwidth) / 1e9

    @property
    def latency_us(self) -> float:
        return float(self.latency or 0.0) * 1e6


class Node(Record):
    """A server: accelerators joined by a scale-up link."""

    name: str
    accelerator: HardwareNode
    accelerators_per_node: int = Field(gt=0)
    intra_node_bw: Bandwidth
    scale_up: IOInterconnect | None = None
    nics_per_node: int = 1
    nic_bandwidth: Bandwidth | None = None
    psus_per_node: int = 2
    host_memory: Bytes | None = None
    max_power: Watts | None = None
    unit_cost: Dollars | None = None
    metadata: Metadata = Metadata()


class Fleet(Record):
    """``count`` identical nodes on one fabric, optionally placed in a region."""

    name: str
    node: Node
    count: int = Field(gt=0)
    fabric: NetworkFabric
    region: object | None = None
    datacenter: object | None = None
    mtbf_hours: float | None = None
    metadata: Metadata = Metadata()

    @property
    def total_accelerators(self) -> int:
        return self.count * self.node.accelerators_per_node

    @property
    def effective_pue(self) -> float:
        for place in (self.datacenter, self.region):
            if place is not None and getattr(place, "pue", None):
                return float(place.pue)
        return 1.12


class RackProfile(Record):
    name: str
    power_kw: float
    cooling_type: str = "air"
    nodes: int | None = None
    node: str | None = None
    metadata: Metadata = Metadata()


class PodEnvelope(Record):
    """A pod sold and run as one machine (e.g. a TPU pod): chips, pooled memory, power envelope."""

    name: str
    accelerator: HardwareNode
    chips: int = Field(gt=0)
    memory: Bytes
    power: Watts
    topology: str = ""
    metadata: Metadata = Metadata()


class PowerLimit(Record):
    """A facility ceiling, such as the most power an air-cooled rack can shed."""

    name: str
    power: Watts
    metadata: Metadata = Metadata()
