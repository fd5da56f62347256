"""Fit the constants of the operator timing model to operator microbenchmarks; write calibration.yaml.

    python scripts/fit_calibration.py [DATA.json] [--out mlsysim/zoo/data/calibration.yaml]
    python scripts/fit_calibration.py calibration/h100_sxm_micro.json --also calibration/h200_micro.json --out F
    python scripts/fit_calibration.py calibration/h200_micro.json --host-only [--out calibration_h200.yaml]

With ``--host-only``, the transfer check: the device constants of the committed calibration are kept
as they are and only what belongs to the measuring host (below) is fitted on DATA; the per-class
errors are printed, and with ``--out`` the profile is written (mlsysim/zoo/data/calibration_<device>.yaml
is the default for that zoo device).

With ``--also``, one fit over both files: the device constants are shared (each file's rows are
predicted through its own device's datasheet figures), while what belongs to the measuring host
(the eager dispatch costs and the isolated-op event latency; the launch rows are taken as measured)
is fitted per file. The first file's host constants are the ones written; both files' errors are
printed.

Offline tool (needs scipy; the package itself does not). The objective is the log of
predicted over measured time of every measured row, under a robust (soft-L1) loss, so that a
few rows where the library picked an unusual kernel do not drag the constants. The device is
the one measured, described only by its datasheet figures (``calibration_report.H100``).

What is fitted and what is fixed:
  fixed  per-kernel launch costs (the measured launch_eager / launch_graph rows), kernels per op
         kind (structural), tile sizes of flash attention (128 query rows) and of decode (64 rows),
         the vector-unit fraction (no calibration row is bound by it), eager dispatch of
         elementwise ops (0: the launch row is itself an elementwise op), the small-transfer ramp
         (0.5 us of HBM latency: the smallest measured transfers sit in L2 and under the launch
         floor, so the data cannot see it)
  tied   int8 and int4 to fp8 (same tensor-core path, no rows); fp32 k_half to tf32; memory
         fraction of prefill attention to GEMM, of depthwise conv to conv, of fused to elementwise
  grid   GEMM/conv output tile (tile_m, tile_n) over {64, 128, 256}^2
  fitted everything else (least squares on log time), including three constants of the
         measurement itself that op_times never uses (see calibration_report.py): the latency an
         isolated event-timed op adds, the boost clock of short isolated kernels (op_times is
         sustained operation at the power limit), and the L2 reuse of benchmarks that do not
         rotate their inputs; fused_fraction is then set to the median achieved fraction (of
         max_fraction) over the compute-bound rows
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import calibration_report as CR  # noqa: E402

T = CR.T
DEFAULT_OUT = T.DEFAULT_PATH

# (name, initial, lower, upper): the fitted parameters
PARAMS = [
    ("max_fraction.fp32", 0.75, 0.2, 1.0),
    ("max_fraction.tf32", 0.72, 0.2, 1.0),
    ("max_fraction.fp16", 0.75, 0.2, 1.0),
    ("max_fraction.fp8", 0.68, 0.2, 1.0),
    ("k_half.tf32", 500.0, 1.0, 5000.0),
    ("k_half.fp16", 400.0, 1.0, 5000.0),
    ("k_half.fp8", 900.0, 1.0, 5000.0),
    ("conv_fraction", 0.85, 0.2, 1.2),
    ("conv_k_half", 300.0, 1.0, 5000.0),
    ("misaligned_fraction", 0.4, 0.05, 1.0),
    ("split_k_min", 512.0, 32.0, 16384.0),
    ("attn_fraction", 0.85, 0.2, 1.2),
    ("attn_kv_half", 500.0, 1.0, 10000.0),
    ("mem_fraction.gemm", 0.9, 0.3, 1.0),
    ("mem_fraction.attn_decode", 0.93, 0.3, 1.0),
    ("mem_fraction.conv", 0.8, 0.3, 1.0),
    ("mem_fraction.memory", 0.9, 0.3, 1.0),
    ("mem_fraction.norm", 0.66, 0.2, 1.0),
    ("unit_bytes_per_cycle.softmax", 4.0, 0.5, 40.0),
    ("eager_dispatch_s.gemm", 10e-6, 0.0, 60e-6),
    ("eager_dispatch_s.attn_prefill", 25e-6, 0.0, 100e-6),
    ("eager_dispatch_s.attn_decode", 20e-6, 0.0, 100e-6),
    ("eager_dispatch_s.conv", 15e-6, 0.0, 100e-6),
    ("eager_dispatch_s.norm", 3e-6, 0.0, 60e-6),
    ("eager_dispatch_s.softmax", 0.0, 0.0, 60e-6),
    ("event_latency_s", 7e-6, 0.0, 30e-6),
    ("boost_time_ratio", 0.85, 0.6, 1.0),
    ("boost_tau_s", 1e-3, 0.05e-3, 20e-3),
    ("l2_retained_fraction", 0.5, 0.0, 1.0),
]
TILES = (64.0, 128.0, 256.0)
#: the fitted constants that belong to the host that measured (fitted per data file in a joint fit)
HOST = [p for p in PARAMS if p[0].startswith("eager_dispatch_s.") or p[0] == "event_latency_s"]


def build(theta, base: T.Calibration) -> T.Calibration:
    v = dict(zip([p[0] for p in PARAMS], theta))
    mf = list(base.max_fraction)
    kh = list(base.k_half)
    for p in ("fp32", "tf32", "fp16", "fp8"):
        if "max_fraction." + p in v:
            mf[T.PREC_NAMES.index(p)] = v["max_fraction." + p]
    for p in ("tf32", "fp16", "fp8"):
        if "k_half." + p in v:
            kh[T.PREC_NAMES.index(p)] = v["k_half." + p]
    mf[T.INT8] = mf[T.INT4] = mf[T.FP8]
    kh[T.INT8] = kh[T.INT4] = kh[T.FP8]
    kh[T.FP32] = kh[T.TF32]
    mem = list(base.mem_fraction)
    disp = list(base.eager_dispatch_s)
    occupancy = list(base.unit_bytes_per_cycle)
    for i, k in enumerate(T.KIND_NAMES):
        mem[i] = v.get("mem_fraction." + k, mem[i])
        disp[i] = v.get("eager_dispatch_s." + k, disp[i])
        occupancy[i] = v.get("unit_bytes_per_cycle." + k, occupancy[i])
    mem[T.ATTN_PREFILL] = mem[T.ATTN_BACKWARD] = mem[T.GEMM]
    mem[T.DWCONV] = mem[T.CONV]
    mem[T.FUSED] = mem[T.SOFTMAX] = mem[T.MEMORY]
    disp[T.DWCONV] = disp[T.CONV]
    disp[T.ATTN_BACKWARD] = disp[T.ATTN_PREFILL]
    disp[T.MEMORY] = disp[T.FUSED] = 0.0
    scalars = ("conv_fraction", "conv_k_half", "misaligned_fraction", "split_k_min", "attn_fraction", "attn_kv_half",
               "ramp_latency_s", "event_latency_s", "boost_time_ratio", "boost_tau_s", "l2_retained_fraction")
    kw = {k: v[k] for k in scalars if k in v}
    return dataclasses.replace(base, max_fraction=tuple(mf), k_half=tuple(kh), mem_fraction=tuple(mem),
                               unit_bytes_per_cycle=tuple(occupancy), eager_dispatch_s=tuple(disp), **kw)


def unit_flops(dev) -> tuple[float, ...]:
    """The measuring device's dense FLOP/s per compute unit per precision class, what k_half's steps are
    counted at (int8 and int4 follow fp8 where the device lacks them, as their k_half does)."""
    rate = [p / dev.units for p in dev.peak]
    for p in (T.INT8, T.INT4):
        rate[p] = rate[p] or rate[T.FP8]
    return tuple(rate)


def on_host(cal: T.Calibration, host, launch: dict) -> T.Calibration:
    """``cal`` with another measuring host's constants: ``host`` the values of HOST, ``launch`` its rows."""
    v = dict(zip([p[0] for p in HOST], host))
    disp = list(cal.eager_dispatch_s)
    for i, k in enumerate(T.KIND_NAMES):
        disp[i] = v.get("eager_dispatch_s." + k, disp[i])
    disp[T.DWCONV], disp[T.ATTN_BACKWARD] = disp[T.CONV], disp[T.ATTN_PREFILL]
    return dataclasses.replace(cal, eager_dispatch_s=tuple(disp), event_latency_s=v["event_latency_s"],
                               launch_eager_s=launch.get("launch_eager", cal.launch_eager_s),
                               launch_graph_s=launch.get("launch_graph", cal.launch_graph_s))


