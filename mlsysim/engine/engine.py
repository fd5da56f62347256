"""``Engine.solve``: one step of a workload on one device, operator by operator.

The workload's family lowers the step to operators, the execution profile decides how they are
launched and fused, the calibrated timing layer times each one, and :func:`step_times` adds them
up. A run (``mlsysim.run.Run``) carries every input; ``Engine.solve`` with the 0.1.0 keywords
builds one. A first-order profile (``stack="textbook"``) replaces the operator-level structure with
0.1.0's single roofline (:mod:`.first_order`).
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from ..core.slices import map_slices
from ..errors import InputError, OOMError
from ..hardware.links import host_link_bw
from ..hardware.power import rated_power, step_energy
from ..ops import Template
from ..run import Run, refuse_sequence, resolve_hardware
from ..solver import Solver
from ..units import format_si
from .device import device_for
from .first_order import FirstOrderStep
from .profile import PerformanceProfile
from .timing import device_calibration, load_calibration, step_times, timer, times

#: a large sweep is solved in slices of about this many configurations, so each slice's
#: per-operator arrays stay in the CPU caches (4x faster than one pass over a million points)
SWEEP_CHUNK = 32768


class Engine:
    """The single-device performance model (walls 1 and 2: compute and memory)."""

    @staticmethod
    def solve(model, hardware=None, batch_size=1, precision="fp16", efficiency=None, raise_errors=False,
              is_training=False, seq_len=None, zero_stage=0, dp_size=1, is_lora=False,
              activation_recomputation=False, *, phase=None, stack=None, weight_precision=None,
              kv_precision=None, activation_precision=None, optimizer=None, past_len=0,
              runtime_overhead=None, calibration=None) -> PerformanceProfile:
        """Latency, throughput, bottleneck, memory and energy of one step.

        ``model`` may be a :class:`~mlsysim.run.Run` (then it carries every input). Otherwise the
        keywords describe the run: ``batch_size`` and ``seq_len`` may be NumPy arrays (a sweep), and
        every figure of the profile is then an array of the broadcast shape. ``efficiency`` overrides
        the calibrated compute efficiency when given. ``phase`` is ``forward``, ``prefill``, ``decode``
        or ``train`` (default: ``decode`` for language models, ``forward`` for the rest, ``train`` when
        ``is_training``); ``stack`` names an execution profile (``mlsysim.Stacks``: ``pytorch_eager``,
        ``torch_compile``, ``vllm``, ...). ``past_len`` (prefill only) is the number of tokens already
        in the KV cache: the new ``seq_len`` tokens attend to them as well. ``precision`` sets weights,
        activations and KV cache at once; ``weight_precision``, ``activation_precision`` (the matmuls'
        precision) and ``kv_precision`` override each. ``runtime_overhead`` replaces the stack's own device
        footprint (CUDA context, framework kernels; ``Stacks.<stack>.runtime_bytes``) in the memory fit.
        ``calibration`` (a file ``mlsysim audit`` writes, or a ``Calibration``) replaces the timing constants.
        """
        if isinstance(model, Run):
            if hardware is not None:
                raise InputError("a Run names its own hardware; call Engine.solve(run) alone")
            return solve_step(model, raise_errors)
        run = Run.build(model, hardware, phase=phase, training=is_training, batch_size=batch_size, seq_len=seq_len,
                        past_len=past_len, precision=precision, weight_precision=weight_precision,
                        activation_precision=activation_precision, kv_precision=kv_precision, stack=stack,
                        efficiency=efficiency, dp=dp_size, zero_stage=zero_stage, recompute=activation_recomputation,
                        optimizer=optimizer, lora=is_lora, runtime_overhead=runtime_overhead, calibration=calibration)
        refuse_sequence(run, seq_len, past_len)
        return solve_step(run, raise_errors)

    @staticmethod
    def sweep(model, hardware_list, batch_sizes=(1,), precisions=("fp16",), efficiency=None) -> list[dict]:
        """Every (hardware, batch size, precision) combination; unsupported precisions are skipped."""
        from ..errors import UnsupportedPrecisionError

        out = []
        for hw in hardware_list:
            for prec in precisions:
                for b in batch_sizes:
                    try:
                        prof = Engine.solve(model, hw, batch_size=b, precision=prec, efficiency=efficiency)
                    except UnsupportedPrecisionError:
                        continue
                    out.append({"hardware": resolve_hardware(hw).name, "batch_size": b, "precision": prec,
                                "profile": prof})
        return out


class SingleNodeModel(Solver):
    """One accelerator (walls 1 and 2): ``Engine.solve`` as a solver, for pipelines and 0.1.0 code."""

    walls = (1, 2)
    needs = ("model", "hardware")

    def solve(self, model, hardware=None, batch_size=1, precision="fp16", efficiency=None, raise_errors=False, **kw):
        return Engine.solve(model, hardware, batch_size=batch_size, precision=precision, efficiency=efficiency,
                            raise_errors=raise_errors, **kw)


def solve_step(run: Run, raise_errors: bool = False) -> PerformanceProfile:
    """One step of ``run`` on its one device."""
    phase, B, S, past, sweep = _checked(run)
    if not sweep or run.profile.first_order is not None:     # a first-order roofline takes arrays as they are
        return _structure(run, phase).profile(run, B, S, past, raise_errors)
    shape = np.broadcast_shapes(*(np.shape(x) for x in (B, S, past)))
    if math.prod(shape) > 2 * SWEEP_CHUNK:
        return _chunked(run, phase, B, S, past, shape, raise_errors)
    return _sweep_step(run, phase, B, S, past, raise_errors)


class Step(NamedTuple):
    """What a solver that composes steps (serving) reads of one: its latency and the compute-bound,
    memory-bound and overhead parts of it, its bound, its memory footprint by part, and its energy
    (floats, or arrays for a sweep). The names are :class:`PerformanceProfile`'s."""

    latency_s: object
    latency_compute_s: object
    latency_memory_s: object
    latency_overhead_s: object
    bottleneck: object
    memory_parts: dict
    energy_j: object


