"""The vocabulary every layer speaks: phases, precisions, operator kinds, and the operator table.

A workload family lowers itself to an :class:`OpTable`; the engine times it. Operators that
repeat in every layer appear once with a ``count``. The numeric columns are NumPy arrays of
shape (n_ops,), or (n_ops, *config_shape) when a size is an array, so one table describes a
whole sweep. Nothing here knows a model or a device.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .errors import InputError

#: what one step of a workload does: one inference, a prompt, one new token, or a training step
PHASES = ("forward", "prefill", "decode", "train")

# --- precisions ------------------------------------------------------------------------------
#: bytes per element of each precision the package knows
#: llama.cpp's GGUF weight formats, in bytes per weight with their block scales: ggml-common.h's
#: block_q4_0 is an fp16 scale and 32 4-bit weights (18 bytes per 32), block_q8_0 an fp16 scale and 32
#: int8 weights (34 per 32); the K-quant mixtures average over a model's tensors, 4.84 (Q4_K_M) and 5.68
#: (Q5_K_M) bits per weight on Llama 2 7B (llama.cpp tools/quantize/README.md)
GGUF_BYTES = {"q4_0": 18 / 32, "q4_k_m": 4.84 / 8, "q5_k_m": 5.68 / 8, "q8_0": 34 / 32}
PRECISION_BYTES = {"fp64": 8.0, "fp32": 4.0, "tf32": 4.0, "fp16": 2.0, "bf16": 2.0, "fp8": 1.0,
                   "int8": 1.0, "fp6": 0.75, "fp4": 0.5, "int4": 0.5, **GGUF_BYTES}
#: weight formats a matmul does not run in: without a rate of their own, weights are dequantized in the
#: kernel (llama.cpp's GGUF formats take its integer dot products where the chip has an int8 rate)
WEIGHT_ONLY = frozenset(("int4", "fp4", *GGUF_BYTES))
#: matmul precisions narrower than 16 bits: such a matmul takes a quantized input
QUANTIZED_MATMUL = frozenset(("fp8", "int8", "fp6", "fp4", "int4"))

#: precision classes of the timing model (FP16 covers bf16)
FP32, TF32, FP16, FP8, INT8, INT4 = 0, 1, 2, 3, 4, 5
N_PRECS = 6
PREC_NAMES = ("fp32", "tf32", "fp16", "fp8", "int8", "int4")
#: bytes per element of each precision class (the operand width that sets 16-byte alignment)
ELT_BYTES = (4.0, 4.0, 2.0, 1.0, 1.0, 0.5)
#: precision class of each precision name
PREC_CODE = {"fp64": FP32, "fp32": FP32, "tf32": TF32, "fp16": FP16, "bf16": FP16, "fp8": FP8, "int8": INT8,
             "fp6": FP8, "fp4": INT4, "int4": INT4, "q4_0": INT4, "q4_k_m": INT4, "q5_k_m": INT4, "q8_0": INT8}


@lru_cache(maxsize=64)
def normalize_precision(precision) -> str:
    """'FP16', 'bfloat16', 'float16' -> canonical key; unknown -> InputError listing the known ones."""
    if not isinstance(precision, str):
        raise InputError(f"precision must be a string such as 'fp16', got {precision!r}")
    p = precision.strip().lower().replace("float", "fp").replace("bfloat", "bf").replace("-", "").replace("_", "")
    p = {"half": "fp16", "single": "fp32", "double": "fp64", "fp8e4m3": "fp8", "fp8e5m2": "fp8", "q40": "q4_0",
         "q4km": "q4_k_m", "q5km": "q5_k_m", "q80": "q8_0"}.get(p, p)
    if p not in PRECISION_BYTES:
        raise InputError(f"unknown precision '{precision}'; use one of {', '.join(PRECISION_BYTES)}")
    return p


class Precisions:
    """The precision of each kind of tensor in a step: weights, activations, KV cache, and the
    precision the matmuls run at (names, normalized), with their bytes per element (``w``, ``a``,
    ``kv_bytes``), which lowering reads for every operator."""

    __slots__ = ("weights", "activations", "kv", "compute", "w", "a", "kv_bytes", "_hash")

    def __init__(self, weights: str, activations: str, kv: str, compute: str):
        self.weights, self.activations, self.kv, self.compute = weights, activations, kv, compute
        self.w, self.a, self.kv_bytes = PRECISION_BYTES[weights], PRECISION_BYTES[activations], PRECISION_BYTES[kv]
        self._hash = hash((weights, activations, kv, compute))     # a key of every cached step structure

    @property
    def names(self) -> tuple[str, str, str, str]:
        return self.weights, self.activations, self.kv, self.compute

    def __eq__(self, other) -> bool:
        return isinstance(other, Precisions) and self.names == other.names

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return "Precisions(weights={}, activations={}, kv={}, compute={})".format(*self.names)


# --- operator kinds --------------------------------------------------------------------------
GEMM, ATTN_PREFILL, ATTN_DECODE, CONV, DWCONV, MEMORY, FUSED = 0, 1, 2, 3, 4, 5, 6
#: memory-bound kernels that reach less bandwidth than a copy (MEMORY covers elementwise and copy)
NORM, SOFTMAX = 7, 8
#: flash attention's backward pass (its own kernels, less efficient than the forward's)
ATTN_BACKWARD = 9
N_KINDS = 10
KIND_NAMES = ("gemm", "attn_prefill", "attn_decode", "conv", "dwconv", "memory", "fused", "norm", "softmax",
              "attn_backward")
#: FLOPs of attention's backward pass over its forward's: five matmuls (the scores recomputed, dV, dP,
#: dQ, dK) against two (Dao 2023, FlashAttention-2, section 4.1: "the backward pass ... 2.5x the FLOPs")
ATTN_BACKWARD_FLOPS = 2.5
_MEMORY_KIND = {"norm": NORM, "softmax": SOFTMAX}

#: the fusions an execution profile may name: what a stack folds into a neighbouring kernel
FUSIONS = {"conv_epilogue": "batch-norm, activation and residual add folded into the convolution's epilogue"}
#: how a stack launches each piece of a transformer layer (an execution profile's ``kernels``): the
#: choices for each piece, each with what it launches
TRANSFORMER_KERNELS = {
    "embedding": {"separate": "each embedding lookup, their adds and an encoder's embedding norm as kernels of "
                              "their own",
                  "fused": "one kernel gathers and sums the embeddings (and normalizes them, in an encoder)"},
    "norm": {"fused": "one kernel per RMSNorm or LayerNorm",
             "fp32_chain": "an RMSNorm written as tensor operations in fp32: cast, square, mean, add, rsqrt, "
                           "scale, cast back, weight (8 kernels); a LayerNorm stays one kernel, in fp32 between "
                           "two casts when training under autocast"},
    "residual": {"separate": "an add kernel per residual connection",
                 "in_norm": "the residual add done by the next norm's kernel"},
    "qkv": {"merged": "one GEMM for the query, key and value projections", "separate": "three GEMMs"},
    "rope": {"eager": "rotary embedding as tensor operations: per query and key tensor neg, cat, two multiplies "
                      "and an add (5 kernels each), and the cos/sin tables once per step",
             "per_tensor": "one kernel for the queries and one for the keys",
             "fused": "one kernel for queries and keys", "in_attention": "applied inside the attention kernel"},
    "kv_write": {"concat": "the cache grown by concatenation: each step copies the whole cache (2 kernels)",
                 "slice": "new keys and values copied into a preallocated cache (2 kernels)",
                 "paged": "one kernel writes keys and values into the paged cache",
                 "in_attention": "written by the attention kernel"},
    "gate_up": {"merged": "one GEMM for the gate and up projections", "separate": "two GEMMs"},
    "activation": {"separate": "the activation and the gating multiply as two kernels",
                   "fused": "one kernel (SiLU-and-multiply)",
                   "epilogue": "an ungated activation (GELU, ReLU) applied by the up projection's GEMM as it "
                               "writes its output: no kernel of its own; a gated one as one kernel"},
    "moe": {"grouped": "the routed experts as one grouped GEMM per projection",
            "loop": "a loop over the touched experts: per expert a gather of its tokens, its GEMMs and a "
                    "scatter-add of its output"},
}
#: how many kernels a stack launches per linear layer to quantize its input (an execution profile's
#: ``kernels``): when the matmul runs below 16 bits, and when only the weights are narrow (a 16-bit matmul)
QUANT_KERNELS = ("low_bit_input_quant", "weight_only_input_quant")


class OpTable:
    """The operators of one step: names and kinds, then seven numeric columns (flops and bytes per
    instance, the M, N, K, G shape fields the timing layer reads, and the count), and the totals summed
    over operators x count (per configuration in a sweep). ``model_flops`` is ``flops_total`` less
    recomputation (what MFU counts). ``classes`` is what a person calls each operator (gemm, attention,
    conv, norm, elementwise, ...), ``class_names`` the distinct ones in order, ``class_index`` each
    operator's position among them."""

    __slots__ = ("names", "classes", "class_names", "class_index", "kind", "prec", "_columns", "flops_total",
                 "bytes_total", "model_flops")

    def __init__(self, layout: _Layout, columns, totals):
        self.names, self.classes, self.class_names = layout.names, layout.classes, layout.class_names
        self.class_index, self.kind, self.prec = layout.class_index, layout.kind, layout.prec
        self._columns = columns
        self.flops_total, self.bytes_total, self.model_flops = totals

    @property
    def columns(self):
        """The seven numeric columns, indexable 0..6 (an array of 7 rows, or 7 arrays). A table made from a
        template's values keeps them as a flat list (each operator's seven numbers in turn) until asked."""
        columns = self._columns
        if isinstance(columns, list):
            columns = self._columns = np.array(columns[:_NUMBERS * len(self.names)]).reshape(-1, _NUMBERS).T
        return columns

    flops = property(lambda self: self.columns[0], doc="FLOPs per instance")
    bytes = property(lambda self: self.columns[1], doc="bytes moved per instance")
    M = property(lambda self: self.columns[2])
    N = property(lambda self: self.columns[3])
    K = property(lambda self: self.columns[4])
    G = property(lambda self: self.columns[5])
    count = property(lambda self: self.columns[6], doc="instances per step")


