"""Feeding the accelerator: storage and host-link ingestion (wall 8) and CPU preprocessing (wall 9).

The accelerator consumes samples at ``samples_per_step / step_time`` (the step from
``Engine.solve``). Stored samples cross storage at that rate (JPEG files, token shards) and
decoded tensors cross the host link (PCIe) into device memory. Loading overlaps compute, so a
path slower than the demand stretches every step to the path's time: the accelerator then waits
a fraction ``1 - supply/demand`` of the time. CPU preprocessing (decode, augment, tokenize) is
a third supplier, with ``cores x per-core rate`` samples per second.
Every function here takes SI floats and works unchanged on NumPy arrays.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.engine import Engine
from ..errors import InputError
from ..hardware.links import HOST_LINK_BW
from ..hardware.links import SOURCES as LINK_SOURCES
from ..models.types import Workload
from ..run import resolve_hardware, resolve_model
from ..solver import Result, Solver, verdict
from ..units import format_number, format_si, parse, quantity

#: a stored ImageNet training image: ILSVRC-2012's 1,281,167 training JPEGs take 138 GB
IMAGENET_JPEG_BYTES = 138e9 / 1_281_167
#: a stored token id: uint32 (vocabularies above 65,536 entries, e.g. Llama 3's 128k)
TOKEN_BYTES = 4.0
#: storage read rate per accelerator when neither the call nor the device record gives one:
#: one local NVMe PCIe 4.0 x4 drive's sequential read (Samsung 990 PRO datasheet, 7,450 MB/s)
DEFAULT_STORAGE_BW = 7.45e9
#: CPU preprocessing rates per core (samples/s) by task. Stated assumptions, not measurements:
#: replace them with a profile of your own pipeline (``per_core_rate=``)
PER_CORE_RATES = {
    "jpeg_decode_augment": 100.0,   # ImageNet JPEG decode + RandomResizedCrop(224) + flip, PIL/libjpeg-turbo
    "tokenize": 5.0e5,              # tokens/s per core of a Rust BPE tokenizer (HF tokenizers / tiktoken class)
    "pretokenized": 2.0e7,          # tokens/s per core to read and collate pre-tokenized shards (memcpy-bound)
}

SOURCES = {
    "imagenet": "stored image: ILSVRC-2012 training set, 1,281,167 JPEGs in 138 GB (image-net.org download "
                "page), 108 KB each on average",
    "token": "stored token id: 4 bytes (uint32; Llama 3's 128,256-entry vocabulary does not fit uint16)",
    "storage": "storage default: 7.45 GB/s per accelerator, one NVMe PCIe 4.0 x4 drive's sequential read "
               "(Samsung 990 PRO datasheet); random reads of small files are slower, shared filesystems "
               "give a per-client share",
    "overlap": "loading overlaps compute (prefetching): a path slower than the demand stretches each step "
               "to its own time; the stall fraction is 1 - supply/demand",
    "cpu": "CPU preprocessing per-core rates are stated assumptions (decode+augment 100 images/s, "
           "tokenize 0.5 M tokens/s); data stalls from CPU preprocessing are documented by Mohan et al., "
           "'Analyzing and Mitigating Data Stalls in DNN Training', VLDB 2021",
}


def stall_fraction(demand, supply):
    """Fraction of time the accelerator waits when a path supplies ``supply`` of ``demand`` (B/s)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(1.0 - np.asarray(supply, dtype=float) / demand, 0.0, 1.0)


def _stored_and_device_bytes(model) -> tuple[float, float, str]:
    """Bytes per sample in storage and on the host link, for the sample unit the engine counts."""
    if model.family.sample == "token":
        return TOKEN_BYTES, TOKEN_BYTES, SOURCES["token"]
    if model.family.sample == "image":
        r = float(model.resolution or 224)
        return IMAGENET_JPEG_BYTES, 3.0 * r * r, SOURCES["imagenet"] + f"; decoded uint8 3x{r:g}x{r:g} on the link"
    raise InputError(f"give sample_bytes for {model.name}: no default sample size for a {model.family} workload")


def _consumption(model, hardware, batch_size, step_time, is_training, precision):
    """(samples/s, step seconds, samples per step) from the engine, or from a given step time."""
    prof = Engine.solve(model, hardware, batch_size=batch_size, precision=precision, is_training=is_training)
    per_step = float(prof.samples_per_step)
    if step_time is not None:
        t = parse(step_time, "s", "step_time", positive=True)
        return per_step / t, t, per_step
    return per_step / prof.latency_s, prof.latency_s, per_step