def fit(ops, base, tiles=TILES, verbose=True, others=()):
    """The least-squares fit over ``ops`` (measured on ``CR.H100``), and over each of ``others``:
    (rows, device, launch rows) of another device, sharing the device constants, with host constants
    of its own. Returns the calibration, and the host constants fitted for each of ``others``."""
    from scipy.optimize import least_squares

    n = len(PARAMS)
    x0 = np.array([p[1] for p in PARAMS] + [p[1] for _ in others for p in HOST])
    lo = np.array([p[2] for p in PARAMS] + [p[2] for _ in others for p in HOST])
    hi = np.array([p[3] for p in PARAMS] + [p[3] for _ in others for p in HOST])
    scale = np.where(x0 > 0, x0, 1e-6)
    t = ops["t"]

    def resid(z, b):
        x = z * scale
        cal = build(x[:n], b)
        out = [np.log(CR.predict(ops, cal)[0] / t)]
        for j, (rows, dev, launch) in enumerate(others):
            host = x[n + j * len(HOST): n + (j + 1) * len(HOST)]
            out.append(np.log(CR.predict(rows, on_host(cal, host, launch), dev)[0] / rows["t"]))
        return np.concatenate(out)

    best = None
    for tm in tiles:
        for tn in tiles:
            b = dataclasses.replace(base, tile_m=tm, tile_n=tn)
            r = least_squares(resid, x0 / scale, bounds=(lo / scale, hi / scale), args=(b,), loss="soft_l1",
                              f_scale=0.05, x_scale="jac", max_nfev=4000)
            err = np.abs(np.exp(r.fun) - 1)
            score = (np.median(err), np.percentile(err, 90))
            if verbose:
                print(f"tile {tm:.0f}x{tn:.0f}: median {score[0] * 100:.2f}%  p90 {score[1] * 100:.2f}%  "
                      f"cost {r.cost:.4f}")
            if best is None or r.cost < best[0]:
                best = (r.cost, r.x * scale, b)
    cal = build(best[1][:n], best[2])
    hosts = [best[1][n + j * len(HOST): n + (j + 1) * len(HOST)] for j in range(len(others))]
    # generic efficiency for a workload known only by flops and bytes: the median achieved fraction
    # (relative to the precision's max fraction) over the rows that the model calls compute-bound
    pred, tc, tm_, tl = CR.predict(ops, cal)
    kernel = np.maximum(t - tl - cal.event_latency_s, 1e-7)
    kernel = kernel / (CR.measured_compute(tc, cal) / tc)  # at sustained clocks
    peak = np.array(CR.H100.peak)[ops["prec"]]
    mf = np.array(cal.max_fraction)[ops["prec"]]
    cb = (tc > 2 * tm_) & (tc > tl) & np.isin(ops["kind"], [T.GEMM, T.CONV, T.ATTN_PREFILL])
    fused = float(np.clip(np.median(ops["flops"][cb] / (peak[cb] * kernel[cb]) / mf[cb]), 0.05, 1.0))
    return dataclasses.replace(cal, fused_fraction=round(fused, 3)), hosts


