"""Inference across a fleet: groups of tp x pp accelerators, and replicas of the group sharing the load.

A language model is served by replicas of a tensor/pipeline-parallel group (``ServingModel`` on
one group); any other workload runs one copy per accelerator. When a run names no model
parallelism, the group is the smallest that fits the model and still leaves every replica at
least one sequence of the batch: one request on eight accelerators is served by all eight,
eight requests by eight replicas when one device holds the model.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..engine.engine import solve_step
from ..errors import InputError
from ..run import Layout, Run
from ..solver import Result
from .serving import first_bound, serve


@dataclass(frozen=True)
class FleetInferenceResult(Result):
    """One replica's figures and the fleet's: SI floats (seconds, bytes, per second)."""

    layout: Layout                  # tp, pp and dp = replicas
    batch_per_replica: float
    latency_s: float                # one step of a replica: a decode step (ITL) for language models
    ttft_s: float | None            # language models: time to first token of a replica's batch
    throughput: float               # the fleet's, in ``throughput_unit``
    throughput_unit: str
    memory_per_device_b: float
    memory_capacity_b: float
    feasible: bool
    bottleneck: str
    busy_fraction: float            # of a replica's step, computing or moving memory (not launch gaps)
    replica: object                 # the ServingResult or PerformanceProfile of one replica

    @property
    def replicas(self) -> int:
        return self.layout.dp


def fleet_inference(run: Run) -> FleetInferenceResult:
    """Serve ``run`` (a run on a fleet, not training) with its layout, or the smallest group that fits."""
    if run.phase not in (None, "decode", "forward"):
        raise InputError(f"phase '{run.phase}' applies to one device; across a fleet, inference is reported as "
                         "serving (time to first token and inter-token latency)")
    layout = inference_layout(run)
    B = float(run.batch_size)
    one = run.at(fleet=None, site=None, phase=None, batch_size=B / layout.dp,
                 layout=Layout(tp=layout.tp, pp=layout.pp))
    if run.family.decoder:
        r = serve(one)
        return FleetInferenceResult(
            layout, B / layout.dp, float(r.itl_s), float(r.ttft_s), layout.dp * float(r.tokens_per_s), "tokens/s",
            float(r.memory_bytes), r.memory_capacity_bytes, bool(r.feasible), first_bound(r.decode_bound),
            float(r.decode_busy_fraction), r,
            assumptions=(f"{layout.dp} replica(s) of tp={layout.tp} x pp={layout.pp}, each serving "
                         f"{B / layout.dp:g} of the {B:g} sequences",) + r.assumptions,
            binding=r.binding)
    prof = solve_step(one.at(layout=Layout()))
    used = float(sum(prof.memory_parts.values()))
    busy = (prof.latency_compute_s + prof.latency_memory_s) / prof.latency_s
    return FleetInferenceResult(
        layout, B / layout.dp, prof.latency_s, None, layout.dp * float(prof.throughput), prof.throughput_unit, used,
        prof.memory_capacity_b, bool(prof.feasible), prof.bottleneck, busy, prof,
        assumptions=(f"{layout.dp} replicas, one per accelerator, each running {B / layout.dp:g} of the {B:g} "
                     f"samples",), binding=f"{prof.bottleneck.lower()}-bound replicas")


def inference_layout(run: Run) -> Layout:
    """The run's tp x pp groups and how many replicas of them the fleet holds."""
    fleet, model, lay = run.fleet, run.workload, run.layout
    n = fleet.total_accelerators
    if lay.ep > 1:
        raise InputError("expert parallelism is modelled for training steps; serve with tp and pp across a fleet")
    if lay.tp > 1 or lay.pp not in (1, None):
        group = lay.tp * (lay.pp or 1)
        if n % group:
            raise InputError(f"tp×pp = {group} does not divide the {n} accelerators of {fleet.name}")
        model.family.check_layout(model, lay.tp, lay.pp or 1, 1)
        return Layout(tp=lay.tp, pp=lay.pp or 1, dp=n // group)
    if not model.family.decoder:
        return Layout(dp=n)
    per_node = fleet.node.accelerators_per_node
    batch = float(run.batch_size)
    widest = None
    for group in (g for g in range(1, n + 1) if n % g == 0):
        if n // group > max(batch, 1.0):
            continue                    # a replica without a sequence of its own
        tp = _tensor_parallel(group, per_node, model.heads)
        if group // tp > model.layers:
            continue
        widest = Layout(tp=tp, pp=group // tp, dp=n // group)
        one = run.at(fleet=None, site=None, phase=None, batch_size=batch / widest.dp,
                     layout=Layout(tp=widest.tp, pp=widest.pp))
        if bool(serve(one).feasible):
            return widest
    if widest is None:
        raise InputError(f"{model.name} cannot be split over {n} accelerators (tp must divide its "
                         f"{model.heads} heads, pp its {model.layers} layers)")
    return widest                       # nothing fits: the widest split, reported as infeasible


def _tensor_parallel(group: int, per_node: int, heads: int) -> int:
    """The widest power-of-two tensor-parallel degree inside a node that divides the group and the heads."""
    tp = 1
    while tp * 2 <= min(group, per_node) and group % (tp * 2) == 0 and heads % (tp * 2) == 0:
        tp *= 2
    return tp

