"""The three-lens scorecard: will it run (feasibility), is it fast enough (performance),
is it worth it (macro: cost, energy, carbon over the run's duration)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .engine.engine import Engine, resolve_hardware, resolve_model
from .errors import InputError
from .units import format_number, format_si

PASS, FAIL, WARNING, SKIPPED = "PASS", "FAIL", "WARNING", "SKIPPED"
_MARK = {PASS: "✓", FAIL: "✗", WARNING: "!", SKIPPED: "·"}


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
        inner = width - 4
        lines = ["┌" + "─" * (width - 2) + "┐", _row(f"MLSys·im scorecard: {self.scenario_name}", inner),
                 "├" + "─" * (width - 2) + "┤"]
        for level in self.levels:
            lines.append(_row(f"{_MARK[level.status]} {level.level_name:<12} {level.status:<8} {level.summary}",
                              inner))
            for key, value in level.metrics.items():
                if key == "throughput_unit":
                    continue
                label, shown = _labelled(key, value)
                if key.endswith("throughput") and "throughput_unit" in level.metrics:
                    shown += " " + level.metrics["throughput_unit"]
                lines.append(_row(f"    {label:<28} {shown}", inner))
        verdict = "all lenses pass" if self.passed_all else "at least one lens fails"
        lines += ["├" + "─" * (width - 2) + "┤", _row(f"Verdict: {verdict}", inner), "└" + "─" * (width - 2) + "┘"]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        rows = [f"## {self.scenario_name}", "", "| lens | status | summary |", "|---|---|---|"]
        rows += [f"| {lv.level_name} | {lv.status} | {lv.summary} |" for lv in self.levels]
        for level in self.levels:
            if level.metrics:
                rows += ["", f"### {level.level_name}", ""]
                rows += ["- **{}**: {}".format(*_labelled(k, v)) for k, v in level.metrics.items()]
        return "\n".join(rows)

    def __str__(self) -> str:
        return self.scorecard()


def envelope_schema() -> dict:
    """JSON Schema of ``mlsysim eval -o json``: the flat prefixed keys, the status and the violations."""
    metric = {"type": ["number", "string", "boolean", "null"]}
    status = {"enum": [PASS, FAIL, WARNING, SKIPPED]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "MLSys·im evaluation",
        "type": "object",
        "required": ["status", "scenario", "passed_all", "f_status", "p_status", "m_status", "violations"],
        "properties": {
            "status": {"enum": ["ok", "infeasible", "sla_failed"],
                       "description": "ok; infeasible (exit 2: does not fit); sla_failed (exit 3: an assert failed)"},
            "scenario": {"type": "string"}, "passed_all": {"type": "boolean"},
            "f_status": status, "p_status": status, "m_status": status,
            "f_summary": {"type": "string"}, "p_summary": {"type": "string"}, "m_summary": {"type": "string"},
            "f_memory_used_gb": {"type": "number"}, "f_memory_capacity_gb": {"type": "number"},
            "f_memory_utilization": {"type": "number"},
            "p_latency_ms": {"type": "number", "description": "one step (single device)"},
            "p_step_latency_ms": {"type": "number", "description": "one training step (fleet)"},
            "p_throughput": {"type": "number"}, "p_mfu": {"type": "number"},
            "m_tco_usd": {"type": "number"}, "m_capex_usd": {"type": "number"}, "m_energy_cost_usd": {"type": "number"},
            "m_energy_kwh": {"type": "number"}, "m_carbon_footprint": {"type": "number", "description": "tCO2e"},
            "m_water_liters": {"type": "number"},
            "violations": {"type": "array", "items": {"type": "string"}},
        },
        "patternProperties": {"^[fpm]_": metric},
        "additionalProperties": False,
    }


def _row(text: str, inner: int) -> str:
    if len(text) > inner:
        text = text[: inner - 1] + "…"
    return f"│ {text:<{inner}} │"


#: metric-name suffix -> (suffix dropped from the label, unit shown after the value, scale)
_UNITS = (("_ms", " ms", 1.0), ("_gb", " GB", 1.0), ("_usd", "", 1.0), ("_kwh", " kWh", 1.0), ("_j", " J", 1.0),
          ("_liters", " L", 1.0), ("_gbs", " GB/s", 1.0))


def _labelled(key: str, value) -> tuple[str, str]:
    """A metric as a person reads it: 'latency' 6.62 ms, 'mfu' 2.0%, 'tco' $1,234."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if key in ("mfu", "memory_utilization", "comm_overhead", "scaling_efficiency"):
            return key.replace("_", " "), f"{value:.1%}"
        for suffix, unit, scale in _UNITS:
            if key.endswith(suffix):
                label = key[: -len(suffix)].replace("_", " ")
                if suffix == "_usd":
                    return label, f"${value:,.0f}"
                if suffix == "_ms":
                    return label, format_si(value / 1e3, "s")
                return label, _fmt(value * scale) + unit
        if key == "carbon_footprint":
            return "carbon footprint", f"{_fmt(value)} tCO2e"
    return key.replace("_", " "), _fmt(value)


def format_metric(key: str, value) -> str:
    """A metric's value as a person reads it, its unit taken from the name ('itl_ms' -> '5.90 ms')."""
    return _labelled(key, value)[1]


def _fmt(value) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return str(value)
    return format_number(float(value))