def fit_host(ops, dev, launch: dict, cal: T.Calibration):
    """``cal`` with the HOST constants fitted on ``ops`` (measured on ``dev`` from a host whose launch rows
    are ``launch``), every device constant kept: how well the device constants transfer to another GPU
    once its host's own costs are known. Returns that calibration and the fitted HOST values."""
    from scipy.optimize import least_squares

    x0 = np.array([p[1] for p in HOST])
    scale = np.where(x0 > 0, x0, 1e-6)
    lo, hi = np.array([p[2] for p in HOST]) / scale, np.array([p[3] for p in HOST]) / scale

    def resid(z):
        return np.log(CR.predict(ops, on_host(cal, z * scale, launch), dev)[0] / ops["t"])

    r = least_squares(resid, x0 / scale, bounds=(lo, hi), loss="soft_l1", f_scale=0.05, x_scale="jac")
    return on_host(cal, r.x * scale, launch), r.x * scale


def _print_summary(summ: dict):
    for k, (n, med, p90) in summ.items():
        print(f"{k:<14} {n:4d}  median {med * 100:5.1f}%  p90 {p90 * 100:5.1f}%")


def _r(x, sig=4):
    return float(f"{x:.{sig}g}")


def yf(x, sig=4):
    """A float as YAML 1.1 reads a float (always a dot; a signed exponent when there is one)."""
    x = _r(x, sig)
    if x != 0 and abs(x) < 1e-3:
        return f"{x:.{sig - 1}e}"
    s = f"{x:.{sig}g}"
    return s if ("." in s or "e" in s) else s + ".0"


