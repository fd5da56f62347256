"""Schema of ``scenarios.yaml``: ``<RegistryKey>: {...}``, a workload on a system with a service target."""
from ..facts import Power, Time, block, count, entries, flag, names, register, required, text

SCENARIO = block(
    name=required(text),
    description=text,
    workload=required(text),        # a models.yaml key
    system=required(text),          # a hardware.yaml or systems.yaml cluster key
    sla_latency=Time,
    power_budget=Power,
    training=flag,
    tp=count,
    pp=count,
    aliases=names,
    source=required(text),
)

register("scenarios", entries(SCENARIO), entry_depth=1)
