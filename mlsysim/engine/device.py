"""The plain-float view of an accelerator that the timing layer reads, and where a step reads its
weights from (HBM, on-chip SRAM, or flash)."""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from ..ops import PREC_NAMES
from .timing import Device


@lru_cache(maxsize=256)
def device_of(hw) -> Device:
    """The datasheet figures of ``hw`` as the timing layer reads them (built once per record)."""
    compute = hw.compute
    return Device(peak=tuple(compute.rate(p) or 0.0 for p in PREC_NAMES), mem_bw=float(hw.memory.bandwidth),
                  units=int(compute.units or 0) if compute.tile_waves else 0,
                  clock_hz=float(compute.clock_ghz or 0.0) * 1e9, l2_bytes=float(hw.memory.l2_cache or 0.0),
                  matrix_arrays=bool(compute.matrix_arrays))


@lru_cache(maxsize=256)
def device_for(hw, working_set: float) -> Device:
    """The timing view of ``hw`` for a step whose weights take ``working_set`` bytes: devices that keep
    weights in SRAM or flash read them at that speed."""
    dev = device_of(hw)
    mem = hw.memory
    if mem.sram_capacity and mem.sram_bandwidth and working_set <= float(mem.sram_capacity):
        return replace(dev, mem_bw=float(mem.sram_bandwidth))
    if mem.flash_bandwidth and working_set > float(mem.sram_capacity or 0.0):
        return replace(dev, mem_bw=min(dev.mem_bw, float(mem.flash_bandwidth)))
    return dev


@lru_cache(maxsize=64)
def resident(hw):
    """The device with unbounded memory: a shard or a streamed model is timed as if resident, and
    the caller judges what fits from the footprint it knows (which one device cannot see)."""
    return hw.model_copy(update={"memory": hw.memory.model_copy(update={"capacity": float("inf")})})
