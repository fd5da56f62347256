"""Calibrated operator timing: a roofline per operator, with structural efficiencies.

Every operator has a compute time, a memory time and a launch time:

* ``t_compute = flops / (peak[prec] * eff)``. For memory-bound and vector kernels and fused workloads
  ``eff`` is the maximum achievable fraction of their precision class and kind alone; for the kinds
  timed on tiles (GEMM, convolution, attention) it is the product of

  - a maximum achievable fraction per precision class (what a tuned kernel sustains on a big
    problem at the power limit) and per operator class (convolution, flash attention; vector
    units for depthwise conv and memory-bound kernels, on the fp32 peak);
  - tile quantization: the output is cut into ``tile_m x tile_n`` tiles and a partly filled tile
    costs a full one (``M / (ceil(M/tm) tm)``, same for N); a skinny GEMM shrinks its tile to the
    problem (a power of two, at least ``min_tile``);
  - wave quantization over the device's ``units`` (SMs): ``tiles / (ceil(tiles/units) units)``;
    with fewer tiles than units, K is split (split-K / stream-K) into up to ``units/tiles``
    parts of at least ``split_k_min``; a device with ``units == 0`` skips both;
  - a reduction-length term ``R / (R + r_half)``: each tile (or K split) pays a fixed
    prologue/epilogue worth ``r_half`` reduction steps (R = K for GEMM and convolution; for
    flash attention the mean number of keys per query, ``flops / (4 M K G)``). That cost is a
    time (memory latency, the epilogue), so a device whose compute units each run faster pays
    more reduction steps for it: ``r_half`` scales with the per-unit rate over the measuring
    device's (``k_half_unit_flops``), except on units that are fixed matrix arrays (TPU MXUs,
    Gaudi MMEs), whose per-tile cost is the array's fill, already in reduction steps;
  - decode attention: the MMA tile rows filled by the query rows of one KV head
    (``flops / (4 N K G)`` = query tokens x query heads per KV head);
  - convolutions: a penalty when K is not 16-byte aligned (tiny input-channel counts such as
    an RGB stem miss the aligned tensor-core path).

* ``t_memory = (bytes + bw * ramp_latency) / rate[kind]``, ``rate = bw * mem_fraction[kind]``: the
  achievable fraction of datasheet bandwidth per operator class, with a ramp for small transfers
  (a transfer of ``bw * ramp_latency`` bytes reaches half of it). A kind bound by its compute
  units' occupancy rather than by memory (softmax: as fast on an H200 as on an H100, whose
  bandwidth is 30% lower) moves at most ``unit_bytes_per_cycle[kind]`` per unit and clock cycle.

* ``t_launch = kernels[kind] * per_kernel[launch] + host_dispatch * dispatch[kind]``: the per-kernel
  launch cost of how the execution profile issues kernels (measured: a framework launching
  kernels one by one, and CUDA-graph replay) plus, for stacks whose host dispatches each operator,
  its extra host work for heavier operators (library heuristics, SDPA backend selection).

:func:`step_times` is the one rule that turns the three into an operator's share of a step.

The constants live in ``zoo/data/calibration.yaml``, fitted by ``scripts/fit_calibration.py`` on
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

from ..errors import InputError
from ..execution import execution_profile
from ..ops import (  # noqa: F401  (the kind and precision codes are part of this module's interface)
    ATTN_BACKWARD,
    ATTN_BACKWARD_FLOPS,
    ATTN_DECODE,
    ATTN_PREFILL,
    CONV,
    DWCONV,
    ELT_BYTES,
    FP8,
    FP16,
    FP32,
    FUSED,
    GEMM,
    INT4,
    INT8,
    KIND_NAMES,
    MEMORY,
    N_KINDS,
    N_PRECS,
    NORM,
    PREC_NAMES,
    SOFTMAX,
    TF32,
)
from ..zoo.facts import check
from ..zoo.registry import DATA, load_data
from ..zoo.schemas.calibration import SCHEMA as CALIBRATION_SCHEMA
from .scalar_step import compile_step

DEFAULT_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "zoo", "data", "calibration.yaml")


@dataclass(frozen=True, slots=True)
class Device:
    peak: tuple[float, ...]   # dense FLOP/s indexed by precision code (0.0 where unsupported)
    mem_bw: float             # bytes/s (datasheet)
    units: int                # compute units (SMs/CUs); 0 = unknown
    clock_hz: float = 0.0     # 0 = unknown
    l2_bytes: float = 0.0     # 0 = unknown
    matrix_arrays: bool = False  # units are fixed matrix arrays (MXUs, MMEs), not SM-like cores


#: calibration.yaml's layout: section -> {key: (Calibration field, per-class names or None)}
_LAYOUT = {
    "compute": {"max_fraction": ("max_fraction", PREC_NAMES), "k_half": ("k_half", PREC_NAMES),
                "k_half_unit_flops": ("k_half_unit_flops", PREC_NAMES),
                **{k: (k, None) for k in ("tile_m", "tile_n", "min_tile", "conv_fraction", "conv_k_half",
                                          "misaligned_fraction", "split_k_min", "attn_fraction",
                                          "attn_backward_fraction", "attn_tile_q",
                                          "attn_kv_half", "decode_tile_rows", "vector_fraction", "fused_fraction")}},
    "memory": {"fraction": ("mem_fraction", KIND_NAMES), "unit_bytes_per_cycle": ("unit_bytes_per_cycle", KIND_NAMES),
               "ramp_latency_s": ("ramp_latency_s", None)},
    "launch": {"per_kernel_s": (("launch_eager_s", "launch_graph_s"), ("eager", "graph")),
               "kernels": ("kernels", KIND_NAMES), "eager_dispatch_s": ("eager_dispatch_s", KIND_NAMES)},
    "measurement": {k: (k, None) for k in ("event_latency_s", "boost_time_ratio", "boost_tau_s",
                                           "l2_retained_fraction")},
}


@dataclass(frozen=True, slots=True)
class Calibration:
    """The constants of the timing model, as ``calibration.yaml`` gives them (see that file for what
    each one means); every one is required, so no code default can shadow the data."""

    # compute: maximum achievable fraction of datasheet peak per precision class; per-tile
    # overhead in reduction (K) steps per precision class, at the measuring device's dense FLOP/s per
    # compute unit (another device scales the steps by its own per-unit rate); GEMM / conv output tile
    max_fraction: tuple[float, ...]
    k_half: tuple[float, ...]
    k_half_unit_flops: tuple[float, ...]
    tile_m: float
    tile_n: float
    min_tile: float
    conv_fraction: float
    conv_k_half: float
    misaligned_fraction: float
    split_k_min: float
    attn_fraction: float
    attn_backward_fraction: float
    attn_tile_q: float
    attn_kv_half: float
    decode_tile_rows: float
    vector_fraction: float
    fused_fraction: float
    # memory: achievable fraction of datasheet bandwidth per op kind, and the small-transfer ramp
    mem_fraction: tuple[float, ...]
    unit_bytes_per_cycle: tuple[float, ...]
    ramp_latency_s: float
    # launch: per-kernel cost of eager launches and of graph replay, kernels per op kind, and the
    # host dispatch work per kind of stacks that dispatch each operator from the host
    launch_eager_s: float
    launch_graph_s: float
    kernels: tuple[float, ...]
    eager_dispatch_s: tuple[float, ...]
    # measurement only (scripts/calibration_report.py), never used by op_times
    event_latency_s: float
    boost_time_ratio: float
    boost_tau_s: float
    l2_retained_fraction: float
    source: str = ""
    # derived lookup tables (not constants)
    _kt: np.ndarray = field(init=False, repr=False, compare=False)
    _pt: np.ndarray = field(init=False, repr=False, compare=False)
    _launch: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        kt = np.zeros((11, N_KINDS))
        # rows: 0 frac_kind, 1 tile_m, 2 tile_n, 3 r_half(kind), 4 is_prefill, 5 is_decode,
        #       6 wave flag, 7 vector flag, 8 align flag, 9 mem_fraction, 10 uses N as tile column
        frac = np.ones(N_KINDS)
        frac[CONV] = self.conv_fraction
        frac[[ATTN_PREFILL, ATTN_DECODE]] = self.attn_fraction
        frac[ATTN_BACKWARD] = self.attn_fraction * self.attn_backward_fraction
        frac[[DWCONV, MEMORY, NORM, SOFTMAX]] = self.vector_fraction
        frac[FUSED] = self.fused_fraction
        kt[0] = frac
        kt[1] = 1.0
        kt[2] = 1.0
        kt[1, [GEMM, CONV]] = self.tile_m
        kt[2, [GEMM, CONV]] = self.tile_n
        kt[1, [ATTN_PREFILL, ATTN_BACKWARD]] = self.attn_tile_q
        kt[1, ATTN_DECODE] = self.decode_tile_rows
        kt[3, GEMM] = 1.0
        kt[3, CONV] = self.conv_k_half / self.k_half[FP16]
        kt[3, ATTN_PREFILL] = self.attn_kv_half / self.k_half[FP16]
        # the backward's flops are ATTN_BACKWARD_FLOPS x the forward's, so the keys per query read from
        # them are too: its tile cost scales alike, and the same keys per query give the same tile use
        kt[3, ATTN_BACKWARD] = kt[3, ATTN_PREFILL] * ATTN_BACKWARD_FLOPS
        kt[4, [ATTN_PREFILL, ATTN_BACKWARD]] = 1.0
        kt[5, ATTN_DECODE] = 1.0
        kt[6, [GEMM, CONV, ATTN_PREFILL, ATTN_BACKWARD]] = 1.0
        kt[7, [DWCONV, MEMORY, NORM, SOFTMAX]] = 1.0
        kt[8, CONV] = 1.0
        kt[9] = self.mem_fraction
        kt[10, [GEMM, CONV]] = 1.0
        object.__setattr__(self, "_kt", kt)
        object.__setattr__(self, "_pt", np.array([self.max_fraction, self.k_half, ELT_BYTES], dtype=float))
        object.__setattr__(self, "_launch", {})

    def launch(self, launch: str, host_dispatch: bool, host_speed: float = 1.0) -> np.ndarray:
        """Launch seconds per op kind for a stack that launches this way, from a host ``host_speed`` times
        as fast as the measuring one: its eager launches and dispatch work scale with it, a graph
        replayed on the GPU does not (read-only, cached)."""
        key = (launch, host_dispatch, host_speed)
        table = self._launch.get(key)
        if table is None:
            per_kernel = self.launch_eager_s / host_speed if launch == "eager" else self.launch_graph_s
            table = np.asarray(self.kernels) * per_kernel
            if host_dispatch:
                table = table + np.asarray(self.eager_dispatch_s) / host_speed
            table.setflags(write=False)
            self._launch[key] = table
        return table

    # -- YAML ---------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict, source: str = "") -> Calibration:
        """From the nested layout of calibration.yaml (its schema: ``zoo/schemas/calibration.py``); a
        missing or unknown key is an error naming it."""
        check(d, CALIBRATION_SCHEMA, os.path.basename(source) if source else "calibration", entry_depth=1)
        kw: dict = {"source": source}
        for section, keys in _LAYOUT.items():
            for key, (name, per) in keys.items():
                value = d[section][key]
                if per is None:
                    kw[name] = float(value)
                elif isinstance(name, tuple):     # one field per named entry (per_kernel_s)
                    kw.update((n, float(value[p])) for n, p in zip(name, per))
                else:
                    kw[name] = tuple(float(value[p]) for p in per)
        return cls(**kw)

    def to_dict(self) -> dict:
        out: dict = {}
        for section, keys in _LAYOUT.items():
            out[section] = {}
            for key, (name, per) in keys.items():
                if per is None:
                    out[section][key] = getattr(self, name)
                elif isinstance(name, tuple):
                    out[section][key] = {p: getattr(self, n) for p, n in zip(per, name)}
                else:
                    out[section][key] = {p: float(v) for p, v in zip(per, getattr(self, name))}
        return out


@functools.lru_cache(maxsize=8)
def load_calibration(path: str | None = None) -> Calibration:
    """The calibration constants of ``zoo/data/calibration.yaml``, or of the file at ``path`` (cached)."""
    if path is None:
        return Calibration.from_dict(load_data("calibration"), source=DEFAULT_PATH)
    from ..zoo.registry import read_yaml  # a file of one's own: one sentence for a missing or broken file

    return Calibration.from_dict(read_yaml(os.fspath(path), "calibration"), source=os.fspath(path))


@functools.lru_cache(maxsize=64)
def device_calibration(key: str | None) -> Calibration:
    """The default constants for the zoo device ``key``: its own profile where one is shipped
    (``zoo/data/calibration_<key>.yaml``: measured on that device), else the H100-fitted ones."""
    name = f"calibration_{key.lower()}" if key else None
    if name and (DATA / f"{name}.yaml").is_file():
        return Calibration.from_dict(load_data(name), source=str(DATA / f"{name}.yaml"))
    return load_calibration()


class _Tables:
    """Per (device, calibration) lookup tables, so that op_times is a short run of ufunc calls."""

    __slots__ = ("dev", "cal", "peak", "ramp_bytes", "inv_bw", "waves", "pre", "dec", "nsel", "tm", "tn", "skinny",
                 "ukind", "ksplit", "kbase", "rate", "rhalf", "amod", "apen", "tiled", "by_kinds")

    def __init__(self, dev: Device, cal: Calibration):
        self.dev, self.cal = dev, cal
        peak = np.zeros(N_PRECS)
        vals = [float(x) for x in tuple(dev.peak)[:N_PRECS]]
        peak[:len(vals)] = vals
        peak = np.where(peak > 0, peak, 1e-9)  # unsupported precision: effectively infinite time
        bw = float(dev.mem_bw)
        kt = cal._kt
        self.peak = peak
        units = float(dev.units) if dev.units and dev.units > 0 else 0.0
        # the per-unit constants measured on SMs (occupancy, the per-tile time) do not carry over to
        # units that are fixed matrix arrays
        cores = 0.0 if dev.matrix_arrays else units
        rate = bw * kt[9]
        occupancy = np.asarray(cal.unit_bytes_per_cycle) * cores * float(dev.clock_hz or 0.0)
        bound = (occupancy > 0) & (occupancy < rate)
        self.inv_bw = 1.0 / np.where(bound, occupancy, rate)
        # the small-transfer ramp, in bytes at each kind's rate: its latency (ramp_latency / fraction,
        # what a transfer of bw x ramp_latency bytes adds at the bandwidth) does not change with the rate
        self.ramp_bytes = np.where(bound, cal.ramp_latency_s / kt[9] * occupancy, bw * cal.ramp_latency_s)
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
        # the per-tile fixed cost is a time: on units faster than the measuring device's it is worth
        # proportionally more reduction steps (no scaling where the units or a rate are unknown)
        ref = np.asarray(cal.k_half_unit_flops)
        known = (cores > 0) & (ref > 0) & (peak > 1e-9)
        steps = pt[1] * np.where(known, peak / max(cores, 1.0) / np.where(known, ref, 1.0), 1.0)
        self.rhalf = (kt[3][:, None] * steps[pidx] * np.where(kt[4] > 0, 4.0, 1.0)[:, None]).ravel()
        self.amod = np.broadcast_to(16.0 / pt[2][None, :], pidx.shape).ravel().copy()
        self.apen = np.broadcast_to(kt[8][:, None] * (cal.misaligned_fraction - 1.0), pidx.shape).ravel().copy()
        self.skinny = float(cal.min_tile) if cal.min_tile > 0 else None
        # kinds timed on tiles (GEMM, conv, attention): the rest (memory-bound and vector kernels, fused
        # workloads) take their flops at their rate, with no tile, wave or reduction-length term
        self.tiled = (self.tm != 1) | (self.tn != 1) | (kt[6] > 0) | (kt[10] > 0) | (kt[3] != 0) | (kt[4] > 0) | \
            (kt[5] > 0) | (kt[8] > 0)
        self.by_kinds: dict = {}

    def gather(self, kind: np.ndarray, prec: np.ndarray) -> _Gathered:
        """The per-op constants of an op list (cached by its kind and precision codes: a model's
        operator list keeps the same codes from call to call, only the shapes change)."""
        key = (kind.tobytes(), kind.shape, prec.tobytes(), prec.shape)
        g = self.by_kinds.get(key)
        if g is None:
            if len(self.by_kinds) > 512:
                self.by_kinds.clear()
            if kind.size and (kind.min() < 0 or kind.max() >= N_KINDS):
                raise InputError(f"op kind codes must lie in 0..{N_KINDS - 1}, got {np.unique(kind).tolist()}")
            if prec.size and (prec.min() < 0 or prec.max() >= N_PRECS):
                raise InputError(f"precision codes must lie in 0..{N_PRECS - 1}, got {np.unique(prec).tolist()}")
            g = self.by_kinds[key] = _Gathered(self, kind, prec)
        return g


class _Gathered:
    """The constants of one operator list, laid out for the fewest ufunc calls: per operator its memory
    rate, peak and rate, and for the operators timed on tiles (``rows``) their tile constants."""

    __slots__ = ("kind", "inv_bw", "ramp", "peak", "rate_area", "rows", "pre", "dec", "nsel", "floor", "tm", "tn",
                 "uk", "ksi", "tile_rate", "rhalf", "align", "gemv_rows", "gemv_inv", "timers", "wide")
    _PER_OPERATOR = ("inv_bw", "ramp", "peak", "rate_area", "pre", "dec", "nsel", "floor", "tm", "tn", "uk", "ksi",
                     "tile_rate", "rhalf", "align", "gemv_inv")

    def __init__(self, tb: _Tables, kind: np.ndarray, prec: np.ndarray):
        kp = tb.kbase[kind] + prec
        self.kind = kind
        self.inv_bw, self.ramp, self.peak = tb.inv_bw[kind], tb.ramp_bytes[kind], tb.peak[prec]
        # per-tile rate x tile area: the rate of a kind without tiles (its tiles are 1 x 1, its waves 1)
        self.rate_area = tb.rate[kp] * tb.tm[kind] * tb.tn[kind]
        self.timers: dict = {}
        self.wide: dict = {}
        rows = np.flatnonzero(tb.tiled[kind])
        self.rows = rows if rows.size else None
        self.pre = self.dec = self.nsel = self.floor = self.tm = self.tn = self.uk = self.ksi = self.tile_rate = None
        self.rhalf = self.align = self.gemv_rows = self.gemv_inv = None
        if not rows.size:
            return
        # a GEMM may run as a matrix-vector kernel on the vector units instead of on tiles (what
        # libraries pick for a few rows): seconds per FLOP at the vector rate, for the GEMM rows in a
        # precision the chip supports
        vector = tb.rate[tb.kbase[MEMORY] + prec[rows]]
        supported = tb.peak[prec[rows]] > 1e-9
        kind, kp = kind[rows], kp[rows]
        gemv = (kind == GEMM) & supported
        if gemv.any():
            self.gemv_rows = np.flatnonzero(gemv)
            self.gemv_inv = np.where(gemv, 1.0 / vector, np.inf)    # seconds per FLOP; inf: never
        present = set(np.unique(kind).tolist())
        self.pre = tb.pre[kind] if ATTN_PREFILL in present or ATTN_BACKWARD in present else None
        self.dec = tb.dec[kind] if ATTN_DECODE in present else None
        # 1 where N is a tile column (GEMM and conv); the other kinds tile M alone
        self.nsel = nsel = tb.nsel[kind]
        self.tm, self.tn = tb.tm[kind], tb.tn[kind]
        # the smallest tile a skinny GEMM or conv shrinks to; +inf where the tile never shrinks
        self.floor = np.where(nsel > 0, tb.skinny, np.inf) if tb.skinny is not None and nsel.any() else None
        self.uk, self.ksi = tb.ukind[kind], tb.ksplit[kind]
        self.tile_rate = self.rate_area[rows]
        self.rhalf = tb.rhalf[kp]
        self.align = (tb.amod[kp], tb.apen[kp]) if CONV in present else None

    def widened(self, extra: int) -> _Gathered:
        """These constants shaped to broadcast over ``extra`` configuration axes (a sweep), cached."""
        if not extra:
            return self
        g = self.wide.get(extra)
        if g is None:
            g = self.wide[extra] = object.__new__(_Gathered)
            g.kind, g.rows, g.gemv_rows, g.timers, g.wide = self.kind, self.rows, self.gemv_rows, {}, {}
            for name in self._PER_OPERATOR:
                value = getattr(self, name)
                if isinstance(value, np.ndarray):
                    value = value.reshape(value.shape + (1,) * extra)
                elif isinstance(value, tuple):
                    value = tuple(v.reshape(v.shape + (1,) * extra) for v in value)
                setattr(g, name, value)
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
_MANTISSA, _EXPONENT = np.array(2 ** 52 - 1, dtype=np.int64), np.array(0x7FF << 52, dtype=np.int64)


def _pow2ceil(x: np.ndarray) -> np.ndarray:
    """The smallest power of two >= x (x >= 1, a contiguous float64 array): a non-zero mantissa carries
    into the exponent, which is then all that is kept."""
    return ((x.view(np.int64) + _MANTISSA) & _EXPONENT).view(np.float64)


def op_times(dev: Device, kind, prec, flops, bytes_, M, N, K, G, *, stack="eager", efficiency=None, cal=None):
    """Per-op ``(t_compute, t_memory, t_launch)`` in seconds, each an ndarray broadcast over the inputs.

    kind, prec: int codes; flops, bytes_: per-op totals; M, N, K, G: shape fields, per kind:
      GEMM: C[M,N] = A[M,K] @ B[K,N], G independent GEMMs in one batched launch (1 normally)
      CONV / DWCONV: implicit GEMM M = batch*Ho*Wo, N = Cout per group, K = Cin_per_group*k*k, G = groups
      ATTN_PREFILL: M query tokens, N key tokens, K head_dim, G = batch*q_heads (flops count causality)
      ATTN_DECODE: M query tokens per sequence, N KV length, K head_dim, G = batch*kv_heads
      MEMORY / NORM / SOFTMAX: shape unused; bytes_ moved
      FUSED: a whole workload known only by flops and bytes
    stack: an execution profile or its name (``eager``, ``graph``, ``vllm``, ...; see ``mlsysim.Stacks``).
    efficiency: None for the calibrated compute efficiency, or a float in (0, 1] that replaces it
    (compute time = flops / (peak[prec] * efficiency)); the memory side stays calibrated.
    """
    args = [np.asarray(x) for x in (kind, prec, flops, bytes_, M, N, K, G)]
    shape = np.broadcast_shapes(*(a.shape for a in args))
    flat = [np.broadcast_to(a, shape).reshape(-1) for a in args]      # one operator per element
    kind, prec = (a.astype(np.intp) for a in flat[:2])
    t = times(dev, execution_profile(stack), kind, prec, *(a.astype(float) for a in flat[2:]), efficiency, cal)
    return tuple(x.reshape(shape) for x in t)


def times(dev: Device, profile, kind, prec, flops, bytes_, M, N, K, G, efficiency=None, cal=None):
    """:func:`op_times` on an operator table's own columns: ``kind`` and ``prec`` per operator, the
    numbers of shape ``(n_ops, ...)`` or broadcastable to it (a sweep's configurations on the later axes)."""
    extra = max(np.ndim(x) for x in (flops, bytes_, M, N, K, G)) - 1
    return timer(dev, profile, kind, prec, extra, cal)(flops, bytes_, M, N, K, G, efficiency)


def timer(dev: Device, profile, kind, prec, extra: int = 0, cal=None) -> Timer:
    """The timing of one operator list (its kind and precision codes) on ``dev`` under ``profile``, for
    sizes with ``extra`` configuration axes; cached, so a caller that keeps it skips every lookup."""
    if cal is None:
        cal = load_calibration()
    g = _tables(dev, cal).gather(kind, prec).widened(extra)
    t = g.timers.get(profile)
    if t is None:
        launch = cal.launch(profile.launch, profile.host_dispatch, profile.host_speed)[g.kind]
        t = g.timers[profile] = Timer(_tables(dev, cal), g, launch.reshape(launch.shape + (1,) * extra))
    return t


class Timer:
    """Per-operator ``(t_compute, t_memory, t_launch)`` of one operator list: call it with the sizes, or
    :meth:`step` with one configuration's numbers."""

    __slots__ = ("tb", "g", "launch", "_steps")

    def __init__(self, tb: _Tables, g: _Gathered, launch: np.ndarray):
        launch.setflags(write=False)
        self.tb, self.g, self.launch, self._steps = tb, g, launch, {}

    def step(self, values, efficiency=None, host_ahead: bool = False, each: bool = True):
        """One configuration from Python floats: ``values`` holds each operator's (flops, bytes, M, N, K, G,
        count), one operator after another. Returns the lists of compute and memory seconds (empty unless
        ``each``), and the step's (compute-bound, memory-bound, launch overhead) seconds under
        :func:`step_times`'s rule, from a function written for this operator list (:mod:`.scalar_step`)."""
        key = (efficiency is not None, host_ahead, each)
        step = self._steps.get(key)
        if step is None:
            step = self._steps[key] = compile_step(_scalar_constants(self.tb, self.g, self.launch),
                                                   bool(self.tb.waves), *key)
        return step(values, efficiency)

    def __call__(self, flops, bytes_, M, N, K, G, efficiency=None):
        g = self.g
        t_mem = (bytes_ + g.ramp) * g.inv_bw
        if efficiency is not None:
            e = efficiency
            if not (type(e) is float and 0.0 < e <= 1.0):
                e = np.asarray(efficiency, dtype=float)
                if not (e.size and np.all(e > 0.0) and np.all(e <= 1.0)):
                    raise InputError(f"efficiency must lie in (0, 1], got {efficiency!r}")
            t_comp = flops / (g.peak * e)
        else:
            t_comp = _compute(self.tb, g, flops, M, N, K, G)
        t_launch = self.launch
        if t_comp.shape != t_mem.shape or t_comp.shape != t_launch.shape:
            shape = np.broadcast_shapes(t_comp.shape, t_mem.shape, t_launch.shape)
            t_comp, t_mem, t_launch = (np.broadcast_to(x, shape) for x in (t_comp, t_mem, t_launch))
        return t_comp, t_mem, t_launch


def _scalar_constants(tb: _Tables, g: _Gathered, launch: np.ndarray) -> list[tuple]:
    """Each operator's constants as Python floats, in the order :func:`.scalar_step.compile_step` takes
    them: its small-transfer ramp in bytes and memory rate, peak, launch seconds and rate, its tile
    constants (None for a kind without tiles), and its seconds per FLOP as a matrix-vector kernel (None
    but for a GEMM)."""
    n = len(g.kind)
    tiles: list = [None] * n
    gemv: list = [None] * n
    if g.gemv_rows is not None:
        inv = np.asarray(g.gemv_inv, dtype=float).reshape(-1)[g.gemv_rows]
        for row, seconds in zip(g.rows[g.gemv_rows].tolist(), inv.tolist()):
            gemv[row] = seconds
    if g.rows is not None:
        m = len(g.rows)
        zeros, inf = np.zeros(m), np.full(m, np.inf)
        amod, apen = g.align if g.align is not None else (np.ones(m), zeros)
        columns = (g.nsel, g.tm, g.tn, g.floor if g.floor is not None else inf, g.uk, g.ksi,
                   g.rhalf, g.pre if g.pre is not None else zeros, g.dec if g.dec is not None else zeros, amod, apen)
        for row, constants in zip(g.rows.tolist(), zip(*(np.asarray(c, dtype=float).tolist() for c in columns))):
            tiles[row] = constants
    columns = (np.broadcast_to(g.ramp, n), np.broadcast_to(g.inv_bw, n), g.peak, launch, g.rate_area)
    return [row + (tile, inv) for row, tile, inv in zip(zip(*(np.asarray(c, dtype=float).tolist() for c in columns)),
                                                        tiles, gemv)]


def _compute(tb: _Tables, g: _Gathered, flops, M, N, K, G):
    """Calibrated compute seconds: flops / (peak x fraction), and for the kinds timed on tiles also
    x tile use x K/(K + k_half) x alignment x wave use (:func:`_tiled`)."""
    t = flops / g.rate_area
    rows = g.rows
    if rows is None:
        return t
    tiled = _tiled(tb, g, *(np.asarray(x)[rows] for x in (flops, M, N, K, G)))
    if len(rows) == len(g.kind):
        return tiled
    shape = np.broadcast_shapes(t.shape, (len(g.kind),) + tiled.shape[1:])
    if t.shape != shape:
        t = np.broadcast_to(t, shape).copy()
    t[rows] = tiled
    return t


def _tiled(tb: _Tables, g: _Gathered, flops, M, N, K, G):
    """Compute seconds of the operators timed on tiles (the rows ``g.rows``), each number at its own shape
    (a constant column stays one value per operator in a sweep). The tiles are powers of two, so
    ``rate x area`` is the per-tile rate times the tile fill ``(M/tm)(N/tn)``."""
    Kq, Gq = np.maximum(K, _ONE), np.maximum(G, _ONE)
    red = Kq
    Mt = Mq = np.maximum(M, _ONE)
    Nt = np.maximum(N * g.nsel, _ONE)             # N where it is a tile column (GEMM and conv), else 1
    if g.pre is not None or g.dec is not None:
        q = flops / (Kq * Gq)
        # flash attention: reduction = keys per query (x4); decode: tile rows = query rows per KV head (x4)
        if g.pre is not None:
            red = Kq + g.pre * (q / Mq - Kq)
        if g.dec is not None:
            Mt = Mq + g.dec * (q / np.maximum(N, _ONE) - Mq)
    tm, tn, floor = g.tm, g.tn, g.floor
    if floor is not None:       # a skinny GEMM or conv shrinks its tile to the problem's power of two
        tm = np.minimum(tm, np.maximum(floor, _pow2ceil(np.ascontiguousarray(Mt, dtype=float))))
        tn = np.minimum(tn, np.maximum(floor, _pow2ceil(np.ascontiguousarray(Nt, dtype=float))))
    fill_m, fill_n = Mt / tm, Nt / tn
    cmn = np.ceil(fill_m) * np.ceil(fill_n)
    rate_area = g.tile_rate * (fill_m * fill_n)
    if tb.waves:
        # fewer tiles than units: split K over s parts (each keeps >= split_k_min of K) to fill them
        n_tiles = cmn * Gq
        s_k = np.maximum(np.minimum(g.uk / n_tiles, Kq * g.ksi), _ONE)
        n_tiles = n_tiles * s_k
        num = flops * (red + g.rhalf * s_k) * cmn * np.ceil(n_tiles / g.uk)
        den = rate_area * red * n_tiles
    else:
        num = flops * (red + g.rhalf) * cmn
        den = rate_area * red
    if g.align is not None:  # reduction dim not 16-byte aligned (convolutions)
        den = den * (np.sign(np.fmod(Kq, g.align[0])) * g.align[1] + _ONE)
    t = num / den
    if g.gemv_inv is not None:   # or a matrix-vector kernel at the vector rate, whichever is faster
        with np.errstate(invalid="ignore"):      # 0 FLOPs x inf (a row that never runs as one): NaN, skipped
            t = np.fmin(t, flops * g.gemv_inv)
    return t


def step_times(t_comp, t_mem, t_launch, profile):
    """Each operator's busy time and the launch overhead it adds to the step — the one rule.

    A kernel is busy for the larger of its compute and memory times. Where the host runs ahead of
    the GPU (an eager framework), a launch costs time only beyond the busy time of the kernel it
    overlaps; where kernels are replayed from a graph, each launch gap adds to its kernel. An
    operator's share of the step is ``busy + overhead``. (:meth:`Timer.step` applies it to the floats
    of one configuration.)
    """
    busy = np.maximum(t_comp, t_mem)
    if profile.host_ahead:
        return busy, np.maximum(t_launch - busy, 0.0)
    return busy, t_launch


__all__ = ["GEMM", "ATTN_PREFILL", "ATTN_DECODE", "ATTN_BACKWARD", "CONV", "DWCONV", "MEMORY", "FUSED", "NORM",
           "SOFTMAX", "FP32", "TF32", "FP16", "FP8", "INT8", "INT4", "Device", "Calibration", "load_calibration",
           "op_times", "times", "timer", "Timer", "step_times"]