class _Layout(NamedTuple):
    """The columns of a table that do not change with its sizes (shared by every solve of one structure)."""

    names: tuple
    classes: tuple
    class_names: tuple
    class_index: np.ndarray
    kind: np.ndarray
    prec: np.ndarray
    recomputed: np.ndarray | None


_LAYOUTS: dict = {}


def _layout(ops: list) -> _Layout:
    """The columns of a table that depend only on its operators, built once per structure."""
    key = tuple(ops)
    lay = _LAYOUTS.get(key)
    if lay is None:
        names, classes, kind, prec = zip(*key)
        class_names = tuple(dict.fromkeys(classes))
        index = np.array([class_names.index(c) for c in classes])
        recomputed = np.array([n.endswith("_recompute") for n in names])
        arrays = [index, np.array(kind, dtype=np.intp), np.array(prec, dtype=np.intp), recomputed]
        for a in arrays:
            a.setflags(write=False)
        if len(_LAYOUTS) > 1024:
            _LAYOUTS.clear()
        lay = _LAYOUTS[key] = _Layout(names, classes, class_names, index, arrays[1], arrays[2],
                                      recomputed if recomputed.any() else None)
    return lay


#: the numbers each operator carries, in order
_NUMBERS = 7


class OpBuilder:
    """Collects operators; every size argument may be a float or a NumPy array (a sweep).

    Each operator is (name, class, kind, precision) in ``ops`` and its seven numbers (flops, bytes,
    M, N, K, G, count) in ``nums``, one flat list, so a table of scalar sizes is one array call.
    """

    __slots__ = ("prec", "a", "ops", "nums")

    def __init__(self, p: Precisions):
        self.prec = PREC_CODE[p.compute]
        self.a = p.a
        self.ops: list[tuple] = []
        self.nums: list = []

    def add(self, name, cls, kind, flops, nbytes, M=0.0, N=0.0, K=0.0, G=1.0, count=1.0, prec=None):
        self.ops.append((name, cls, kind, self.prec if prec is None else prec))
        self.nums += (flops, nbytes, M, N, K, G, count)

    def gemm(self, name, M, N, K, w_bytes, count=1.0, G=1.0, weight_elems=None, cls="gemm", prec=None):
        """C[M,N] = A[M,K] @ W[K,N], G independent problems; weights at ``w_bytes`` per element."""
        weights = (K * N * G if weight_elems is None else weight_elems) * w_bytes
        self.ops.append((name, cls, GEMM, self.prec if prec is None else prec))
        self.nums += (2.0 * M * N * K * G, (M * K * G + M * N * G) * self.a + weights, M, N, K, G, count)

    def memory(self, name, cls, nbytes, flops=0.0, count=1.0):
        """A bandwidth-bound kernel; norms and softmax reach less bandwidth than a copy."""
        self.ops.append((name, cls, _MEMORY_KIND.get(cls, MEMORY), self.prec))
        self.nums += (flops, nbytes, 0.0, 0.0, 0.0, 1.0, count)

    def rows(self):
        """(name, class, kind, precision, flops, bytes, M, N, K, G, count) of each operator so far."""
        nums = self.nums
        return [op + tuple(nums[i * _NUMBERS:(i + 1) * _NUMBERS]) for i, op in enumerate(self.ops)]

    def table(self) -> OpTable:
        lay = _layout(self.ops)
        try:        # scalar sizes: every number in one array, (7, n_ops)
            block = np.array(self.nums, dtype=float)
        except (TypeError, ValueError):
            block = None
        if block is not None and block.ndim == 1:
            cols = block.reshape(-1, _NUMBERS).T
            count = cols[6]
            total, moved = cols[:2].dot(count).tolist()
            model = total - cols[0, lay.recomputed] @ count[lay.recomputed] if lay.recomputed is not None else total
            return OpTable(lay, cols, (total, moved, model))
        columns = _sweep_columns([self.nums[i:i + _NUMBERS] for i in range(0, len(self.nums), _NUMBERS)])
        flops, nbytes, count = columns[0], columns[1], columns[6]
        work = flops * count
        total = work.sum(axis=0)
        model = total - work[lay.recomputed].sum(axis=0) if lay.recomputed is not None else total
        return OpTable(lay, columns, (total, (nbytes * count).sum(axis=0), model))


