"""``Engine.solve``: one step of a workload on one device, operator by operator.

The workload's family lowers the step to operators, the execution profile decides how they are
launched and fused, the calibrated timing layer times each one, and :func:`step_times` adds them
up. A run (``mlsysim.run.Run``) carries every input; ``Engine.solve`` with the 0.1.0 keywords
builds one.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..core.slices import map_slices
from ..errors import InputError, OOMError
from ..hardware.links import host_link_bw
from ..hardware.power import step_energy
from ..ops import Template
from ..run import Run, resolve_hardware
from ..solver import Solver
from ..units import format_si
from .device import device_for
from .profile import PerformanceProfile
from .timing import step_times, times

#: a large sweep is solved in slices of about this many configurations, so each slice's
#: per-operator arrays stay in the CPU caches (4x faster than one pass over a million points)
SWEEP_CHUNK = 16384


class Engine:
    """The single-device performance model (walls 1 and 2: compute and memory)."""

    @staticmethod
    def solve(model, hardware=None, batch_size=1, precision="fp16", efficiency=None, raise_errors=False,
              is_training=False, seq_len=None, zero_stage=0, dp_size=1, is_lora=False,
              activation_recomputation=False, *, phase=None, stack=None, weight_precision=None,
              kv_precision=None, activation_precision=None, optimizer="adam", past_len=0) -> PerformanceProfile:
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
        precision) and ``kv_precision`` override each.
        """
        if isinstance(model, Run):
            if hardware is not None:
                raise InputError("a Run names its own hardware; call Engine.solve(run) alone")
            return solve_step(model, raise_errors)
        run = Run.build(model, hardware, phase=phase, training=is_training, batch_size=batch_size, seq_len=seq_len,
                        past_len=past_len, precision=precision, weight_precision=weight_precision,
                        activation_precision=activation_precision, kv_precision=kv_precision, stack=stack,
                        efficiency=efficiency, dp=dp_size, zero_stage=zero_stage, recompute=activation_recomputation,
                        optimizer=optimizer, lora=is_lora)
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
    if run.fleet is not None or run.site is not None or run.prompt_len is not None or run.output_len is not None \
            or not run.layout.single_device or run.layout.microbatches is not None or run.layout.v_stages != 1:
        run.refuse("Engine.solve", "fleet", "tp", "pp", "ep", "microbatches", "v_stages", "prompt_len", "output_len",
                   "site")
    w = run.workload
    phase = run.step_phase()
    run.family.check_phase(w, phase)
    S = run.context
    past = run.past_len
    if phase != "prefill" and (np.any(past) if isinstance(past, np.ndarray) else past):
        raise InputError("past_len (tokens already cached) applies to the prefill phase only")
    window = getattr(w, "context_length", None)
    if window:
        total = S + past
        if (np.any(total > window) if isinstance(total, np.ndarray) else total > window):
            raise InputError(f"{np.max(total):g} tokens exceed {w.name}'s context window of {window} tokens")
    B = run.batch_size
    shape = _sweep_shape(B, S, past)
    if shape and math.prod(shape) > 2 * SWEEP_CHUNK:
        return _chunked(run, phase, B, S, past, shape, raise_errors)
    return _step(run, phase, B, S, past, raise_errors)


def _sweep_shape(*sizes) -> tuple:
    arrays = [np.shape(x) for x in sizes if isinstance(x, np.ndarray) and np.ndim(x)]
    return np.broadcast_shapes(*arrays) if arrays else ()


