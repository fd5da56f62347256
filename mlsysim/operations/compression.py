"""Compression: what quantization, pruning and distillation buy in size and speed, and cost in accuracy (wall 13).

Size and speed come from the engine: the compressed configuration is solved next to the
baseline and the speed-up is the ratio of their step times, so the regime decides it. A
memory-bound step (LLM decode) gains about the byte ratio of its weights; a compute-bound one
gains only if the device has a faster rate at the new precision (weight-only quantization
dequantizes and multiplies at the baseline precision, so it gains nothing there). Unstructured
sparsity leaves dense kernels doing the same work: no speed-up. Structured pruning shrinks the
work of every operator; 2:4 sparsity halves the tensor-core math on devices that have sparse
tensor cores.

Accuracy is never modelled: the result quotes the published figure for that model and
configuration from ``zoo/data/compression.yaml`` (with its source), or says that there is none
and lists the nearest published results as related evidence.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..engine.engine import Engine
from ..errors import InputError
from ..ops import PRECISION_BYTES, normalize_precision
from ..run import resolve_hardware, resolve_model
from ..solver import Result, Solver
from ..units import format_si, quantity

METHODS = ("quantization", "pruning", "distillation")
PATTERNS = ("unstructured", "structured", "2:4", "4:8")
#: precision keys for a bit width (integer formats unless ``number_format="fp"``)
_INT_KEYS = {16: "fp16", 8: "int8", 4: "int4"}
_FP_KEYS = {16: "fp16", 8: "fp8", 4: "fp4"}
#: bytes of a 2:4-compressed fp16 matrix per dense element: half the values plus 2-bit indices
#: per kept value (NVIDIA Ampere architecture whitepaper, structured sparsity: 16 bits + 2 bits)
SPARSE_24_BYTE_FRACTION = 0.5 * (16 + 2) / 16

SOURCES = {
    "speed": "speed-up = baseline step time / compressed step time, both from Engine.solve",
    "2:4": "2:4 structured sparsity doubles dense tensor-core math on NVIDIA Ampere and later "
           "(NVIDIA A100 Tensor Core GPU Architecture whitepaper, 2020); values stored as half the "
           "elements plus 2-bit position metadata",
    "unstructured": "unstructured sparsity runs on dense kernels at the same cost (no dense speed-up); "
                    "weights are stored dense",
}


@dataclass(frozen=True)
class PublishedResult:
    """One published accuracy change (from compression.yaml)."""

    id: str
    model: str
    technique: str
    metric: str
    baseline: float | None
    compressed: float | None
    delta: float
    higher_is_better: bool
    source: str
    note: str = ""


@dataclass(frozen=True)
class CompressionResult(Result):
    """Size, speed and published accuracy of a compressed model against its baseline (SI bytes, seconds)."""

    model_name: str
    hardware_name: str
    method: str
    baseline_precision: str
    precision: str
    bits: float
    sparsity: float
    pattern: str
    original_size_b: float
    compressed_size_b: float
    compression_ratio: float
    baseline_latency_s: float
    compressed_latency_s: float
    inference_speedup: float
    baseline_bottleneck: str
    compressed_bottleneck: str
    accuracy: PublishedResult | None
    accuracy_note: str
    related: tuple[PublishedResult, ...] = ()

    # -- 0.1.0 names and units -------------------------------------------------------------------
    @property
    def original_size_gb(self) -> float: return self.original_size_b / 1e9
    @property
    def compressed_size_gb(self) -> float: return self.compressed_size_b / 1e9
    @property
    def memory_savings_pct(self) -> float: return (1.0 - self.compressed_size_b / self.original_size_b) * 100.0
    @property
    def estimated_accuracy_delta(self) -> float | None:
        """The published change in the quoted metric's units, or None where nothing is published."""
        return None if self.accuracy is None else self.accuracy.delta
    @property
    def has_published_accuracy(self) -> bool: return self.accuracy is not None
    @property
    def original_size(self): return quantity(self.original_size_b, "GB")
    @property
    def compressed_size(self): return quantity(self.compressed_size_b, "GB")

    def summary(self) -> str:
        acc = (f"{self.accuracy.metric} {self.accuracy.delta:+g} ({self.accuracy.source})" if self.accuracy
               else self.accuracy_note)
        return (f"{self.model_name} {self.method} on {self.hardware_name}: {format_si(self.original_size_b, 'B')}"
                f" -> {format_si(self.compressed_size_b, 'B')} ({self.compression_ratio:.2f}x smaller), "
                f"{self.inference_speedup:.2f}x faster ({self.baseline_bottleneck} -> {self.compressed_bottleneck}"
                f" bound); accuracy: {acc}")


