"""Questions asked backwards about memory: the longest context and the largest batch that fit on a device, and
the fewest devices that hold a model, each with the constraint that binds.

Every answer is the boundary of ServingModel's own memory fit (weights, KV cache, activations and the runtime
per device), found by bisection: the fit only grows with the batch, the context and the devices, so the
boundary is exact to the token, the sequence and the device.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..run import Run, resolve_hardware, resolve_model, whole
from ..serving.serving import serve
from ..solver import Result, Solver
from ..units import format_si

#: the largest batch the search tries (a bound on the bisection, far beyond any engine's batch cap)
MAX_BATCH = 1 << 24
#: tensor-parallel degrees tried for the fewest devices (over a scale-up link)
TP_DEGREES = (1, 2, 4, 8, 16, 32, 64, 72)


@dataclass(frozen=True)
class FitResult(Result):
    """The boundaries of the memory fit around one point (``batch_size`` sequences of ``seq_len`` tokens)."""

    model_name: str
    hardware_name: str
    precision: str
    batch_size: int
    seq_len: int
    tp: int
    fits: bool
    memory_bytes: float
    memory_capacity_bytes: float
    #: the longest context (tokens per sequence) at ``batch_size``; None when not even one token fits
    max_context: int | None
    context_binding: str
    #: the most sequences of ``seq_len`` tokens at once; None when not even one fits
    max_batch: int | None
    batch_binding: str
    #: the fewest devices (tp x pp) that hold ``batch_size`` sequences of ``seq_len`` tokens
    min_devices: int | None
    min_devices_tp: int | None
    min_devices_pp: int | None
    devices_binding: str

    def summary(self) -> str:
        def n(x, unit):
            return "none" if x is None else f"{x:,} {unit}"
        return (f"{self.model_name} on {self.hardware_name} at {self.precision}: longest context "
                f"{n(self.max_context, 'tokens')} at batch {self.batch_size}; largest batch "
                f"{n(self.max_batch, 'sequences')} of {self.seq_len:,} tokens; fewest devices "
                f"{n(self.min_devices, '')}".rstrip())


class FitModel(Solver):
    """The longest context, the largest batch and the fewest devices that fit (wall 2: memory)."""

    walls = (2,)
    needs = ("model", "hardware")

    def solve(self, model, hardware=None, batch_size=1, seq_len=None, precision="fp16", *, tp=1,
              weight_precision=None, kv_precision=None, stack=None, runtime_overhead=None,
              max_devices=512) -> FitResult:
        """Boundaries around ``batch_size`` sequences of ``seq_len`` tokens (default: the model's usual context)
        on ``tp`` devices of ``hardware``; the fewest devices looks at up to ``max_devices`` (tp x pp)."""
        m = resolve_model(model)
        if not m.family.language_model:
            raise InputError(f"{m.name} is a {m.architecture}: context, batch and device questions here are about "
                             f"a language model's KV cache (use Engine.solve for its memory at a batch)")
        hw = resolve_hardware(hardware) if hardware is not None else None
        if hw is None:
            raise InputError("give the hardware (a device name such as 'H100', or a device file)")
        B, tp, limit = whole("batch_size", batch_size), whole("tp", tp), whole("max_devices", max_devices)
        kw = dict(precision=precision, weight_precision=weight_precision, kv_precision=kv_precision, stack=stack,
                  runtime_overhead=runtime_overhead)
        base = Run.build(m, hw, purpose="serving", batch_size=B, seq_len=seq_len, tp=tp, pp=1, **kw)
        S = int(base.context)
        window = int(getattr(m, "context_length", 0) or S)

        def point(b, s, t=tp, p=1):
            return serve(Run.build(m, hw, purpose="serving", batch_size=b, seq_len=s, tp=t, pp=p, **kw))

        here = point(B, S)
        capacity = float(here.memory_capacity_bytes)
        context, context_why = _longest(lambda s: bool(point(B, s).feasible), window, point, B, capacity, m.name)
        most, batch_why = _largest(lambda b: bool(point(b, S).feasible), point, S, capacity)
        fewest = _fewest(m, B, S, point, limit)
        return FitResult(
            model_name=m.name, hardware_name=hw.name, precision=base.precision, batch_size=B, seq_len=S, tp=tp,
            fits=bool(here.feasible), memory_bytes=float(here.memory_bytes), memory_capacity_bytes=capacity,
            max_context=context, context_binding=context_why, max_batch=most, batch_binding=batch_why,
            min_devices=fewest[0], min_devices_tp=fewest[1], min_devices_pp=fewest[2], devices_binding=fewest[3],
            binding=f"at batch {B} and {S:,} tokens: {format_si(float(here.memory_bytes), 'B')} of "
                    f"{format_si(capacity, 'B')} per device",
            assumptions=("memory per device as ServingModel fits it: weights, KV cache at the full context, decode "
                         "activations and the runtime's own footprint (Stacks.<stack>.runtime_bytes)",
                         f"tensor parallelism over {tp} device(s) for the context and batch answers; the fewest "
                         f"devices tries tp in {', '.join(map(str, TP_DEGREES))} times pipeline stages"))


def _longest(fits, window: int, point, B: int, capacity: float, name: str):
    """The most tokens per sequence that fit (bisection over 1..window) and what stops it there."""
    if fits(window):
        return window, f"{name}'s context window of {window:,} tokens (memory would hold more)"
    if not fits(1):
        weights = float(point(B, 1).weights_bytes)
        return None, f"not even one token: the weights alone take {format_si(weights, 'B')} of " \
                     f"{format_si(capacity, 'B')}"
    lo, hi = 1, window
    lo, hi = _bisect(fits, lo, hi)
    over = point(B, hi)
    return lo, (f"memory: {hi:,} tokens would need {format_si(float(over.memory_bytes), 'B')} of "
                f"{format_si(capacity, 'B')} per device (KV cache {format_si(float(over.kv_cache_bytes), 'B')})")


def _bisect(fits, lo: int, hi: int) -> tuple[int, int]:
    """Narrow ``lo`` (fits) and ``hi`` (does not) to neighbours."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo, hi


def _largest(fits, point, S: int, capacity: float):
    """The most sequences that fit (doubling, then bisection) and what stops it there."""
    if not fits(1):
        return None, f"not even one sequence of {S:,} tokens fits in {format_si(capacity, 'B')}"
    lo, hi = 1, 2
    while hi <= MAX_BATCH and fits(hi):
        lo, hi = hi, hi * 2
    if hi > MAX_BATCH:
        return lo, f"the search bound of {MAX_BATCH:,} sequences"
    lo, hi = _bisect(fits, lo, hi)
    over = point(hi, S)
    return lo, (f"memory: {hi:,} sequences would need {format_si(float(over.memory_bytes), 'B')} of "
                f"{format_si(capacity, 'B')} per device (KV cache {format_si(float(over.kv_cache_bytes), 'B')})")


def _fewest(m, B: int, S: int, point, limit: int):
    """(devices, tp, pp, why) for the fewest tp x pp that fit; tp divides the heads, pp at most the layers."""
    options = sorted((t * p, p, t) for t in TP_DEGREES if m.heads % t == 0 and t <= limit
                     for p in range(1, min(m.layers, limit // t) + 1))
    for n, p, t in options:
        try:
            ok = bool(point(B, S, t, p).feasible)
        except InputError:          # a split the model cannot take (e.g. KV heads): not a candidate
            continue
        if ok:
            return n, t, p, (f"{n} device(s) as tp={t} x pp={p}: the smallest split whose share of the weights, "
                             f"KV cache and runtime fits each device")
    return None, None, None, f"no split of up to {limit} devices holds it"
