"""What the page shows, as JSON: the option lists, the scorecard, the roofline, the serving curves and the
carbon by region.

Every answer comes from the run ``mlsysim eval MODEL HW`` builds from the same options (a plan, through
``plan_run`` and ``evaluate_run``); text is formatted here with the package's formatters, so the page only
places numbers and words.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import InputError
from ..units import format_number, format_si

#: grids the carbon chart compares, from the cleanest to the most carbon-intensive kinds of supply
REGIONS = ("Quebec", "Norway", "France", "California", "EU_Avg", "US_Avg", "Germany", "China_Avg", "India_Avg")
#: the job whose operational carbon the chart prices: this many hours of the step, back to back
JOB_HOURS = 1000.0
#: batch sizes of the serving curves (the chosen batch is added)
SERVING_BATCHES = tuple(2 ** k for k in range(10))
PHASES = ("inference", "training")
DEFAULTS = {"model": "Llama3_8B", "hardware": "H100", "precision": "fp16", "stack": "", "batch_size": "8",
            "seq_len": "", "phase": "inference"}


@dataclass(frozen=True)
class Query:
    """The inputs the page sends, checked once (hashable, so answers to the same inputs are shared)."""

    model: str
    hardware: str
    precision: str
    stack: str | None
    batch_size: int
    seq_len: int | None
    training: bool

    @classmethod
    def parse(cls, q: dict[str, str]) -> Query:
        model, hardware = (q.get(k, "").strip() for k in ("model", "hardware"))
        if not model or not hardware:
            raise InputError("choose a model and a hardware device")
        phase = q.get("phase", "inference")
        if phase not in PHASES:
            raise InputError(f"phase must be inference or training, got '{phase}'")
        return cls(model, hardware, q.get("precision", "fp16").strip() or "fp16", q.get("stack", "").strip() or None,
                   _count(q.get("batch_size", "1"), "batch size"), _count(q.get("seq_len", ""), "context"),
                   phase == "training")

    @property
    def name(self) -> str:
        return f"{self.model} on {self.hardware}"

    def plan(self) -> dict:
        """The plan ``mlsysim eval`` builds from these options."""
        workload = {"name": self.model, "training": self.training, "batch_size": self.batch_size}
        workload |= {k: v for k, v in (("seq_len", self.seq_len), ("stack", self.stack)) if v is not None}
        return {"version": "1.0", "name": self.name, "workload": workload,
                "hardware": {"name": self.hardware, "precision": self.precision}}

    def command(self) -> str:
        """The command line that prints the same scorecard."""
        words = ["mlsysim eval", self.model, self.hardware, f"-b {self.batch_size}", f"-p {self.precision}"]
        words += [f"-s {self.seq_len}"] if self.seq_len is not None else []
        words += [f"--stack {self.stack}"] if self.stack else []
        words += ["--training"] if self.training else []
        return " ".join(words + ["-o json"])


def _count(text: str, what: str) -> int | None:
    """A whole number from 1 the user typed (None when left empty), or one sentence."""
    from ..run import whole

    text = text.strip().replace(",", "")
    if not text:
        if what == "context":
            return None
        raise InputError(f"give a {what}")
    try:
        number = int(text)
    except ValueError:
        raise InputError(f"{what} must be a whole number, got '{text}'") from None
    return whole(what, number)


@lru_cache(maxsize=64)
def _run(query: Query):
    from ..plan import parse_plan, plan_run

    return plan_run(parse_plan(query.plan(), "options"))


@lru_cache(maxsize=64)
def _evaluation(query: Query):
    from ..evaluation import evaluate_run

    return evaluate_run(query.name, _run(query))


# --- the answers -----------------------------------------------------------------------------------------
def options(_: dict | None = None) -> dict:
    """What the pickers offer: the zoo's models, devices (with their tier) and stacks, and the precisions."""
    from .. import __version__
    from ..execution import Stacks
    from ..hardware.registry import Hardware
    from ..hardware.types import PRECISION_BYTES
    from ..models.registry import Models

    return {"version": __version__, "defaults": DEFAULTS, "phases": list(PHASES),
            "models": [{"key": k, "name": m.name, "context": bool(m.family.language_model)} for k, m in Models.items()],
            "devices": [{"key": k, "name": h.name, "tier": Hardware.tier_of(h),
                         "precisions": list(h.supported_precisions), "precision": _usual_precision(h)}
                        for k, h in Hardware.items()],
            "precisions": list(PRECISION_BYTES),
            "stacks": [{"key": k, "name": s.name} for k, s in Stacks.items()]}


