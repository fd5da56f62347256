"""The three-lens scorecard: will it run (feasibility), is it fast enough (performance),
is it worth it (macro: cost, energy, carbon over the run's duration)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine.engine import solve_step
from ..errors import InputError
from ..run import DEFAULT_REGION, Run
from ..units import format_si
from ..zoo.bands import band

PASS, FAIL, WARNING, SKIPPED = "PASS", "FAIL", "WARNING", "SKIPPED"


@dataclass(frozen=True)
class EvaluationLevel:
    """One lens: a verdict, a one-line summary, and the figures behind it (plain numbers)."""

    level_name: str
    status: str
    summary: str
    metrics: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status in (PASS, SKIPPED, WARNING)


@dataclass(frozen=True)
class SystemEvaluation:
    scenario_name: str
    feasibility: EvaluationLevel
    performance: EvaluationLevel
    macro: EvaluationLevel
    details: object = field(default=None, repr=False, compare=False)   # the solver result behind performance

    @property
    def levels(self) -> tuple[EvaluationLevel, ...]:
        return (self.feasibility, self.performance, self.macro)

    @property
    def passed_all(self) -> bool:
        return all(level.status in (PASS, SKIPPED) for level in self.levels)

    def metric(self, path: str):
        """A figure by its dotted path, e.g. ``performance.latency_ms``; None when absent."""
        lens, _, key = path.partition(".")
        level = {"feasibility": self.feasibility, "performance": self.performance, "macro": self.macro}.get(lens)
        return None if level is None else level.metrics.get(key)

    def to_dict(self) -> dict:
        """Flat, prefixed keys (``f_``, ``p_``, ``m_``) as the published JSON envelope has them."""
        out = {"scenario": self.scenario_name, "passed_all": self.passed_all}
        for prefix, level in zip("fpm", self.levels):
            out[f"{prefix}_status"] = level.status
            out[f"{prefix}_summary"] = level.summary
            out.update({f"{prefix}_{k}": v for k, v in level.metrics.items()})
        return out

    def scorecard(self, width: int = 78) -> str:
        """The scorecard as boxed text that fits ``width`` columns."""
        from .report import scorecard_text

        return scorecard_text(self, width)

    def to_markdown(self) -> str:
        from .report import scorecard_markdown

        return scorecard_markdown(self)

    def __str__(self) -> str:
        return self.scorecard()


class SystemEvaluator:
    """Runs the solvers a run needs and reads their results through the three lenses."""

    @staticmethod
    def evaluate(scenario_name, model_obj, hardware_obj, batch_size=1, precision="fp16", efficiency=None,
                 fleet_obj=None, nodes=1, duration_days=None, *, region=None, seq_len=None, is_training=False,
                 sla_latency_s=None, tp=1, pp=1, utilization=None, phase=None, stack=None) -> SystemEvaluation:
        """The scorecard of a model on one device or a fleet (0.1.0 keywords; ``evaluate_run`` takes a Run).

        A fleet of more than one accelerator runs a training step when ``is_training``, and serves
        otherwise (replicas of tensor/pipeline-parallel groups).
        """
        if nodes != 1:
            raise InputError("nodes is not used by SystemEvaluator.evaluate; give a fleet (fleet_obj) of that many "
                             "nodes instead")
        fleet = fleet_obj if fleet_obj is not None and fleet_obj.total_accelerators > 1 else None
        run = Run.build(model_obj, hardware_obj if fleet_obj is None else fleet_obj.node.accelerator, fleet=fleet,
                        phase=phase, training=is_training, batch_size=batch_size, seq_len=seq_len,
                        precision=precision, efficiency=efficiency, stack=stack, tp=tp, pp=pp, region=region,
                        duration_days=duration_days, utilization=utilization)
        system = fleet_obj if fleet_obj is not None else run.hardware
        return evaluate_run(scenario_name, run, sla_latency_s=sla_latency_s, system=system)


def evaluate_run(scenario_name: str, run: Run, *, sla_latency_s=None, system=None) -> SystemEvaluation:
    """The three lenses of ``run``: one device, a training fleet, or inference across a fleet.

    ``system`` is what the macro lens prices and powers (default: the run's fleet or device).
    """
    if run.fleet is None:
        feas, perf, details, busy = _device_lenses(run)
    elif run.phase == "train":
        feas, perf, details, busy = _training_lenses(run)
    else:
        feas, perf, details, busy = _serving_lenses(run)
    if sla_latency_s is not None and perf.status == PASS:
        latency = perf.metrics.get("latency_ms", perf.metrics.get("step_latency_ms")) / 1e3
        if latency > sla_latency_s:
            perf = EvaluationLevel(perf.level_name, FAIL, f"{format_si(latency, 's')} misses the "
                                   f"{format_si(sla_latency_s, 's')} target", perf.metrics)
    site = run.site
    macro = _macro_lens(system or run.fleet or run.hardware, site, busy, run.profile)
    return SystemEvaluation(scenario_name, feas, perf, macro, details)


def _device_lenses(run: Run):
    p = solve_step(run.at(site=None))
    feas, perf = device_levels(run, sum(p.memory_parts.values()), p.memory_capacity_b, p.feasible, p.latency_s,
                               p.latency_range, float(p.throughput), p.throughput_unit, p.mfu, p.bottleneck,
                               p.bottleneck_op, p.energy_j)
    busy = (p.latency_compute_s + p.latency_memory_s) / p.latency_s
    return feas, perf, p, busy


def device_levels(run: Run, used, cap, fits, latency_s, band, throughput, unit, mfu, bottleneck, bottleneck_op,
                  energy_j) -> tuple[EvaluationLevel, EvaluationLevel]:
    """The feasibility and performance lenses of one device's step, from its figures (one configuration; a
    sweep calls it once per point of an array solve)."""
    feas = EvaluationLevel("Feasibility", PASS if fits else FAIL,
                           f"{format_si(used, 'B')} of {format_si(cap, 'B')} memory"
                           + ("" if fits else " (does not fit)"),
                           {"memory_used_gb": used / 1e9, "memory_capacity_gb": cap / 1e9,
                            "memory_utilization": used / cap})
    perf = EvaluationLevel("Performance", PASS if fits else FAIL,
                           f"{bottleneck} bound ({bottleneck_op})" + ("" if fits else " (infeasible)"),
                           {"latency_ms": latency_s * 1e3, **_band_ms("latency", band), "throughput": throughput,
                            "throughput_unit": unit, "mfu": mfu, "bottleneck": bottleneck,
                            "energy_per_step_j": energy_j, "stack": run.profile.key})
    return _data_rate_check(run.workload, run.hardware, feas), perf


def _first_order_macro(system, grid, days, util, stack) -> EvaluationLevel:
    """The macro lens by a first-order stack's site rules (accelerators at TDP x PUE, its grid table, its prices)."""
    from ..engine.first_order import fleet_footprint

    f = fleet_footprint(system, days, grid, utilization=util, stack=stack)
    tco = f.capex_usd + f.energy_cost_usd + f.maintenance_usd
    return EvaluationLevel("Macro", PASS, f"TCO ${tco:,.0f} over {days:g} days in {grid.name} ({stack.key} site rules)",
                           {"tco_usd": tco, "capex_usd": f.capex_usd, "energy_cost_usd": f.energy_cost_usd,
                            "energy_kwh": f.total_energy_kwh, "carbon_footprint": f.carbon_footprint_kg / 1000.0,
                            "water_liters": f.water_usage_liters, "region": grid.name})


