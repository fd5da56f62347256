"""How an accelerator's draw follows its activity: ``idle + (TDP - idle) x activity``.

The conventions (idle fraction, the default activity of a training node, host and switch power)
are facts with sources in ``zoo/data/power.yaml``; the engine charges one step's energy with
them and the fleet power model (``operations.power``) builds on them.
"""
from __future__ import annotations

import math

from ..zoo.registry import load_data

_FACTS = load_data("power")
#: each convention's source, for the assumptions a result lists
SOURCES = {key: entry["source"] for key, entry in _FACTS.items()}

#: idle power as a fraction of TDP (applied to accelerators and hosts alike)
IDLE_FRACTION = float(_FACTS["idle_fraction"]["value"])
#: mean power of an 8-GPU H100 node during LLM training, as a fraction of its rating
TRAINING_NODE_POWER_FRACTION = float(_FACTS["training_node_power_fraction"]["value"])
#: default activity: the one at which a node draws TRAINING_NODE_POWER_FRACTION of its rating
DEFAULT_UTILIZATION = (TRAINING_NODE_POWER_FRACTION - IDLE_FRACTION) / (1.0 - IDLE_FRACTION)
#: host rated power per watt of accelerator TDP, for nodes whose datasheet gives no maximum
HOST_TO_ACCELERATOR_RATIO = float(_FACTS["host_to_accelerator_ratio"]["value"])
#: ports of one fabric switch, and its power per port with optical transceivers
SWITCH_RADIX = int(_FACTS["switch_radix"]["value"])
SWITCH_PORT_W = float(_FACTS["switch_power_w"]["value"]) / SWITCH_RADIX


def accelerator_power(tdp_w, utilization, idle_fraction=IDLE_FRACTION):
    """Average draw of an accelerator of TDP ``tdp_w`` at activity ``utilization`` (0 to 1)."""
    return tdp_w * (idle_fraction + (1.0 - idle_fraction) * utilization)


def rated_power(hw) -> float:
    """A device's TDP in watts, or NaN where its datasheet gives none: its energy is then unknown, not zero."""
    return float(hw.tdp) if hw.tdp else math.nan


def step_energy(tdp_w, latency_s, busy_s):
    """Energy of one step: idle power for its whole time, the active part of TDP while busy."""
    return tdp_w * (IDLE_FRACTION * latency_s + (1.0 - IDLE_FRACTION) * busy_s)