# --- DataModel -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DataResult(Result):
    """Ingestion demand against storage and host-link supply (SI bytes per second)."""

    samples_per_s: float
    step_time_s: float
    stored_sample_bytes: float
    device_sample_bytes: float
    storage_demand_bw: float
    host_link_demand_bw: float
    storage_bw: float
    host_link_bw: float
    utilization: float           # the worse path's demand / supply
    stall_fraction: float
    bottleneck: str              # "storage", "host link" or "none"

    @property
    def is_stalled(self): return verdict(self.utilization > 1.0)
    @property
    def demand_bw(self):
        """Demand on the binding path (storage when neither binds)."""
        return quantity(self.host_link_demand_bw if self.bottleneck == "host link" else self.storage_demand_bw, "GB/s")
    @property
    def supply_bw(self):
        return quantity(self.host_link_bw if self.bottleneck == "host link" else self.storage_bw, "GB/s")
    @property
    def margin(self): return quantity(float(self.supply_bw) - float(self.demand_bw), "GB/s")
    @property
    def effective_step_time_s(self): return self.step_time_s / (1.0 - self.stall_fraction)

    def summary(self) -> str:
        head = "given rate" if np.isnan(self.samples_per_s) else f"{self.samples_per_s:,.0f} samples/s"
        return (f"{head}: storage {format_si(self.storage_demand_bw, 'B/s')} of "
                f"{format_si(self.storage_bw, 'B/s')}, host link {format_si(self.host_link_demand_bw, 'B/s')} of "
                f"{format_si(self.host_link_bw, 'B/s')}; bottleneck {self.bottleneck}, "
                f"stalled {self.stall_fraction:.0%} of the time")


class DataModel(Solver):
    """Can storage and the host link feed the accelerator? — wall 8 (ingestion)."""

    walls = (8,)

    def solve(self, workload_or_rate=None, hardware=None, batch_size=1, step_time=None, storage_bandwidth=None,
              *, host_link_bandwidth=None, sample_bytes=None, device_sample_bytes=None, is_training=True,
              precision="fp16", workload_data_rate=None) -> DataResult:
        """Data rate the accelerator consumes against what storage and the host link supply.

        ``workload_or_rate`` is a model (its consumption: samples per engine step over the step
        time, or over ``step_time`` when given) or a data rate (``"2 GB/s"``; 0.1.0's
        ``workload_data_rate``) that both paths must carry. ``storage_bandwidth`` and
        ``host_link_bandwidth`` default to the device record, then to one NVMe drive and PCIe 5.0.
        """
        if workload_or_rate is None:
            workload_or_rate = workload_data_rate
        if workload_or_rate is None or hardware is None:
            raise InputError("DataModel needs a workload (or a data rate) and the hardware it feeds")
        hw = resolve_hardware(hardware)
        notes = [SOURCES["overlap"]]
        if isinstance(workload_or_rate, (Workload, str)) and not _looks_like_rate(workload_or_rate):
            m = resolve_model(workload_or_rate)
            rate, t, _ = _consumption(m, hw, batch_size, step_time, is_training, precision)
            if sample_bytes is None:
                stored, dev, note = _stored_and_device_bytes(m)
                notes.append(note)
            else:
                stored = parse(sample_bytes, "B", "sample_bytes", positive=True)
                dev = stored
            if device_sample_bytes is not None:
                dev = parse(device_sample_bytes, "B", "device_sample_bytes", positive=True)
            notes.append(f"{m.name}: {rate:,.0f} samples/s ({'training' if is_training else 'inference'} step "
                         f"{format_si(t, 's')} from {'the caller' if step_time is not None else 'Engine.solve'})")
        else:
            demand = parse(workload_or_rate, "B/s", "workload data rate", positive=True)
            rate, t, stored, dev = float("nan"), float("nan"), float("nan"), float("nan")
            notes.append("a given data rate: storage and the host link each carry it")

        if storage_bandwidth is not None:
            s_bw = parse(storage_bandwidth, "B/s", "storage_bandwidth", positive=True)
        elif hw.storage is not None and float(hw.storage.bandwidth) > 0:
            s_bw = float(hw.storage.bandwidth)
            notes.append(f"storage: {hw.name}'s record, {format_si(s_bw, 'B/s')}")
        else:
            s_bw = DEFAULT_STORAGE_BW
            notes.append(SOURCES["storage"])
        if host_link_bandwidth is not None:
            h_bw = parse(host_link_bandwidth, "B/s", "host_link_bandwidth", positive=True)
        elif hw.interconnect is not None and float(hw.interconnect.bandwidth) > 0:
            h_bw = float(hw.interconnect.bandwidth)
            notes.append(f"host link: {hw.interconnect.name}, {format_si(h_bw, 'B/s')} per direction")
        else:
            h_bw = HOST_LINK_BW
            notes.append("host link default: " + LINK_SOURCES["host_link"])

        d_s, d_h = (demand, demand) if np.isnan(rate) else (rate * stored, rate * dev)
        u_s, u_h = d_s / s_bw, d_h / h_bw
        util = max(u_s, u_h)
        bottleneck = "none" if util <= 1.0 else ("storage" if u_s >= u_h else "host link")
        stall = float(stall_fraction(d_s if bottleneck != "host link" else d_h, s_bw if bottleneck != "host link"
                                     else h_bw)) if bottleneck != "none" else 0.0
        binding = ("storage and host link keep up" if bottleneck == "none" else
                   f"{bottleneck} supplies {1.0 / util:.0%} of the demand")
        return DataResult(samples_per_s=rate, step_time_s=t, stored_sample_bytes=stored, device_sample_bytes=dev,
                          storage_demand_bw=d_s, host_link_demand_bw=d_h, storage_bw=s_bw, host_link_bw=h_bw,
                          utilization=util, stall_fraction=stall, bottleneck=bottleneck,
                          assumptions=tuple(notes), binding=binding)


