"""The scorecard as people and programs read it: boxed text, markdown, and the JSON envelope's schema.

Nothing here computes a figure; ``scorecard`` does, and these functions only format it.
"""
from __future__ import annotations

from ..units import format_number, format_si
from .scorecard import FAIL, PASS, SKIPPED, WARNING, SystemEvaluation

_MARK = {PASS: "✓", FAIL: "✗", WARNING: "!", SKIPPED: "·"}


def scorecard_text(ev: SystemEvaluation, width: int = 78) -> str:
    """The scorecard as boxed text that fits ``width`` columns."""
    inner = width - 4
    lines = ["┌" + "─" * (width - 2) + "┐", _row(f"MLSys·im scorecard: {ev.scenario_name}", inner),
             "├" + "─" * (width - 2) + "┤"]
    for level in ev.levels:
        lines.append(_row(f"{_MARK[level.status]} {level.level_name:<12} {level.status:<8} {level.summary}", inner))
        for key, value in level.metrics.items():
            if key == "throughput_unit" or _is_band(key):
                continue
            label, shown = _labelled(key, value)
            shown += _band_text(key, level.metrics)
            if key.endswith("throughput") and "throughput_unit" in level.metrics:
                shown += " " + level.metrics["throughput_unit"]
            lines.append(_row(f"    {label:<28} {shown}", inner))
    verdict = "all lenses pass" if ev.passed_all else "at least one lens fails"
    lines += ["├" + "─" * (width - 2) + "┤", _row(f"Verdict: {verdict}", inner), "└" + "─" * (width - 2) + "┘"]
    return "\n".join(lines)


def scorecard_markdown(ev: SystemEvaluation) -> str:
    rows = [f"## {ev.scenario_name}", "", "| lens | status | summary |", "|---|---|---|"]
    rows += [f"| {lv.level_name} | {lv.status} | {lv.summary} |" for lv in ev.levels]
    for level in ev.levels:
        if level.metrics:
            rows += ["", f"### {level.level_name}", ""]
            rows += ["- **{}**: {}".format(*_labelled(k, v)) + _band_text(k, level.metrics)
                     for k, v in level.metrics.items() if not _is_band(k)]
    return "\n".join(rows)


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


#: metric-name suffix -> (the SI unit the value is shown in, scaled to its magnitude, or a fixed unit after a
#: space; the factor from the suffix's unit to it)
_UNITS = (("_ms", "s", 1e-3), ("_gb", "B", 1e9), ("_usd", "", 1.0), ("_kwh", " kWh", 1.0), ("_j", "J", 1.0),
          ("_liters", " L", 1.0), ("_gbs", "B/s", 1e9))


def _split(key: str) -> tuple[str, str]:
    """(name, unit suffix) of a metric key: 'latency_ms' -> ('latency', '_ms')."""
    for suffix, _, _ in _UNITS:
        if key.endswith(suffix):
            return key[: -len(suffix)], suffix
    return key, ""


def _is_band(key: str) -> bool:
    name, _ = _split(key)
    return name.endswith(("_low", "_high"))


def _band_text(key: str, metrics: dict) -> str:
    """' (4.9 ms–6.2 ms)' after a figure whose 10th-90th percentile band the metrics carry."""
    name, suffix = _split(key)
    low, high = metrics.get(f"{name}_low{suffix}"), metrics.get(f"{name}_high{suffix}")
    if low is None or high is None:
        return ""
    return f" ({_labelled(f'{name}_low{suffix}', low)[1]}–{_labelled(f'{name}_high{suffix}', high)[1]})"


def _labelled(key: str, value) -> tuple[str, str]:
    """A metric as a person reads it: 'latency' 6.62 ms, 'mfu' 2.0%, 'tco' $1,234; NaN (a figure the data
    cannot give, such as the energy of a device with no published TDP) is 'unknown'."""
    if isinstance(value, float) and value != value:
        return key.replace("_", " ").removesuffix(_split(key)[1].replace("_", " ")), "unknown"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if key in ("mfu", "memory_utilization", "comm_overhead", "scaling_efficiency"):
            return key.replace("_", " "), f"{value:.1%}"
        for suffix, unit, scale in _UNITS:
            if key.endswith(suffix):
                label = key[: -len(suffix)].replace("_", " ")
                if suffix == "_usd":
                    return label, f"${value:,.0f}"
                if unit.startswith(" "):
                    return label, _fmt(value * scale) + unit
                return label, format_si(value * scale, unit)
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
