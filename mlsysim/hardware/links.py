"""What a link is taken to be when a record does not say (facts in ``zoo/data/links.yaml``)."""
from __future__ import annotations

from ..units import parse
from ..zoo.registry import load_data

_FACTS = load_data("links")
#: each default's source, for the assumptions a result lists
SOURCES = {key: entry["source"] for key, entry in _FACTS.items()}

#: bytes/s per direction of the host link of a device whose record names none (PCIe 5.0 x16)
HOST_LINK_BW = parse(_FACTS["host_link"]["bandwidth"], "B/s", "host_link.bandwidth")
#: latency of one step of a collective over an NVLink/NVSwitch hop: the default of any scale-up link that
#: records none
NVLINK_ALPHA = parse(_FACTS["scale_up_latency"]["latency"], "s", "scale_up_latency.latency")
#: latency of one step of a collective across a fabric that records none
FABRIC_ALPHA = parse(_FACTS["fabric_latency"]["latency"], "s", "fabric_latency.latency")
#: fixed start-up latency of one collective call, whatever its size
COLLECTIVE_BASE = parse(_FACTS["collective_base_latency"]["latency"], "s", "collective_base_latency.latency")


def host_link_bw(hw) -> float:
    """Bytes/s per direction of ``hw``'s host link."""
    return float(hw.interconnect.bandwidth) if hw.interconnect else HOST_LINK_BW


def scale_up(hw) -> tuple[float, float]:
    """(bytes/s per direction, step latency) of the link tensor-parallel ranks of ``hw`` share: NVLink-class
    if the chip has one, else its host link."""
    link = hw.nvlink or hw.interconnect
    if link is None:
        return HOST_LINK_BW, NVLINK_ALPHA
    return float(link.bandwidth), float(link.latency or NVLINK_ALPHA)
