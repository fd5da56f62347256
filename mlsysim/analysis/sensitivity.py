"""Walls 21 and 22: which hardware figure binds (sensitivity), and what a target demands (synthesis).

Both work through the real solvers: a device's datasheet figures are scaled and the workload
is solved again, so every effect the timing layer models (launch gaps, per-operator rooflines,
offload when memory runs out) shows in the answer; nothing is re-derived in closed form.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..engine.engine import Engine, resolve_hardware, resolve_model
from ..errors import InputError, MlsysimError
from ..units import format_si, quantity
from .base import Result, Solver

#: the figures SensitivitySolver perturbs, in report order
FIGURES = ("peak_flops", "memory_bandwidth", "memory_capacity", "scale_up_bandwidth")


def scaled(hw, *, flops: float = 1.0, bandwidth: float = 1.0, capacity: float = 1.0, link: float = 1.0,
           name: str | None = None):
    """A copy of ``hw`` with its peak FLOP/s (every precision), memory bandwidth (every tier),
    memory capacity and scale-up link bandwidth multiplied by the given factors."""
    comp, mem = hw.compute, hw.memory
    compute = comp.model_copy(update={"peak_flops": float(comp.peak_flops) * flops,
                                      "precision_flops": {k: float(v) * flops
                                                          for k, v in comp.precision_flops.items()}})
    mem_update = {"capacity": float(mem.capacity) * capacity, "bandwidth": float(mem.bandwidth) * bandwidth}
    for tier in ("sram_bandwidth", "flash_bandwidth"):
        if getattr(mem, tier):
            mem_update[tier] = float(getattr(mem, tier)) * bandwidth
    update = {"compute": compute, "memory": mem.model_copy(update=mem_update)}
    attr = "nvlink" if hw.nvlink is not None else ("interconnect" if hw.interconnect is not None else None)
    if attr and link != 1.0:
        ic = getattr(hw, attr)
        update[attr] = ic.model_copy(update={"bandwidth": float(ic.bandwidth) * link})
    if name:
        update["name"] = name
    out = hw.model_copy(update=update)
    return out


def _factors(figure: str, f: float) -> dict:
    return {"peak_flops": {"flops": f}, "memory_bandwidth": {"bandwidth": f},
            "memory_capacity": {"capacity": f}, "scale_up_bandwidth": {"link": f}}[figure]


# --- wall 21: sensitivity ------------------------------------------------------------------------
@dataclass(frozen=True)
class SensitivityResult(Result):
    """Elasticities d ln T / d ln x of latency T to each hardware figure x (-1: T halves when x
    doubles; 0: x does not matter here)."""

    model_name: str
    hardware_name: str
    solver: str
    metric: str
    perturbation: float
    baseline_latency_s: float
    feasible: bool
    elasticities: dict
    binding_figure: str
    constraint_trace: tuple[str, ...] = ()

    @property
    def sensitivities(self) -> dict:
        """0.1.0 view: the relative change of latency when each figure grows by ``perturbation``."""
        return {k: (1.0 + self.perturbation) ** e - 1.0 for k, e in self.elasticities.items()}

    @property
    def binding_constraint(self) -> str: return self.binding_figure
    @property
    def perturbation_pct(self) -> float: return self.perturbation * 100.0
    @property
    def baseline_latency(self): return quantity(self.baseline_latency_s, "ms")

    def summary(self) -> str:
        parts = ", ".join(f"{k} {v:+.2f}" for k, v in self.elasticities.items())
        return (f"{self.model_name} on {self.hardware_name}: {format_si(self.baseline_latency_s, 's')}; "
                f"binds on {self.binding_figure} (elasticities {parts})")


class SensitivitySolver(Solver):
    """Which hardware figure binds a workload: elasticity of its latency to each (wall 21)."""

    walls = (21,)

    def solve(self, model, hardware, solver: str = "engine", perturbation: float = 0.1, precision="fp16",
              *, perturbation_pct: float | None = None, metric: str | None = None, **solve_kw) -> SensitivityResult:
        """Central differences of ln(latency) in ln(figure), each figure scaled by 1 ± ``perturbation``.

        ``solver`` is ``engine`` (``Engine.solve``; latency of one step) or ``serving``
        (``ServingModel``; ``metric`` ``itl_s`` by default, or ``ttft_s`` / ``request_latency_s``).
        Other keywords go to that solver unchanged.
        """
        if perturbation_pct is not None:
            perturbation = perturbation_pct / 100.0
        if isinstance(perturbation, bool) or not isinstance(perturbation, (int, float)) \
                or not (0.0 < perturbation < 1.0):
            raise InputError(f"perturbation must be a fraction in (0, 1) such as 0.1, got {perturbation!r}")
        model, hw = resolve_model(model), resolve_hardware(hardware)
        run, metric = _runner(solver, metric, model, precision, solve_kw)
        base = run(hw)
        t0, feasible = _latency(base, metric), bool(_all(base.feasible))
        h = float(perturbation)
        step = math.log1p(h) - math.log1p(-h)
        figures = [f for f in FIGURES if f != "scale_up_bandwidth" or hw.nvlink or hw.interconnect]
        elasticities = {}
        for fig in figures:
            up = _latency(run(scaled(hw, **_factors(fig, 1.0 + h))), metric)
            down = _latency(run(scaled(hw, **_factors(fig, 1.0 - h))), metric)
            elasticities[fig] = (math.log(up) - math.log(down)) / step
        trace = [f"baseline {metric} {format_si(t0, 's')} on {hw.name} ({solver})"]
        if not feasible:
            binding = "memory_capacity"
            cap = format_si(float(hw.memory.capacity), "B")
            trace.append(f"Memory Wall: the baseline does not fit {hw.name}'s {cap}; capacity binds before "
                         f"any speed figure matters")
        else:
            binding = max(elasticities, key=lambda k: abs(elasticities[k]))
            trace.append(f"{binding} binds: elasticity {elasticities[binding]:+.2f} (a 1% rise changes "
                         f"latency by {elasticities[binding]:+.2f}%)")
        return SensitivityResult(model.name, hw.name, solver, metric, h, t0, feasible, elasticities, binding,
                                 tuple(trace), assumptions=(f"central differences at ±{h:.0%} of each figure",
                                                            "peak FLOP/s scaled at every precision together",
                                                            "memory bandwidth scaled on every tier (HBM, SRAM, "
                                                            "flash)"),
                                 binding=binding)


def _runner(solver, metric, model, precision, solve_kw):
    if solver == "engine":
        metric = metric or "latency_s"
        return (lambda hw: Engine.solve(model, hw, precision=precision, **solve_kw)), metric
    if solver == "serving":
        from .serving import ServingModel

        metric = metric or "itl_s"
        serving = ServingModel()
        return (lambda hw: serving.solve(model, hw, precision=precision, **solve_kw)), metric
    raise InputError(f"unknown solver '{solver}'; use engine or serving")


def _latency(result, metric) -> float:
    value = getattr(result, metric, None)
    if value is None:
        raise InputError(f"the result has no latency figure '{metric}'")
    try:
        return float(value)
    except TypeError:
        raise InputError("sensitivity takes one configuration at a time, not a sweep") from None


def _all(x) -> bool:
    import numpy as np

    return bool(np.all(x))


# --- wall 22: synthesis --------------------------------------------------------------------------
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
        from ..units import parse

        target = parse(target_latency, "s", "target_latency", positive=True)
        model, ref = resolve_model(model), resolve_hardware(hardware)
        kw = dict(batch_size=batch_size, precision=precision, efficiency=efficiency, seq_len=seq_len, phase=phase,
                  **solve_kw)
        roomy = scaled(ref, capacity=_UNBOUNDED)       # capacity is reported, not searched

        def latency(**factors) -> float:
            return _latency(Engine.solve(model, scaled(roomy, **factors), **kw), "latency_s")

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