def _band_ms(name: str, band) -> dict:
    """The 10th-90th percentile band of a time as ``<name>_low_ms`` and ``<name>_high_ms`` (none without one)."""
    if band is None or np.ndim(band[0]):
        return {}
    return _band_keys(name, "_ms", (float(band[0]) * 1e3, float(band[1]) * 1e3))


def _band_keys(name: str, suffix: str, band) -> dict:
    """``<name>_low<suffix>`` and ``<name>_high<suffix>``: a figure's band beside it (none without one)."""
    if band is None:
        return {}
    return {f"{name}_low{suffix}": float(band[0]), f"{name}_high{suffix}": float(band[1])}


def _data_rate_check(model, hw, feas: EvaluationLevel) -> EvaluationLevel:
    """A workload that must ingest data (e.g. camera streams) needs the host link to keep up."""
    if model.data_rate is None:
        return feas
    supply = float(hw.interconnect.bandwidth) if hw.interconnect else None
    metrics = dict(feas.metrics, data_rate_required_gbs=float(model.data_rate) / 1e9,
                   data_rate_supply_gbs=None if supply is None else supply / 1e9)
    if supply is not None and float(model.data_rate) > supply and feas.status == PASS:
        return EvaluationLevel(feas.level_name, FAIL, f"ingest of {format_si(float(model.data_rate), 'B/s')} "
                               f"exceeds the {format_si(supply, 'B/s')} host link", metrics)
    return EvaluationLevel(feas.level_name, feas.status, feas.summary, metrics)


