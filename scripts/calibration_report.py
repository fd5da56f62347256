"""Check the operator timing model against operator microbenchmarks of one GPU.

Rebuilds each measured row of ``calibration/h100_sxm_micro.json`` (or another device's file, such
as ``h200_micro.json``) as one operator (eager stack, as measured), predicts it with
``mlsysim.engine.timing.op_times``, the committed ``calibration.yaml`` and the zoo's datasheet
figures of the measuring device (named in the file, or ``--device``), and prints a per-row table
grouped by operator class, with the median and 90th-percentile absolute error per class and
overall. Exits 1 if the overall median absolute error exceeds 10%. The constants are fitted on
the H100 rows only: another device's rows check how the model transfers.

    python scripts/calibration_report.py [DATA.json] [--device H200] [--calibration FILE] [--quiet]

How a row becomes an operator (the conventions of ``micro_calib.py``):
  gemm      C[M,N] = A[M,K] B[K,N]; flops 2MNK; bytes (MK + KN) x input width + MN x output width
            (bf16 output for bf16 and fp8, fp32 output for tf32 and fp32)
  attn_prefill  causal SDPA, M = N = T, K = head dim, G = batch x query heads; flops count the
            causal half; bytes read q, k, v and write o
  attn_decode   one query token per sequence, N = cache length, G = batch x KV heads; flops
            4 x batch x query heads x S x head dim; bytes read K and V (plus q and o)
  conv2d    implicit GEMM M = B Ho Wo, N = Cout, K = Cin k k; bytes input + weights + output
  add / rmsnorm / softmax  kinds MEMORY / NORM / SOFTMAX; bytes 3n / 2n / 2n elements of bf16
A measured time is one op launched eagerly and timed by CUDA events, so the prediction is
``max(boost(t_compute), t_memory) + t_launch(eager) + event_latency``: the latency an isolated,
event-timed launch adds (a stream of back-to-back ops does not pay it per op), and the boost
clock of a short isolated kernel (op_times describes sustained operation at the 700 W power
limit; ``boost(t) = t (r + (1 - r) t / (t + tau))``), and, for the benchmarks that reuse the same
inputs every repetition (attention, conv, add/rmsnorm/softmax; GEMM inputs are rotated), the part
of those inputs still in L2 (``min(inputs, l2_retained_fraction x L2)`` bytes do not come from
HBM). These are measurement constants in the ``measurement`` section of calibration.yaml;
op_times never uses them.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
#: the measured rows: a copy inside the repository if there is one, else the shared calibration folder
DEFAULT_DATA = next((p for p in (os.path.join(REPO, "calibration", "h100_sxm_micro.json"),
                                 os.path.normpath(os.path.join(REPO, "..", "shared", "calibration",
                                                               "h100_sxm_micro.json")))
                     if os.path.exists(p)), os.path.join(REPO, "..", "shared", "calibration", "h100_sxm_micro.json"))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from mlsysim.engine import timing as T  # noqa: E402
from mlsysim.engine.device import device_of  # noqa: E402
from mlsysim.hardware.registry import Hardware  # noqa: E402

#: the measuring device, as its datasheet describes it (the zoo's NVIDIA H100 SXM5)
H100 = device_of(Hardware.H100)
#: the zoo entry of each device the data files name (their ``meta.device``, as torch reports it)
DEVICES = {"NVIDIA H100 80GB HBM3": "H100", "NVIDIA H200": "H200"}

PREC = {"bf16": T.FP16, "fp16": T.FP16, "fp8": T.FP8, "tf32": T.TF32, "fp32": T.FP32}
IN_BYTES = {"bf16": 2, "fp16": 2, "fp8": 1, "tf32": 4, "fp32": 4}
OUT_BYTES = {"bf16": 2, "fp16": 2, "fp8": 2, "tf32": 4, "fp32": 4}
CLASS_ORDER = ["gemm bf16", "gemm fp8", "gemm tf32", "gemm fp32", "attn_prefill", "attn_decode",
               "conv2d fp16", "conv2d tf32", "add", "rmsnorm", "softmax"]


def load_rows(path=DEFAULT_DATA):
    with open(path) as fh:
        d = json.load(fh)
    return d.get("meta", {}), d["rows"]


def rows_to_ops(rows):
    """The measured rows as operator arrays: dict of kind, prec, flops, bytes, M, N, K, G,
    measured seconds, class label and shape text (launch rows are left out)."""
    out = {k: [] for k in ("kind", "prec", "flops", "bytes", "M", "N", "K", "G", "t", "reuse", "cls", "shape")}

    def add(kind, prec, flops, nbytes, M, N, K, G, t, cls, shape, reuse=0.0):
        for k, v in zip(out, (kind, prec, flops, nbytes, M, N, K, G, t, reuse, cls, shape)):
            out[k].append(v)

    for r in rows:
        op = r["op"]
        if "ms" not in r:
            continue
        t = r["ms"] * 1e-3
        if op == "gemm":
            dt, M, N, K = r["dtype"], r["M"], r["N"], r["K"]
            nbytes = (M * K + K * N) * IN_BYTES[dt] + M * N * OUT_BYTES[dt]
            add(T.GEMM, PREC[dt], 2.0 * M * N * K, nbytes, M, N, K, 1, t, "gemm " + dt, f"M={M} N={N} K={K}")
        elif op == "attn_prefill":
            B, H, KV, hd, S = r["B"], r["H"], r["KV"], r["hd"], r["T"]
            flops = 4.0 * B * H * S * S * hd / 2
            nbytes = (2 * B * H * S * hd + 2 * B * KV * S * hd) * 2
            add(T.ATTN_PREFILL, T.FP16, flops, nbytes, S, S, hd, B * H, t, op, f"B={B} H={H}/{KV} T={S} hd={hd}",
                (B * H * S * hd + 2 * B * KV * S * hd) * 2)
        elif op == "attn_decode":
            B, H, KV, hd, S = r["B"], r["H"], r["KV"], r["hd"], r["S"]
            flops = 4.0 * B * H * S * hd
            nbytes = 2 * B * KV * S * hd * 2 + 2 * B * H * hd * 2
            add(T.ATTN_DECODE, T.FP16, flops, nbytes, 1, S, hd, B * KV, t, op, f"B={B} H={H}/{KV} S={S} hd={hd}",
                2 * B * KV * S * hd * 2 + B * H * hd * 2)
        elif op == "conv2d":
            dt, B, cin, cout, k, s, h = r["dtype"], r["B"], r["cin"], r["cout"], r["k"], r["stride"], r["H"]
            ho = (h + 2 * (k // 2) - k) // s + 1
            M, N, K = B * ho * ho, cout, cin * k * k
            nbytes = (B * cin * h * h + cout * cin * k * k + B * cout * ho * ho) * IN_BYTES[dt]
            add(T.CONV, PREC[dt], 2.0 * M * N * K, nbytes, M, N, K, 1, t, "conv2d " + dt,
                f"B={B} {cin}->{cout} k{k} s{s} {h}x{h}", (B * cin * h * h + cout * cin * k * k) * IN_BYTES[dt])
        elif op in ("add", "rmsnorm", "softmax"):
            n = r["n"]
            kind, nbytes, flops, reuse = {"add": (T.MEMORY, 3 * n * 2, n, 2 * n * 2),
                                          "rmsnorm": (T.NORM, 2 * n * 2 + 4096 * 2, 4 * n, n * 2 + 4096 * 2),
                                          "softmax": (T.SOFTMAX, 2 * n * 2, 5 * n, n * 2)}[op]
            add(kind, T.FP16, flops, nbytes, 0, 0, 0, 0, t, op, f"n={n}", reuse)
    arr = {k: np.array(v, dtype=float) for k, v in out.items() if k not in ("cls", "shape")}
    arr["kind"] = arr["kind"].astype(int)
    arr["prec"] = arr["prec"].astype(int)
    arr["cls"], arr["shape"] = out["cls"], out["shape"]
    return arr


def measured_compute(tc, cal):
    """Compute time of a kernel timed in isolation: op_times describes sustained operation at the
    power limit; a short isolated kernel runs at the boost clock (faster by up to 1/boost_time_ratio)."""
    r = cal.boost_time_ratio
    return tc * (r + (1.0 - r) * tc / (tc + cal.boost_tau_s))


def predict(ops, cal, dev=H100):
    """Predicted seconds of each measured row, as measured: one eager op timed in isolation
    (boost-clock compute time, inputs partly left in L2 by the previous repetition where the
    benchmark does not rotate them, op launch, event-timing latency). Returns (predicted, tc, tm, tl)."""
    hbm = ops["bytes"] - np.minimum(ops["reuse"], cal.l2_retained_fraction * dev.l2_bytes)
    tc, tm, tl = T.op_times(dev, ops["kind"], ops["prec"], ops["flops"], hbm, ops["M"], ops["N"],
                            ops["K"], ops["G"], stack="eager", cal=cal)
    return np.maximum(measured_compute(tc, cal), tm) + tl + cal.event_latency_s, tc, tm, tl


def measuring_device(meta: dict, name: str | None = None):
    """The timing view of the device a data file was measured on: ``name`` (a zoo key), else the zoo
    entry of the device the file names."""
    key = name or DEVICES.get(meta.get("device", ""))
    if key is None:
        raise SystemExit(f"unknown measuring device {meta.get('device')!r}; give --device (a zoo key)")
    return device_of(Hardware.get(key))


def errors(cal=None, data=DEFAULT_DATA, device=None):
    """(ops, predicted seconds, relative error per row)."""
    cal = T.load_calibration() if cal is None else cal
    meta, rows = load_rows(data)
    ops = rows_to_ops(rows)
    pred = predict(ops, cal, measuring_device(meta, device))[0]
    return ops, pred, pred / ops["t"] - 1.0


def summary(ops, err):
    """{class: (n, median |err|, p90 |err|)} plus 'overall'."""
    a = np.abs(err)
    cls = np.array(ops["cls"])
    res = {}
    for c in CLASS_ORDER + sorted(set(cls) - set(CLASS_ORDER)):
        m = cls == c
        if m.any():
            res[c] = (int(m.sum()), float(np.median(a[m])), float(np.percentile(a[m], 90)))
    res["overall"] = (len(a), float(np.median(a)), float(np.percentile(a, 90)))
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", default=DEFAULT_DATA)
    ap.add_argument("--device", default=None, help="zoo key of the measuring device (default: from the file)")
    ap.add_argument("--calibration", default=None, help="calibration.yaml (default: the package's)")
    ap.add_argument("--quiet", action="store_true", help="summary only")
    a = ap.parse_args(argv)
    cal = T.load_calibration(a.calibration)
    meta, rows = load_rows(a.data)
    ops = rows_to_ops(rows)
    dev = measuring_device(meta, a.device)
    pred, tc, tm, tl = predict(ops, cal, dev)
    err = pred / ops["t"] - 1.0
    cls = np.array(ops["cls"])
    print(f"data: {os.path.relpath(a.data)}  ({meta.get('device', '?')}, {meta.get('date', '?')}, {len(rows)} rows)"
          f"; device figures: {a.device or DEVICES.get(meta.get('device', ''))} "
          f"({dev.mem_bw / 1e12:.2f} TB/s, {dev.units} SMs)")
    print(f"calibration: {cal.source}")
    for r in rows:
        if r["op"].startswith("launch_"):
            stack = r["op"].split("_")[1]
            fitted = cal.launch_eager_s if stack == "eager" else cal.launch_graph_s
            print(f"  {r['op']:<13} measured {r['us_per_kernel']:.2f} us/kernel -> constant per_kernel_s.{stack} "
                  f"= {fitted * 1e6:.2f} us (a calibration constant taken from this row, not a prediction)")
    summ = summary(ops, err)
    for c in [c for c in summ if c != "overall"]:
        m = np.flatnonzero(cls == c)
        if not a.quiet:
            print(f"\n== {c}")
            print(f"  {'shape':<34} {'meas ms':>9} {'pred ms':>9} {'err %':>7}  bound")
            for i in m:
                tci = measured_compute(tc[i], cal)
                bound = "compute" if tci >= tm[i] else "memory"
                if tl[i] + cal.event_latency_s > max(tci, tm[i]):
                    bound += "+launch"
                print(f"  {ops['shape'][i]:<34} {ops['t'][i] * 1e3:9.4f} {pred[i] * 1e3:9.4f} "
                      f"{err[i] * 100:+7.1f}  {bound}")
        n, med, p90 = summ[c]
        if not a.quiet:
            print(f"  -> {c}: n={n} median |err| {med * 100:.1f}%  p90 {p90 * 100:.1f}%")
    print("\nclass            n   median|err|   p90|err|")
    for c, (n, med, p90) in summ.items():
        print(f"{c:<14} {n:4d}   {med * 100:9.1f}%  {p90 * 100:8.1f}%")
    n, med, p90 = summ["overall"]
    ok = med <= 0.10
    print(f"\noverall median |err| {med * 100:.1f}% (limit 10%): {'PASS' if ok else 'FAIL'}; p90 {p90 * 100:.1f}%")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
