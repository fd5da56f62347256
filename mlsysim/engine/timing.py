"""Calibrated operator timing: roofline per operator, with structural efficiencies.

Every operator costs ``max(t_compute, t_memory) + t_launch``:

* ``t_compute = flops / (peak[prec] * eff)`` where ``eff`` is the product of

  - a maximum achievable fraction per precision class (what a tuned kernel reaches on a big
    problem) and per operator class (convolution, flash attention, vector units);
  - tile quantization: the output is cut into ``tile_m x tile_n`` tiles, a partly filled
    tile costs a full one (``M / (ceil(M/tm) tm)``, same for N);
  - wave quantization: tiles run in waves of ``units`` (SMs); the last wave is partly idle
    (``tiles / (ceil(tiles/units) units)``); a device with ``units == 0`` skips it;
  - a reduction-length term ``R / (R + r_half)``: every tile pays a fixed prologue/epilogue
    worth ``r_half`` reduction steps (R = K for a GEMM or convolution, the mean number of
    keys per query for flash attention);
  - for convolutions, a penalty when the reduction dimension is not 16-byte aligned (tiny
    input-channel counts such as an RGB stem cannot use the aligned tensor-core path).

* ``t_memory = (bytes + bw * ramp_latency) / (bw * mem_fraction[kind])``: the achievable
  fraction of datasheet bandwidth per operator class, with a ramp for small transfers (a
  transfer of ``bw * ramp_latency`` bytes reaches half of it).

* ``t_launch = kernels[kind] * per_kernel[stack] + (stack == eager) * dispatch[kind]``:
  the per-kernel launch cost of the software stack (measured: eager framework launches and
  CUDA-graph replay) plus, in eager mode, the framework's extra host work for heavier
  operators (library heuristics, SDPA backend selection).

All constants live in ``data/calibration.yaml`` (fitted by ``scripts/fit_calibration.py`` on
operator microbenchmarks of one H100 SXM) and are device independent: another device enters
only through its datasheet figures (peak per precision, bandwidth, compute units).

Everything is NumPy-vectorized: any argument may be a scalar or an array; arrays broadcast.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field

import numpy as np

# op kind codes
GEMM, ATTN_PREFILL, ATTN_DECODE, CONV, DWCONV, MEMORY, FUSED = 0, 1, 2, 3, 4, 5, 6
# memory-bound kernels that reach less bandwidth than a copy (MEMORY covers elementwise/copy)
NORM, SOFTMAX = 7, 8
N_KINDS = 9
KIND_NAMES = ("gemm", "attn_prefill", "attn_decode", "conv", "dwconv", "memory", "fused", "norm", "softmax")

# precision codes for the compute dtype of an op
FP32, TF32, FP16, FP8, INT8, INT4 = 0, 1, 2, 3, 4, 5  # FP16 covers bf16
N_PRECS = 6
PREC_NAMES = ("fp32", "tf32", "fp16", "fp8", "int8", "int4")
#: bytes per element of each precision (the operand width that sets 16-byte alignment)
ELT_BYTES = (4.0, 4.0, 2.0, 1.0, 1.0, 0.5)

STACKS = {"eager": 0, "graph": 1, "cuda_graph": 1, "cudagraph": 1, "compiled": 1, "engine": 1, "tensorrt": 1}

DEFAULT_PATH = os.path.join(os.path.dirname(__file__), "data", "calibration.yaml")


@dataclass(frozen=True, slots=True)
class Device:
    peak: tuple[float, ...]   # dense FLOP/s indexed by precision code (0.0 where unsupported)
    mem_bw: float             # bytes/s (datasheet)
    units: int                # compute units (SMs/CUs); 0 = unknown
    clock_hz: float = 0.0     # 0 = unknown
    l2_bytes: float = 0.0     # 0 = unknown


@dataclass(frozen=True, slots=True)
class Calibration:
    """The constants of the timing model (see calibration.yaml for what each one means)."""

    # compute: maximum achievable fraction of datasheet peak per precision class
    max_fraction: tuple[float, ...] = (0.76, 0.72, 0.75, 0.68, 0.68, 0.68)
    # compute: per-tile overhead in reduction (K) steps, per precision class
    k_half: tuple[float, ...] = (64.0, 600.0, 400.0, 900.0, 900.0, 900.0)
    tile_m: float = 128.0
    tile_n: float = 128.0
    conv_fraction: float = 0.85
    conv_k_half: float = 400.0
    misaligned_fraction: float = 0.35
    attn_fraction: float = 0.85
    attn_tile_q: float = 128.0
    attn_kv_half: float = 500.0
    decode_tile_rows: float = 64.0
    vector_fraction: float = 0.5
    fused_fraction: float = 0.6
    # memory: achievable fraction of datasheet bandwidth per op kind, and the small-transfer ramp
    mem_fraction: tuple[float, ...] = (0.90, 0.90, 0.93, 0.78, 0.78, 0.92, 0.90, 0.66, 0.39)
    ramp_latency_s: float = 0.5e-6
    # launch: per-kernel cost of each stack, kernels per op kind, eager-only host work per kind
    launch_eager_s: float = 7.97e-6
    launch_graph_s: float = 1.21e-6
    kernels: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    eager_dispatch_s: tuple[float, ...] = (10e-6, 25e-6, 20e-6, 15e-6, 15e-6, 0.0, 0.0, 3e-6, 0.0)
    # measurement only (scripts/calibration_report.py): latency an isolated, event-timed op adds
    event_latency_s: float = 7e-6
    source: str = ""
    # derived lookup tables (not constants)
    _kt: np.ndarray = field(init=False, repr=False, compare=False)
    _pt: np.ndarray = field(init=False, repr=False, compare=False)
    _launch: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        kt = np.zeros((11, N_KINDS))
        # rows: 0 frac_kind, 1 tile_m, 2 tile_n, 3 r_half(kind), 4 is_prefill, 5 is_decode,
        #       6 wave flag, 7 vector flag, 8 align flag, 9 mem_fraction, 10 uses N as tile column
        frac = np.ones(N_KINDS)
        frac[CONV] = self.conv_fraction
        frac[[ATTN_PREFILL, ATTN_DECODE]] = self.attn_fraction
        frac[[DWCONV, MEMORY, NORM, SOFTMAX]] = self.vector_fraction
        frac[FUSED] = self.fused_fraction
        kt[0] = frac
        kt[1] = 1.0
        kt[2] = 1.0
        kt[1, [GEMM, CONV]] = self.tile_m
        kt[2, [GEMM, CONV]] = self.tile_n
        kt[1, ATTN_PREFILL] = self.attn_tile_q
        kt[1, ATTN_DECODE] = self.decode_tile_rows
        kt[3, GEMM] = 1.0
        kt[3, CONV] = self.conv_k_half / self.k_half[FP16]
        kt[3, ATTN_PREFILL] = self.attn_kv_half / self.k_half[FP16]
        kt[4, ATTN_PREFILL] = 1.0
        kt[5, ATTN_DECODE] = 1.0
        kt[6, [GEMM, CONV, ATTN_PREFILL]] = 1.0
        kt[7, [DWCONV, MEMORY, NORM, SOFTMAX]] = 1.0
        kt[8, CONV] = 1.0
        kt[9] = self.mem_fraction
        kt[10, [GEMM, CONV]] = 1.0
        pt = np.array([self.max_fraction, self.k_half, ELT_BYTES], dtype=float)
        launch = np.array([np.asarray(self.kernels) * self.launch_eager_s + np.asarray(self.eager_dispatch_s),
                           np.asarray(self.kernels) * self.launch_graph_s])
        object.__setattr__(self, "_kt", kt)
        object.__setattr__(self, "_pt", pt)
        object.__setattr__(self, "_launch", launch)

    # -- YAML ---------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict, source: str = "") -> "Calibration":
        c, m, lch = d["compute"], d["memory"], d["launch"]
        per_prec = lambda x: tuple(float(x[p]) for p in PREC_NAMES)  # noqa: E731
        per_kind = lambda x: tuple(float(x[k]) for k in KIND_NAMES)  # noqa: E731
        return cls(
            max_fraction=per_prec(c["max_fraction"]), k_half=per_prec(c["k_half"]),
            tile_m=float(c["tile_m"]), tile_n=float(c["tile_n"]),
            conv_fraction=float(c["conv_fraction"]), conv_k_half=float(c["conv_k_half"]),
            misaligned_fraction=float(c["misaligned_fraction"]),
            attn_fraction=float(c["attn_fraction"]), attn_tile_q=float(c["attn_tile_q"]),
            attn_kv_half=float(c["attn_kv_half"]), decode_tile_rows=float(c["decode_tile_rows"]),
            vector_fraction=float(c["vector_fraction"]), fused_fraction=float(c["fused_fraction"]),
            mem_fraction=per_kind(m["fraction"]), ramp_latency_s=float(m["ramp_latency_s"]),
            launch_eager_s=float(lch["per_kernel_s"]["eager"]), launch_graph_s=float(lch["per_kernel_s"]["graph"]),
            kernels=per_kind(lch["kernels"]), eager_dispatch_s=per_kind(lch["eager_dispatch_s"]),
            event_latency_s=float(d.get("measurement", {}).get("event_latency_s", 0.0)),
            source=source)

    def to_dict(self) -> dict:
        pp = lambda x: {p: float(v) for p, v in zip(PREC_NAMES, x)}  # noqa: E731
        pk = lambda x: {k: float(v) for k, v in zip(KIND_NAMES, x)}  # noqa: E731
        return {
            "compute": {"max_fraction": pp(self.max_fraction), "k_half": pp(self.k_half),
                        "tile_m": self.tile_m, "tile_n": self.tile_n,
                        "conv_fraction": self.conv_fraction, "conv_k_half": self.conv_k_half,
                        "misaligned_fraction": self.misaligned_fraction,
                        "attn_fraction": self.attn_fraction, "attn_tile_q": self.attn_tile_q,
                        "attn_kv_half": self.attn_kv_half, "decode_tile_rows": self.decode_tile_rows,
                        "vector_fraction": self.vector_fraction, "fused_fraction": self.fused_fraction},
            "memory": {"fraction": pk(self.mem_fraction), "ramp_latency_s": self.ramp_latency_s},
            "launch": {"per_kernel_s": {"eager": self.launch_eager_s, "graph": self.launch_graph_s},
                       "kernels": pk(self.kernels), "eager_dispatch_s": pk(self.eager_dispatch_s)},
            "measurement": {"event_latency_s": self.event_latency_s},
        }


@functools.lru_cache(maxsize=8)
def load_calibration(path: str | None = None) -> Calibration:
    """The calibration constants from ``calibration.yaml`` (cached; built-in defaults if absent)."""
    p = DEFAULT_PATH if path is None else os.fspath(path)
    if path is None and not os.path.exists(p):
        return Calibration(source="built-in defaults")
    import yaml  # only on first load

    with open(p) as fh:
        d = yaml.safe_load(fh)
    return Calibration.from_dict(d, source=p)


class _Tables:
    """Per (device, calibration) lookup tables, so that op_times is a handful of ufunc calls."""

    __slots__ = ("dev", "cal", "peak", "ramp_bytes", "inv_bw", "launch", "units", "pre", "dec", "nsel", "tm",
                 "tn", "tmn", "gmul", "kbase", "rate", "rhalf", "amod", "apen")

    def __init__(self, dev: Device, cal: Calibration):
        self.dev, self.cal = dev, cal
        peak = np.zeros(N_PRECS)
        vals = [float(x) for x in tuple(dev.peak)[:N_PRECS]]
        peak[:len(vals)] = vals
        peak = np.where(peak > 0, peak, 1e-9)  # unsupported precision: effectively infinite time
        bw = float(dev.mem_bw)
        kt = cal._kt
        self.peak = peak
        self.ramp_bytes = np.array(bw * cal.ramp_latency_s)
        self.inv_bw = 1.0 / (bw * kt[9])
        self.launch = cal._launch
        units = float(dev.units) if dev.units and dev.units > 0 else 0.0
        self.units = np.array(units) if units > 0 else None
        self.pre, self.dec, self.nsel = kt[4].copy(), kt[5].copy(), kt[10].copy()
        self.tm, self.tn = kt[1].copy(), kt[2].copy()
        self.tmn = kt[1] * kt[2]
        # tiles of kinds without wave quantization are scaled by `units` so that they fill whole waves
        self.gmul = np.where(kt[6] > 0, 1.0, units if units > 0 else 1.0)
        self.kbase = np.arange(N_KINDS, dtype=np.intp) * N_PRECS
        # per (kind, precision), flat index kind * N_PRECS + prec
        vec = kt[7][:, None] > 0
        pidx = np.where(vec, FP32, np.arange(N_PRECS)[None, :])
        pt = cal._pt
        self.rate = (peak[pidx] * pt[0][pidx] * kt[0][:, None]).ravel()
        self.rhalf = (kt[3][:, None] * pt[1][pidx]).ravel()
        self.amod = np.broadcast_to(16.0 / pt[2][None, :], pidx.shape).ravel().copy()
        self.apen = np.broadcast_to(kt[8][:, None] * (cal.misaligned_fraction - 1.0), pidx.shape).ravel().copy()


_TABLES: dict = {}
_LAST: list = [None]


def _tables(dev: Device, cal: Calibration) -> _Tables:
    tb = _LAST[0]
    if tb is not None and tb.dev is dev and tb.cal is cal:
        return tb
    key = (dev, id(cal))
    tb = _TABLES.get(key)
    if tb is None or tb.cal is not cal:
        if len(_TABLES) > 256:
            _TABLES.clear()
        tb = _TABLES[key] = _Tables(dev, cal)
    _LAST[0] = tb
    return tb


_ONE = np.array(1.0)
_QUARTER = np.array(0.25)


def op_times(dev: Device, kind, prec, flops, bytes_, M, N, K, G, *, stack="eager", efficiency=None, cal=None):
    """Per-op ``(t_compute, t_memory, t_launch)`` in seconds, each an ndarray broadcast over the inputs.

    kind, prec: int codes; flops, bytes_: per-op totals; M, N, K, G: shape fields, per kind:
      GEMM: C[M,N] = A[M,K] @ B[K,N], G independent GEMMs in one batched launch (1 normally)
      CONV / DWCONV: implicit GEMM M = batch*Ho*Wo, N = Cout per group, K = Cin_per_group*k*k, G = groups
      ATTN_PREFILL: M query tokens, N key tokens, K head_dim, G = batch*q_heads (flops count causality)
      ATTN_DECODE: M query tokens per sequence, N KV length, K head_dim, G = batch*kv_heads
      MEMORY / NORM / SOFTMAX: shape unused; bytes_ moved
      FUSED: a whole workload known only by flops and bytes
    stack: "eager" (a framework launching each kernel) or "graph" (CUDA graphs / a compiled
    engine; also accepted: "cuda_graph", "compiled", "engine", "tensorrt").
    efficiency: None for the calibrated compute efficiency, or a float in (0, 1] that replaces it
    (compute time = flops / (peak[prec] * efficiency)); the memory side stays calibrated.
    The op time is ``max(t_compute, t_memory) + t_launch``.
    """
    if cal is None:
        cal = load_calibration()
    tb = _tables(dev, cal)
    try:
        s = STACKS[stack]
    except KeyError:
        raise ValueError(f"stack {stack!r} is not one of {sorted(STACKS)}") from None
    kind = np.asarray(kind, dtype=np.intp)
    flops = np.asarray(flops, dtype=float)
    t_mem = (np.asarray(bytes_, dtype=float) + tb.ramp_bytes) * tb.inv_bw[kind]
    t_launch = tb.launch[s][kind]
    prec = np.asarray(prec, dtype=np.intp)
    if efficiency is not None:
        t_comp = flops / (tb.peak[prec] * float(efficiency))
    else:
        kp = tb.kbase[kind] + prec
        Kq = np.maximum(K, _ONE)
        Mq = np.maximum(M, _ONE)
        Nq = np.maximum(N, _ONE)
        q = flops * _QUARTER / (Kq * np.maximum(G, _ONE))
        # flash attention: reduction = mean keys per query; decode: tile rows = query rows per KV head
        red = Kq + tb.pre[kind] * (q / Mq - Kq)
        Mt = Mq + tb.dec[kind] * (q / Nq - Mq)
        Nt = np.maximum(Nq * tb.nsel[kind], _ONE)
        cmn = np.ceil(Mt / tb.tm[kind]) * np.ceil(Nt / tb.tn[kind])
        rate = (tb.rate[kp] / tb.tmn[kind]) * (Mt * Nt / cmn)     # tile-quantized rate
        rate = rate * (red / (red + tb.rhalf[kp]))                # short-reduction penalty
        rate = rate * (np.sign(np.fmod(Kq, tb.amod[kp])) * tb.apen[kp] + _ONE)  # misaligned K (conv)
        if tb.units is not None:
            tiles = cmn * (np.maximum(G, _ONE) * tb.gmul[kind])
            rate = rate * (tiles / (np.ceil(tiles / tb.units) * tb.units))   # wave quantization
        t_comp = flops / rate
    if t_comp.shape != t_mem.shape or t_comp.shape != t_launch.shape:
        shape = np.broadcast_shapes(t_comp.shape, t_mem.shape, t_launch.shape)
        t_comp, t_mem, t_launch = (np.broadcast_to(x, shape).copy() for x in (t_comp, t_mem, t_launch))
    return t_comp, t_mem, t_launch


def op_time(dev: Device, *args, **kw):
    """``max(t_compute, t_memory) + t_launch`` per op (same arguments as ``op_times``)."""
    tc, tm, tl = op_times(dev, *args, **kw)
    return np.maximum(tc, tm) + tl


H100_SXM = Device(peak=(67e12, 494.7e12, 989.4e12, 1978.9e12, 1978.9e12, 0.0), mem_bw=3.35e12, units=132,
                  clock_hz=1.98e9, l2_bytes=50e6)

__all__ = ["GEMM", "ATTN_PREFILL", "ATTN_DECODE", "CONV", "DWCONV", "MEMORY", "FUSED", "NORM", "SOFTMAX",
           "FP32", "TF32", "FP16", "FP8", "INT8", "INT4", "Device", "Calibration", "load_calibration",
           "op_times", "op_time", "H100_SXM"]