def step_figures(run: Run) -> Step:
    """:func:`solve_step`'s figures without the profile around them (for one configuration, a fraction
    of the cost)."""
    phase, B, S, past, sweep = _checked(run)
    if not sweep:
        return _structure(run, phase).figures(run, B, S, past)
    prof = solve_step(run)
    return Step(prof.latency_s, prof.latency_compute_s, prof.latency_memory_s, prof.latency_overhead_s,
                prof.bottleneck, prof.memory_parts, prof.energy_j)


def figures_at(run: Run, phase: str, B, S, past=0.0) -> Step:
    """:func:`step_figures` of ``run`` at a phase and sizes its caller has checked: a solver that derives
    several steps from one validated run (serving's prefill and decode) builds no run for each."""
    if isinstance(B, np.ndarray) or isinstance(S, np.ndarray) or isinstance(past, np.ndarray):
        return step_figures(run.at(phase=phase, batch_size=B, seq_len=S, past_len=past))
    return _structure(run, phase).figures(run, B, S, past)


def _checked(run: Run):
    """The phase and sizes of ``run``'s step, checked: (phase, batch, context, cached tokens, is a sweep)."""
    if run.fleet is not None or run.site is not None or run.prompt_len is not None or run.output_len is not None \
            or not run.layout.single_device or run.layout.microbatches is not None or run.layout.v_stages != 1:
        run.refuse("Engine.solve", "fleet", "tp", "pp", "ep", "cp", "microbatches", "v_stages", "layers_per_stage",
                   "schedule", "prompt_len", "output_len", "site")
    w = run.workload
    phase = run.step_phase()
    run.family.check_phase(w, phase)
    B, S, past = run.batch_size, run.context, run.past_len
    sweep = isinstance(B, np.ndarray) or isinstance(S, np.ndarray) or isinstance(past, np.ndarray)
    if phase != "prefill" and (np.any(past) if sweep else past):
        raise InputError("past_len (tokens already cached) applies to the prefill phase only")
    window = getattr(w, "context_length", None)
    if window:
        total = S + past
        if (np.any(total > window) if sweep else total > window):
            raise InputError(f"{np.max(total):g} tokens exceed {w.name}'s context window of {window} tokens")
    return phase, B, S, past, sweep


