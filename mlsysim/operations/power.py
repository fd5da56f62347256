"""The shared power model: what accelerators, their hosts, the fabric and shared storage draw.

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
from .base import Result

#: Idle power as a fraction of TDP (applied to accelerators and hosts alike).
IDLE_FRACTION = 0.30
#: Mean power of an 8-GPU H100 node during LLM training, as a fraction of its 10.2 kW rating.
TRAINING_NODE_POWER_FRACTION = 0.76
#: Default activity: the one at which a node draws TRAINING_NODE_POWER_FRACTION of its rating.
DEFAULT_UTILIZATION = (TRAINING_NODE_POWER_FRACTION - IDLE_FRACTION) / (1.0 - IDLE_FRACTION)
#: Host rated power per watt of accelerator TDP, for nodes whose datasheet gives no maximum.
HOST_TO_ACCELERATOR_RATIO = 0.82
#: Ports of one fabric switch, and its power per port with optical transceivers.
SWITCH_RADIX = 64
SWITCH_PORT_W = 1720.0 / SWITCH_RADIX

SOURCES = {
    "idle": "idle power 30% of TDP: the published MLSys·im 0.1.x convention, also used by Engine.solve. "
            "For scale: a CUDA context alone adds 26-50 W to an idle H100 or A100 (Vadari et al., 'The Model "
            "Parking Tax', arXiv:2605.23918), and Google's measured minimum power of TPU v3 and v4 is 47% of "
            "their maximum (Cloud TPU docs: 123/262 W, 90/192 W); a stalled accelerator inside a running job "
            "sits between the two",
    "utilization": "default activity 0.66: compute-intensive AI training runs an 8-GPU H100 node at 76% of "
                   "its 10.2 kW rating (Newkirk et al., arXiv:2506.14551, Brookhaven measurements; peak 8.4 kW "
                   "per Latif et al., IEEE Access 13, 2025), i.e. (0.76 - 0.30) / 0.70 of the idle-to-TDP range",
    "host": "host power: the node's rated maximum minus its accelerators' TDP (DGX H100: 10.2 kW - 8 x 700 W "
            "= 4.6 kW for CPUs, memory, NICs, NVSwitches, fans, drives and power conversion), following the "
            "same idle/active split",
    "host_default": "host rated at 0.82 W per W of accelerator TDP where the node gives no maximum: the "
                    "median of DGX A100 (1.03), DGX H100 (0.82) and DGX B200 (0.79) datasheets",
    "network": "fabric: non-blocking fat-tree of 64-port switches at 1,720 W each with active/optical cables "
               "(NVIDIA Quantum-2 QM9700 specification; 747 W typical with passive copper), 2t-1 switch "
               "ports per NIC port for t tiers, upper tiers divided by the oversubscription ratio; switches "
               "draw near-constant power whatever the traffic",
    "storage": "shared storage arrays are counted only when given (storage_w_per_node); node-local NVMe is "
               "inside the node's rated power",
}


def accelerator_power(tdp_w, utilization, idle_fraction=IDLE_FRACTION):
    """Average draw of an accelerator of TDP ``tdp_w`` at activity ``utilization`` (0 to 1)."""
    return tdp_w * (idle_fraction + (1.0 - idle_fraction) * utilization)


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
