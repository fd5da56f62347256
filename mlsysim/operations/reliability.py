"""Failures, checkpoints and the whole-job wall clock of synchronous training (walls 15 and 19).

A synchronous job stops when any part of any node fails, so a fleet fails at the sum of its
parts' rates (exponential lifetimes in series). The job answers by checkpointing: every τ of
work it spends δ writing state, and each failure costs a restart R plus the work since the last
checkpoint. Young (1974) put the best interval at τ = √(2δM); Daly (2006) gave the expected wall
time of the whole job under that scheme, which this module uses for goodput.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError, OOMError
from ..formulas import memory as _mem
from ..formulas import reliability as _rel
from ..models.families.base import LM_CONTEXT, OPTIMIZERS, optimizer_state_bytes
from ..ops import PRECISION_BYTES
from ..run import resolve_fleet, resolve_model, whole
from ..solver import Result, Solver
from ..training.distributed import DistributedModel
from ..units import format_si, parse, quantity, to_si
from ..zoo.registry import load_data

HOUR = 3600.0
DAY = 86400.0
#: restart after a failure: detect, reschedule, reload the checkpoint (published MLSys·im default)
DEFAULT_RESTART_S = 300.0
#: checkpointed training state, bytes per parameter; gradients are not saved (the next step remakes them)
#: a checkpoint holds the 16-bit weights and, with an optimizer, its resident state (``optimizer_state_bytes``)
WEIGHT_BYTES = PRECISION_BYTES["bf16"]
STATE_BYTES = {name: WEIGHT_BYTES + optimizer_state_bytes(name, WEIGHT_BYTES) for name in OPTIMIZERS}


# --- pure functions (floats or arrays, SI): the formula library's cores, under this module's names ----------
#: Young's first-order optimum √(2δM): the interval that balances writing against lost work
young_interval = _rel.young_daly_interval_si
#: Daly's higher-order optimum (2006, eq. 37); the MTBF itself once δ reaches 2M
daly_interval = _rel.daly_interval_si
#: expected wall time of work under exponential failures, T = M·e^{R/M}·(e^{(τ+δ)/M} − 1)·W/τ (Daly 2006, eq. 20)
daly_wall_time = _rel.daly_wall_time_si
#: 0.1.0's defaults for the checkpoint write and the recovery ReliabilityModel charges (s)
DEFAULT_CHECKPOINT_S = 60.0


# --- inputs --------------------------------------------------------------------------------------
def _positive(name, value, unit=None):
    """A positive finite float, array, or (with ``unit``) quantity, in SI."""
    if unit is not None and not isinstance(value, np.ndarray):
        return parse(value, unit, name, positive=True)
    if isinstance(value, bool):
        raise InputError(f"{name} must be a positive number, got {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a positive number, got {value!r}") from None
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise InputError(f"{name} must be positive and finite, got {value!r}")
    arr = arr * (to_si(1.0, unit) if unit else 1.0)
    return float(arr) if arr.ndim == 0 else arr


def _job_seconds(job_days, job_hours):
    if (job_days is None) == (job_hours is None):
        raise InputError("give the job's length as exactly one of job_days or job_hours")
    if job_days is not None:
        return _positive("job_days", job_days) * DAY
    return _positive("job_hours", job_hours) * HOUR


def component_rates(profile="measured", rates=None) -> dict[str, tuple[str, float]]:
    """Each component's unit (gpu, nic, psu, node) and failures per unit-second, from the facts file.

    ``rates`` overrides or adds components as ``{name: failures per unit-hour}`` (a new name is
    charged per node).
    """
    profiles = load_data("reliability")["profiles"]
    if profile not in profiles:
        raise InputError(f"reliability profile '{profile}' is unknown; choose one of {sorted(profiles)}")
    fact = profiles[profile]
    out = {name: (c["per"], c["count"] / fact["exposure"][c["per"]] / HOUR) for name, c in fact["components"].items()}
    for name, per_hour in (rates or {}).items():
        if isinstance(per_hour, bool) or not isinstance(per_hour, (int, float)) or not 0 <= per_hour < math.inf:
            raise InputError(f"rate of '{name}' must be failures per unit-hour >= 0, got {per_hour!r}")
        out[name] = (out.get(name, ("node",))[0], per_hour / HOUR)
    return out


def _units_per_node(node) -> dict[str, int]:
    return {"gpu": node.accelerators_per_node, "nic": node.nics_per_node, "psu": node.psus_per_node, "node": 1}


# --- ReliabilityModel ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ReliabilityResult(Result):
    """Mean times between failures (s) and the failures expected over a job; arrays for sweeps.

    With a checkpoint write of ``checkpoint_time_s`` and a recovery of ``recovery_time_s`` per failure
    (0.1.0's inputs), ``optimal_checkpoint_interval_s`` is Young's √(2δM) and ``goodput_ratio`` the
    first-order 1 − δ/τ − R/M.
    """

    node_mtbf_s: float
    fleet_mtbf_s: object
    job_s: object
    nodes: object
    expected_failures: object
    failure_probability: object
    failures_by_component: dict
    checkpoint_time_s: float = DEFAULT_CHECKPOINT_S
    recovery_time_s: float = DEFAULT_RESTART_S
    optimal_checkpoint_interval_s: object = None
    goodput_ratio: object = None

    @property
    def node_mtbf(self): return quantity(self.node_mtbf_s, "h")

    @property
    def fleet_mtbf(self): return quantity(self.fleet_mtbf_s, "h")

    @property
    def fleet_mtbf_hours(self): return self.fleet_mtbf_s / HOUR

    @property
    def optimal_checkpoint_interval(self): return quantity(self.optimal_checkpoint_interval_s, "min")


class ReliabilityModel(Solver):
    """How often a fleet interrupts a synchronous job, from per-component failure rates (wall 15)."""

    walls = (15,)

    def solve(self, fleet, job_days=None, *, job_hours=None, nodes=None, profile="measured", rates=None,
              job_duration_hours=None, checkpoint_time_s=None, avg_recovery_time_s=None,
              **unknown) -> ReliabilityResult:
        """Failures over a job of ``job_days`` (or ``job_hours``, or 0.1.0's ``job_duration_hours``) on ``fleet``.

        ``nodes`` replaces the fleet's node count (an array sweeps fleet sizes); ``profile`` picks
        the rates in ``zoo/data/reliability.yaml`` ("measured": Llama 3's 54-day log; "datasheet":
        vendor-style MTTFs); ``rates`` overrides components in failures per unit-hour.
        ``checkpoint_time_s`` (default 60 s) and ``avg_recovery_time_s`` (default 300 s), times in seconds
        as in 0.1.0, set the checkpoint write δ and the recovery R behind the optimal interval √(2δM) and
        the goodput ratio 1 − δ/τ − R/M.
        """
        if unknown:
            raise InputError(f"ReliabilityModel.solve got an unknown argument '{next(iter(unknown))}'")
        if job_duration_hours is not None:
            if job_hours is not None:
                raise InputError("give job_hours or job_duration_hours (the same thing), not both")
            job_hours = job_duration_hours
        fleet = resolve_fleet(fleet)
        job = _job_seconds(job_days, job_hours)
        n = fleet.count if nodes is None else _positive("nodes", nodes)
        delta = DEFAULT_CHECKPOINT_S if checkpoint_time_s is None else parse(checkpoint_time_s, "s",
                                                                             "checkpoint_time_s")
        recovery = DEFAULT_RESTART_S if avg_recovery_time_s is None else parse(avg_recovery_time_s, "s",
                                                                               "avg_recovery_time_s")
        units = _units_per_node(fleet.node)
        per_node = {name: units[per] * rate for name, (per, rate) in component_rates(profile, rates).items()}
        failing = [(units[per], 1.0 / rate) for per, rate in component_rates(profile, rates).values() if rate > 0]
        if not any(count for count, _ in failing):
            raise InputError("every component rate is zero: the fleet would never fail; give a positive rate")
        node_mtbf = _rel.series_mtbf_si(*zip(*failing))
        fleet_mtbf = _rel.cluster_mtbf_si(node_mtbf, n)
        expected = job / fleet_mtbf
        tau = _rel.young_daly_interval_si(delta, fleet_mtbf)
        worst = max(per_node, key=per_node.get)
        return ReliabilityResult(
            node_mtbf_s=node_mtbf, fleet_mtbf_s=fleet_mtbf, job_s=job, nodes=n, expected_failures=expected,
            failure_probability=_rel.failure_probability_si(fleet_mtbf, job),
            failures_by_component={k: v * n * job for k, v in per_node.items()},
            checkpoint_time_s=delta, recovery_time_s=recovery, optimal_checkpoint_interval_s=tau,
            goodput_ratio=_rel.checkpoint_goodput_si(delta, tau, recovery, fleet_mtbf) if delta > 0 else
            np.maximum(0.0, 1.0 - recovery / fleet_mtbf),
            binding=f"{worst} failures, {per_node[worst] * node_mtbf:.0%} of the node's failure rate",
            assumptions=(f"'{profile}' failure rates ({load_data('reliability')['profiles'][profile]['name']})",
                         "exponential lifetimes; any failure anywhere stops the synchronous job (parts in series)",
                         "planned maintenance and stragglers are not failures",
                         f"checkpoint write {delta:g} s at Young's interval sqrt(2*delta*M); recovery {recovery:g} s "
                         "per failure; goodput ratio 1 - delta/tau - R/M"))


# --- CheckpointModel -----------------------------------------------------------------------------
#: 0.1.0's defaults for a checkpoint described by one accelerator: every 4 h, one writer at the device's
#: storage bandwidth (1 GB/s when it has none), at most 500 GB/s into the filesystem
V010_INTERVAL_H, V010_WRITER_BW, V010_FILESYSTEM_GBS = 4.0, 1e9, 500.0
#: a checkpoint write longer than this stalls training noticeably (0.1.0's ``storage_bottleneck`` flag)
SLOW_WRITE_S = 60.0


@dataclass(frozen=True)
class CheckpointResult(Result):
    """Checkpoint size (bytes), write time, interval and losses (s), goodput (fraction of wall time).

    ``mfu_penalty_pct`` is 0.1.0's δ/τ: the fraction of each interval spent writing (a fraction, despite
    the name).
    """

    checkpoint_bytes: float
    write_bandwidth: float
    write_time_s: float
    fleet_mtbf_s: object
    interval_s: object
    restart_s: float
    lost_per_failure_s: object
    goodput: object
    mfu_penalty_pct: object = None

    @property
    def checkpoint_size(self): return quantity(self.checkpoint_bytes, "GB")

    @property
    def write_time(self): return quantity(self.write_time_s, "s")

    @property
    def write_time_seconds(self): return quantity(self.write_time_s, "s")

    @property
    def max_bandwidth_required(self): return quantity(self.write_bandwidth, "GB/s")

    @property
    def storage_bottleneck(self): return self.write_time_s > SLOW_WRITE_S

    @property
    def checkpoint_interval(self): return quantity(self.interval_s, "min")


def _one_node(hardware):
    """A fleet of one server holding one ``hardware`` accelerator (0.1.0 described a checkpoint by a device)."""
    from ..systems.registry import Systems
    from ..systems.types import Fleet, Node

    node = Node(name=f"1x {hardware.name}", accelerator=hardware, accelerators_per_node=1,
                intra_node_bw=float(hardware.memory.bandwidth))
    return Fleet(name=f"1x {hardware.name}", node=node, count=1, fabric=Systems.Fabrics.get("InfiniBand_NDR"))


class CheckpointModel(Solver):
    """How big a checkpoint is, how long it takes to write, how often to take one, and what it costs (wall 19)."""

    walls = (19,)

    def solve(self, model, fleet=None, storage_bandwidth=None, *args, hardware=None, writers=None,
              writer_bandwidth=None, optimizer="adam", restart_overhead_s=DEFAULT_RESTART_S, interval=None, daly=False,
              mtbf=None, profile="measured", rates=None, checkpoint_interval_hours=None, n_writers=None,
              filesystem_limit_gbs=None) -> CheckpointResult:
        """Checkpointing ``model``'s training state on ``fleet`` to storage of ``storage_bandwidth``.

        ``writers`` (default: every node) each push at most ``writer_bandwidth`` (default: one of
        the node's NIC ports). ``interval`` fixes the work between checkpoints; by default Young's
        √(2δM), or Daly's higher-order optimum with ``daly=True``. ``mtbf`` (a time) overrides the
        fleet MTBF that ReliabilityModel derives from ``profile`` and ``rates``.

        0.1.0's call, ``solve(model, hardware, optimizer="adam", checkpoint_interval_hours=4.0, n_writers=1,
        filesystem_limit_gbs=500.0)``, works too: ``hardware`` (one accelerator) stands for a one-node fleet
        whose writers each write at the device's storage bandwidth (1 GB/s without one); ``n_writers`` is
        ``writers``, ``filesystem_limit_gbs`` (GB/s) the storage bandwidth, ``checkpoint_interval_hours`` the
        interval. With a fleet these keywords are accepted as the same aliases.
        """
        if fleet is not None and not hasattr(fleet, "total_accelerators") and not isinstance(fleet, str):
            if hardware is not None:                  # 0.1.0 positional: (model, hardware, optimizer, ...)
                raise InputError("give the hardware once (positionally or as hardware=)")
            hardware, fleet = fleet, None
            legacy = (storage_bandwidth,) + args
            storage_bandwidth = None
            names = ("optimizer", "checkpoint_interval_hours", "n_writers", "filesystem_limit_gbs")
            if len(legacy) > len(names):
                raise InputError(f"CheckpointModel.solve takes at most {len(names) + 2} positional arguments")
            given = dict(zip(names, legacy))
            optimizer = given.get("optimizer", optimizer)
            checkpoint_interval_hours = given.get("checkpoint_interval_hours", checkpoint_interval_hours)
            n_writers = given.get("n_writers", n_writers)
            filesystem_limit_gbs = given.get("filesystem_limit_gbs", filesystem_limit_gbs)
        elif args:
            raise InputError("CheckpointModel.solve takes (model, fleet, storage_bandwidth) positionally; "
                             "give the rest by keyword")
        legacy_call = fleet is None
        if legacy_call:
            if hardware is None:
                raise InputError("CheckpointModel.solve needs a fleet (or 0.1.0's hardware)")
            from ..run import resolve_hardware

            hw = resolve_hardware(hardware)
            fleet = _one_node(hw)
            device_bw = float(hw.storage.bandwidth) if hw.storage is not None and hw.storage.bandwidth else 0.0
            writer_bandwidth = writer_bandwidth if writer_bandwidth is not None else (device_bw or V010_WRITER_BW)
            n_writers = 1 if n_writers is None and writers is None else n_writers
            checkpoint_interval_hours = V010_INTERVAL_H if checkpoint_interval_hours is None and interval is None \
                else checkpoint_interval_hours
            filesystem_limit_gbs = V010_FILESYSTEM_GBS if filesystem_limit_gbs is None and storage_bandwidth is None \
                else filesystem_limit_gbs
        elif hardware is not None:
            raise InputError("give a fleet or 0.1.0's hardware, not both")
        if n_writers is not None:
            if writers is not None:
                raise InputError("give writers or n_writers (the same thing), not both")
            writers = n_writers
        if filesystem_limit_gbs is not None:
            if storage_bandwidth is not None:
                raise InputError("give storage_bandwidth or filesystem_limit_gbs (the same thing), not both")
            storage_bandwidth = parse(filesystem_limit_gbs, "GB/s", "filesystem_limit_gbs", positive=True)
        if checkpoint_interval_hours is not None:
            if interval is not None:
                raise InputError("give interval or checkpoint_interval_hours (the same thing), not both")
            interval = _positive("checkpoint_interval_hours", checkpoint_interval_hours, "h")
        if storage_bandwidth is None:
            raise InputError("CheckpointModel.solve needs the storage_bandwidth checkpoints are written at")
        model, fleet = resolve_model(model), resolve_fleet(fleet)
        params = getattr(model, "parameters", None)
        if not params:
            raise InputError(f"{model.name} has no parameter count; a checkpoint's size needs one")
        key = optimizer.lower() if isinstance(optimizer, str) else optimizer
        if key not in STATE_BYTES:
            raise InputError(f"optimizer '{optimizer}' is unknown; choose one of {sorted(STATE_BYTES)}")
        size = _mem.checkpoint_size_si(float(params), STATE_BYTES[key])
        storage = parse(storage_bandwidth, "B/s", "storage_bandwidth", positive=True)
        n_writers = fleet.count if writers is None else whole("writers", writers)
        port = parse(writer_bandwidth, "B/s", "writer_bandwidth", positive=True) if writer_bandwidth is not None \
            else float(fleet.node.nic_bandwidth or fleet.fabric.bandwidth)
        bw = min(storage, n_writers * port)
        delta = size / bw
        restart = parse(restart_overhead_s, "s", "restart_overhead_s")
        m = _positive("mtbf", mtbf, "h") if mtbf is not None else \
            ReliabilityModel().solve(fleet, job_hours=1.0, profile=profile, rates=rates).fleet_mtbf_s
        if interval is None:
            tau = daly_interval(delta, m) if daly else young_interval(delta, m)
            rule = "Daly's higher-order optimum" if daly else "Young's sqrt(2*delta*M)"
        else:
            tau, rule = _positive("interval", interval, "s"), "given"
        goodput = 1.0 / daly_wall_time(1.0, tau, delta, m, restart)
        limit = "storage bandwidth" if storage <= n_writers * port else \
            f"{n_writers} writers' {'storage links' if legacy_call else 'NIC ports'}"
        return CheckpointResult(
            checkpoint_bytes=size, write_bandwidth=bw, write_time_s=delta, fleet_mtbf_s=m, interval_s=tau,
            restart_s=restart, lost_per_failure_s=tau / 2 + restart, goodput=goodput, mfu_penalty_pct=delta / tau,
            binding=f"checkpoint write: {format_si(size, 'B')} at {format_si(bw, 'B/s')} ({limit}) takes "
                    f"{delta:.3g} s",
            assumptions=(f"checkpoint = bf16 weights 2 + {key} state {STATE_BYTES[key] - WEIGHT_BYTES:g} = "
                         f"{STATE_BYTES[key]:g} B/param x {float(params):.3g} parameters",
                         "write bandwidth = min(storage, writers x per-writer port); writes block training",
                         f"interval: {rule}; a failure loses half an interval of work plus the restart",
                         "goodput from Daly's (2006) expected wall time under exponential failures"))


# --- TrainingJobModel ----------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingJobResult(Result):
    """The wall clock of a whole training run: step time x steps, stretched by checkpoints and failures."""

    steps: object
    step_time_s: object
    compute_s: object
    wall_s: object
    goodput: object
    expected_interruptions: object
    checkpoint_interval_s: object
    checkpoint_bytes: float
    checkpoint_write_s: float
    fleet_mtbf_s: object
    distributed: object = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.pop("distributed")
        return out

    @property
    def wall_days(self): return self.wall_s / DAY

    @property
    def wall_time(self): return quantity(self.wall_s, "d")


class TrainingJobModel(Solver):
    """Days to train a model on a fleet, counting checkpoint writes and failure losses (walls 14, 15, 19)."""

    walls = (14, 15, 19)

    def solve(self, model, fleet, batch_size, seq_len=LM_CONTEXT, *, tokens=None, steps=None, storage_bandwidth,
              precision="bf16", tp=1, pp=1, optimizer="adam", restart_overhead_s=DEFAULT_RESTART_S, interval=None,
              daly=False, mtbf=None, profile="measured", rates=None, writers=None, writer_bandwidth=None,
              **distributed) -> TrainingJobResult:
        """``tokens`` (or ``steps``) of training at ``batch_size`` sequences of ``seq_len`` per step.

        The step time comes from DistributedModel (extra keywords go to it; ``optimizer`` sets its
        state and the checkpoint's); the checkpoint arguments are CheckpointModel's. A layout that does
        not fit the accelerators' memory has no training time: OOMError.
        """
        if (tokens is None) == (steps is None):
            raise InputError("give the job's length as exactly one of tokens or steps")
        dist = DistributedModel().solve(model, fleet, batch_size, seq_len=seq_len, precision=precision, tp=tp, pp=pp,
                                        optimizer=optimizer, **distributed)
        if not np.all(dist.feasible):
            need = float(np.max(dist.memory_per_device_b))
            raise OOMError(f"the layout does not fit, so the job never runs: {dist.binding}", required_bytes=need,
                           available_bytes=dist.memory_capacity_b)
        n_steps = _positive("steps", steps) if tokens is None else \
            _positive("tokens", tokens) / (np.asarray(batch_size, dtype=float) * seq_len)
        ckpt = CheckpointModel().solve(model, fleet, storage_bandwidth, writers=writers,
                                       writer_bandwidth=writer_bandwidth, optimizer=optimizer,
                                       restart_overhead_s=restart_overhead_s, interval=interval, daly=daly, mtbf=mtbf,
                                       profile=profile, rates=rates)
        work = dist.step_time_s * n_steps
        wall = daly_wall_time(work, ckpt.interval_s, ckpt.write_time_s, ckpt.fleet_mtbf_s, ckpt.restart_s)
        return TrainingJobResult(
            steps=n_steps, step_time_s=dist.step_time_s, compute_s=work, wall_s=wall, goodput=work / wall,
            expected_interruptions=wall / ckpt.fleet_mtbf_s, checkpoint_interval_s=ckpt.interval_s,
            checkpoint_bytes=ckpt.checkpoint_bytes, checkpoint_write_s=ckpt.write_time_s,
            fleet_mtbf_s=ckpt.fleet_mtbf_s, distributed=dist,
            binding=f"goodput {np.min(work / wall):.0%}; step: {dist.binding}",
            assumptions=("steps = tokens / (batch_size x seq_len), fractional steps kept",
                         "failures arrive over the whole wall clock, restarts and checkpoint writes included")
            + ckpt.assumptions + dist.assumptions)


__all__ = ["CheckpointModel", "CheckpointResult", "ReliabilityModel", "ReliabilityResult", "TrainingJobModel",
           "TrainingJobResult", "daly_interval", "daly_wall_time", "young_interval"]