def _usual_precision(hw) -> str:
    """What a device is usually run at: 16-bit where it has the rate, else int8, else fp32 (its first otherwise)."""
    rates = list(hw.supported_precisions)
    return next((p for p in ("fp16", "bf16", "int8", "fp32") if p in rates), rates[0] if rates else "fp16")


def evaluate(q: dict) -> dict:
    """The scorecard: ``envelope`` is what ``mlsysim eval ... -o json`` prints; ``cards`` its figures in words."""
    query = Query.parse(q)
    ev = _evaluation(query)
    envelope = {"status": "infeasible" if ev.feasibility.status == "FAIL" else "ok", **ev.to_dict(),
                "violations": []}
    p, perf, feas = ev.details, ev.performance.metrics, ev.feasibility.metrics
    latency, energy = perf["latency_ms"] / 1e3, perf["energy_per_step_j"]
    band = (f"10-90% band {format_si(perf['latency_low_ms'] / 1e3, 's')} to "
            f"{format_si(perf['latency_high_ms'] / 1e3, 's')}") if "latency_low_ms" in perf else "no measured band"
    fits = ev.feasibility.status != "FAIL"
    known = energy is not None and math.isfinite(energy)
    context = int(p.seq_len) if _run(query).family.language_model else None
    cards = [
        {"key": "latency", "label": "Latency per step", "value": format_si(latency, "s"), "note": band},
        {"key": "throughput", "label": "Throughput", "value": f"{format_number(perf['throughput'])} "
                                                               f"{perf['throughput_unit']}",
         "note": f"{format_number(float(p.samples_per_step))} per step"},
        {"key": "bottleneck", "label": "Bottleneck", "value": perf["bottleneck"],
         "note": f"{p.bottleneck_op} operators take the most time"},
        {"key": "memory", "label": "Memory", "value": format_si(feas["memory_used_gb"] * 1e9, "B"),
         "note": f"of {format_si(feas['memory_capacity_gb'] * 1e9, 'B')} "
                 f"({format_number(100 * feas['memory_utilization'])}%)",
         "fraction": min(feas["memory_utilization"], 1.0), "badge": "fits" if fits else "does not fit",
         "state": "ok" if fits else "fail"},
        {"key": "mfu", "label": "MFU", "value": f"{format_number(100 * perf['mfu'])}%",
         "note": f"of {format_si(p.peak_flops_b, 'FLOP/s')} peak"},
        {"key": "energy", "label": "Energy per step", "value": format_si(energy, "J") if known else "unknown",
         "note": f"at {format_si(energy / latency, 'W')}" if known else "the device publishes no TDP"}]
    title = (f"{p.model_name} on {p.hardware_name}: {p.phase}, batch {format_number(float(p.batch_size))}"
             + (f" x {format_number(context)} tokens" if context else "")
             + f", {p.precision}, {ev.performance.metrics['stack']}")
    return {"title": title, "cards": cards, "command": query.command(), "envelope": envelope,
            "context": context}