class CompressionModel(Solver):
    """Size, speed-up (through the engine) and published accuracy change of a compressed model — wall 13."""

    walls = (13,)

    def solve(self, model, hardware, method="quantization", bits=None, sparsity=0.0, structured=False,
              baseline="fp16", *, pattern=None, weight_only=None, number_format="int", student=None,
              batch_size=1, seq_len=None, phase=None, target_bitwidth=None, sparsity_type=None) -> CompressionResult:
        """Compress ``model`` and compare it with its ``baseline`` precision on ``hardware``.

        ``method``: ``quantization`` (``bits`` 16, 8 or 4; ``weight_only`` defaults to True at 4
        bits and to "the device has no int8/fp8 rate" at 8; ``number_format`` "int" or "fp"),
        ``pruning`` (``sparsity`` in [0, 1), ``structured`` or ``pattern`` "unstructured",
        "structured", "2:4", "4:8") or ``distillation`` (``student``: the smaller model).
        0.1.0's ``target_bitwidth`` and ``sparsity_type`` are accepted as synonyms.
        """
        m, hw = resolve_model(model), resolve_hardware(hardware)
        if method not in METHODS:
            raise InputError(f"unknown compression method '{method}'; use one of {', '.join(METHODS)}")
        base = normalize_precision(baseline)
        if base not in ("fp32", "tf32", "fp16", "bf16"):
            raise InputError(f"baseline must be a floating-point training precision (fp32, bf16, fp16), "
                             f"got {baseline!r}")
        common = dict(batch_size=batch_size, seq_len=seq_len, phase=phase)
        ref = Engine.solve(m, hw, precision=base, **common)
        notes = [f"baseline: {m.name} at {base}, batch {batch_size}, {ref.phase} phase, on {hw.name}",
                 SOURCES["speed"]]
        prec, nbits, s, pat = base, PRECISION_BYTES[base] * 8, 0.0, ""
        size0 = float(ref.memory_parts["weights"])

        if method == "quantization":
            nbits = _bits(bits if bits is not None else target_bitwidth)
            keys = _FP_KEYS if number_format == "fp" else _INT_KEYS
            if number_format not in ("int", "fp"):
                raise InputError(f"number_format must be 'int' or 'fp', got {number_format!r}")
            prec = base if nbits == 16 else keys[nbits]
            if weight_only is None:
                weight_only = nbits == 4 or not hw.compute.rate(prec)
            if not weight_only and prec != base and not hw.compute.rate(prec):
                raise InputError(f"{hw.name} has no {prec} rate for weight-and-activation quantization; "
                                 f"use weight_only=True (it supports {', '.join(hw.supported_precisions)})")
            if weight_only:
                prof = Engine.solve(m, hw, precision=base, weight_precision=prec, **common)
                notes.append(f"weight-only {prec} (W{nbits}A{PRECISION_BYTES[base] * 8:g}): weights dequantized, "
                             f"matmuls at {base}")
            else:
                prof = Engine.solve(m, hw, precision=base, weight_precision=prec, activation_precision=prec,
                                    kv_precision=base if m.family.decoder else None, **common)
                notes.append(f"weights and activations at {prec}: matmuls at the device's {prec} rate")
            size1 = float(prof.memory_parts["weights"])
            t1 = prof.latency_s
            pat = "weight-only" if weight_only else "weights+activations"
        elif method == "pruning":
            s = _sparsity(sparsity)
            pat = _pattern(pattern or sparsity_type, structured, s)
            prof = ref
            lat_c, lat_m, lat_o = ref.latency_compute_s, ref.latency_memory_s, ref.latency_overhead_s
            if pat == "unstructured":
                size1, t1 = size0, ref.latency_s
                notes.append(SOURCES["unstructured"])
            elif pat == "structured":
                size1 = size0 * (1.0 - s)
                t1 = (lat_c + lat_m) * (1.0 - s) + lat_o
                notes.append(f"structured pruning removes {s:.0%} of every operator's work and traffic "
                             "(channels/heads); launch overhead is unchanged")
            else:
                sparse_tc = bool(hw.compute.rate("tf32"))      # sparse tensor cores arrived with TF32 (Ampere)
                size1 = size0 * SPARSE_24_BYTE_FRACTION
                t1 = lat_c / (2.0 if sparse_tc else 1.0) + lat_m * SPARSE_24_BYTE_FRACTION + lat_o
                notes.append(SOURCES["2:4"] + ("" if sparse_tc else f"; {hw.name} has no sparse tensor cores, "
                                               "so only the traffic shrinks"))
                notes.append("memory time scaled as if weights dominated the traffic (an upper bound on the gain)")
        else:
            if student is None:
                raise InputError("distillation needs the student model: CompressionModel().solve(teacher, hardware, "
                                 "method='distillation', student=...)")
            stu = resolve_model(student)
            prof = Engine.solve(stu, hw, precision=base, **common)
            size1, t1 = float(prof.memory_parts["weights"]), prof.latency_s
            pat = f"student {stu.name}"
            notes.append(f"student {stu.name} solved on the same device and precision")

        published, related = _lookup(m, method, nbits, s, pat, weight_only if method == "quantization" else None,
                                     student, number_format)
        if published is not None:
            acc_note = f"{published.technique}: {published.metric} {published.delta:+g} ({published.source})"
        else:
            acc_note = (f"no published figure for {m.name} with this {method} configuration"
                        + (f"; related results: {', '.join(r.id for r in related)}" if related else ""))
        notes.append("accuracy: " + acc_note)
        return CompressionResult(
            model_name=m.name, hardware_name=hw.name, method=method, baseline_precision=base, precision=prec,
            bits=float(nbits), sparsity=s, pattern=pat, original_size_b=size0, compressed_size_b=size1,
            compression_ratio=size0 / size1, baseline_latency_s=ref.latency_s, compressed_latency_s=float(t1),
            inference_speedup=ref.latency_s / float(t1), baseline_bottleneck=ref.bottleneck,
            compressed_bottleneck=_bound(prof), accuracy=published, accuracy_note=acc_note,
            related=related, assumptions=tuple(notes),
            binding=f"{ref.bottleneck.lower()}-bound baseline: "
                    + ("bytes decide the gain" if ref.bottleneck == "Memory" else "FLOP/s decide the gain"))


