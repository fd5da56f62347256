"""Accelerators as datasheets describe them: compute per precision, memory, links, power, price."""
from __future__ import annotations

from ..core.types import Bandwidth, Bytes, Dollars, FlopRate, Joules, Metadata, Record, Seconds, Watts
from ..errors import UnsupportedPrecisionError
from ..ops import PRECISION_BYTES, normalize_precision
from ..units import Q_

#: 16-bit formats share one tensor rate when a datasheet lists only one of them
_SAME_RATE = {"fp16": "bf16", "bf16": "fp16"}


class ComputeCore(Record):
    """Dense peak rates. ``peak_flops`` is the default (FP16/BF16 tensor) rate."""

    peak_flops: FlopRate
    precision_flops: dict[str, FlopRate] = {}
    units: int | None = None
    clock_ghz: float | None = None
    #: GEMM tiles are dispatched in waves over ``units`` (GPU SMs, NPU cores); False for spatial
    #: dataflow parts that lay a layer out across the whole array, where waves do not apply
    tile_waves: bool = True
    #: each unit is a fixed matrix array (TPU MXUs, Gaudi MMEs, NeuronCore tensor engines, NPU cores)
    #: rather than a core running GEMM tiles in software: its per-tile fixed cost is the array's fill
    #: and drain, a number of reduction steps, so it does not grow with the unit's speed as an SM's does
    matrix_arrays: bool = False

    def rate(self, precision: str) -> float | None:
        """Dense FLOP/s at ``precision`` from the datasheet, or None when the chip lists none."""
        table = self.precision_flops
        if precision in table:
            return float(table[precision])
        twin = _SAME_RATE.get(precision)
        if twin in table:
            return float(table[twin])
        return None if table else float(self.peak_flops)


class MemoryHierarchy(Record):
    capacity: Bytes
    bandwidth: Bandwidth
    type: str | None = None
    l2_cache: Bytes | None = None
    sram_capacity: Bytes | None = None
    sram_bandwidth: Bandwidth | None = None
    flash_capacity: Bytes | None = None
    flash_bandwidth: Bandwidth | None = None


class StorageHierarchy(Record):
    capacity: Bytes
    bandwidth: Bandwidth
    latency: Seconds | None = None


class IOInterconnect(Record):
    """A link; ``bandwidth`` is per direction."""

    name: str
    bandwidth: Bandwidth
    generation: int | None = None
    lanes: int | None = None
    links: int | None = None
    latency: Seconds | None = None

    @property
    def bandwidth_per_direction(self) -> Bandwidth:
        return self.bandwidth


class HardwareNode(Record):
    """One accelerator (or one wafer / rack that acts as one)."""

    name: str
    release_year: int
    compute: ComputeCore
    memory: MemoryHierarchy
    storage: StorageHierarchy | None = None
    interconnect: IOInterconnect | None = None
    nvlink: IOInterconnect | None = None
    weight_streaming: IOInterconnect | None = None
    tdp: Watts | None = None
    tdp_min: Watts | None = None
    tdp_max: Watts | None = None
    battery_capacity: Joules | None = None
    unit_cost: Dollars | None = None
    embodied_carbon_kg: float | None = None
    accelerator_count: int | None = None
    vendor: str | None = None
    form_factor: str | None = None
    dispatch_tax: Seconds | None = None
    metadata: Metadata = Metadata()

    def __repr__(self) -> str:
        return f"HardwareNode({self.name}, {self.release_year})"

    @classmethod
    def from_yaml(cls, path) -> HardwareNode:
        """A device from its spec sheet in a YAML file, laid out as a hardware.yaml entry."""
        from .registry import hardware_from_yaml

        return hardware_from_yaml(path)

    __str__ = __repr__

    # -- derived figures --------------------------------------------------------------------
    def peak_at(self, precision: str = "fp16") -> float:
        """Dense FLOP/s at ``precision``; raises when the chip has no rate for it."""
        p = normalize_precision(precision)
        rate = self.compute.rate(p)
        if rate is None or rate <= 0:
            known = ", ".join(sorted(self.compute.precision_flops)) or "fp16"
            raise UnsupportedPrecisionError(
                f"{self.name} has no datasheet rate for {p}; it supports {known}")
        return rate

    def ridge_point(self, precision: str | None = None):
        """FLOP per byte at which compute and memory time are equal (default: at the chip's peak), as a
        pint Quantity in FLOP/byte, as 0.1.0 returned it (``.m_as("flop/byte")`` for the number)."""
        peak = self.peak_at(precision) if precision else float(self.compute.peak_flops)
        return Q_(peak / float(self.memory.bandwidth), "FLOP/byte")

    @property
    def supported_precisions(self) -> list[str]:
        return [p for p in PRECISION_BYTES if self.compute.rate(p)]

    # -- 0.1.0 convenience names ------------------------------------------------------------
    @property
    def peak_flops(self): return self.compute.peak_flops
    @property
    def memory_bw(self): return self.memory.bandwidth
    @property
    def memory_capacity(self): return self.memory.capacity
    @property
    def ram(self): return self.memory.capacity
    @property
    def power_budget(self): return self.tdp
