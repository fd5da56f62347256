"""Wall 22: the inverse roofline — the bandwidth, FLOP/s and memory a latency target demands.

It bisects scale factors of a reference device on the real engine, so every effect the timing
layer models shows in the answer.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..engine.engine import Engine
from ..errors import InputError, MlsysimError
from ..run import resolve_hardware, resolve_model
from ..solver import Result, Solver
from ..units import format_si, parse, quantity
from .sensitivity import latency_of, scaled

#: the bisection's range of scale factors over the reference device, and its steps
_LO, _HI, _STEPS = 1e-4, 1e4, 60
#: "unconstrained": a figure scaled this far no longer limits any operator
_UNBOUNDED = 1e6


@dataclass(frozen=True)
class SynthesisResult(Result):
    """What a device needs to run one step of ``model`` within ``target_latency_s``."""

    model_name: str
    reference_name: str
    phase: str
    target_latency_s: float
    required_bandwidth: float       # B/s, with compute unbounded: the memory floor alone
    required_flops: float           # FLOP/s, with bandwidth unbounded: the compute floor alone
    required_memory: float          # bytes: the step's footprint
    device: object                  # the reference, both speeds scaled together until it meets the target
    device_bandwidth: float
    device_flops: float
    device_latency_s: float
    latency_floor_s: float          # with both speeds unbounded: launch gaps and what nothing scales
    model_size: float
    total_ops: float
    meeting: tuple[str, ...]        # zoo accelerators that meet the target (fastest first)

    @property
    def compute_memory_ratio(self) -> float:
        """FLOP per byte the device must sustain: required FLOP/s over required bandwidth."""
        return self.required_flops / self.required_bandwidth

    # -- 0.1.0 names, with units ------------------------------------------------------------------
    @property
    def required_bw(self): return quantity(self.required_bandwidth, "GB/s")
    @property
    def target_latency(self): return quantity(self.target_latency_s, "ms")

    def summary(self) -> str:
        return (f"{self.model_name} {self.phase} in {format_si(self.target_latency_s, 's')}: "
                f">= {format_si(self.required_bandwidth, 'B/s')}, >= {format_si(self.required_flops, 'FLOP/s')}, "
                f">= {format_si(self.required_memory, 'B')}; met by {', '.join(self.meeting) or 'no zoo device'}")


class SynthesisSolver(Solver):
    """The inverse roofline: the bandwidth, FLOP/s and memory a latency target demands (wall 22)."""

    walls = (22,)

    def solve(self, model, target_latency, hardware="H100", batch_size=1, precision="fp16", efficiency=None, *,
              seq_len=None, phase=None, candidates=None, **solve_kw) -> SynthesisResult:
        """Bisect scale factors of ``hardware`` (the reference device) until one step of ``model``
        (a decode step for language models, a forward pass otherwise) takes ``target_latency``.

        ``required_bandwidth`` is found with compute unbounded, ``required_flops`` with bandwidth
        unbounded; ``device`` scales both together (keeping the reference's balance) and meets the
        target. ``candidates`` (default: the hardware zoo) are checked as they are.
        """
        target = parse(target_latency, "s", "target_latency", positive=True)
        model, ref = resolve_model(model), resolve_hardware(hardware)
        kw = dict(batch_size=batch_size, precision=precision, efficiency=efficiency, seq_len=seq_len, phase=phase,
                  **solve_kw)
        roomy = scaled(ref, capacity=_UNBOUNDED)       # capacity is reported, not searched

        def latency(**factors) -> float:
            return latency_of(Engine.solve(model, scaled(roomy, **factors), **kw), "latency_s")

        base = Engine.solve(model, roomy, **kw)
        floor = latency(flops=_UNBOUNDED, bandwidth=_UNBOUNDED)
        if floor >= target:
            raise InputError(f"no device meets {format_si(target, 's')}: even unbounded FLOP/s and bandwidth leave "
                             f"{format_si(floor, 's')} of launch gaps for {model.name}; "
                             f"use a compiled stack, a larger batch or a looser target")
        bw_k = _bisect(lambda k: latency(flops=_UNBOUNDED, bandwidth=k), target)
        fl_k = _bisect(lambda k: latency(flops=k, bandwidth=_UNBOUNDED), target)
        both_k = _bisect(lambda k: latency(flops=k, bandwidth=k), target)
        need_mem = float(sum(float(v) for v in base.memory_parts.values()))
        mem_k = need_mem / float(ref.memory.capacity)
        device = scaled(ref, flops=both_k, bandwidth=both_k, capacity=mem_k,
                        name=f"Synthesized ({ref.name} x{both_k:.3g} speed)")
        check = Engine.solve(model, device, **kw)
        peak = ref.peak_at(base.precision if base.precision in ref.supported_precisions else "fp16")
        meeting = _meeting(model, target, kw, candidates)
        notes = (f"reference {ref.name}: its per-precision rates, tiers and launch costs keep their proportions",
                 f"bisection over scale factors {_LO:g}..{_HI:g} on Engine.solve, not a closed formula",
                 f"latency floor (both speeds unbounded) {format_si(floor, 's')}")
        return SynthesisResult(
            model.name, ref.name, base.phase, target, float(ref.memory.bandwidth) * bw_k, peak * fl_k, need_mem,
            device, float(device.memory.bandwidth), float(device.compute.peak_flops), float(check.latency_s),
            floor, float(base.memory_parts["weights"]), float(base.flops_total), meeting, assumptions=notes,
            binding=f"needs {format_si(float(ref.memory.bandwidth) * bw_k, 'B/s')} and "
                    f"{format_si(peak * fl_k, 'FLOP/s')}")


def _bisect(latency_at, target) -> float:
    """The smallest scale factor k with latency_at(k) <= target (latency falls as k grows)."""
    lo, hi = _LO, _HI
    if latency_at(hi) > target:
        raise InputError(f"no scaling up to x{_HI:g} of the reference meets {format_si(target, 's')}")
    if latency_at(lo) <= target:
        return lo
    for _ in range(_STEPS):
        mid = math.sqrt(lo * hi)
        if latency_at(mid) <= target:
            hi = mid
        else:
            lo = mid
        if hi / lo < 1.0 + 1e-6:
            break
    return hi


def _meeting(model, target, kw, candidates) -> tuple[str, ...]:
    """Names (registry names for the zoo) of the candidates that fit and meet ``target``, fastest first."""
    if candidates is None:
        from ..hardware.registry import Hardware

        candidates = Hardware.names()
    found, seen = [], set()
    for cand in candidates:
        hw = resolve_hardware(cand)
        if id(hw) in seen:              # an alias of an entry already checked
            continue
        seen.add(id(hw))
        try:
            prof = Engine.solve(model, hw, **kw)
        except MlsysimError:
            continue
        if bool(prof.feasible) and float(prof.latency_s) <= target:
            found.append((float(prof.latency_s), cand if isinstance(cand, str) else hw.name))
    return tuple(name for _, name in sorted(found))
