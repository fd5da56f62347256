"""Calibrated operator timing: a roofline per operator, with structural efficiencies.

Every operator costs ``max(t_compute, t_memory) + t_launch``:

* ``t_compute = flops / (peak[prec] * eff)``, ``eff`` the product of

  - a maximum achievable fraction per precision class (what a tuned kernel sustains on a big
    problem at the power limit) and per operator class (convolution, flash attention; vector
    units for depthwise conv and memory-bound kernels, on the fp32 peak);
  - tile quantization: the output is cut into ``tile_m x tile_n`` tiles and a partly filled tile
    costs a full one (``M / (ceil(M/tm) tm)``, same for N);
  - wave quantization over the device's ``units`` (SMs): ``tiles / (ceil(tiles/units) units)``;
    with fewer tiles than units, K is split (split-K / stream-K) into up to ``units/tiles``
    parts of at least ``split_k_min``; a device with ``units == 0`` skips both;
  - a reduction-length term ``R / (R + r_half)``: each tile (or K split) pays a fixed
    prologue/epilogue worth ``r_half`` reduction steps (R = K for GEMM and convolution; for
    flash attention the mean number of keys per query, ``flops / (4 M K G)``);
  - decode attention: the MMA tile rows filled by the query rows of one KV head
    (``flops / (4 N K G)`` = query tokens x query heads per KV head);
  - convolutions: a penalty when K is not 16-byte aligned (tiny input-channel counts such as
    an RGB stem miss the aligned tensor-core path).

* ``t_memory = (bytes + bw * ramp_latency) / (bw * mem_fraction[kind])``: the achievable
  fraction of datasheet bandwidth per operator class, with a ramp for small transfers (a
  transfer of ``bw * ramp_latency`` bytes reaches half of it).

* ``t_launch = kernels[kind] * per_kernel[stack] + (stack == eager) * dispatch[kind]``: the
  per-kernel launch cost of the software stack (measured: a framework launching kernels one by
  one, and CUDA-graph replay, which compiled engines share) plus, when eager, the framework's
  extra host work for heavier operators (library heuristics, SDPA backend selection).

The constants live in ``data/calibration.yaml``, fitted by ``scripts/fit_calibration.py`` on
operator microbenchmarks of one H100 SXM (``scripts/calibration_report.py`` shows the fit row by
row). They are device independent: another device enters only through its datasheet figures
(peak per precision, bandwidth, compute units). No per-model factors.

Vectorized: any argument may be a scalar or an array; arrays broadcast (an op table of shape
``(n_ops,)`` or ``(n_ops, n_configs)``). Lookup tables are cached per (device, calibration) and
per op-code pattern, so a warm call is a few dozen ufunc calls.
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
    # the smallest tile edge a tensor-core kernel uses (mma m16n8k16); skinny GEMMs shrink their tile
    # to the problem (rounded up to a power of two), and operand swapping lets either edge be the small one
    min_tile: float = 16.0
    conv_fraction: float = 0.85
    conv_k_half: float = 400.0
    misaligned_fraction: float = 0.35
    split_k_min: float = 512.0
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
    kernels: tuple[float, ...] = (1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    eager_dispatch_s: tuple[float, ...] = (10e-6, 25e-6, 20e-6, 15e-6, 15e-6, 0.0, 0.0, 3e-6, 0.0)
    # measurement only (scripts/calibration_report.py), never used by op_times: the latency an
    # isolated, event-timed op adds; the boost clock of an isolated short compute-bound kernel
    # (op_times describes sustained operation at the power limit; an isolated kernel of compute time
    # t takes t * (r + (1 - r) * t / (t + tau)), r = boost_time_ratio, tau = boost_tau_s); the part of
    # L2 still holding a benchmark's inputs from its previous repetition (where inputs are not rotated)
    event_latency_s: float = 7e-6
    boost_time_ratio: float = 1.0
    boost_tau_s: float = 1e-3
    l2_retained_fraction: float = 0.0
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
        """From the nested layout of calibration.yaml (missing keys keep their defaults)."""
        c, m, lch, meas = (d.get(k) or {} for k in ("compute", "memory", "launch", "measurement"))
        kw: dict = {"source": source}

        def per(x, names, default):
            return tuple(float(x.get(n, dv)) for n, dv in zip(names, default))

        dflt = cls.__dataclass_fields__
        for name in ("tile_m", "tile_n", "min_tile", "conv_fraction", "conv_k_half", "misaligned_fraction",
                     "split_k_min", "attn_fraction", "attn_tile_q", "attn_kv_half", "decode_tile_rows",
                     "vector_fraction", "fused_fraction"):
            if name in c:
                kw[name] = float(c[name])
        if "max_fraction" in c:
            kw["max_fraction"] = per(c["max_fraction"], PREC_NAMES, dflt["max_fraction"].default)
        if "k_half" in c:
            kw["k_half"] = per(c["k_half"], PREC_NAMES, dflt["k_half"].default)
        if "fraction" in m:
            kw["mem_fraction"] = per(m["fraction"], KIND_NAMES, dflt["mem_fraction"].default)
        if "ramp_latency_s" in m:
            kw["ramp_latency_s"] = float(m["ramp_latency_s"])
        pk = lch.get("per_kernel_s") or {}
        if "eager" in pk:
            kw["launch_eager_s"] = float(pk["eager"])
        if "graph" in pk:
            kw["launch_graph_s"] = float(pk["graph"])
        if "kernels" in lch:
            kw["kernels"] = per(lch["kernels"], KIND_NAMES, dflt["kernels"].default)
        if "eager_dispatch_s" in lch:
            kw["eager_dispatch_s"] = per(lch["eager_dispatch_s"], KIND_NAMES, dflt["eager_dispatch_s"].default)
        for name in ("event_latency_s", "boost_time_ratio", "boost_tau_s", "l2_retained_fraction"):
            if name in meas:
                kw[name] = float(meas[name])
        return cls(**kw)

    def to_dict(self) -> dict:
        pp = lambda x: {p: float(v) for p, v in zip(PREC_NAMES, x)}  # noqa: E731
        pk = lambda x: {k: float(v) for k, v in zip(KIND_NAMES, x)}  # noqa: E731
        return {
            "compute": {"max_fraction": pp(self.max_fraction), "k_half": pp(self.k_half),
                        "tile_m": self.tile_m, "tile_n": self.tile_n, "min_tile": self.min_tile,
                        "conv_fraction": self.conv_fraction, "conv_k_half": self.conv_k_half,
                        "misaligned_fraction": self.misaligned_fraction, "split_k_min": self.split_k_min,
                        "attn_fraction": self.attn_fraction, "attn_tile_q": self.attn_tile_q,
                        "attn_kv_half": self.attn_kv_half, "decode_tile_rows": self.decode_tile_rows,
                        "vector_fraction": self.vector_fraction, "fused_fraction": self.fused_fraction},
            "memory": {"fraction": pk(self.mem_fraction), "ramp_latency_s": self.ramp_latency_s},
            "launch": {"per_kernel_s": {"eager": self.launch_eager_s, "graph": self.launch_graph_s},
                       "kernels": pk(self.kernels), "eager_dispatch_s": pk(self.eager_dispatch_s)},
            "measurement": {"event_latency_s": self.event_latency_s, "boost_time_ratio": self.boost_time_ratio,
                            "boost_tau_s": self.boost_tau_s, "l2_retained_fraction": self.l2_retained_fraction},
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
    """Per (device, calibration) lookup tables, so that op_times is a short run of ufunc calls."""

    __slots__ = ("dev", "cal", "peak", "ramp_bytes", "inv_bw", "launch", "waves", "pre", "dec", "nsel", "tm", "tn",
                 "skinny", "ukind", "ksplit", "kbase", "rate", "rhalf", "amod", "apen", "by_kinds")

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
        self.waves = units > 0
        self.pre, self.dec, self.nsel = kt[4].copy(), kt[5].copy(), kt[10].copy()
        # op_times works with q = flops / (K G) = 4 x (keys per query x query rows), so prefill's
        # reduction (keys per query) and decode's tile rows enter 4x: scale their constants by 4
        self.tm = kt[1] * np.where(kt[5] > 0, 4.0, 1.0)
        self.tn = kt[2].copy()
        # waves of `units` tiles for the kinds with wave quantization; 1 (no effect) for the others
        self.ukind = np.where(kt[6] > 0, units, 1.0) if units > 0 else np.ones(N_KINDS)
        # split-K (GEMM, conv): 1 / the smallest K a split keeps; 0 where the kind never splits
        self.ksplit = np.where(kt[10] > 0, 1.0 / cal.split_k_min, 0.0)
        self.kbase = np.arange(N_KINDS, dtype=np.intp) * N_PRECS
        # per (kind, precision), flat index kind * N_PRECS + prec; vector-unit kinds use the fp32 peak
        # (a chip without an fp32 rate, such as an int8-only NPU, runs them at its own precision's rate)
        vector = (kt[7][:, None] > 0) & (peak[FP32] > 1e-9)
        pidx = np.where(vector, FP32, np.arange(N_PRECS)[None, :])
        pt = cal._pt
        rate = peak[pidx] * pt[0][pidx] * kt[0][:, None] / (self.tm * self.tn * self.ukind)[:, None]
        self.rate = rate.ravel()
        self.rhalf = (kt[3][:, None] * pt[1][pidx] * np.where(kt[4] > 0, 4.0, 1.0)[:, None]).ravel()
        self.amod = np.broadcast_to(16.0 / pt[2][None, :], pidx.shape).ravel().copy()
        self.apen = np.broadcast_to(kt[8][:, None] * (cal.misaligned_fraction - 1.0), pidx.shape).ravel().copy()
        self.skinny = np.array(cal.min_tile) if cal.min_tile > 0 else None
        self.by_kinds: dict = {}

    def gather(self, kind: np.ndarray, prec: np.ndarray) -> tuple:
        """The per-op constants of an op list (cached by its kind and precision codes: a model's
        operator list keeps the same codes from call to call, only the shapes change)."""
        key = (kind.tobytes(), kind.shape, prec.tobytes(), prec.shape)
        g = self.by_kinds.get(key)
        if g is None:
            if len(self.by_kinds) > 512:
                self.by_kinds.clear()
            if kind.size and (kind.min() < 0 or kind.max() >= N_KINDS):
                raise ValueError(f"op kind codes must lie in 0..{N_KINDS - 1}, got {np.unique(kind).tolist()}")
            if prec.size and (prec.min() < 0 or prec.max() >= N_PRECS):
                raise ValueError(f"precision codes must lie in 0..{N_PRECS - 1}, got {np.unique(prec).tolist()}")
            kp = self.kbase[kind] + prec
            present = set(np.unique(kind).tolist())
            g = self.by_kinds[key] = (
                self.inv_bw[kind], self.launch[0][kind], self.launch[1][kind], self.peak[prec],
                self.pre[kind] if ATTN_PREFILL in present else None,
                self.dec[kind] if ATTN_DECODE in present else None,
                self.nsel[kind], self.tm[kind], self.tn[kind], self.ukind[kind], self.ksplit[kind],
                self.rate[kp], self.rhalf[kp],
                (self.amod[kp], self.apen[kp]) if CONV in present else None)
        return g


_TABLES: dict = {}
_LAST: list = [None]


def _tables(dev: Device, cal: Calibration) -> _Tables:
    tb = _LAST[0]
    if tb is not None and tb.dev is dev and tb.cal is cal:
        return tb
    try:
        key = (hash(dev), dev, id(cal))
    except TypeError:  # a device object that cannot be hashed: cache by identity
        key = (id(dev), None, id(cal))
    tb = _TABLES.get(key)
    if tb is None or tb.cal is not cal or (key[1] is None and tb.dev is not dev):
        if len(_TABLES) > 256:
            _TABLES.clear()
        tb = _TABLES[key] = _Tables(dev, cal)
    _LAST[0] = tb
    return tb


_ONE = np.array(1.0)


def _pow2ceil(x):
    """The smallest power of two >= x (for x >= 1), by the float exponent instead of logarithms."""
    mantissa, exponent = np.frexp(x)
    return np.ldexp(1.0, exponent - (mantissa == 0.5))


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
    prec = np.asarray(prec, dtype=np.intp)
    inv_bw, l_eager, l_graph, peak, pre, dec, nsel, tm, tn, uk, ksi, rate, rhalf, align = tb.gather(kind, prec)
    flops = np.asarray(flops, dtype=float)
    t_mem = (np.asarray(bytes_, dtype=float) + tb.ramp_bytes) * inv_bw
    t_launch = (l_graph if s else l_eager).copy()  # the cached table must not leave this function
    if efficiency is not None:
        e = efficiency
        if not (type(e) is float and 0.0 < e <= 1.0):
            e = np.asarray(efficiency, dtype=float)
            if not (e.size and np.all(e > 0.0) and np.all(e <= 1.0)):
                raise ValueError(f"efficiency must lie in (0, 1], got {efficiency!r}")
        t_comp = flops / (peak * e)
    else:
        Kq = np.maximum(K, _ONE)
        Gq = np.maximum(G, _ONE)
        Mq = np.maximum(M, _ONE)
        Mt, red = Mq, Kq
        if pre is not None or dec is not None:
            q = flops / (Kq * Gq)
            # flash attention: reduction = keys per query (x4); decode: tile rows = query rows per KV head (x4)
            if pre is not None:
                red = Kq + pre * (q / Mq - Kq)
            if dec is not None:
                Mt = Mq + dec * (q / np.maximum(N, _ONE) - Mq)
        Nt = np.maximum(N * nsel, _ONE)
        if tb.skinny is not None and nsel.any():   # tiles shrink to a skinny problem (GEMM and conv only)
            tm_full, tn_full = tm, tn
            tm = np.where(nsel > 0, np.minimum(tm, np.maximum(tb.skinny, _pow2ceil(Mt))), tm)
            tn = np.where(nsel > 0, np.minimum(tn, np.maximum(tb.skinny, _pow2ceil(Nt))), tn)
            rate = rate * (tm_full * tn_full) / (tm * tn)
        cmn = np.ceil(Mt / tm) * np.ceil(Nt / tn)
        # t = flops / (peak x fraction x tile use x K/(K + k_half) x alignment x wave use)
        if tb.waves:
            # fewer tiles than units: split K over s parts (each keeps >= split_k_min of K) to fill them
            tiles = cmn * Gq
            s_k = np.maximum(np.minimum(uk / tiles, Kq * ksi), _ONE)
            tiles = tiles * s_k
            num = flops * (red + rhalf * s_k) * cmn * np.ceil(tiles / uk)
            den = rate * Mt * Nt * red * tiles
        else:
            num = flops * (red + rhalf) * cmn
            den = rate * Mt * Nt * red
        if align is not None:  # reduction dim not 16-byte aligned (convolutions)
            den = den * (np.sign(np.fmod(Kq, align[0])) * align[1] + _ONE)
        t_comp = num / den
    if not isinstance(t_comp, np.ndarray) or t_comp.shape != t_mem.shape or t_comp.shape != t_launch.shape:
        shape = np.broadcast_shapes(t_comp.shape, t_mem.shape, t_launch.shape)
        t_comp, t_mem, t_launch = (np.broadcast_to(x, shape) for x in (t_comp, t_mem, t_launch))
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