def yus(x):
    """Seconds written as microseconds (e.g. 12.5e-6)."""
    x = x * 1e6 if abs(x) >= 1e-9 else 0.0
    s = f"{_r(x, 3):.3g}"
    return (s if "." in s else s + ".0") + "e-6"


def write_yaml(cal: T.Calibration, path, data_path, meta, summ, host_only: bool = False):
    d = cal.to_dict()
    c, m, lch = d["compute"], d["memory"], d["launch"]
    n, med, p90 = summ["overall"]
    pp = lambda x, s=4: "{" + ", ".join(f"{k}: {yf(v, s)}" for k, v in x.items()) + "}"  # noqa: E731
    measured = (f"calibration/{os.path.basename(data_path)} ({meta.get('device', '?')}, measured"
                f" {meta.get('date', '?')}, torch {meta.get('torch', '?')}, CUDA {meta.get('cuda', '?')})")
    fitted = ["# The device constants of calibration.yaml (fitted on the H100); the host's (launch and dispatch",
              f"# costs) fitted on {measured}:", f"#   {n} operator rows (python scripts/fit_calibration.py "
              f"{data_path} --host-only --out {path})"] if host_only else [
        f"# Fitted on: {measured}:",
        f"#   {n} operator rows + the 2 launch-cost rows (taken as measured)",
        "# Device description used in the fit (datasheet, NVIDIA H100 SXM5): peak fp32 67, tf32 494.7,",
        "#   bf16 989.4, fp8 1978.9, int8 1978.9 TFLOP/s dense; HBM 3.35 TB/s; 132 SMs; 1.98 GHz; L2 50 MB"]
    lines = [
        "# Operator timing model constants (mlsysim.engine.timing).",
        "# Written by scripts/fit_calibration.py -- do not edit by hand; re-run the fit instead.",
        *fitted,
        f"# Fit date: {datetime.date.today().isoformat()}; robust least squares (soft-L1) on log(predicted/measured).",
        f"# Result on the fitting data: median |error| {med * 100:.1f}%, p90 {p90 * 100:.1f}% "
        "(python scripts/calibration_report.py)",
        "# All constants are device independent: another device enters through its datasheet figures only.",
        "",
        "compute:",
        "  # highest fraction of the datasheet dense peak that a large, well-shaped GEMM reaches, per",
        "  # precision class (fp32 = CUDA cores; int8/int4 tied to fp8: same tensor-core path, no rows)",
        f"  max_fraction: {pp(c['max_fraction'])}",
        "  # per-tile prologue/epilogue cost in reduction (K) steps: efficiency x K / (K + k_half)",
        "  # (the short-K penalty; fp32 tied to tf32, int8/int4 to fp8)",
        f"  k_half: {pp(c['k_half'], 3)}",
        "  # the measuring device's dense FLOP/s per compute unit (datasheet peak / SMs) that k_half's steps are",
        "  # counted at: the per-tile cost is a time, so a device whose units run r times as fast pays r x k_half",
        "  # steps (int4, absent on the H100, tied to fp8 like k_half)",
        f"  k_half_unit_flops: {pp(c['k_half_unit_flops'], 10)}",
        "  # output tile of GEMM and implicit-GEMM conv kernels (tile and wave quantization over SMs)",
        f"  tile_m: {c['tile_m']:g}",
        f"  tile_n: {c['tile_n']:g}",
        "  # the smallest tile edge a tensor-core kernel uses (mma.m16n8k16): a skinny GEMM shrinks its tile to",
        "  # the problem, rounded up to a power of two (operand swapping lets either edge be the small one).",
        "  # Structural, not fitted",
        f"  min_tile: {c['min_tile']:g}",
        "  # convolution (cuDNN implicit GEMM): max fraction relative to a GEMM of the same precision,",
        "  # its short-K constant (in K steps at fp16; scaled per precision like k_half)",
        f"  conv_fraction: {yf(c['conv_fraction'])}",
        f"  conv_k_half: {yf(c['conv_k_half'], 3)}",
        "  # factor when the reduction dim is not 16-byte aligned (e.g. 3 input channels of an RGB stem)",
        f"  misaligned_fraction: {yf(c['misaligned_fraction'])}",
        "  # split-K: with fewer output tiles than compute units, K is split into up to units/tiles parts,",
        "  # each keeping at least split_k_min of K (each part pays its own k_half)",
        f"  split_k_min: {yf(c['split_k_min'], 3)}",
        "  # flash attention: max fraction relative to GEMM; query tile rows; keys per query at which a",
        "  # tile's fixed cost halves efficiency (efficiency x L / (L + attn_kv_half), L = mean keys per",
        "  # query; attn_kv_half is at fp16 and scales per precision like k_half)",
        f"  attn_fraction: {yf(c['attn_fraction'])}",
        "  # flash attention backward: its fraction relative to the forward's (not fitted: no backward rows).",
        "  # Dao 2023 (FlashAttention-2, section 4.1): forward up to 73% and backward up to 63% of the A100's",
        "  # peak: 63 / 73",
        f"  attn_backward_fraction: {yf(c['attn_backward_fraction'])}",
        f"  attn_tile_q: {c['attn_tile_q']:g}",
        f"  attn_kv_half: {yf(c['attn_kv_half'], 3)}",
        "  # decode attention: query rows (tokens x query heads per KV head) per MMA tile",
        f"  decode_tile_rows: {c['decode_tile_rows']:g}",
        "  # depthwise conv and memory-bound kernels compute on vector units: fraction of the fp32 peak",
        "  # (not fitted: no measured row is bound by it)",
        f"  vector_fraction: {yf(c['vector_fraction'])}",
        "  # a workload known only by flops and bytes: fraction of max_fraction (median achieved over",
        "  # the compute-bound GEMM, conv and attention rows)",
        f"  fused_fraction: {yf(c['fused_fraction'], 3)}",
        "",
        "memory:",
        "  # achievable fraction of datasheet bandwidth per op kind (memory = elementwise/copy;",
        "  # norm and softmax kernels make extra passes; attn_prefill and attn_backward tied to gemm, dwconv",
        "  # to conv, fused to memory)",
        f"  fraction: {pp(m['fraction'])}",
        "  # kinds bound by their compute units' occupancy, not by bandwidth: bytes per unit (SM) per clock",
        "  # cycle at most (0 = not bound so). Softmax: the H200's operator rows take the H100's time at 43%",
        "  # more bandwidth; its bandwidth fraction is tied to memory's",
        "  unit_bytes_per_cycle: {"
        + ", ".join(f"{k}: {yf(v) if v else 0}" for k, v in m["unit_bytes_per_cycle"].items()) + "}",
        "  # small-transfer ramp: time = (bytes + bw x ramp_latency_s) / (bw x fraction); a transfer of",
        "  # bw x ramp_latency_s bytes reaches half the bandwidth (about 1.7 MB on an H100). Fixed, not",
        "  # fitted: memory latency under load; the smallest measured transfers sit in L2 and under the",
        "  # launch floor, so the data cannot see it",
        f"  ramp_latency_s: {yf(m['ramp_latency_s'], 3)}",
        "",
        "launch:",
        "  # per-kernel launch cost of the software stack (measured rows launch_eager / launch_graph):",
        "  # eager = a framework launching each kernel from Python; graph = CUDA graphs / compiled engine",
        f"  per_kernel_s: {{eager: {yf(lch['per_kernel_s']['eager'])}, graph: {yf(lch['per_kernel_s']['graph'])}}}",
        "  # kernels launched per op (structural; decode attention = split-KV kernel + combine kernel;",
        "  # attention backward = the dO.O preprocessing kernel, the main kernel, the dQ conversion)",
        "  kernels: {" + ", ".join(f"{k}: {v:g}" for k, v in lch["kernels"].items()) + "}",
        "  # eager only: host work per op beyond one kernel launch (library heuristics, backend",
        "  # selection); in microseconds below, stored in seconds",
        "  eager_dispatch_s: {" + ", ".join(f"{k}: {yus(v)}" for k, v in lch["eager_dispatch_s"].items()) + "}",
        "",
        "measurement:",
        "  # Used only to compare with the measured rows (scripts/calibration_report.py), never by op_times.",
        "  # latency an isolated, CUDA-event-timed eager op adds to its own time (GPU launch latency and",
        "  # event overhead; a stream of back-to-back ops does not pay it per op)",
        f"  event_latency_s: {yus(d['measurement']['event_latency_s'])}",
        "  # op_times describes sustained operation at the 700 W power limit; a short compute-bound kernel",
        "  # timed in isolation runs at the boost clock: compute time t becomes t x (r + (1 - r) t / (t + tau)),",
        "  # r = boost_time_ratio, tau = boost_tau_s",
        f"  boost_time_ratio: {yf(d['measurement']['boost_time_ratio'])}",
        f"  boost_tau_s: {yf(d['measurement']['boost_tau_s'], 3)}",
        "  # benchmarks that reuse their inputs every repetition (attention, conv, add/rmsnorm/softmax)",
        "  # find min(inputs, l2_retained_fraction x L2) bytes of them still in L2 instead of HBM",
        f"  l2_retained_fraction: {yf(d['measurement']['l2_retained_fraction'], 3)}",
        "",
    ]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write("\n".join(lines))


