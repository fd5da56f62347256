"""The formula library: the equations of ML systems, each once, unit-checked, with its source.

Every formula has two entry points over one implementation:

* a public function (``ring_all_reduce_time``, ``young_daly_interval``, ...) that takes pint
  Quantities (or ``SIValue`` results, or strings such as ``"400 GB/s"``), checks each dimension,
  and returns a pint Quantity; a wrong dimension raises :class:`~mlsysim.errors.UnitError` naming
  the argument, and a plain number is accepted only where the quantity is a count or a fraction;
* its SI core (``ring_all_reduce_si``, also reachable as ``ring_all_reduce_time.si``): floats or
  NumPy arrays in SI units, no unit handling, which the solvers call on their hot paths.

The library needs only :mod:`mlsysim.units` and :mod:`mlsysim.errors`, so any layer may use it.
The 0.1.0 ``calc_*`` names live in :mod:`mlsysim.core.formulas`, over these functions.
"""
from __future__ import annotations

from . import economics, memory, network, queueing, reliability, training
from .economics import fleet_tco, monthly_egress_cost
from .memory import (
    activation_memory,
    checkpoint_size,
    kv_cache_size,
    page_fragmentation,
    paged_kv_cache_size,
    weights_size,
)
from .network import (
    all_gather_time,
    all_to_all_time,
    double_tree_all_reduce_time,
    hierarchical_all_reduce_time,
    network_latency,
    point_to_point_time,
    reduce_scatter_time,
    ring_all_reduce_time,
    tree_all_reduce_time,
)
from .queueing import amdahl_speedup, erlang_b, erlang_c, mmc_queue
from .reliability import (
    availability_stacked,
    checkpoint_goodput,
    cluster_mtbf,
    daly_interval,
    daly_wall_time,
    failure_probability,
    node_mtbf,
    young_daly_interval,
)
from .training import effective_flops, pipeline_bubble, roofline_bottleneck, training_flops, training_time

__all__ = [
    "activation_memory", "all_gather_time", "all_to_all_time", "amdahl_speedup", "availability_stacked",
    "checkpoint_goodput", "checkpoint_size", "cluster_mtbf", "daly_interval", "daly_wall_time",
    "double_tree_all_reduce_time", "economics", "effective_flops", "erlang_b", "erlang_c", "failure_probability",
    "fleet_tco", "hierarchical_all_reduce_time", "kv_cache_size", "memory", "mmc_queue", "monthly_egress_cost",
    "network", "network_latency", "node_mtbf", "page_fragmentation", "paged_kv_cache_size", "pipeline_bubble",
    "point_to_point_time", "queueing", "reduce_scatter_time", "reliability", "ring_all_reduce_time",
    "roofline_bottleneck", "training", "training_flops", "training_time", "tree_all_reduce_time", "weights_size",
    "young_daly_interval",
]
