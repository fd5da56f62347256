"""``Engine.solve``: one step of a workload on one device, operator by operator."""
from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache

import numpy as np

from ..core.slices import map_slices
from ..errors import InputError, OOMError
from ..hardware.types import HardwareNode, normalize_precision
from ..models.graph import PHASES, Precisions, lower
from ..models.types import SSMWorkload, TransformerWorkload, Workload
from ..solvers.power import IDLE_FRACTION
from ..units import format_si
from . import timing
from .memory import footprint
from .profile import PerformanceProfile

STACKS = ("eager", "graph", "compiled")


def resolve_model(model) -> Workload:
    if isinstance(model, Workload):
        return model
    if isinstance(model, str):
        from ..models.registry import Models

        return Models.get(model)
    raise InputError(f"model must be a Workload or a model name, got {type(model).__name__}")


def resolve_hardware(hardware) -> HardwareNode:
    if isinstance(hardware, HardwareNode):
        return hardware
    if isinstance(hardware, str):
        from ..hardware.registry import Hardware

        return Hardware.get(hardware)
    accel = getattr(hardware, "accelerator", None) or getattr(getattr(hardware, "node", None), "accelerator", None)
    if isinstance(accel, HardwareNode):
        return accel
    raise InputError(f"hardware must be a HardwareNode or a hardware name, got {type(hardware).__name__}")


def check_sizes(name: str, value, minimum: float = 1.0):
    """A positive, finite size (scalar or array); arrays come back as float arrays."""
    if isinstance(value, bool) or value is None:
        raise InputError(f"{name} must be a number >= {minimum:g}, got {value!r}")
    try:
        arr = np.asarray(value, dtype=float) if not isinstance(value, (int, float)) else None
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number (or an array of numbers), got {value!r}") from None
    if arr is None:
        if not math.isfinite(value) or value < minimum:
            raise InputError(f"{name} must be a finite number >= {minimum:g}, got {value!r}")
        return value
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < minimum):
        raise InputError(f"{name} must be finite and >= {minimum:g} everywhere")
    return arr if arr.ndim else float(arr)


def default_phase(model: Workload, is_training: bool) -> str:
    if is_training:
        return "train"
    if isinstance(model, SSMWorkload) or (isinstance(model, TransformerWorkload) and model.is_decoder):
        return "decode"
    return "forward"


@lru_cache(maxsize=256)
def device_for(hw: HardwareNode, working_set: float) -> timing.Device:
    """The timing view of ``hw``; devices that keep weights in SRAM or flash read at that speed."""
    dev = hw.timing_device
    mem = hw.memory
    if mem.sram_capacity and mem.sram_bandwidth and working_set <= float(mem.sram_capacity):
        return replace(dev, mem_bw=float(mem.sram_bandwidth))
    if mem.flash_bandwidth and working_set > float(mem.sram_capacity or 0.0):
        return replace(dev, mem_bw=min(dev.mem_bw, float(mem.flash_bandwidth)))
    return dev


class Engine:
    """The single-device performance model (walls 1 and 2: compute and memory)."""

    @staticmethod
    def solve(model, hardware, batch_size=1, precision="fp16", efficiency=None, raise_errors=False,
              is_training=False, seq_len=None, zero_stage=0, dp_size=1, is_lora=False,
              activation_recomputation=False, *, phase=None, stack=None, weight_precision=None,
              kv_precision=None, activation_precision=None, optimizer="adam", past_len=0) -> PerformanceProfile:
        """Latency, throughput, bottleneck, memory and energy of one step.

        ``batch_size`` and ``seq_len`` may be NumPy arrays (a sweep): every figure of the
        profile is then an array of the broadcast shape. ``efficiency`` overrides the
        calibrated compute efficiency when given. ``phase`` is ``forward``, ``prefill``,
        ``decode`` or ``train`` (default: ``decode`` for language models, ``forward`` for the
        rest, ``train`` when ``is_training``); ``stack`` is ``eager``, ``graph`` or ``compiled``.
        ``past_len`` (prefill only) is the number of tokens already in the KV cache: the new
        ``seq_len`` tokens attend to them as well. ``precision`` sets weights, activations and KV
        cache at once; ``weight_precision``, ``activation_precision`` (the matmuls' precision) and
        ``kv_precision`` override each.
        """
        kwargs = dict(precision=precision, efficiency=efficiency, raise_errors=raise_errors, is_training=is_training,
                      zero_stage=zero_stage, dp_size=dp_size, is_lora=is_lora,
                      activation_recomputation=activation_recomputation, phase=phase, stack=stack,
                      weight_precision=weight_precision, kv_precision=kv_precision,
                      activation_precision=activation_precision, optimizer=optimizer)
        shape = _sweep_shape(batch_size, seq_len, past_len)
        if shape and math.prod(shape) > 2 * SWEEP_CHUNK:
            return _chunked(model, hardware, batch_size, seq_len, past_len, shape, kwargs)
        return _solve(model, hardware, batch_size, seq_len, past_len, **kwargs)

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


