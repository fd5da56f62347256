"""The operator table: a workload lowered to kernels with real shapes, FLOPs and bytes.

Operators that repeat in every layer appear once with a ``count``. Each column is a NumPy
array of shape (n_ops,) — or (n_ops, n_configs) when the batch size or sequence length is an
array, so one table describes a whole sweep.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .timing import (
    ATTN_DECODE,
    ATTN_PREFILL,
    CONV,
    DWCONV,
    FP8,
    FP16,
    FP32,
    FUSED,
    GEMM,
    INT4,
    INT8,
    MEMORY,
    NORM,
    SOFTMAX,
    TF32,
)

#: timing-layer precision code of each precision name
PREC_CODE = {"fp64": FP32, "fp32": FP32, "tf32": TF32, "fp16": FP16, "bf16": FP16, "fp8": FP8, "int8": INT8,
             "fp6": FP8, "fp4": INT4, "int4": INT4}

_MEMORY_KIND = {"norm": NORM, "softmax": SOFTMAX}


class OpTable(NamedTuple):
    names: tuple[str, ...]
    classes: tuple[str, ...]      # what a person calls it: gemm, attention, conv, norm, elementwise, ...
    class_names: tuple[str, ...]  # the distinct classes, in order of first appearance
    class_index: np.ndarray       # each op's position in class_names
    kind: np.ndarray
    prec: np.ndarray
    flops: np.ndarray             # per instance
    bytes: np.ndarray             # per instance
    M: np.ndarray
    N: np.ndarray
    K: np.ndarray
    G: np.ndarray
    count: np.ndarray
    flops_total: object           # summed over operators x count (per configuration in a sweep)
    bytes_total: object
    model_flops: object           # flops_total less recomputation (what MFU counts)


class OpBuilder:
    """Collects operators; every size argument may be a float or a NumPy array."""

    def __init__(self, compute_prec: str, act_bytes: float):
        self.prec = PREC_CODE[compute_prec]
        self.a = act_bytes
        self.rows: list[tuple] = []

    def add(self, name, cls, kind, flops, nbytes, M=0.0, N=0.0, K=0.0, G=1.0, count=1.0, prec=None):
        self.rows.append((name, cls, kind, self.prec if prec is None else prec, flops, nbytes, M, N, K, G, count))

    def gemm(self, name, M, N, K, w_bytes, count=1.0, G=1.0, weight_elems=None, cls="gemm", prec=None):
        """C[M,N] = A[M,K] @ W[K,N], G independent problems; weights at ``w_bytes`` per element."""
        weights = (K * N * G if weight_elems is None else weight_elems) * w_bytes
        nbytes = (M * K * G + M * N * G) * self.a + weights
        self.add(name, cls, GEMM, 2.0 * M * N * K * G, nbytes, M, N, K, G, count, prec)

    def memory(self, name, cls, nbytes, flops=0.0, count=1.0):
        """A bandwidth-bound kernel; norms and softmax reach less bandwidth than a copy."""
        self.add(name, cls, _MEMORY_KIND.get(cls, MEMORY), flops, nbytes, count=count)

    def table(self) -> OpTable:
        names, classes, kind, prec, *num = zip(*self.rows)
        class_names = tuple(dict.fromkeys(classes))
        index = np.array([class_names.index(c) for c in classes])
        cols = [np.array(kind), np.array(prec)] + [_column(c) for c in num]
        ndim = max(c.ndim for c in cols)
        if ndim > 1:   # a sweep: every column becomes (n_ops, *config_shape)-broadcastable
            cols = [c.reshape(c.shape[:1] + (1,) * (ndim - c.ndim) + c.shape[1:]) for c in cols]
        flops, nbytes, count = cols[2], cols[3], cols[-1]
        total = (flops * count).sum(axis=0)
        recomputed = np.array([n.endswith("_recompute") for n in names])
        model = total - (flops * count)[recomputed].sum(axis=0) if recomputed.any() else total
        return OpTable(names, classes, class_names, index, *cols, total, (nbytes * count).sum(axis=0), model)


def _column(values) -> np.ndarray:
    if any(isinstance(v, np.ndarray) and v.ndim for v in values):
        return np.stack(np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in values]))
    return np.array(values, dtype=float)


__all__ = ["OpTable", "OpBuilder", "PREC_CODE", "GEMM", "ATTN_PREFILL", "ATTN_DECODE", "CONV", "DWCONV",
           "MEMORY", "FUSED"]
