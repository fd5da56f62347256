"""Training compute: FLOPs of a transformer run, its duration, pipeline bubbles, delivered FLOP/s, roofline.

SI cores (``*_si``: FLOP, FLOP/s, seconds; floats or NumPy arrays) for the solvers; unit-checked
public formulas around them.
"""
from __future__ import annotations

import math

from ._check import link, number, result, si

#: training FLOPs per parameter per token: forward 2, backward 4 (Kaplan et al. 2020, §2.1)
TRAIN_FLOPS_PER_PARAM_TOKEN = 6.0


# --- SI cores ----------------------------------------------------------------------------------------
def training_flops_si(params, tokens):
    """C ≈ 6·N·D: forward 2 FLOPs and backward 4 per parameter per token (Kaplan et al. 2020, §2.1)."""
    return TRAIN_FLOPS_PER_PARAM_TOKEN * params * tokens


def training_time_si(total_flops, devices, peak_flops, efficiency):
    """T = C / (n · peak · η)."""
    return total_flops / (devices * peak_flops * efficiency)


def bubble_fraction_si(idle_slots, microbatches):
    """Idle fraction of a pipeline step = b / (m + b): ``idle_slots`` b microbatch-times of bubble beside m of work."""
    return idle_slots / (microbatches + idle_slots)


def pipeline_bubble_si(stages, microbatches, virtual_stages=1):
    """Idle fraction = (p − 1) / (v·m + p − 1), i.e. b / (m + b) with b = (p − 1)/v bubble slots: GPipe and
    1F1B (v = 1), interleaved 1F1B with v chunks per device (Narayanan et al. 2021, §2.2)."""
    return bubble_fraction_si((stages - 1) / virtual_stages, microbatches)


def effective_flops_si(peak_flops, mfu, scaling_efficiency, goodput_ratio):
    """Delivered = peak · MFU · η_scaling · goodput/rawput."""
    return peak_flops * mfu * scaling_efficiency * goodput_ratio


def roofline_si(flops, bytes_moved, peak_flops, bandwidth):
    """(T_compute = F/peak, T_memory = bytes/β); the larger binds (Williams et al. 2009, the roofline)."""
    return flops / peak_flops, bytes_moved / bandwidth


# --- unit-checked public formulas ------------------------------------------------------------------
@link(training_flops_si)
def training_flops(params, tokens):
    """Training compute of a dense transformer: C ≈ 6·N·D FLOPs (Kaplan et al. 2020, "Scaling Laws", §2.1)."""
    return result(training_flops_si(number(params, "params", minimum=0), number(tokens, "tokens", minimum=0)),
                  "FLOP count")


@link(training_time_si)
def training_time(total_flops, devices, peak_flops, efficiency):
    """Wall time of ``total_flops`` on ``devices`` at ``efficiency`` of their peak: T = C / (n·peak·η)."""
    return result(training_time_si(si(total_flops, "FLOP count", "total_flops"),
                                   number(devices, "devices", minimum=1),
                                   si(peak_flops, "compute rate", "peak_flops", positive=True),
                                   number(efficiency, "efficiency", positive=True)), "time")


@link(pipeline_bubble_si)
def pipeline_bubble(stages, microbatches, virtual_stages=1):
    """Pipeline bubble fraction (p − 1)/(v·m + p − 1) (GPipe, Huang et al. 2019; interleaved 1F1B, Narayanan
    et al. 2021 §2.2)."""
    return pipeline_bubble_si(number(stages, "stages", minimum=1), number(microbatches, "microbatches", minimum=1),
                              number(virtual_stages, "virtual_stages", minimum=1))


@link(effective_flops_si)
def effective_flops(peak_flops, mfu, scaling_efficiency, goodput_ratio):
    """FLOP/s a fleet delivers after every loss: peak · MFU · η_scaling · goodput/rawput."""
    return result(effective_flops_si(si(peak_flops, "compute rate", "peak_flops"),
                                     number(mfu, "mfu", minimum=0, maximum=1),
                                     number(scaling_efficiency, "scaling_efficiency", minimum=0, maximum=1),
                                     number(goodput_ratio, "goodput_ratio", minimum=0, maximum=1)), "compute rate")


@link(roofline_si)
def roofline_bottleneck(flops, bytes_moved, peak_flops, bandwidth):
    """Roofline (Williams et al. 2009): T_compute = F/peak, T_memory = bytes/β; the larger binds.

    Returns a dict: ``compute_time``, ``memory_time`` (Quantities), ``bottleneck`` ("Compute" or "Memory"),
    ``ratio`` (larger over smaller time) and ``intensity`` (FLOP per byte).
    """
    f, b = si(flops, "FLOP count", "flops"), si(bytes_moved, "data size", "bytes_moved")
    t_c, t_m = roofline_si(f, b, si(peak_flops, "compute rate", "peak_flops", positive=True),
                           si(bandwidth, "data rate", "bandwidth", positive=True))
    memory_bound = t_m > t_c
    hi, lo = (t_m, t_c) if memory_bound else (t_c, t_m)
    return {"compute_time": result(t_c, "time"), "memory_time": result(t_m, "time"),
            "bottleneck": "Memory" if memory_bound else "Compute",
            "ratio": hi / lo if lo > 0 else math.inf,
            "intensity": f / b if b > 0 else (math.inf if f > 0 else 0.0)}


__all__ = ["TRAIN_FLOPS_PER_PARAM_TOKEN", "bubble_fraction_si", "effective_flops", "effective_flops_si",
           "pipeline_bubble", "pipeline_bubble_si", "roofline_bottleneck", "roofline_si", "training_flops",
           "training_flops_si", "training_time", "training_time_si"]
