"""0.1.0's lab widgets (marimo): cards, metric rows, prediction locks, banners, and the figures a lab shows
beside its controls. Figures are matplotlib (the package's ``viz``), drawn from the same results the
API returns; widgets return marimo elements, and those a lab reads back return ``(widget, layout)``."""
from __future__ import annotations

from .style import COLORS, _mo, apply_plotly_theme


def _ms(value) -> float:
    return float(value) * 1e3


def Card(title, content):  # noqa: N802 - 0.1.0's names
    return _mo().Html(f'<div class="lab-card"><h3>{title}</h3><div style="flex-grow:1">{content}</div></div>')


def MetricRow(label, value, sub_value=""):  # noqa: N802
    """One ``label ... value`` line (HTML text, to put inside a Card)."""
    sub = f"<br/><span style='font-size:.7rem; font-weight:normal'>{sub_value}</span>" if sub_value else ""
    return f'<div class="metric-row"><div class="metric-label">{label}{sub}</div>' \
           f'<span class="metric-value">{value}</span></div>'


def ComparisonRow(label, current, target, unit=""):  # noqa: N802
    """How many times ``target`` is ``current`` (numbers or quantities in the same unit), as a metric line."""
    cur, tgt = (float(getattr(v, "magnitude", v)) for v in (current, target))
    ratio = tgt / cur if cur > 0 else 0.0
    text = f"{ratio:,.0f}x" if ratio >= 1 else f"{ratio:.4f}x"
    color = COLORS["RedLine"] if ratio > 1000 else COLORS["BlueLine"]
    return f'<div class="metric-row"><span class="metric-label">{label} ({unit})</span>' \
           f'<span class="metric-value" style="color:{color}">{text}</span></div>'


def PredictionLock(task_id, question, options=None):  # noqa: N802
    """A structured prediction the student commits to before the instruments unlock: (radio, layout)."""
    mo = _mo()
    options = options or {"A) Option A": "a", "B) Option B": "b", "C) Option C": "c", "D) Option D": "d"}
    prediction = mo.ui.radio(options=options, label=f"PREDICT: {question}")
    note = mo.Html(f'<div class="prediction-box"><b>TASK {task_id} LOCKED</b><br/>Select your prediction to '
                   f'unlock the instruments.</div>')
    return prediction, mo.vstack([prediction, note])


def StakeholderMessage(persona, quote, color=COLORS["BlueLine"]):  # noqa: N802
    return _mo().Html(f'<div class="stakeholder-card" style="border-left-color:{color}"><div style="font-size:.8rem;'
                      f' font-weight:700; text-transform:uppercase">Incoming message: {persona}</div><div style='
                      f'"font-style:italic; margin-top:8px; font-size:1.1rem">"{quote}"</div></div>')


def RooflineVisualizer(system, profile):  # noqa: N802
    """The device's roofline with the profile's operators and step (``mlsysim.viz.plot_roofline``)."""
    from ..viz.roofline import plot_roofline

    return apply_plotly_theme(plot_roofline(getattr(system, "accelerator", system), profile))


def LatencyWaterfall(profile, previous_profile=None):  # noqa: N802
    """Compute, memory and overhead time of a step (ms), over the previous design's as a ghost."""
    from ..viz import new_axes

    names = ["Compute", "Memory", "Overhead"]

    def parts(p):
        return [_ms(p.latency_compute_s), _ms(p.latency_memory_s), _ms(p.latency_overhead_s)]

    fig, ax = new_axes(None, (6, 3))
    if previous_profile is not None:
        ax.bar(names, parts(previous_profile), width=0.6, color="#94a3b84d", edgecolor="#94a3b8", ls="--",
               label="previous")
    ax.bar(names, parts(profile), width=0.4, color=[COLORS["BlueLine"], COLORS["RedLine"], COLORS["OrangeLine"]],
           label="current")
    ax.set_ylabel("milliseconds")
    if previous_profile is not None:
        ax.legend(fontsize=8)
    return apply_plotly_theme(fig)


def FailureBanner(condition, message, animation_class="shake-hard"):  # noqa: N802
    """A red banner with ``message`` when ``condition`` holds (a violated constraint); nothing otherwise."""
    mo = _mo()
    if not condition:
        return mo.md("")
    return mo.Html(f'<div class="lab-card {animation_class}" style="background:{COLORS["RedLL"]}; border-color:'
                   f'{COLORS["RedLine"]}; color:{COLORS["RedLine"]}; font-weight:800">{message}</div>')