#: a large sweep is solved in slices of about this many configurations, so each slice's
#: per-operator arrays stay in the CPU caches (4x faster than one pass over a million points)
SWEEP_CHUNK = 16384


def _sweep_shape(*sizes) -> tuple:
    arrays = [np.shape(x) for x in sizes if isinstance(x, np.ndarray) and np.ndim(x)]
    return np.broadcast_shapes(*arrays) if arrays else ()


def _chunked(model, hardware, B, S, past, shape, kwargs) -> PerformanceProfile:
    """Solve a big sweep slice by slice along its first axis and stitch the slices together."""
    rows = max(1, SWEEP_CHUNK // max(1, math.prod(shape[1:])))
    full = [np.broadcast_to(x, shape) if isinstance(x, np.ndarray) else x for x in (B, S, past)]
    def one(i):
        return _solve(model, hardware, *(x[i:i + rows] if isinstance(x, np.ndarray) else x for x in full), **kwargs)

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


def _solve(model, hardware, batch_size, seq_len, past_len, *, precision, efficiency, raise_errors, is_training,
           zero_stage, dp_size, is_lora, activation_recomputation, phase, stack, weight_precision, kv_precision,
           activation_precision, optimizer) -> PerformanceProfile:
    """One solve over scalars or (moderate) arrays of sizes."""
    model, hw = resolve_model(model), resolve_hardware(hardware)
    B = check_sizes("batch_size", batch_size)
    if efficiency is not None:
        if isinstance(efficiency, bool) or not isinstance(efficiency, (int, float)) \
                or not (0.0 < efficiency <= 1.0):
            raise InputError(f"efficiency must be in (0, 1], got {efficiency!r}")
    phase = phase or default_phase(model, is_training)
    if phase not in PHASES:
        raise InputError(f"unknown phase '{phase}'; use one of {', '.join(PHASES)}")
    is_lm = isinstance(model, (TransformerWorkload, SSMWorkload))
    if phase in ("prefill", "decode") and not is_lm:
        raise InputError(f"phase '{phase}' needs a language model; {model.name} is not one")
    if seq_len is None:
        seq_len = 2048 if (is_lm and getattr(model, "is_decoder", True)) else 128
    S = check_sizes("seq_len", seq_len)
    past = check_sizes("past_len", past_len, minimum=0.0)
    if np.any(past) and phase != "prefill":
        raise InputError("past_len (tokens already cached) applies to the prefill phase only")
    context = getattr(model, "context_length", None)
    total = S + past
    if context and (np.any(total > context) if isinstance(total, np.ndarray) else total > context):
        raise InputError(f"{np.max(total):g} tokens exceed {model.name}'s context window of {context} tokens")
    stack = stack or ("eager" if phase == "train" else "compiled")
    if stack not in STACKS:
        raise InputError(f"unknown stack '{stack}'; use one of {', '.join(STACKS)}")
    if optimizer not in ("adam", "sgd"):
        raise InputError(f"unknown optimizer '{optimizer}'; use adam or sgd")
    if zero_stage not in (0, 1, 2, 3):
        raise InputError(f"zero_stage must be 0, 1, 2 or 3, got {zero_stage!r}")
    dp_size = int(check_sizes("dp_size", dp_size))

    prec = normalize_precision(precision)
    wprec = normalize_precision(weight_precision or prec)
    kvprec = normalize_precision(kv_precision or ("fp16" if prec in ("int4", "fp4") else prec))
    if activation_precision is not None:       # W8A16, W4A16, ...: matmuls run at the activations' precision
        compute_prec = normalize_precision(activation_precision)
        hw.peak_at(compute_prec)
    else:
        compute_prec = prec if hw.compute.rate(prec) else None
        if compute_prec is None and prec in ("int4", "fp4") and hw.compute.rate("fp16"):
            compute_prec = "fp16"                  # weight-only quantization: dequantize, compute in fp16
        if compute_prec is None:
            hw.peak_at(prec)                       # raises the unsupported-precision sentence
    act = "fp16" if compute_prec in ("int4", "fp4") else compute_prec
    if act in ("fp8", "int8"):
        act = "fp16" if phase == "train" else act
    p = Precisions(wprec, act, kvprec, compute_prec)

    # memory first: it decides where the weights are read from
    parts = footprint(model, phase, B, total, p, recompute=activation_recomputation, optimizer=optimizer,
                      zero_stage=zero_stage, dp_size=dp_size, is_lora=is_lora)
    total_mem = sum(parts.values())
    capacity = float(hw.memory.capacity)
    sweep = isinstance(total_mem, np.ndarray)
    worst = float(total_mem.max()) if sweep else total_mem
    if raise_errors and worst > capacity:
        raise OOMError(f"{model.name} needs {format_si(worst, 'B')} but {hw.name} has "
                       f"{format_si(capacity, 'B')}", required_bytes=worst, available_bytes=capacity)

    weights = parts["weights"]
    dev = device_for(hw, float(np.min(weights)) if isinstance(weights, np.ndarray) else weights)
    ops, (t_c, t_m, t_l) = _timed(model, phase, B, S, p, stack, activation_recomputation, optimizer, dev,
                                  efficiency, past)
    busy = np.maximum(t_c, t_m)
    if stack == "eager":       # the framework launches ahead of the GPU: launch cost shows only past busy time
        per_op = np.maximum(busy, t_l)
        overhead = per_op - busy
    else:                      # graph replay: each kernel's launch gap adds to its time
        per_op = busy + t_l
        overhead = t_l
    c = ops.count
    lat_c = _weighted(np.where(t_c >= t_m, busy, 0.0), c)
    lat_m = _weighted(busy, c) - lat_c
    lat_o = _weighted(overhead, c)
    if worst > capacity:       # what does not fit streams over the host link every step
        offload_bw = float(hw.interconnect.bandwidth) if hw.interconnect else 64e9
        lat_m = lat_m + np.clip(np.minimum(weights, total_mem - capacity), 0.0, None) / offload_bw
    latency = lat_c + lat_m + lat_o

    peak = dev.peak[int(ops.prec.flat[0])] or hw.peak_at(compute_prec)
    time_peak = latency * peak
    mfu = np.minimum(ops.model_flops / time_peak, 1.0)
    hfu = np.minimum(ops.flops_total / time_peak, 1.0)
    energy = float(hw.tdp or 0.0) * (IDLE_FRACTION * latency + (1.0 - IDLE_FRACTION) * (lat_c + lat_m))
    if sweep or np.ndim(latency):
        bottleneck = np.where(lat_o > np.maximum(lat_c, lat_m), "Overhead",
                              np.where(lat_m > lat_c, "Memory", "Compute"))
    else:
        bottleneck = "Overhead" if lat_o > max(lat_c, lat_m) else ("Memory" if lat_m > lat_c else "Compute")
        latency, lat_c, lat_m, lat_o = float(latency), float(lat_c), float(lat_m), float(lat_o)
        mfu, hfu, energy = float(mfu), float(hfu), float(energy)
    by_class = np.bincount(ops.class_index, weights=(per_op * c).reshape(len(c), -1)[:, 0])
    samples = B * S if (phase == "train" and is_lm) else B
    unit = "tokens/s" if phase == "decode" or (phase == "train" and is_lm) else \
        ("sequences/s" if phase == "prefill" else "samples/s")
    return PerformanceProfile(
        model_name=model.name, hardware_name=hw.name, phase=phase, batch_size=B, seq_len=S, precision=prec,
        stack=stack, latency_s=latency, latency_compute_s=lat_c, latency_memory_s=lat_m,
        latency_overhead_s=lat_o, flops_total=ops.flops_total, bytes_total=ops.bytes_total,
        samples_per_step=samples,
        bottleneck=bottleneck, bottleneck_op=ops.class_names[int(by_class.argmax())], memory_parts=parts,
        memory_capacity_b=capacity, peak_flops_b=peak if efficiency is None else peak * efficiency,
        peak_bw_b=dev.mem_bw, mfu=mfu, hfu=hfu, energy_j=energy, feasible=total_mem <= capacity,
        offload_spill_bytes=max(worst - capacity, 0.0), throughput_unit=unit, op_table=ops,
        op_times=(t_c, t_m, t_l))

def _timed(model, phase, B, S, p: Precisions, stack, recompute, optimizer, dev, efficiency, past):
    """The operator table and each operator's (compute, memory, launch) time.

    Both are pure functions of their inputs, so a scalar configuration is computed once and
    reused: a repeated solve (a notebook cell, a search revisiting a point) skips straight to
    the totals. Sweeps (array sizes) are always computed.
    """
    if any(isinstance(x, np.ndarray) for x in (B, S, past)):
        ops = lower(model, phase, B, S, p, fuse_epilogues=stack == "compiled", recompute=recompute,
                    optimizer=optimizer, past_len=past)
        return ops, _op_times(ops, dev, stack, efficiency)
    return _timed_cached(model, phase, B, S, p.names, stack, recompute, optimizer, dev, efficiency, past)


@lru_cache(maxsize=2048)
def _timed_cached(model, phase, B, S, names, stack, recompute, optimizer, dev, efficiency, past):
    ops = lower(model, phase, B, S, Precisions(*names), fuse_epilogues=stack == "compiled", recompute=recompute,
                optimizer=optimizer, past_len=past)
    times = _op_times(ops, dev, stack, efficiency)
    for column in (*ops[4:15], *times):          # shared by every later solve: nobody may edit them
        column.setflags(write=False)
    return ops, times


def _op_times(ops, dev, stack, efficiency):
    return timing.op_times(dev, ops.kind, ops.prec, ops.flops, ops.bytes, ops.M, ops.N, ops.K, ops.G, stack=stack,
                           efficiency=efficiency)


def _weighted(x: np.ndarray, count: np.ndarray):
    """Sum over operators of x times its count (per configuration in a sweep)."""
    return x @ count if x.ndim == 1 else (x * count).sum(axis=0)


__all__ = ["Engine"]
