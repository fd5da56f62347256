"""The fleet power model: what accelerators, their hosts, the fabric and shared storage draw.

Power follows utilization. An accelerator draws ``idle + (TDP - idle) * u``, where ``u`` is its
average activity over the period (0: powered and idle, 1: flat out at TDP); its host (CPUs,
memory, NICs, NVSwitches, fans, drives) follows the same split of its own rated power; fabric
switches draw a constant power per port; shared storage is what the caller says it is.
Every function takes SI floats (watts, fractions) and works unchanged on NumPy arrays.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..hardware.power import (
    DEFAULT_UTILIZATION,
    HOST_TO_ACCELERATOR_RATIO,
    IDLE_FRACTION,
    SWITCH_PORT_W,
    SWITCH_RADIX,
    TRAINING_NODE_POWER_FRACTION,
    accelerator_power,
)
from ..hardware.power import SOURCES as FACT_SOURCES
from ..solver import Result

SOURCES = {
    "idle": FACT_SOURCES["idle_fraction"],
    "utilization": "default activity 0.66: " + FACT_SOURCES["training_node_power_fraction"],
    "host": "host power: the node's rated maximum minus its accelerators' TDP (DGX H100: 10.2 kW - 8 x 700 W "
            "= 4.6 kW for CPUs, memory, NICs, NVSwitches, fans, drives and power conversion), following the "
            "same idle/active split",
    "host_default": FACT_SOURCES["host_to_accelerator_ratio"],
    "network": "fabric: non-blocking fat-tree of 64-port switches, " + FACT_SOURCES["switch_power_w"]
               + "; 2t-1 switch ports per NIC port for t tiers, upper tiers divided by the oversubscription ratio",
    "storage": "shared storage arrays are counted only when given (storage_w_per_node); node-local NVMe is "
               "inside the node's rated power",
}


def host_rated_power(node_max_w, accelerator_tdp_w, accelerators):
    """Rated power of a node's host: its maximum less its accelerators, or the documented ratio.

    ``node_max_w`` may be NaN (no datasheet maximum), which selects the ratio.
    """
    accel = accelerator_tdp_w * accelerators
    measured = np.maximum(np.nan_to_num(node_max_w, nan=0.0) - accel, 0.0)
    return np.where(np.isnan(node_max_w), HOST_TO_ACCELERATOR_RATIO * accel, measured)


def fabric_tiers(endpoints, radix=SWITCH_RADIX):
    """Tiers of the smallest non-blocking fat-tree of ``radix``-port switches with ``endpoints`` ports.

    One switch serves ``radix`` endpoints; t tiers serve 2 (radix/2)^t.
    """
    e = np.maximum(np.asarray(endpoints, dtype=float), 1.0)
    t = np.ceil(np.log(np.maximum(e / 2.0, 1.0)) / np.log(radix / 2.0) - 1e-9)
    return np.where(e <= radix, 1.0, np.maximum(t, 2.0))


def switch_ports_per_endpoint(endpoints, oversubscription=1.0, radix=SWITCH_RADIX):
    """Switch ports one NIC port occupies: its leaf port plus 2 per tier above, thinned by oversubscription."""
    return 1.0 + 2.0 * (fabric_tiers(endpoints, radix) - 1.0) / oversubscription


def network_power(endpoints, oversubscription=1.0, port_w=SWITCH_PORT_W, radix=SWITCH_RADIX):
    """Power of the fabric switches that serve ``endpoints`` NIC ports."""
    return endpoints * switch_ports_per_endpoint(endpoints, oversubscription, radix) * port_w


@dataclass(frozen=True)
class PowerBreakdown(Result):
    """Average IT power of a fleet over a period, by component (watts)."""

    accelerators_w: float
    host_w: float
    network_w: float
    storage_w: float

    @property
    def it_w(self) -> float:
        return self.accelerators_w + self.host_w + self.network_w + self.storage_w

    def shares(self) -> dict[str, float]:
        """Each component's fraction of IT power."""
        total = self.it_w or 1.0
        return {"accelerators": self.accelerators_w / total, "host": self.host_w / total,
                "network": self.network_w / total, "storage": self.storage_w / total}


def fleet_shape(system) -> tuple:
    """(accelerator record, accelerators, nodes or 0 for a lone device, node record or None, fabric or None)."""
    from ..hardware.types import HardwareNode
    from ..systems.types import Fleet, Node

    if isinstance(system, Fleet):
        node = system.node
        return node.accelerator, system.total_accelerators, system.count, node, system.fabric
    if isinstance(system, Node):
        return system.accelerator, system.accelerators_per_node, 1, system, None
    if isinstance(system, HardwareNode):
        return system, 1, 0, None, None
    raise InputError(f"fleet must be a Fleet, a Node or a HardwareNode, got {type(system).__name__}")


def fleet_power(system, utilization=DEFAULT_UTILIZATION, storage_w_per_node=0.0) -> PowerBreakdown:
    """Average IT power of a Fleet, a Node or one HardwareNode at activity ``utilization``.

    A lone device counts only itself (no host, fabric or storage); a single Node has a host
    but no scale-out fabric.
    """
    acc, n_acc, nodes, node, fabric = fleet_shape(system)
    if not acc.tdp:
        raise InputError(f"{acc.name} has no published power figure, so its energy cannot be estimated; "
                         f"give it one, e.g. {type(acc).__name__}(..., tdp='500 W')")
    tdp = float(acc.tdp)
    accel = n_acc * accelerator_power(tdp, utilization)
    host = network = storage = 0.0
    if node is not None:
        node_max = float(node.max_power) if node.max_power else float("nan")
        host = nodes * accelerator_power(float(host_rated_power(node_max, tdp, node.accelerators_per_node)),
                                         utilization)
        storage = nodes * storage_w_per_node
    if fabric is not None:
        network = float(network_power(nodes * node.nics_per_node, fabric.oversubscription_ratio))
    return PowerBreakdown(accelerators_w=accel, host_w=host, network_w=network, storage_w=storage)


def power_assumptions(system, storage_w_per_node=0.0) -> list[str]:
    """The sourced conventions behind ``fleet_power`` for this system, in words."""
    _, _, _, node, fabric = fleet_shape(system)
    lines = [SOURCES["idle"]]
    if node is None:
        lines.append("a lone device: only its own power is counted (no host, fabric or storage)")
        return lines
    lines.append(SOURCES["host"] if node.max_power
                 else f"{node.name} gives no maximum power; " + SOURCES["host_default"])
    lines.append(SOURCES["network"] if fabric is not None else "a single node: no scale-out fabric counted")
    if not storage_w_per_node:
        lines.append(SOURCES["storage"])
    return lines


#: the fleet model and the per-accelerator rule and conventions it builds on
__all__ = ["IDLE_FRACTION", "DEFAULT_UTILIZATION", "TRAINING_NODE_POWER_FRACTION", "HOST_TO_ACCELERATOR_RATIO",
           "SWITCH_RADIX", "SWITCH_PORT_W", "SOURCES", "accelerator_power", "host_rated_power", "fabric_tiers",
           "switch_ports_per_endpoint", "network_power", "PowerBreakdown", "fleet_shape", "fleet_power",
           "power_assumptions"]
