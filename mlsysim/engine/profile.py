"""The result of one solve: times, bounds, memory and energy, in SI with units on read."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..units import SIValue, format_si, quantity
from .timing import step_times


def _first_config(a: np.ndarray) -> np.ndarray:
    return a if a.ndim == 1 else a.reshape(len(a), -1)[:, 0]


@dataclass(frozen=True, slots=True)
class OperatorTime:
    """One operator's share of the step (for explanations and roofline plots)."""

    name: str
    op_class: str
    count: float
    flops: float
    bytes: float
    time_s: float
    bound: str            # "compute", "memory" or "overhead"


@dataclass(frozen=True)
class PerformanceProfile:
    """What one step of a workload costs on one device (SI floats; properties add units)."""

    model_name: str
    hardware_name: str
    phase: str
    batch_size: object
    seq_len: object
    precision: str
    stack: str
    latency_s: object
    latency_compute_s: object
    latency_memory_s: object
    latency_overhead_s: object
    flops_total: object
    bytes_total: object
    samples_per_step: object
    bottleneck: object
    memory_parts: dict
    memory_capacity_b: float
    peak_flops_b: float
    peak_bw_b: float
    mfu: object
    hfu: object
    energy_j: object
    feasible: object
    offload_spill_bytes: float = 0.0
    throughput_unit: str = "samples/s"   # tokens/s for decode and LM training, sequences/s for prefill
    op_table: object = field(default=None, repr=False)
    #: each operator's (compute, memory, launch) seconds: arrays, or lists of floats for one configuration
    op_times: tuple = field(default=(), repr=False)
    #: the execution profile the step was timed under (how launch time adds up)
    execution_profile: object = field(default=None, repr=False)
    #: the precision of each kind of tensor the step used (weights, activations, KV cache, matmuls), as resolved
    #: from ``precision``, the per-tensor overrides and the stack's rules
    precisions: object = field(default=None, repr=False)

    def __post_init__(self):
        if isinstance(self.feasible, np.bool_):
            object.__setattr__(self, "feasible", bool(self.feasible))

    @classmethod
    def of(cls, values: dict) -> PerformanceProfile:
        """The engine's constructor: every field given, already checked, set at once (a solve is a few
        dozen microseconds, and the field-by-field frozen ``__init__`` would be a tenth of it)."""
        profile = object.__new__(cls)
        object.__setattr__(profile, "__dict__", values)
        profile.__post_init__()
        return profile

    # -- explanations (built on request) -------------------------------------------------------
    @property
    def constraint_trace(self) -> list[str]:
        """The checks the solve made, in words."""
        need, cap = float(np.max(sum(self.memory_parts.values()))), self.memory_capacity_b
        verdict = "Passed" if need <= cap else "FAILED"
        sign = "<=" if need <= cap else ">"
        lines = [f"Memory Wall: {verdict}. Required {format_si(need, 'B')} {sign} Available "
                 f"{format_si(cap, 'B')} on {self.hardware_name}."]
        if isinstance(self.bottleneck, str):
            lines.append(f"Bound: {self.bottleneck} ({self.bottleneck_op} operators take the most time).")
        return lines

    @property
    def operators(self) -> tuple[OperatorTime, ...]:
        """Each operator's time in the step (the first configuration of a sweep)."""
        ops = self.op_table
        if ops is None:
            return ()
        t_c, t_m, t_l, count, flops, nbytes = (_first_config(np.asarray(a)) for a in
                                               (*self.op_times, ops.count, ops.flops, ops.bytes))
        busy, overhead = step_times(t_c, t_m, t_l, self.execution_profile)
        out = []
        for i, name in enumerate(ops.names):
            bound = "overhead" if float(t_l[i]) > busy[i] else ("compute" if t_c[i] >= t_m[i] else "memory")
            out.append(OperatorTime(name, ops.classes[i], float(count[i]), float(flops[i]), float(nbytes[i]),
                                    float(busy[i] + overhead[i]) * float(count[i]), bound))
        return tuple(out)

    @property
    def bottleneck_op(self) -> str:
        """The operator class that takes the most time (in the first configuration of a sweep)."""
        ops = self.op_table
        busy, overhead = step_times(*(_first_config(np.asarray(a)) for a in self.op_times), self.execution_profile)
        per_class = np.bincount(ops.class_index, weights=(busy + overhead) * _first_config(np.asarray(ops.count)))
        return ops.class_names[int(per_class.argmax())]

    # -- figures with units ------------------------------------------------------------------
    @property
    def latency(self): return quantity(self.latency_s, "ms")
    @property
    def latency_compute(self): return quantity(self.latency_compute_s, "ms")
    @property
    def latency_memory(self): return quantity(self.latency_memory_s, "ms")
    @property
    def latency_overhead(self): return quantity(self.latency_overhead_s, "ms")

    @property
    def throughput(self):
        """Samples per second (images or sequences; tokens for decode and LM training)."""
        return quantity(self.samples_per_step / self.latency_s, self.throughput_unit)

    @property
    def latency_range(self):
        """(low, high) seconds: the 10th-90th percentile band where a measurement of this step is expected,
        from the validation suite's errors (``mlsysim.validation.bands``); None where the suite has none."""
        from ..zoo.bands import band
        return None if self._unbanded else band(self._band_category, self.latency_s, self.hardware_name)

    @property
    def throughput_range(self):
        """(low, high) of the throughput, in its unit: the band of :attr:`latency_range`, inverted."""
        from ..zoo.bands import band
        return None if self._unbanded else band(self._band_category, self.samples_per_step / self.latency_s,
                                                 self.hardware_name, rate=True)

    @property
    def energy_range(self):
        """(low, high) joules per step: the step-time band at the step's power (energy = power x time)."""
        from ..zoo.bands import band
        return None if self._unbanded else band(self._band_category, self.energy_j, self.hardware_name)

    @property
    def _unbanded(self) -> bool:
        """A first-order step (``textbook``): the suite's errors are the calibrated model's, not its own."""
        return getattr(self.execution_profile, "first_order", None) is not None

    @property
    def _band_category(self) -> str:
        return "training" if self.phase == "train" else "single_device_inference"

    @property
    def arithmetic_intensity(self):
        return quantity(self.flops_total / np.maximum(self.bytes_total, 1e-30), "FLOP/B")

    @property
    def memory_footprint(self):
        return quantity(sum(self.memory_parts.values()), "GB")

    @property
    def memory_utilization(self):
        return sum(self.memory_parts.values()) / self.memory_capacity_b

    @property
    def energy(self): return quantity(self.energy_j, "J")

    @property
    def energy_per_inference(self): return self.energy

    @property
    def power(self): return quantity(self.energy_j / self.latency_s, "W")

    @property
    def peak_flops_actual(self): return SIValue(self.peak_flops_b, "TFLOP/s")

    @property
    def peak_bw_actual(self): return SIValue(self.peak_bw_b, "GB/s")

    @property
    def offload_effective_bw(self): return self.peak_bw_actual

    def summary(self) -> str:
        lines = [f"Feasible:          {self.feasible}",
                 f"Bottleneck:        {self.bottleneck} (binding operators: {self.bottleneck_op})",
                 f"Latency:           {self.latency}",
                 f"  Compute:         {self.latency_compute}",
                 f"  Memory:          {self.latency_memory}",
                 f"  Overhead:        {self.latency_overhead}",
                 f"Throughput:        {self.throughput}",
                 f"MFU:               {np.round(self.mfu, 3)}",
                 f"HFU:               {np.round(self.hfu, 3)}",
                 "Memory Footprint:  " + ", ".join(f"{k} {format_si(v, 'B')}" for k, v in self.memory_parts.items()
                                                   if np.any(np.asarray(v) > 0))]
        return "\n".join(lines)

    def __str__(self) -> str:
        return f"PerformanceProfile({self.model_name} on {self.hardware_name}, {self.phase})\n" + self.summary()
