"""Schema of ``systems.yaml``: ``<section>: <RegistryKey>: {...}`` for tiers, nodes, fabrics, clusters, pods,
racks and facility limits (the file's header says what the keys mean)."""
from ..facts import (
    Bandwidth,
    DataSize,
    Power,
    Time,
    block,
    choice,
    count,
    entries,
    number,
    refers,
    register,
    required,
    text,
)

COOLING = choice("air", "liquid")


def _names_resolve(systems: dict) -> None:
    refers(systems, "clusters", "node", "nodes")
    refers(systems, "clusters", "fabric", "fabrics")
    refers(systems, "racks", "node", "nodes")


TIER = block(name=required(text), ram=required(DataSize), storage=required(DataSize),
             latency_budget=required(Time), source=required(text))
NODE = block(
    name=required(text),
    accelerator=required(text),                 # a hardware.yaml key
    accelerators_per_node=required(count),
    scale_up=block(name=text, per_direction=required(Bandwidth)),
    nics_per_node=count,
    nic=block(name=text, bandwidth=required(Bandwidth)),
    host_memory=DataSize,
    cpus=text,
    power=block(max=required(Power)),
    storage=block(capacity=required(DataSize), media=text),
    rack_units=count,
    cooling=COOLING,
    source=required(text),
)
FABRIC = block(name=required(text), bandwidth=required(Bandwidth), latency=Time, topology=text,
               oversubscription=number(ge=1), source=required(text))
CLUSTER = block(name=required(text), node=required(text), count=required(count), fabric=required(text),
                source=required(text))
POD = block(name=required(text), accelerator=required(text), chips=required(count), memory=required(DataSize),
            power=required(Power), topology=text, source=required(text))
RACK = block(name=required(text), node=text, nodes_per_rack=count, non_accelerator_power=Power,
             power=required(Power), cooling=COOLING, source=required(text))
LIMIT = block(power=required(Power), source=required(text))

register("systems", block(check=_names_resolve, tiers=entries(TIER), nodes=entries(NODE), fabrics=entries(FABRIC),
                          clusters=entries(CLUSTER), pods=entries(POD), racks=entries(RACK), limits=entries(LIMIT)),
         entry_depth=2)