class SystemEvaluator:
    """Runs the solvers a scenario needs and reads their results through the three lenses."""

    @staticmethod
    def evaluate(scenario_name, model_obj, hardware_obj, batch_size=1, precision="fp16", efficiency=None,
                 fleet_obj=None, nodes=1, duration_days=None, *, region=None, seq_len=None, is_training=False,
                 sla_latency_s=None, tp=1, pp=1, utilization=None, phase=None, stack=None) -> SystemEvaluation:
        model = resolve_model(model_obj)
        hardware = resolve_hardware(hardware_obj if fleet_obj is None else fleet_obj)
        if fleet_obj is not None and fleet_obj.total_accelerators > 1:
            if phase is not None or stack is not None:
                raise InputError("phase and stack apply to one device; a fleet runs a training step")
            feas, perf, details, busy = _fleet_lenses(model, fleet_obj, batch_size, precision, seq_len, is_training,
                                                      tp, pp, efficiency)
        else:
            feas, perf, details, busy = _single_lenses(model, hardware, batch_size, precision, efficiency, seq_len,
                                                       is_training, phase, stack)
        if sla_latency_s is not None and perf.status == PASS:
            latency = perf.metrics.get("latency_ms", perf.metrics.get("step_latency_ms")) / 1e3
            if latency > sla_latency_s:
                perf = EvaluationLevel(perf.level_name, FAIL, f"{format_si(latency, 's')} misses the "
                                       f"{format_si(sla_latency_s, 's')} target", perf.metrics)
        macro = _macro_lens(fleet_obj if fleet_obj is not None else hardware, duration_days, region,
                            utilization if utilization is not None else busy)
        return SystemEvaluation(scenario_name, feas, perf, macro, details)


def _single_lenses(model, hw, batch_size, precision, efficiency, seq_len, is_training, phase, stack):
    p = Engine.solve(model, hw, batch_size=batch_size, precision=precision, efficiency=efficiency, seq_len=seq_len,
                     is_training=is_training, phase=phase, stack=stack)
    used, cap = sum(p.memory_parts.values()), p.memory_capacity_b
    feas = EvaluationLevel("Feasibility", PASS if p.feasible else FAIL,
                           f"{format_si(used, 'B')} of {format_si(cap, 'B')} memory"
                           + ("" if p.feasible else " (does not fit)"),
                           {"memory_used_gb": used / 1e9, "memory_capacity_gb": cap / 1e9,
                            "memory_utilization": used / cap})
    feas = _data_rate_check(model, hw, feas)
    perf = EvaluationLevel("Performance", PASS if p.feasible else FAIL,
                           f"{p.bottleneck} bound ({p.bottleneck_op})" + ("" if p.feasible else " (infeasible)"),
                           {"latency_ms": p.latency_s * 1e3, "throughput": float(p.throughput),
                            "throughput_unit": p.throughput_unit, "mfu": p.mfu, "bottleneck": p.bottleneck,
                            "energy_per_step_j": p.energy_j})
    busy = (p.latency_compute_s + p.latency_memory_s) / p.latency_s
    return feas, perf, p, busy


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


def _fleet_lenses(model, fleet, batch_size, precision, seq_len, is_training, tp, pp, efficiency):
    from .solvers.distributed import DistributedModel

    if not is_training:
        raise InputError(f"a fleet of {fleet.total_accelerators} accelerators is evaluated as a training job; "
                         "set training (workload.training: true or --training), or evaluate one device")
    r = DistributedModel().solve(model, fleet, batch_size=batch_size, seq_len=seq_len or 2048, precision=precision,
                                 tp=tp, pp=pp, efficiency=efficiency)
    per_dev = float(r.memory_per_device_b)
    cap = float(fleet.node.accelerator.memory.capacity)
    feas = EvaluationLevel("Feasibility", PASS if r.feasible else FAIL,
                           f"{format_si(per_dev, 'B')} of {format_si(cap, 'B')} per accelerator"
                           + ("" if r.feasible else " (does not fit)"),
                           {"memory_used_gb": per_dev / 1e9, "memory_capacity_gb": cap / 1e9,
                            "memory_utilization": per_dev / cap, "accelerators": fleet.total_accelerators})
    perf = EvaluationLevel("Performance", PASS if r.feasible else FAIL,
                           f"{format_si(r.step_time_s, 's')} per step, scaling efficiency {r.scaling_efficiency:.0%}",
                           {"step_latency_ms": r.step_time_s * 1e3, "comm_overhead": r.comm_fraction,
                            "fleet_throughput": r.samples_per_s, "throughput_unit": "samples/s",
                            "scaling_efficiency": r.scaling_efficiency, "mfu": r.mfu})
    return feas, perf, r, r.mfu


def _macro_lens(system, duration_days, region, utilization) -> EvaluationLevel:
    if duration_days is None:
        return EvaluationLevel("Macro", SKIPPED, "no operations plan (region and duration) given")
    from .infra.registry import Grids
    from .solvers.economics import EconomicsModel
    from .solvers.sustainability import SustainabilityModel

    grid = Grids.get(region or "US_Avg")
    util = min(max(float(utilization), 0.0), 1.0)
    eco = EconomicsModel().solve(fleet=system, duration_days=duration_days, grid=grid, utilization=util)
    sus = SustainabilityModel().solve(fleet=system, duration_days=duration_days, datacenter=grid, utilization=util)
    return EvaluationLevel("Macro", PASS, f"TCO ${eco.tco_usd:,.0f} over {duration_days:g} days in {grid.name}",
                           {"tco_usd": eco.tco_usd, "capex_usd": eco.capex_usd, "energy_cost_usd": eco.energy_cost_usd,
                            "energy_kwh": float(sus.total_energy_kwh.magnitude),
                            "carbon_footprint": sus.carbon_footprint_kg / 1000.0,
                            "water_liters": sus.water_usage_liters, "region": grid.name})