def _sweep_columns(rows) -> tuple[np.ndarray, ...]:
    """The numeric columns of a sweep, each (n_ops, *config_shape) or broadcastable to it."""
    cols = []
    for values in zip(*rows):
        if any(isinstance(v, np.ndarray) and v.ndim for v in values):
            cols.append(np.stack(np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in values])))
        else:
            cols.append(np.array(values, dtype=float))
    ndim = max(c.ndim for c in cols)
    return tuple(c.reshape(c.shape[:1] + (1,) * (ndim - c.ndim) + c.shape[1:]) for c in cols)


def train_step(ops: OpBuilder, params: float, optimizer_bytes: float, recompute: bool) -> list[tuple]:
    """Append the backward pass and the optimizer update to a forward pass's operators.

    Each GEMM and convolution runs twice more (input and weight gradients, transposed shapes);
    attention backward is its own kind of kernel with 2.5x the forward's FLOPs at the forward's shape;
    memory-bound kernels move twice their bytes. With recomputation the forward runs again before
    backward (counted in time, not in MFU). Returns the forward pass's rows (:meth:`OpBuilder.rows`).
    """
    forward = ops.rows()
    for name, cls, kind, prec, flops, nbytes, M, N, K, G, count in forward:
        if cls == "gemm" or kind in (CONV, DWCONV):
            gemm = cls == "gemm"
            ops.add(f"{name}_dgrad", cls, kind, flops, nbytes, M, K if gemm else N, N if gemm else K, G, count, prec)
            ops.add(f"{name}_wgrad", cls, kind, flops, nbytes, K if gemm else N, N if gemm else K, M, G, count, prec)
        elif kind == ATTN_PREFILL:
            ops.add(f"{name}_bwd", cls, ATTN_BACKWARD, ATTN_BACKWARD_FLOPS * flops, 2.0 * nbytes, M, N, K, G, count,
                    prec)
        else:
            ops.add(f"{name}_bwd", cls, kind, flops, 2.0 * nbytes, M, N, K, G, count, prec)
    if recompute:
        for name, cls, kind, prec, *numbers in forward:
            ops.add(f"{name}_recompute", cls, kind, *numbers, prec=prec)
    ops.memory("optimizer", "optimizer", params * optimizer_bytes, flops=10.0 * params)
    return forward


