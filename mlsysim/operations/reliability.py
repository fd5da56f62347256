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


# --- pure functions (floats or arrays, SI) ---------------------------------------------------------
def young_interval(delta_s, mtbf_s):
    """Young's first-order optimum: the interval that balances writing against lost work."""
    return np.sqrt(2.0 * delta_s * mtbf_s)


def daly_interval(delta_s, mtbf_s):
    """Daly's higher-order optimum (2006, eq. 37); the MTBF itself once δ reaches 2M."""
    x = delta_s / (2.0 * mtbf_s)
    tau = np.sqrt(2.0 * delta_s * mtbf_s) * (1 + np.sqrt(x) / 3 + x / 9) - delta_s
    return np.where(delta_s < 2.0 * mtbf_s, tau, mtbf_s)


def daly_wall_time(work_s, tau_s, delta_s, mtbf_s, restart_s):
    """Expected wall time of ``work_s`` of computing under exponential failures (Daly 2006, eq. 20).

    Every segment of τ work plus δ writing must run unbroken; each failure costs R and the partial
    segment: T = M·e^{R/M}·(e^{(τ+δ)/M} − 1)·W/τ.
    """
    m = mtbf_s
    return m * np.exp(restart_s / m) * np.expm1((tau_s + delta_s) / m) * work_s / tau_s


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
    """Mean times between failures (s) and the failures expected over a job; arrays for sweeps."""

    node_mtbf_s: float
    fleet_mtbf_s: object
    job_s: object
    nodes: object
    expected_failures: object
    failure_probability: object
    failures_by_component: dict

    @property
    def node_mtbf(self): return quantity(self.node_mtbf_s, "h")

    @property
    def fleet_mtbf(self): return quantity(self.fleet_mtbf_s, "h")

    @property
    def fleet_mtbf_hours(self): return self.fleet_mtbf_s / HOUR


class ReliabilityModel(Solver):
    """How often a fleet interrupts a synchronous job, from per-component failure rates (wall 15)."""

    walls = (15,)

    def solve(self, fleet, job_days=None, *, job_hours=None, nodes=None, profile="measured", rates=None,
              **legacy) -> ReliabilityResult:
        """Failures over a job of ``job_days`` (or ``job_hours``) on ``fleet``.

        ``nodes`` replaces the fleet's node count (an array sweeps fleet sizes); ``profile`` picks
        the rates in ``zoo/data/reliability.yaml`` ("measured": Llama 3's 54-day log; "datasheet":
        vendor-style MTTFs); ``rates`` overrides components in failures per unit-hour.
        """
        if "job_duration_hours" in legacy:
            job_hours = legacy.pop("job_duration_hours")
        if legacy:
            raise InputError(f"ReliabilityModel.solve got an unknown argument '{next(iter(legacy))}'")
        fleet = resolve_fleet(fleet)
        job = _job_seconds(job_days, job_hours)
        n = fleet.count if nodes is None else _positive("nodes", nodes)
        units = _units_per_node(fleet.node)
        per_node = {name: units[per] * rate for name, (per, rate) in component_rates(profile, rates).items()}
        node_rate = sum(per_node.values())
        if node_rate <= 0:
            raise InputError("every component rate is zero: the fleet would never fail; give a positive rate")
        fleet_mtbf = 1.0 / (node_rate * n)
        expected = job / fleet_mtbf
        worst = max(per_node, key=per_node.get)
        return ReliabilityResult(
            node_mtbf_s=1.0 / node_rate, fleet_mtbf_s=fleet_mtbf, job_s=job, nodes=n, expected_failures=expected,
            failure_probability=-np.expm1(-expected),
            failures_by_component={k: v * n * job for k, v in per_node.items()},
            binding=f"{worst} failures, {per_node[worst] / node_rate:.0%} of the node's failure rate",
            assumptions=(f"'{profile}' failure rates ({load_data('reliability')['profiles'][profile]['name']})",
                         "exponential lifetimes; any failure anywhere stops the synchronous job (parts in series)",
                         "planned maintenance and stragglers are not failures"))


# --- CheckpointModel -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckpointResult(Result):
    """Checkpoint size (bytes), write time, interval and losses (s), goodput (fraction of wall time)."""

    checkpoint_bytes: float
    write_bandwidth: float
    write_time_s: float
    fleet_mtbf_s: object
    interval_s: object
    restart_s: float
    lost_per_failure_s: object
    goodput: object

    @property
    def checkpoint_size(self): return quantity(self.checkpoint_bytes, "GB")

    @property
    def write_time(self): return quantity(self.write_time_s, "s")

    @property
    def checkpoint_interval(self): return quantity(self.interval_s, "min")


class CheckpointModel(Solver):
    """How big a checkpoint is, how long it takes to write, how often to take one, and what it costs (wall 19)."""

    walls = (19,)

    def solve(self, model, fleet, storage_bandwidth, *, writers=None, writer_bandwidth=None, optimizer="adam",
              restart_overhead_s=DEFAULT_RESTART_S, interval=None, daly=False, mtbf=None, profile="measured",
              rates=None) -> CheckpointResult:
        """Checkpointing ``model``'s training state on ``fleet`` to storage of ``storage_bandwidth``.

        ``writers`` (default: every node) each push at most ``writer_bandwidth`` (default: one of
        the node's NIC ports). ``interval`` fixes the work between checkpoints; by default Young's
        √(2δM), or Daly's higher-order optimum with ``daly=True``. ``mtbf`` (a time) overrides the
        fleet MTBF that ReliabilityModel derives from ``profile`` and ``rates``.
        """
        model, fleet = resolve_model(model), resolve_fleet(fleet)
        params = getattr(model, "parameters", None)
        if not params:
            raise InputError(f"{model.name} has no parameter count; a checkpoint's size needs one")
        key = optimizer
        if key not in STATE_BYTES:
            raise InputError(f"optimizer '{optimizer}' is unknown; choose one of {sorted(STATE_BYTES)}")
        size = float(params) * STATE_BYTES[key]
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
        limit = "storage bandwidth" if storage <= n_writers * port else f"{n_writers} writers' NIC ports"
        return CheckpointResult(
            checkpoint_bytes=size, write_bandwidth=bw, write_time_s=delta, fleet_mtbf_s=m, interval_s=tau,
            restart_s=restart, lost_per_failure_s=tau / 2 + restart, goodput=goodput,
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
