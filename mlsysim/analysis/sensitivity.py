"""Wall 21: which hardware figure binds a workload, as the elasticity of its latency to each.

It works through the real solvers: a device's datasheet figures are scaled and the workload
is solved again, so every effect the timing layer models (launch gaps, per-operator rooflines,
offload when memory runs out) shows in the answer; nothing is re-derived in closed form.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..engine.engine import Engine
from ..errors import InputError
from ..run import resolve_hardware, resolve_model
from ..solver import Result, Solver
from ..units import format_si, quantity

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
              *, perturbation_pct: float | None = None, metric: str | None = None, efficiency: float | None = None,
              **solve_kw) -> SensitivityResult:
        """Central differences of ln(latency) in ln(figure), each figure scaled by 1 ± ``perturbation``.

        ``solver`` is ``engine`` (``Engine.solve``; latency of one step) or ``serving``
        (``ServingModel``; ``metric`` ``itl_s`` by default, or ``ttft_s`` / ``request_latency_s``).
        ``efficiency`` (0.1.0's keyword) replaces the calibrated compute efficiency in the baseline and every
        perturbed solve. Other keywords go to that solver unchanged.
        """
        if efficiency is not None:
            solve_kw["efficiency"] = efficiency
        if perturbation_pct is not None:
            perturbation = perturbation_pct / 100.0
        if isinstance(perturbation, bool) or not isinstance(perturbation, (int, float)) \
                or not (0.0 < perturbation < 1.0):
            raise InputError(f"perturbation must be a fraction in (0, 1) such as 0.1, got {perturbation!r}")
        model, hw = resolve_model(model), resolve_hardware(hardware)
        run, metric = _runner(solver, metric, model, precision, solve_kw)
        base = run(hw)
        t0, feasible = latency_of(base, metric), bool(_all(base.feasible))
        h = float(perturbation)
        step = math.log1p(h) - math.log1p(-h)
        figures = [f for f in FIGURES if f != "scale_up_bandwidth" or hw.nvlink or hw.interconnect]
        elasticities = {}
        for fig in figures:
            up = latency_of(run(scaled(hw, **_factors(fig, 1.0 + h))), metric)
            down = latency_of(run(scaled(hw, **_factors(fig, 1.0 - h))), metric)
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
                                                            "flash)",
                                                            *((f"compute efficiency {efficiency:g} of peak",)
                                                              if efficiency is not None else ())),
                                 binding=binding)


def _runner(solver, metric, model, precision, solve_kw):
    if solver == "engine":
        metric = metric or "latency_s"
        return (lambda hw: Engine.solve(model, hw, precision=precision, **solve_kw)), metric
    if solver == "serving":
        from ..serving.serving import ServingModel

        metric = metric or "itl_s"
        serving = ServingModel()
        return (lambda hw: serving.solve(model, hw, precision=precision, **solve_kw)), metric
    raise InputError(f"unknown solver '{solver}'; use engine or serving")


def latency_of(result, metric) -> float:
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