# --- helpers -------------------------------------------------------------------------------------
def _bits(bits) -> int:
    if bits is None:
        return 8
    if isinstance(bits, bool) or bits not in (16, 8, 4):
        raise InputError(f"bits must be 16, 8 or 4 (the precisions the engine times), got {bits!r}")
    return int(bits)


def _sparsity(s) -> float:
    if isinstance(s, bool) or not isinstance(s, (int, float)) or not (0.0 <= s < 1.0):
        raise InputError(f"sparsity must be a fraction in [0, 1), got {s!r}")
    return float(s)


def _pattern(pattern, structured, s) -> str:
    if pattern in (None, ""):
        return "structured" if structured else "unstructured"
    p = {"n_m": "2:4", "n:m": "2:4", "semi-structured": "2:4"}.get(pattern, pattern)
    if p not in PATTERNS:
        raise InputError(f"unknown sparsity pattern '{pattern}'; use one of {', '.join(PATTERNS)}")
    if p in ("2:4", "4:8") and abs(s - 0.5) > 1e-9:
        raise InputError(f"{p} sparsity removes exactly half the weights; got sparsity {s!r} (use 0.5)")
    return p


def _bound(prof) -> str:
    return prof.bottleneck if isinstance(prof.bottleneck, str) else "mixed"


def _published() -> list[dict]:
    from ..zoo.registry import load_data

    return load_data("compression").get("results", [])


def _as_result(row: dict) -> PublishedResult:
    return PublishedResult(id=row["id"], model=row["model"], technique=row["technique"], metric=row["metric"],
                           baseline=row.get("baseline"), compressed=row.get("compressed"), delta=float(row["delta"]),
                           higher_is_better=bool(row["higher_is_better"]), source=row["source"],
                           note=row.get("note", ""))


def _lookup(model, method, bits, sparsity, pattern, weight_only, student, number_format="int"):
    """The published figure for exactly this model and configuration, and related results of the method."""
    name, family = model.name.lower(), model.family.group
    stu = resolve_model(student) if student is not None else None
    exact, related = None, []
    for row in _published():
        if row["method"] != method:
            continue
        if method == "quantization":
            same = (row["bits"] == bits and row.get("format", "int") == number_format
                    and (weight_only is None or row.get("weight_only") == weight_only))
        elif method == "pruning":
            same = row.get("pattern") == pattern and abs(row.get("sparsity", -1) - sparsity) < 0.05
        else:
            ref = float(row.get("student_parameters") or 0.0)
            same = stu is not None and ref > 0 and abs(stu.parameter_count() / ref - 1.0) <= 0.15
        if same and exact is None and name.startswith(row["model"].lower()):
            exact = _as_result(row)
        elif row.get("family") == family:
            related.append(_as_result(row))
    return exact, tuple(related)


__all__ = ["CompressionModel", "CompressionResult", "PublishedResult"]
