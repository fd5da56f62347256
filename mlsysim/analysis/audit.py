"""Measuring this machine: matrix multiplies at several shapes and precisions, memory bandwidth and the cost of
launching one small operation, beside the closest device in the zoo; and the timing constants they imply.

NumPy measures any CPU; PyTorch measures a CUDA GPU when one is present (``backend="torch"``). What comes back
is what was measured (best of a few repeats, after a warm-up), never a datasheet figure. Two files can be
written from it: a calibration in calibration.yaml's layout (the shipped constants with the measured
compute fractions, memory fraction and launch cost put in), which ``calibration=`` / ``--calibration`` makes
predictions use; and a device file (``--write-device``) for a machine the zoo does not hold, its rates the
measured ones.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from ..engine.timing import Calibration, load_calibration
from ..errors import InputError
from ..ops import KIND_NAMES, PREC_NAMES
from ..solver import Result
from ..units import format_number, format_si

#: square matrix sizes timed (``quick``: the first two)
SHAPES = (256, 1024, 2048)
#: bytes copied to time memory bandwidth (``quick``: a quarter); far beyond any last-level cache
COPY_BYTES = 256 * 2**20
#: operator kinds whose speed is the memory's (their calibrated fractions scale with the measured bandwidth)
_STREAMING = ("memory", "fused", "norm", "softmax")


@dataclass(frozen=True)
class AuditResult(Result):
    """What this machine measured, and the zoo device it is compared with."""

    backend: str
    device_name: str
    #: the zoo device the figures are set beside (None when nothing in the zoo is this machine)
    zoo_key: str | None
    #: best measured dense matmul rate per precision (FLOP/s), and per (precision, size)
    matmul_flops: dict
    matmul_by_size: dict
    memory_bandwidth: float
    #: seconds to issue one small operation (a kernel launch on a GPU, one NumPy call on a CPU)
    launch_s: float
    zoo_peak_flops: dict = field(default_factory=dict)
    zoo_memory_bandwidth: float | None = None

    def fractions(self) -> dict:
        """Measured over datasheet, per figure the zoo device states."""
        out = {f"matmul {p}": self.matmul_flops[p] / self.zoo_peak_flops[p]
               for p in self.matmul_flops if self.zoo_peak_flops.get(p)}
        if self.zoo_memory_bandwidth:
            out["memory bandwidth"] = self.memory_bandwidth / self.zoo_memory_bandwidth
        return out


def audit(backend: str = "auto", quick: bool = False, hardware=None) -> AuditResult:
    """Measure this machine with ``backend`` (``numpy``, ``torch`` for a CUDA GPU, or ``auto``: the GPU when
    there is one) and set it beside ``hardware`` (a zoo name) or the zoo device its name matches."""
    if backend not in ("auto", "numpy", "torch"):
        raise InputError(f"unknown audit backend '{backend}'; use auto, numpy or torch")
    gpu = cuda_device() if backend in ("auto", "torch") else None
    if backend == "torch" and gpu is None:
        raise InputError("backend 'torch' needs PyTorch with a CUDA GPU, and none was found")
    raw = measure_torch(quick) if gpu is not None else measure_numpy(quick)
    name = gpu or _cpu_name()
    key = hardware if hardware is not None else closest_zoo_device(name)
    peaks, bw = {}, None
    if key is not None:
        from ..run import resolve_hardware
        hw = resolve_hardware(key)
        peaks = {p: hw.compute.rate(p) for p in raw["matmul"] if hw.compute.rate(p)}
        bw = float(hw.memory.bandwidth)
    return AuditResult(backend="torch" if gpu else "numpy", device_name=name, zoo_key=key,
                       matmul_flops={p: max(v.values()) for p, v in raw["matmul"].items()},
                       matmul_by_size=raw["matmul"], memory_bandwidth=raw["memory_bandwidth"],
                       launch_s=raw["launch_s"], zoo_peak_flops=peaks, zoo_memory_bandwidth=bw,
                       binding=f"measured with {'PyTorch on ' + gpu if gpu else 'NumPy on the CPU'}",
                       assumptions=("best of several repeats after a warm-up; matmul FLOPs = 2 n^3",
                                    "memory bandwidth: a copy's bytes read plus written over its time",
                                    "launch: the time of an operation on one element"))


def calibration_from(result: AuditResult, base: Calibration | None = None) -> Calibration:
    """The timing constants this machine implies: ``base`` (the shipped ones) with the measured compute
    fraction of each precision the zoo device rates, the streaming kinds' memory fractions scaled to the
    measured bandwidth, and the measured launch cost as the eager per-kernel cost."""
    base = base or load_calibration()
    compute = list(base.max_fraction)
    for p, flops in result.matmul_flops.items():
        peak = result.zoo_peak_flops.get(p)
        if peak and p in PREC_NAMES:
            compute[PREC_NAMES.index(p)] = min(flops / peak, 1.0)
    memory = list(base.mem_fraction)
    if result.zoo_memory_bandwidth:
        ratio = result.memory_bandwidth / result.zoo_memory_bandwidth
        reference = base.mem_fraction[KIND_NAMES.index("memory")]
        for kind in _STREAMING:
            i = KIND_NAMES.index(kind)
            memory[i] = min(base.mem_fraction[i] * ratio / reference, 1.0)
    return replace(base, max_fraction=tuple(compute), mem_fraction=tuple(memory), launch_eager_s=result.launch_s,
                   source=f"mlsysim audit of {result.device_name} ({result.backend})")


def device_fact(result: AuditResult, capacity_bytes: float | None = None) -> dict:
    """A device entry (hardware.yaml's layout) whose rates are this machine's measured ones."""
    rates = {p: round(f / 1e12, 6) for p, f in result.matmul_flops.items()}
    capacity = capacity_bytes or _host_memory()
    return {"name": f"{result.device_name} (measured)", "release_year": time.gmtime().tm_year,
            "compute": {"peak_tflops": rates},
            "memory": {"capacity": f"{format_number(capacity / 2**30)} GiB",
                       "bandwidth": format_si(result.memory_bandwidth, "B/s")},
            "source": f"mlsysim audit ({result.backend}): measured matmul rates and copy bandwidth, not datasheet "
                      f"figures"}


def closest_zoo_device(name: str) -> str | None:
    """The zoo key whose device name shares the most words with this one, its model number among them (a
    tie goes to the zoo's first entry, the part's main form); None when no zoo device names the model."""
    from ..hardware.registry import Hardware

    words = set(_words(name))
    best, score = None, 0
    for key, hw in Hardware.items():
        wanted = [w for w in _words(hw.name) if w not in ("nvidia", "amd", "intel", "google", "apple")]
        model = next((w for w in wanted if any(c.isdigit() for c in w)), None)
        hits = sum(w in words for w in wanted)
        if model in words and hits > score:
            best, score = key, hits
    return best


# --- measurements ---------------------------------------------------------------------------------
def measure_numpy(quick: bool = False) -> dict:
    """Matmul rates (fp32, fp64), copy bandwidth and the cost of one small NumPy call on this CPU."""
    shapes = SHAPES[:2] if quick else SHAPES
    matmul = {}
    for prec, dtype in (("fp32", np.float32), ("fp64", np.float64)):
        matmul[prec] = {}
        for n in shapes:
            a, b = np.ones((n, n), dtype), np.ones((n, n), dtype)
            matmul[prec][n] = 2.0 * n**3 / _best(lambda a=a, b=b: a @ b, 3 if quick else 5)
    nbytes = COPY_BYTES // (4 if quick else 1)
    src, dst = np.ones(nbytes // 8), np.empty(nbytes // 8)
    bandwidth = 2.0 * nbytes / _best(lambda: np.copyto(dst, src), 3)
    one, out = np.ones(1), np.empty(1)
    reps = 1000
    launch = _best(lambda: [np.add(one, one, out=out) for _ in range(reps)], 3) / reps
    return {"matmul": matmul, "memory_bandwidth": bandwidth, "launch_s": launch}


def measure_torch(quick: bool = False) -> dict:     # pragma: no cover - needs a CUDA GPU
    """Matmul rates (fp16, bf16, fp32; fp8 where supported is left to the calibration script), device copy
    bandwidth and the launch cost of a one-element kernel, on the current CUDA device."""
    import torch

    sync = torch.cuda.synchronize
    shapes = (1024, 4096) if quick else (1024, 4096, 8192)
    matmul = {}
    for prec, dtype in (("fp16", torch.float16), ("bf16", torch.bfloat16), ("fp32", torch.float32)):
        matmul[prec] = {}
        for n in shapes:
            a, b = torch.ones((n, n), dtype=dtype, device="cuda"), torch.ones((n, n), dtype=dtype, device="cuda")
            matmul[prec][n] = 2.0 * n**3 / _best(lambda a=a, b=b: (a @ b, sync()), 5)
    nbytes = 1 << 30
    src, dst = torch.empty(nbytes, dtype=torch.uint8, device="cuda"), torch.empty(nbytes, dtype=torch.uint8,
                                                                                 device="cuda")
    bandwidth = 2.0 * nbytes / _best(lambda: (dst.copy_(src), sync()), 5)
    x, reps = torch.ones(1, device="cuda"), 1000

    def launches():
        for _ in range(reps):
            x.add_(1.0)
        sync()
    launch = _best(launches, 3) / reps
    return {"matmul": matmul, "memory_bandwidth": bandwidth, "launch_s": launch}


def cuda_device() -> str | None:
    """The current CUDA device's name, or None without PyTorch or a GPU (the one place a GPU is asked for)."""
    try:
        import torch
    except ImportError:
        return None
    return torch.cuda.get_device_name() if torch.cuda.is_available() else None


def _best(fn, repeats: int) -> float:
    fn()                                     # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return max(min(times), 1e-9)


def _words(name: str) -> list[str]:
    import re
    return [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


def _cpu_name() -> str:
    import platform
    return platform.processor() or platform.machine() or "this CPU"


def _host_memory() -> float:
    import os
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 16.0 * 2**30