def _looks_like_rate(x) -> bool:
    return isinstance(x, str) and x.strip()[:1].isdigit()


# --- TransformationModel -------------------------------------------------------------------------
@dataclass(frozen=True)
class TransformationResult(Result):
    """CPU preprocessing against accelerator consumption, per step (SI seconds)."""

    transform_time_s: float
    accelerator_step_time_s: float
    cpu_samples_per_s: float
    accelerator_samples_per_s: float
    accelerator_utilization: float
    slowdown_factor: float
    cores_needed: float

    @property
    def is_bottleneck(self): return verdict(self.transform_time_s > self.accelerator_step_time_s)
    @property
    def transform_time(self): return quantity(self.transform_time_s, "ms")
    @property
    def accelerator_step_time(self): return quantity(self.accelerator_step_time_s, "ms")

    def summary(self) -> str:
        return (f"CPU {self.cpu_samples_per_s:,.0f} samples/s vs accelerator {self.accelerator_samples_per_s:,.0f}/s: "
                f"accelerator busy {self.accelerator_utilization:.0%}, {format_number(self.cores_needed)} cores needed")


class TransformationModel(Solver):
    """Can the host CPUs preprocess samples as fast as the accelerator consumes them? — wall 9."""

    walls = (9,)

    def solve(self, batch_size=None, sample_size_bytes=None, cpu_throughput=None, accelerator_step_time=None, *,
              model=None, hardware=None, cpu_cores=None, per_core_rate=None, task=None, is_training=True,
              precision="fp16") -> TransformationResult:
        """Preprocessing time per step against the accelerator's step time.

        Either 0.1.0's form (``batch_size``, ``sample_size_bytes``, ``cpu_throughput`` in B/s,
        ``accelerator_step_time``), or a ``model`` on ``hardware`` (step from ``Engine.solve``)
        fed by ``cpu_cores`` cores at ``per_core_rate`` samples/s each (default: ``task``'s
        stated rate; ``task`` defaults to ``jpeg_decode_augment`` for CNNs and ``tokenize`` for
        language models, whose samples are tokens).
        """
        notes = []
        if model is not None:
            if hardware is None or cpu_cores is None:
                raise InputError("a model needs the hardware it runs on and cpu_cores "
                                 "(host cores feeding one accelerator)")
            m, hw = resolve_model(model), resolve_hardware(hardware)
            cores = float(cpu_cores)
            if not np.isfinite(cores) or cores <= 0:
                raise InputError(f"cpu_cores must be positive, got {cpu_cores!r}")
            if task is None:
                task = "jpeg_decode_augment" if m.family.sample == "image" else "tokenize"
            if per_core_rate is None:
                if task not in PER_CORE_RATES:
                    raise InputError(f"unknown task '{task}'; use one of {', '.join(PER_CORE_RATES)} "
                                     "or give per_core_rate")
                per_core = PER_CORE_RATES[task]
                notes.append(SOURCES["cpu"])
            else:
                per_core = parse(per_core_rate, "1/s", "per_core_rate", positive=True)
            bs = 1 if batch_size is None else batch_size
            rate, step, per_step = _consumption(m, hw, bs, accelerator_step_time, is_training, precision)
            cpu = cores * per_core
            transform = per_step / cpu
            notes.append(f"{m.name}: {per_step:g} samples per step; {cores:g} cores x {per_core:,.0f}/s ({task})")
        else:
            if None in (batch_size, sample_size_bytes, cpu_throughput, accelerator_step_time):
                raise InputError("give batch_size, sample_size_bytes, cpu_throughput and accelerator_step_time, "
                                 "or a model, hardware and cpu_cores")
            b = float(batch_size)
            if not np.isfinite(b) or b < 1:
                raise InputError(f"batch_size must be >= 1, got {batch_size!r}")
            size = parse(sample_size_bytes, "B", "sample_size_bytes", positive=True)
            cpu_bw = parse(cpu_throughput, "B/s", "cpu_throughput", positive=True)
            step = parse(accelerator_step_time, "s", "accelerator_step_time", positive=True)
            transform = b * size / cpu_bw
            cpu, rate, per_core = cpu_bw / size, b / step, None
            notes.append("CPU throughput given in bytes per second of samples")
        util = step / max(transform, step)
        cores_needed = rate / per_core if per_core else float("nan")
        binding = ("CPU preprocessing keeps up" if transform <= step else
                   f"CPU preprocessing: {transform / step:.2f}x the accelerator step")
        return TransformationResult(transform_time_s=transform, accelerator_step_time_s=step, cpu_samples_per_s=cpu,
                                    accelerator_samples_per_s=rate, accelerator_utilization=util,
                                    slowdown_factor=max(transform, step) / step, cores_needed=cores_needed,
                                    assumptions=tuple(notes), binding=binding)


__all__ = ["DataModel", "DataResult", "TransformationModel", "TransformationResult", "stall_fraction"]