def roofline(q: dict) -> dict:
    """The device's roof (compute ceiling, memory slope) and the step and its operators placed under it."""
    from ..viz.roofline import _color, _first, _operator_points

    query = Query.parse(q)
    p = _evaluation(query).details
    peak, bw = p.peak_flops_b, p.peak_bw_b
    ridge = peak / bw
    ops = _operator_points(p)
    step = (_first(p.flops_total) / max(_first(p.bytes_total), 1e-30), _first(p.flops_total) / _first(p.latency_s))
    xs = [x for _, x, _, _ in ops if 0 < x < math.inf] + [step[0]]
    ys = [y for _, _, y, _ in ops if y > 0] + [step[1]]
    x_axis = _log_axis(max(min([0.1, *xs]), ridge * 1e-6), max([20 * ridge, *xs]), "", "Arithmetic intensity "
                                                                                        "(FLOP/byte)")
    y_axis = _log_axis(max(min([peak / 1e4, *ys]), peak * 1e-7), peak * 2, "FLOP/s", "Achieved performance (FLOP/s)")
    lo, hi = x_axis["min"], x_axis["max"]

    def inside(x, y):
        return [min(max(x, lo), hi), min(max(y, y_axis["min"]), y_axis["max"])]

    spare: dict[str, str] = {}
    points = [{"xy": inside(x, y), "share": share, "class": op.op_class, "color": _color(op.op_class, spare),
               "label": f"{op.name} ({op.op_class}): {format_number(x)} FLOP/byte, {format_si(y, 'FLOP/s')}, "
                        f"{format_number(100 * share)}% of the step, {op.bound} bound"}
              for op, x, y, share in sorted(ops, key=lambda t: -t[3])]
    classes = {pt["class"]: pt["color"] for pt in points}
    return {"title": f"Roofline of {p.hardware_name} at {p.precision}", "x": x_axis, "y": y_axis,
            "roof": [inside(lo, bw * lo), [ridge, peak], [hi, peak]],
            "ridge": {"xy": [ridge, peak], "label": f"ridge point at {format_number(ridge)} FLOP/byte"},
            "roof_label": f"{p.precision} peak {format_si(peak, 'FLOP/s')}",
            "slope_label": f"memory {format_si(bw, 'B/s')}",
            "step": {"xy": inside(*step), "label": f"the whole step: {format_number(step[0])} FLOP/byte, "
                                                   f"{format_si(step[1], 'FLOP/s')}"},
            "operators": points, "classes": [{"name": k, "color": c} for k, c in classes.items()]}


def serving(q: dict) -> dict:
    """TTFT, ITL and tokens/s against batch size (one vectorized solve) on the one device, for decoder language
    models."""
    from ..serving.serving import ServingModel

    query = Query.parse(q)
    run = _run(query)
    if not run.family.decoder:
        return {"language_model": False,
                "note": f"{run.workload.name} is not a decoder language model: no serving curves"}
    batches = np.array(sorted({*SERVING_BATCHES, query.batch_size}), dtype=float)
    r = ServingModel().solve(run.workload, run.hardware, batch_size=batches, seq_len=query.seq_len,
                             precision=query.precision, stack=query.stack, pp=1)
    fit = np.broadcast_to(np.asarray(r.feasible, dtype=bool), batches.shape)
    series = {name: np.broadcast_to(np.asarray(v, dtype=float), batches.shape)
              for name, v in (("ttft", r.ttft_s), ("itl", r.itl_s), ("tokens", r.tokens_per_s))}
    shown = batches[fit]
    note = "" if fit.all() else (f"batch {format_number(float(batches[~fit][0]))} and above do not fit in memory"
                                 if fit.any() else f"no batch size fits in the memory of one {r.hardware_name}")
    i = int(np.searchsorted(batches, query.batch_size))
    chosen = {"x": query.batch_size, "fits": bool(fit[i]),
              "label": f"batch {query.batch_size}: TTFT {format_si(series['ttft'][i], 's')}, ITL "
                       f"{format_si(series['itl'][i], 's')}, {format_number(series['tokens'][i])} tokens/s"
                       + ("" if fit[i] else " (does not fit)")}
    if not fit.any():
        return {"language_model": True, "note": note, "chosen": chosen}
    x_axis = _log_axis(shown.min(), shown.max(), "", "Batch size (sequences)", ticks=[float(b) for b in shown])
    latency = np.concatenate([series["ttft"][fit], series["itl"][fit]])
    return {"language_model": True, "note": note, "chosen": chosen, "stack": r.execution_profile,
            "title": f"Serving {r.model_name} on {r.hardware_name}: {format_number(float(np.ravel(r.context_len)[0]))}"
                     f"-token prompt, {r.execution_profile}",
            "latency": {"x": x_axis, "y": _log_axis(latency.min(), latency.max(), "s", "Latency (s)"),
                        "series": [{"name": "TTFT (time to first token)", "points": _pairs(shown, series["ttft"][fit])},
                                   {"name": "ITL (inter-token latency)", "points": _pairs(shown, series["itl"][fit])}]},
            "throughput": {"x": x_axis, "y": _log_axis(series["tokens"][fit].min(), series["tokens"][fit].max(), "",
                                                       "Output tokens per second"),
                           "series": [{"name": "tokens/s", "points": _pairs(shown, series["tokens"][fit])}]}}