# --- templates: a lowering traced once, evaluated per configuration -------------------------------------
class NotPolynomial(Exception):
    """A lowering does something with its sizes that is not a polynomial (a minimum, a power of a size)."""


class _Poly:
    """A polynomial in a step's sizes (batch, sequence, cached tokens), built by running a lowering on it.

    Sums, products, and division by a number stay polynomials; anything else (comparing a size,
    ``np.minimum``, a size in an exponent) raises :class:`NotPolynomial` or ``TypeError``, and the
    lowering then runs as usual for every configuration.
    """

    __slots__ = ("terms",)
    __array_ufunc__ = None          # numpy refuses it (TypeError): no silent object arrays

    def __init__(self, terms: dict):
        self.terms = terms           # {(batch power, sequence power, cached power): coefficient}

    @staticmethod
    def _of(x) -> dict:
        if isinstance(x, _Poly):
            return x.terms
        if isinstance(x, (int, float)) and not isinstance(x, bool):
            return {(0, 0, 0): float(x)} if x else {}
        raise NotPolynomial(type(x).__name__)

    def __add__(self, other):
        terms = dict(self.terms)
        for e, c in self._of(other).items():
            terms[e] = terms.get(e, 0.0) + c
        return _Poly(terms)

    __radd__ = __add__

    def __neg__(self):
        return _Poly({e: -c for e, c in self.terms.items()})

    def __sub__(self, other):
        return self + -_Poly(self._of(other))

    def __rsub__(self, other):
        return -self + other

    def __mul__(self, other):
        terms: dict = {}
        for e1, c1 in self.terms.items():
            for e2, c2 in self._of(other).items():
                e = (e1[0] + e2[0], e1[1] + e2[1], e1[2] + e2[2])
                terms[e] = terms.get(e, 0.0) + c1 * c2
        return _Poly(terms)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, _Poly) or not other:
            raise NotPolynomial("division by a size")
        return _Poly({e: c / other for e, c in self.terms.items()})

    def __pow__(self, n):
        if not isinstance(n, int) or n < 0:
            raise NotPolynomial("a power that is not a whole number")
        out = _Poly({(0, 0, 0): 1.0})
        for _ in range(n):
            out = out * self
        return out

    def _refuse(self, *args):
        raise NotPolynomial("a size used in a comparison or a function")

    __rtruediv__ = __rpow__ = __floordiv__ = __rfloordiv__ = __mod__ = _refuse
    __bool__ = __float__ = __int__ = __index__ = __lt__ = __le__ = __gt__ = __ge__ = __ceil__ = __floor__ = _refuse