def _chunked(run, phase, B, S, past, shape, raise_errors) -> PerformanceProfile:
    """Solve a big sweep slice by slice along its first axis and stitch the slices together."""
    rows = max(1, SWEEP_CHUNK // max(1, math.prod(shape[1:])))
    full = [np.broadcast_to(x, shape) if isinstance(x, np.ndarray) else x for x in (B, S, past)]

    def one(i):
        return _step(run, phase, *(x[i:i + rows] if isinstance(x, np.ndarray) else x for x in full),
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


def _step(run: Run, phase, B, S, past, raise_errors) -> PerformanceProfile:
    """One solve over scalars or (moderate) arrays of sizes."""
    w, hw, family, p = run.workload, run.hardware, run.family, run.precisions
    training = run.layout
    # memory first: it decides where the weights are read from
    parts = family.footprint(w, phase, B, S + past, p, training)
    total_mem = parts["weights"] + parts["kv_cache"] + parts["activations"] + parts["gradients"] + parts["optimizer"]
    capacity = float(hw.memory.capacity)
    sweep = isinstance(total_mem, np.ndarray)
    worst = float(total_mem.max()) if sweep else total_mem
    if raise_errors and worst > capacity:
        raise OOMError(f"{w.name} needs {format_si(worst, 'B')} but {hw.name} has "
                       f"{format_si(capacity, 'B')}", required_bytes=worst, available_bytes=capacity)
    weights = parts["weights"]
    dev = device_for(hw, float(np.min(weights)) if isinstance(weights, np.ndarray) else weights)
    profile, efficiency = run.profile, run.efficiency
    if isinstance(B, np.ndarray) or isinstance(S, np.ndarray) or isinstance(past, np.ndarray):
        ops = family.lower(w, phase, B, S, p, past=past, fusions=profile.fuses, training=training)
    else:
        ops = _table(w, phase, B, S, past, p, profile.fuses, training)
    mnkg = ops.mnkg if ops.mnkg is not None else np.stack(np.broadcast_arrays(ops.M, ops.N, ops.K, ops.G))
    t = times(dev, profile, ops.kind, ops.prec, ops.flops, ops.bytes, mnkg, efficiency)
    t_c, t_m, t_l = t
    busy, overhead = step_times(t_c, t_m, t_l, profile)
    c = ops.count
    peak = dev.peak[int(ops.prec[0])] or hw.peak_at(p.compute)
    tdp = float(hw.tdp or 0.0)
    if busy.ndim == 1 and not sweep:
        lat_c = float(np.where(t_c >= t_m, busy, 0.0) @ c)
        lat_m = float(busy @ c) - lat_c
        lat_o = float(overhead @ c)
        if worst > capacity:       # what does not fit streams over the host link every step
            lat_m += max(min(weights, worst - capacity), 0.0) / host_link_bw(hw)
        latency = lat_c + lat_m + lat_o
        mfu = min(float(ops.model_flops) / (latency * peak), 1.0)
        hfu = min(float(ops.flops_total) / (latency * peak), 1.0)
        energy = step_energy(tdp, latency, lat_c + lat_m)
        bottleneck = "Overhead" if lat_o > max(lat_c, lat_m) else ("Memory" if lat_m > lat_c else "Compute")
        feasible = worst <= capacity
    else:
        lat_c = _weighted(np.where(t_c >= t_m, busy, 0.0), c)
        lat_m = _weighted(busy, c) - lat_c
        lat_o = _weighted(overhead, c)
        if worst > capacity:
            lat_m = lat_m + np.clip(np.minimum(weights, total_mem - capacity), 0.0, None) / host_link_bw(hw)
        latency = lat_c + lat_m + lat_o
        mfu = np.minimum(ops.model_flops / (latency * peak), 1.0)
        hfu = np.minimum(ops.flops_total / (latency * peak), 1.0)
        energy = step_energy(tdp, latency, lat_c + lat_m)
        bottleneck = np.where(lat_o > np.maximum(lat_c, lat_m), "Overhead",
                              np.where(lat_m > lat_c, "Memory", "Compute"))
        feasible = total_mem <= capacity
    samples, unit = family.throughput(phase, B, S)
    return PerformanceProfile(
        model_name=w.name, hardware_name=hw.name, phase=phase, batch_size=B, seq_len=S, precision=run.precision,
        stack=str(profile), latency_s=latency, latency_compute_s=lat_c, latency_memory_s=lat_m,
        latency_overhead_s=lat_o, flops_total=ops.flops_total, bytes_total=ops.bytes_total, samples_per_step=samples,
        bottleneck=bottleneck, memory_parts=parts, memory_capacity_b=capacity,
        peak_flops_b=peak if efficiency is None else peak * efficiency, peak_bw_b=dev.mem_bw, mfu=mfu, hfu=hfu,
        energy_j=energy, feasible=feasible, offload_spill_bytes=max(worst - capacity, 0.0),
        throughput_unit=unit, op_table=ops, op_times=t, execution_profile=profile)


_TEMPLATES: dict = {}


def _table(w, phase, B, S, past, p, fusions, training):
    """The operator table of one configuration: from the structure's traced template when its lowering is a
    polynomial in the sizes (most are), else from the lowering itself."""
    key = (w, phase, p, fusions, (training.optimizer, training.recompute) if phase == "train" else None)
    template = _TEMPLATES.get(key, False)
    if template is False:
        if len(_TEMPLATES) > 4096:
            _TEMPLATES.clear()
        template = _TEMPLATES[key] = Template.trace(
            lambda b, s, cached: w.family.operators(w, phase, b, s, p, past=cached, fusions=fusions, training=training))
    if template is None:
        return w.family.lower(w, phase, B, S, p, past=past, fusions=fusions, training=training)
    return template.table(B, S, past)


def _weighted(x: np.ndarray, count: np.ndarray):
    """Sum over operators of x times its count (per configuration in a sweep)."""
    return x @ count if x.ndim == 1 else (x * count.reshape(count.shape + (1,) * (x.ndim - count.ndim))).sum(axis=0)


__all__ = ["Engine", "SingleNodeModel", "solve_step"]