def _training_lenses(run: Run):
    from ..training.distributed import train_step

    fleet = run.fleet
    r = train_step(run.at(site=None))
    per_dev = float(r.memory_per_device_b)
    cap = float(run.hardware.memory.capacity)
    feas = EvaluationLevel("Feasibility", PASS if r.feasible else FAIL,
                           f"{format_si(per_dev, 'B')} of {format_si(cap, 'B')} per accelerator"
                           + ("" if r.feasible else " (does not fit)"),
                           {"memory_used_gb": per_dev / 1e9, "memory_capacity_gb": cap / 1e9,
                            "memory_utilization": per_dev / cap, "accelerators": fleet.total_accelerators})
    perf = EvaluationLevel("Performance", PASS if r.feasible else FAIL,
                           f"{format_si(r.step_time_s, 's')} per step, scaling efficiency {r.scaling_efficiency:.0%}",
                           {"step_latency_ms": r.step_time_s * 1e3, **_band_ms("step_latency", r.step_time_range),
                            "comm_overhead": r.comm_fraction,
                            "fleet_throughput": r.samples_per_s, "throughput_unit": "samples/s",
                            "scaling_efficiency": r.scaling_efficiency, "mfu": r.mfu, "stack": run.profile.key})
    return feas, perf, r, r.mfu


def _serving_lenses(run: Run):
    from ..serving.fleet import fleet_inference

    fleet = run.fleet
    r = fleet_inference(run)
    lay = r.layout
    per_dev, cap = r.memory_per_device_b, r.memory_capacity_b
    feas = EvaluationLevel("Feasibility", PASS if r.feasible else FAIL,
                           f"{format_si(per_dev, 'B')} of {format_si(cap, 'B')} per accelerator"
                           + ("" if r.feasible else " (does not fit)"),
                           {"memory_used_gb": per_dev / 1e9, "memory_capacity_gb": cap / 1e9,
                            "memory_utilization": per_dev / cap, "accelerators": fleet.total_accelerators,
                            "tp": lay.tp, "pp": lay.pp, "replicas": lay.dp})
    metrics = {"latency_ms": r.latency_s * 1e3}
    if r.ttft_s is not None:
        metrics["ttft_ms"] = r.ttft_s * 1e3
    metrics |= {"fleet_throughput": r.throughput, "throughput_unit": r.throughput_unit, "bottleneck": r.bottleneck}
    group = f"tp={lay.tp} x pp={lay.pp}" if lay.tp * lay.pp > 1 else "one accelerator"
    perf = EvaluationLevel("Performance", PASS if r.feasible else FAIL,
                           f"{lay.dp} replica(s) of {group}, {r.bottleneck.lower()} bound"
                           + ("" if r.feasible else " (infeasible)"), metrics)
    return feas, perf, r, r.busy_fraction


def _macro_lens(system, site, utilization, stack=None) -> EvaluationLevel:
    """Cost, energy, carbon and water of the system over the site's days; a first-order stack (``textbook``)
    brings its own site rules (0.1.0's), every other stack this package's economics and sustainability models."""
    if site is None or site.duration_days is None:
        return EvaluationLevel("Macro", SKIPPED, "no operations plan (region and duration) given")
    from ..infra.registry import Grids
    from ..operations.economics import EconomicsModel

    grid = Grids.get(site.region or DEFAULT_REGION)
    util = site.utilization if site.utilization is not None else min(max(float(utilization), 0.0), 1.0)
    days = site.duration_days
    first_order = getattr(stack, "first_order", None)
    if first_order is not None and first_order.site is not None:      # 0.1.0's fixed activity unless one is given
        return _first_order_macro(system, grid, days, site.utilization, stack)
    eco = EconomicsModel().solve(fleet=system, duration_days=days, grid=grid, utilization=util)
    sus = eco.footprint
    kwh, tco, cost = float(sus.total_energy_kwh.magnitude), eco.tco_usd, eco.energy_cost_usd
    energy = band("training_energy", kwh, None)                   # the suite's errors on facility energy
    carbon = band("training_carbon", sus.carbon_footprint_kg / 1000.0, None)
    spent = None if energy is None else (cost * energy[0] / kwh, cost * energy[1] / kwh) if kwh else (cost, cost)
    return EvaluationLevel("Macro", PASS, f"TCO ${tco:,.0f} over {days:g} days in {grid.name}",
                           {"tco_usd": tco, **_band_keys("tco", "_usd", None if spent is None else
                                                         (tco - cost + spent[0], tco - cost + spent[1])),
                            "capex_usd": eco.capex_usd, "energy_cost_usd": cost,
                            **_band_keys("energy_cost", "_usd", spent),
                            "energy_kwh": kwh, **_band_keys("energy", "_kwh", energy),
                            "carbon_footprint": sus.carbon_footprint_kg / 1000.0,
                            **_band_keys("carbon_footprint", "", carbon),
                            "water_liters": sus.water_usage_liters, "region": grid.name})