class Template:
    """A step traced once with symbolic sizes: each number of each operator (and each part of the memory
    footprint, when that is a polynomial too) is a polynomial in (batch, sequence, cached tokens). They
    are compiled into one Python function that returns them all for a configuration, constants inline
    and each monomial computed once, so a solve runs none of the lowering's Python."""

    __slots__ = ("layout", "values", "numbers", "parts")

    def __init__(self, ops: list, polys: list[_Poly], parts: dict | None = None):
        # the values: each operator's seven numbers in turn (as the builder keeps them), the table's
        # three totals, then the footprint's parts
        self.layout = lay = _layout(ops)
        flops, moved, count = polys[0::_NUMBERS], polys[1::_NUMBERS], polys[6::_NUMBERS]
        work = [f * c for f, c in zip(flops, count)]
        total = sum(work, _Poly({}))
        model = total - sum((w for w, r in zip(work, lay.recomputed) if r), _Poly({})) \
            if lay.recomputed is not None else total
        polys = polys + [total, sum((b * c for b, c in zip(moved, count)), _Poly({})), model]
        self.parts = None if parts is None else tuple(parts)
        if parts is not None:
            polys += list(parts.values())
        self.values = _compiled(polys)
        self.numbers = _NUMBERS * len(ops)

    @staticmethod
    def trace(lowering, footprint=None) -> Template | None:
        """The template of ``lowering(batch, seq_len, past) -> OpBuilder`` and ``footprint(batch, seq_len,
        past) -> {part: bytes}``, or None if the lowering is not polynomial (then neither is traced)."""
        sizes = [_Poly({tuple(int(i == j) for j in range(3)): 1.0}) for i in range(3)]
        try:
            ops = lowering(*sizes)
            polys = [_Poly(_Poly._of(x)) for x in ops.nums]
        except (NotPolynomial, TypeError):
            return None
        parts = None
        if footprint is not None:
            try:
                parts = {part: _Poly(_Poly._of(x)) for part, x in footprint(*sizes).items()}
            except (NotPolynomial, TypeError):
                parts = None
        try:
            return Template(ops.ops, polys, parts)
        except NotPolynomial:          # a coefficient that is not finite
            return None

    def table(self, values: list) -> OpTable:
        """The operator table of one configuration's :attr:`values` (``values(batch, seq_len, past)``)."""
        n = self.numbers
        return OpTable(self.layout, values, values[n:n + 3])