def MathPeek(formula, variables):  # noqa: N802
    """A closed accordion holding the equation behind a figure and what each symbol is."""
    rows = "".join(f"<li><b>{k}:</b> {v}</li>" for k, v in variables.items())
    mo = _mo()
    return mo.accordion({"View the invariant": mo.md(f"**Formula:** `{formula}`\n\n<ul>{rows}</ul>")})


def MapDashboard(active_grid, active_eval, comparison_evals):  # noqa: N802
    """Where the grids are (by latitude and longitude), the active one's renewable share, CO2, PUE and
    intensity, and a strip of each compared grid's carbon. ``comparison_evals``: dicts of ``grid`` and
    ``carbon_kg``; ``active_eval``: the active grid's ``SystemEvaluation``."""
    from ..viz import new_axes

    mo = _mo()
    pct = active_grid.renewable_pct or 0.0
    accent = COLORS["GreenLine"] if pct > 50 else COLORS["OrangeLine"]
    fig, ax = new_axes(None, (7, 3))
    for comp in comparison_evals:
        grid = comp["grid"]
        active = grid.name == active_grid.name
        ax.scatter([grid.lon or 0], [grid.lat or 0], s=160 if active else 60, color=accent if active else "#cbd5e1",
                   edgecolors="white", zorder=3)
        ax.annotate(grid.name, (grid.lon or 0, grid.lat or 0), xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 80)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    carbon = (active_eval.macro.metrics or {}).get("carbon_footprint", 0) if active_eval is not None else 0
    metrics = (MetricRow("Renewable", f"{pct:.0f}%") + MetricRow("CO₂", f"{float(carbon):,.1f} t")
               + MetricRow("PUE", f"{active_grid.pue:.2f}")
               + MetricRow("Grid", f"{active_grid.carbon_intensity_g_kwh:g} g/kWh"))
    def tile(comp) -> str:
        border = f"2px solid {accent}" if comp["grid"].name == active_grid.name else f"1px solid {COLORS['Border']}"
        return (f'<div style="flex:1; border:{border}; border-radius:8px; padding:10px; text-align:center"><div '
                f'style="font-size:.75rem; color:{COLORS["TextMuted"]}">{comp["grid"].name}</div><div style="font-'
                f'weight:800">{comp["carbon_kg"] / 1000:,.1f} t</div></div>')

    strip = "".join(tile(c) for c in comparison_evals)
    return mo.vstack([apply_plotly_theme(fig), Card(active_grid.name, metrics),
                      mo.Html(f'<div style="display:flex; gap:12px; margin-top:12px">{strip}</div>')])


def HardwareTetrisDashboard(eval_obj):  # noqa: N802
    """How the workload fills the device: model FLOPs utilization and memory used against capacity, as two
    bars of a ``SystemEvaluation``'s performance and feasibility lenses."""
    from ..viz import new_axes

    perf, feas = eval_obj.performance.metrics, eval_obj.feasibility.metrics
    mfu = 100 * float(perf.get("mfu", 0) or 0)
    used, cap = float(feas.get("memory_used_gb", 0) or 0), float(feas.get("memory_capacity_gb", 0) or 0)
    mem = 100 * used / cap if cap else 0.0
    fig, ax = new_axes(None, (6, 2.4))
    ax.barh(["memory used", "MFU"], [100, 100], color="#f1f5f9")
    ax.barh(["memory used", "MFU"], [min(mem, 100), mfu],
            color=[COLORS["RedLine"] if mem > 100 else COLORS["BlueLine"],
                   COLORS["GreenLine"] if mfu > 40 else COLORS["OrangeLine"]])
    ax.text(min(mem, 100), 0, f" {used:,.1f} / {cap:,.0f} GB", va="center", fontsize=8)
    ax.text(mfu, 1, f" {mfu:.0f}%", va="center", fontsize=8)
    ax.set_xlim(0, 115)
    ax.set_xlabel("% of the device")
    return apply_plotly_theme(fig)


def DecisionLog(placeholder="I chose this configuration because..."):  # noqa: N802
    """The student's written reason for the design they commit: (text area, layout)."""
    mo = _mo()
    text = mo.ui.text_area(label="Justify your architectural choice:", placeholder=placeholder, full_width=True)
    return text, mo.vstack([mo.Html('<div style="font-weight:700; margin:16px 0 8px 0">Decision Log</div>'), text])