def _chunked(run, phase, B, S, past, shape, raise_errors) -> PerformanceProfile:
    """Solve a big sweep slice by slice along its first axis and stitch the slices together."""
    rows = max(1, SWEEP_CHUNK // max(1, math.prod(shape[1:])))
    full = [np.broadcast_to(x, shape) if isinstance(x, np.ndarray) else x for x in (B, S, past)]

    def one(i):
        return _sweep_step(run, phase, *(x[i:i + rows] if isinstance(x, np.ndarray) else x for x in full),
                           raise_errors=raise_errors)

    parts = map_slices(one, shape[0], rows)
    first = parts[0]

    def cat(name):
        return np.concatenate([np.broadcast_to(getattr(p, name), (len(p.latency_s),) + shape[1:]) for p in parts])

    arrays = ("latency_s", "latency_compute_s", "latency_memory_s", "latency_overhead_s", "flops_total",
              "bytes_total", "samples_per_step", "bottleneck", "mfu", "hfu", "energy_j", "feasible")
    memory = {k: np.concatenate([np.broadcast_to(p.memory_parts[k], (len(p.latency_s),) + shape[1:])
                                 for p in parts]) if np.ndim(v) else v for k, v in first.memory_parts.items()}
    return replace(first, batch_size=B, seq_len=S, memory_parts=memory,
                   offload_spill_bytes=max(p.offload_spill_bytes for p in parts), **{k: cat(k) for k in arrays})


def _sweep_step(run: Run, phase, B, S, past, raise_errors) -> PerformanceProfile:
    """A (moderate) array of configurations: every figure an array of the sizes' broadcast shape."""
    w, hw, family, p, profile = run.workload, run.hardware, run.family, run.precisions, run.profile
    # memory first: it decides where the weights are read from
    parts = {**family.footprint(w, phase, B, S + past, p, run.layout), "runtime": float(profile.runtime_bytes)}
    total = parts["weights"] + parts["kv_cache"] + parts["activations"] + parts["gradients"] + parts["optimizer"] + \
        parts["runtime"]
    capacity = float(hw.memory.capacity)
    worst = float(np.max(total))
    if raise_errors and worst > capacity:
        _out_of_memory(run, worst, capacity)
    weights = parts["weights"]
    dev = device_for(hw, float(np.min(weights)))
    ops = family.lower(w, phase, B, S, p, past=past, stack=profile, training=run.layout)
    t = times(dev, profile, ops.kind, ops.prec, ops.flops, ops.bytes, ops.M, ops.N, ops.K, ops.G, run.efficiency,
              calibration_of(run))
    busy, overhead = step_times(*t, profile)
    c = ops.count
    lat_c = _weighted(np.where(t[0] >= t[1], busy, 0.0), c)
    lat_m = _weighted(busy, c) - lat_c
    lat_o = _weighted(overhead, c)
    if worst > capacity:
        lat_m = lat_m + np.clip(np.minimum(weights, total - capacity), 0.0, None) / host_link_bw(hw)
    latency = lat_c + lat_m + lat_o
    peak = dev.peak[int(ops.prec[0])] or hw.peak_at(p.compute)
    bottleneck = np.where(lat_o > np.maximum(lat_c, lat_m), "Overhead", np.where(lat_m > lat_c, "Memory", "Compute"))
    # every figure in the sweep's shape, also those that do not depend on its sizes (a model whose memory does
    # not grow with the batch)
    shape = np.broadcast_shapes(np.shape(B), np.shape(S), np.shape(latency))
    prof = _profile(run, phase, B, S, parts, capacity, ops, t, dev, peak, lat_c, lat_m, lat_o, latency,
                    np.minimum(ops.model_flops / (latency * peak), 1.0),
                    np.minimum(ops.flops_total / (latency * peak), 1.0), bottleneck,
                    np.broadcast_to(total <= capacity, shape), max(worst - capacity, 0.0))
    object.__setattr__(prof, "bytes_total", np.broadcast_to(ops.bytes_total, shape))
    return prof


def _out_of_memory(run: Run, need: float, capacity: float):
    raise OOMError(f"{run.workload.name} needs {format_si(need, 'B')} but {run.hardware.name} has "
                   f"{format_si(capacity, 'B')}", required_bytes=need, available_bytes=capacity)


def _profile(run, phase, B, S, parts, capacity, ops, t, dev, peak, lat_c, lat_m, lat_o, latency, mfu, hfu,
             bottleneck, feasible, spill) -> PerformanceProfile:
    samples, unit = run.family.throughput(phase, B, S)
    efficiency = run.efficiency
    return PerformanceProfile.of({
        "model_name": run.workload.name, "hardware_name": run.hardware.name, "phase": phase, "batch_size": B,
        "seq_len": S, "precision": run.precision, "precisions": run.precisions, "stack": run.profile.key,
        "latency_s": latency,
        "latency_compute_s": lat_c, "latency_memory_s": lat_m, "latency_overhead_s": lat_o,
        "flops_total": ops.flops_total, "bytes_total": ops.bytes_total, "samples_per_step": samples,
        "bottleneck": bottleneck, "memory_parts": parts, "memory_capacity_b": capacity,
        "peak_flops_b": peak if efficiency is None else peak * efficiency, "peak_bw_b": dev.mem_bw, "mfu": mfu,
        "hfu": hfu, "energy_j": step_energy(rated_power(run.hardware), latency, lat_c + lat_m),
        "feasible": feasible, "offload_spill_bytes": spill, "throughput_unit": unit, "op_table": ops, "op_times": t,
        "execution_profile": run.profile})


class _Structure:
    """One step's structure (workload, phase, precisions, stack, training state) on one device: its
    lowering and footprint traced into a template when they are polynomials in the sizes (most are),
    its operators' timing and the device's figures, built once and then solved for any scalar sizes."""

    __slots__ = ("lowering", "footprint", "template", "hardware", "stack", "phase", "workload",
                 "weights", "dev", "timer", "peak", "capacity", "tdp", "host_bw", "runtime", "cal")

    def __init__(self, run: Run, phase: str):
        w, p, profile, training, family, hw = run.workload, run.precisions, run.profile, run.layout, run.family, \
            run.hardware

        def lowering(b, s, cached):
            return family.operators(w, phase, b, s, p, past=cached, stack=profile, training=training)

        def footprint(b, s, cached):
            return family.footprint(w, phase, b, s + cached, p, training)

        self.lowering, self.footprint, self.hardware, self.stack = lowering, footprint, hw, profile
        self.phase, self.workload = phase, w
        self.template = Template.trace(lowering, footprint)
        self.weights = self.dev = self.timer = self.peak = None
        self.capacity, self.tdp, self.host_bw = float(hw.memory.capacity), rated_power(hw), host_link_bw(hw)
        self.runtime = float(profile.runtime_bytes)
        self.cal = calibration_of(run)

    def solve(self, run: Run, B, S, past, raise_errors: bool = False, each: bool = True):
        """Sizes (B, S, past) solved: (operator table and per-operator times (None and empty unless
        ``each``), device view, peak, footprint, its total, compute-bound, memory-bound and overhead seconds)."""
        template = self.template
        if template is None:
            ops = self.lowering(B, S, past).table()
            values = [x for numbers in zip(*(ops.columns[i].tolist() for i in range(7))) for x in numbers]
            parts = self.footprint(B, S, past)
        else:
            values = template.values(B, S, past)         # each operator's seven numbers, then the totals
            ops = template.table(values) if each else None
            parts = dict(zip(template.parts, values[template.numbers + 3:])) if template.parts else \
                self.footprint(B, S, past)
        weights = parts["weights"]
        if template is not None and weights == self.weights:      # the same device view as last time
            dev, clock, peak = self.dev, self.timer, self.peak
        else:
            dev = device_for(self.hardware, weights)
            codes = ops if template is None else template.layout
            clock = timer(dev, self.stack, codes.kind, codes.prec, cal=self.cal)
            peak = dev.peak[int(codes.prec[0])] or run.hardware.peak_at(run.precisions.compute)
            if template is not None:
                self.weights, self.dev, self.timer, self.peak = weights, dev, clock, peak
        t_comp, t_mem, (lat_c, lat_m, lat_o) = clock.step(values, run.efficiency, self.stack.host_ahead, each)
        parts["runtime"] = self.runtime
        worst = weights + parts["kv_cache"] + parts["activations"] + parts["gradients"] + parts["optimizer"] + \
            self.runtime
        if worst > self.capacity:
            if raise_errors:
                _out_of_memory(run, worst, self.capacity)
            lat_m += max(min(weights, worst - self.capacity), 0.0) / self.host_bw   # streamed over the host link
        return ops, (t_comp, t_mem, clock.launch), dev, peak, parts, worst, lat_c, lat_m, lat_o

    def figures(self, run: Run, B, S, past) -> Step:
        solved = self.solve(run, B, S, past, each=False)
        parts, lat_c, lat_m, lat_o = solved[4], solved[6], solved[7], solved[8]
        latency = lat_c + lat_m + lat_o
        return Step(latency, lat_c, lat_m, lat_o, _bound(lat_c, lat_m, lat_o), parts,
                    step_energy(self.tdp, latency, lat_c + lat_m))

    def profile(self, run: Run, B, S, past, raise_errors: bool) -> PerformanceProfile:
        ops, t, dev, peak, parts, worst, lat_c, lat_m, lat_o = self.solve(run, B, S, past, raise_errors)
        latency = lat_c + lat_m + lat_o
        return _profile(run, self.phase, B, S, parts, self.capacity, ops, t, dev, peak, lat_c, lat_m, lat_o, latency,
                        min(ops.model_flops / (latency * peak), 1.0), min(ops.flops_total / (latency * peak), 1.0),
                        _bound(lat_c, lat_m, lat_o), worst <= self.capacity, max(worst - self.capacity, 0.0))


def _bound(compute: float, memory: float, overhead: float) -> str:
    """The bound of one configuration's step: what takes most of its time."""
    return "Overhead" if overhead > max(compute, memory) else ("Memory" if memory > compute else "Compute")


_STRUCTURES: dict = {}


def calibration_of(run: Run):
    """The timing constants a run asks for: its own Calibration or its file's, else its device's shipped
    default (its own profile where one was measured on it, else the H100-fitted constants)."""
    cal = run.calibration
    if cal is None:
        return device_calibration(_zoo_key(run.hardware))
    return load_calibration(cal) if isinstance(cal, str) else cal


_KEYS: dict = {}


def _zoo_key(hw) -> str | None:
    """The zoo key of a device record, or of the zoo device a modified copy keeps the name of (a what-if on an
    H200 is still timed with the H200's constants); None for a device of one's own. Remembered by identity."""
    found = _KEYS.get(id(hw))
    if found is None or found[0] is not hw:
        from ..hardware.registry import Hardware
        key = Hardware.key_of(hw) or next((k for k, zoo in Hardware.items() if zoo.name == hw.name), None)
        found = _KEYS[id(hw)] = (hw, key)
    return found[1]


def _structure(run: Run, phase: str) -> _Structure:
    """The structure of ``run``'s step, cached. Records are keyed by identity (they are long-lived, and the
    structure keeps them, so an identity seen again with the same record is that record)."""
    key = (id(run.workload), phase, run.precisions, id(run.profile), run.layout if phase == "train" else None,
           id(run.hardware), run.calibration if isinstance(run.calibration, str) else id(run.calibration))
    found = _STRUCTURES.get(key)
    if found is None or found.workload is not run.workload or found.stack is not run.profile or \
            found.hardware is not run.hardware:
        if len(_STRUCTURES) > 4096:
            _STRUCTURES.clear()
        found = _STRUCTURES[key] = _Structure(run, phase) if run.profile.first_order is None else \
            FirstOrderStep(run, phase, _zoo_key(run.hardware))
    return found


def _weighted(x: np.ndarray, count: np.ndarray):
    """Sum over operators of x times its count (per configuration in a sweep): one matrix product when the
    counts do not change across the sweep."""
    if count.ndim == 1 or count.size == len(count):
        return np.tensordot(count.reshape(-1), x, axes=(0, 0))
    return (x * count.reshape(count.shape + (1,) * (x.ndim - count.ndim))).sum(axis=0)


__all__ = ["Engine", "SingleNodeModel", "Step", "figures_at", "solve_step", "step_figures"]