def _compiled(polys: list[_Poly]):
    """``f(batch, seq_len, past) -> [value of each polynomial]`` as one Python function (the way
    ``dataclasses`` writes an ``__init__``): evaluating a hundred short polynomials this way takes a
    couple of microseconds, a matrix product over their coefficients twice that."""
    monomials: dict = {}
    lines = []

    def monomial(power) -> str:
        if power not in monomials:
            monomials[power] = name = f"m{len(monomials)}"
            factors = ["b"] * power[0] + ["s"] * power[1] + ["c"] * power[2]
            lines.append(f"    {name} = {' * '.join(factors)}")
        return monomials[power]

    items = []
    for p in polys:
        terms = []
        for power, coefficient in sorted(p.terms.items()):
            if coefficient:
                if not math.isfinite(coefficient):
                    raise NotPolynomial("a coefficient that is not finite")
                terms.append(repr(coefficient) if power == (0, 0, 0) else f"{coefficient!r} * {monomial(power)}")
        items.append(" + ".join(terms) or "0.0")
    source = "def values(b, s, c):\n" + "".join(line + "\n" for line in lines) + \
        "    return [" + ", ".join(items) + "]\n"
    namespace: dict = {}
    exec(compile(source, "<mlsysim.ops template>", "exec"), namespace)
    return namespace["values"]
