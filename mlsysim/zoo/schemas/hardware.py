"""Schema of ``hardware.yaml``: ``<tier>: <RegistryKey>: {...}``, one datasheet per entry.

The file's header says what each key means; ``ENTRY`` is also what ``hardware_from_fact`` checks.
"""
from ...ops import PRECISION_BYTES
from ..facts import (
    Bandwidth,
    DataSize,
    Energy,
    Power,
    Time,
    block,
    count,
    entries,
    flag,
    integer,
    names,
    positive,
    register,
    required,
    text,
)

TIERS = ("cloud", "workstation", "mobile", "edge", "tiny")
#: dense peak rates, in 1e12 operations per second
PRECISIONS = tuple(PRECISION_BYTES)


def _gives_a_rate(rates: dict) -> None:
    if not rates:
        raise ValueError("gives no rate; name at least one precision")


def _sources_name_given_figures(entry: dict) -> None:
    for path in entry.get("sources", {}):
        node = entry
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            raise ValueError(f"'sources' names '{path}', which this entry does not give")


LINK = block(name=text, generation=count, lanes=count, links=count, per_direction=required(Bandwidth))

ENTRY = block(
    check=_sources_name_given_figures,
    name=required(text),
    aliases=names,
    vendor=text,
    release_year=required(integer(ge=1900, le=2100)),
    form_factor=text,
    accelerators=count,
    compute=required(block(units=count, clock_ghz=positive, tile_waves=flag, matrix_arrays=flag,
                           peak_tflops=required(block(check=_gives_a_rate, **dict.fromkeys(PRECISIONS, positive))))),
    memory=required(block(capacity=required(DataSize), bandwidth=required(Bandwidth), type=text)),
    onchip=block(l2=DataSize, sram=DataSize, sram_bandwidth=Bandwidth),
    flash=block(capacity=required(DataSize), bandwidth=required(Bandwidth)),
    links=block(nvlink=LINK, scale_up=LINK, pcie=LINK, weight_streaming=LINK),
    power=block(tdp=required(Power), tdp_min=Power, tdp_max=Power, battery=Energy),
    storage=block(capacity=required(DataSize), bandwidth=required(Bandwidth), latency=Time),
    price_usd=positive,
    embodied_carbon_kg=positive,
    source=required(text),
    sources=entries(text),
)

register("hardware", block(**dict.fromkeys(TIERS, entries(ENTRY))), entry_depth=2)