def _launch_rows(rows) -> dict:
    return {r["op"]: _r(r["us_per_kernel"] * 1e-6) for r in rows if r["op"].startswith("launch_")}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", default=CR.DEFAULT_DATA)
    ap.add_argument("--also", action="append", default=[], help="another device's data file, fitted jointly")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--host-only", action="store_true",
                    help="fit only the measuring host's constants on DATA (device constants as committed)")
    a = ap.parse_args(argv)
    meta, rows = CR.load_rows(a.data)
    ops = CR.rows_to_ops(rows)
    launch = _launch_rows(rows)
    if a.host_only:
        dev = CR.measuring_device(meta)
        cal, host = fit_host(ops, dev, launch, T.load_calibration())
        print(f"{os.path.basename(a.data)}: device constants as committed, host constants fitted here: "
              + ", ".join(f"{p[0]} {v * 1e6:.3g} us" for p, v in zip(HOST, host)))
        summ = CR.summary(ops, CR.predict(ops, cal, dev)[0] / ops["t"] - 1)
        _print_summary(summ)
        if a.out != DEFAULT_OUT:            # a device's own profile (the committed one is never overwritten here)
            write_yaml(cal, a.out, a.data, meta, summ, host_only=True)
        return
    others = []
    for path in a.also:
        other_meta, other_rows = CR.load_rows(path)
        others.append((CR.rows_to_ops(other_rows), CR.measuring_device(other_meta), _launch_rows(other_rows)))
    # the structural constants (tiles, kernels per op, ...) come from the committed file; the fit
    # replaces the fitted ones and takes the launch costs as measured
    committed = T.load_calibration()
    base = dataclasses.replace(committed, launch_eager_s=launch.get("launch_eager", committed.launch_eager_s),
                               launch_graph_s=launch.get("launch_graph", committed.launch_graph_s),
                               k_half_unit_flops=unit_flops(CR.measuring_device(meta)))
    cal, hosts = fit(ops, base, others=others)
    for path, (other, dev, other_launch), host in zip(a.also, others, hosts):
        other_cal = on_host(cal, host, other_launch)
        print(f"{os.path.basename(path)} (its host's constants: "
              f"{', '.join(f'{p[0]} {v:.3g}' for p, v in zip(HOST, host))}):")
        _print_summary(CR.summary(other, CR.predict(other, other_cal, dev)[0] / other["t"] - 1))
    summ = CR.summary(ops, CR.predict(ops, cal)[0] / ops["t"] - 1)
    write_yaml(cal, a.out, a.data, meta, summ)
    # the file holds rounded constants: report (and record in its header) what they give
    T.load_calibration.cache_clear()
    cal = T.load_calibration(a.out)
    summ = CR.summary(ops, CR.predict(ops, cal)[0] / ops["t"] - 1)
    write_yaml(cal, a.out, a.data, meta, summ)
    T.load_calibration.cache_clear()
    _print_summary(summ)
    print("wrote", a.out)


if __name__ == "__main__":
    main()