def carbon(q: dict) -> dict:
    """Operational carbon of ``JOB_HOURS`` of the step on each grid of ``REGIONS``: the macro lens of the run
    with that region and duration (``mlsysim eval ... --region R --duration-days D``)."""
    from ..evaluation import evaluate_run
    from ..run import Site

    query = Query.parse(q)
    run = _run(query)
    days = JOB_HOURS / 24
    bars = []
    for region in REGIONS:
        m = evaluate_run(query.name, run.at(site=Site(region, days))).macro.metrics
        kg = 1000 * m["carbon_footprint"]
        known = math.isfinite(kg)
        bars.append({"region": m["region"], "value": kg if known else 0.0,
                     "label": format_si(kg, "kg") if known else "unknown",
                     "note": f"{format_number(m['energy_kwh'])} kWh from the grid"})
    bars.sort(key=lambda b: b["value"])
    top = bars[-1]["value"]
    return {"title": f"Operational carbon of {format_number(JOB_HOURS)} h of this step on one "
                     f"{run.hardware.name}",
            "command": f"{query.command().removesuffix(' -o json')} --region REGION --duration-days {days:g}",
            "x": _linear_axis(top, "Operational carbon (kg CO2e)"), "bars": bars}


ANSWERS = {"options": options, "evaluate": evaluate, "roofline": roofline, "serving": serving, "carbon": carbon}


# --- axes: the page maps values to pixels, the labels come from here ----------------------------------------
def _log_axis(lo: float, hi: float, unit: str, title: str, ticks=None) -> dict:
    """A logarithmic axis over whole decades around [lo, hi], ticked at each decade (or at ``ticks``)."""
    lo_e, hi_e = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    if ticks is None:
        hi_e = max(hi_e, lo_e + 1)
        ticks = [10.0 ** e for e in range(lo_e, hi_e + 1)]
        low, high = ticks[0], ticks[-1]
    else:
        low, high = lo / 1.25, hi * 1.25
    return {"min": low, "max": high, "log": True, "title": title,
            "ticks": [[t, format_si(t, unit) if unit else format_number(t) if t >= 1 else f"{t:g}"] for t in ticks]}


def _linear_axis(top: float, title: str) -> dict:
    """A linear axis from 0 ticked at 1, 2 or 5 times a power of ten (the unit is in the title)."""
    top = top if top > 0 else 1.0
    raw = top / 4
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= raw)
    ticks = [i * step for i in range(int(math.ceil(top / step)) + 1)]
    return {"min": 0.0, "max": ticks[-1], "log": False, "title": title,
            "ticks": [[t, format_number(t)] for t in ticks]}


def _pairs(xs, ys) -> list:
    return [[float(x), float(y)] for x, y in zip(xs, ys)]
