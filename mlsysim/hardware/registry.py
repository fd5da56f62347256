"""The hardware zoo, built from ``zoo/data/hardware.yaml``."""
from __future__ import annotations

from pathlib import Path

from ..core.types import Metadata
from ..zoo.facts import check_entry
from ..zoo.registry import Registry, load_data, read_yaml
from ..zoo.schemas.hardware import ENTRY
from .types import ComputeCore, HardwareNode, IOInterconnect, MemoryHierarchy, StorageHierarchy

#: the rate that stands for a chip's "peak": its 16-bit tensor rate, else the nearest it has
DEFAULT_ORDER = ("fp16", "bf16", "fp8", "int8", "tf32", "fp32", "fp4", "int4")
TIERS = {"cloud": "Cloud", "workstation": "Workstation", "mobile": "Mobile", "edge": "Edge", "tiny": "Tiny"}


def _link(spec: dict | None) -> IOInterconnect | None:
    if not spec:
        return None
    name = spec.get("name") or (f"PCIe Gen{spec['generation']}" if "generation" in spec else "link")
    return IOInterconnect(name=name, bandwidth=spec["per_direction"], generation=spec.get("generation"),
                          lanes=spec.get("lanes"), links=spec.get("links"))


def hardware_from_fact(fact: dict) -> HardwareNode:
    """A datasheet entry laid out as in hardware.yaml, checked against the file's schema, as a HardwareNode."""
    check_entry(fact, ENTRY, "hardware")
    return _node(fact)


def hardware_from_yaml(path) -> HardwareNode:
    """A device described in its own YAML file, laid out as one hardware.yaml entry (``mlsysim zoo hardware
    --template`` prints one to fill in); a file holding a single ``key: {entry}`` mapping is accepted too."""
    fact = read_yaml(path, "hardware")
    if len(fact) == 1 and isinstance(next(iter(fact.values())), dict) and "name" not in fact:
        fact = next(iter(fact.values()))
    return hardware_from_fact(fact)


#: the commented example ``mlsysim zoo hardware --template`` prints
TEMPLATE = Path(__file__).with_name("template.yaml")


def _node(fact: dict) -> HardwareNode:
    compute, memory = fact["compute"], fact["memory"]
    rates = {p: float(v) * 1e12 for p, v in compute["peak_tflops"].items()}
    peak = next((rates[p] for p in DEFAULT_ORDER if p in rates), max(rates.values()))
    onchip, flash = fact.get("onchip") or {}, fact.get("flash") or {}
    links, power = fact.get("links") or {}, fact.get("power") or {}
    storage = fact.get("storage")
    return HardwareNode(
        name=fact["name"], release_year=fact["release_year"], vendor=fact.get("vendor"),
        form_factor=fact.get("form_factor"),
        compute=ComputeCore(peak_flops=peak, precision_flops=rates, units=compute.get("units"),
                            clock_ghz=compute.get("clock_ghz"), tile_waves=compute.get("tile_waves", True),
                            matrix_arrays=compute.get("matrix_arrays", False)),
        memory=MemoryHierarchy(capacity=memory["capacity"], bandwidth=memory["bandwidth"], type=memory.get("type"),
                               l2_cache=onchip.get("l2"), sram_capacity=onchip.get("sram"),
                               sram_bandwidth=onchip.get("sram_bandwidth"),
                               flash_capacity=flash.get("capacity"), flash_bandwidth=flash.get("bandwidth")),
        storage=StorageHierarchy(**storage) if storage else None,
        interconnect=_link(links.get("pcie")), nvlink=_link(links.get("nvlink") or links.get("scale_up")),
        weight_streaming=_link(links.get("weight_streaming")),
        tdp=power.get("tdp"), tdp_min=power.get("tdp_min"), tdp_max=power.get("tdp_max"),
        battery_capacity=power.get("battery"),
        unit_cost=fact.get("price_usd"), embodied_carbon_kg=fact.get("embodied_carbon_kg"),
        accelerator_count=fact.get("accelerators"),
        metadata=Metadata(source=fact["source"], sources=fact.get("sources") or {}),
    )


def _build() -> Registry:
    tiers, aliases = {}, {}
    for tier_key, entries in load_data("hardware").items():
        tiers[TIERS[tier_key]] = Registry(TIERS[tier_key], "hardware", entries, build=_node)
        aliases.update({alias: key for key, fact in entries.items() for alias in fact.get("aliases", ())})
    return Registry("Hardware", "hardware", children=tiers, aliases=aliases)


Hardware = _build()

#: 0.1.0's tier registries: views of the tiers above (``CloudHardware.A100`` is ``Hardware.A100``)
CloudHardware, WorkstationHardware, MobileHardware, EdgeHardware, TinyHardware = (
    Hardware._children[t] for t in ("Cloud", "Workstation", "Mobile", "Edge", "Tiny"))
