"""The 3-lens scorecard (feasibility, performance, macro) as one figure of three cards."""
from __future__ import annotations

import textwrap

from ..units import format_number
from . import new_axes, pyplot, save

#: (card fill, badge colour) per verdict
_STATUS_COLORS = {"PASS": ("#e8f5e9", "#2e7d32"), "FAIL": ("#ffebee", "#c62828"),
                  "WARNING": ("#fff8e1", "#ef8f00"), "SKIPPED": ("#f2f2f2", "#757575")}
_LENSES = ("feasibility", "performance", "macro")
_MAX_METRICS = 12


def _fmt(value) -> str:
    if isinstance(value, (bool, str)) or value is None:
        return str(value)
    try:
        return format_number(float(value))
    except (TypeError, ValueError):
        return str(value)


def plot_evaluation_scorecard(evaluation, ax=None, path=None):
    """Three side-by-side cards, one per lens: name, verdict badge, summary and metrics.

    ``evaluation`` is a SystemEvaluation or anything with ``scenario_name`` and ``feasibility``,
    ``performance``, ``macro`` levels (each with ``level_name``, ``status``, ``summary``,
    ``metrics``); a missing level is drawn as SKIPPED. Returns the Figure; ``path`` (.png or
    .svg) also writes it.
    """
    pyplot()                                   # the clear error when the viz extra is missing
    from matplotlib.patches import FancyBboxPatch

    cards = []
    for lens in _LENSES:
        level = getattr(evaluation, lens, None)
        status = str(getattr(level, "status", "SKIPPED")).upper()
        summary = textwrap.wrap(str(getattr(level, "summary", "") or ""), 46) or [""]
        rows = list((getattr(level, "metrics", None) or {}).items())
        lines = [(k.replace("_", " "), _fmt(v)) for k, v in rows[:_MAX_METRICS]]
        if len(rows) > _MAX_METRICS:
            lines.append((f"… {len(rows) - _MAX_METRICS} more", ""))
        cards.append((getattr(level, "level_name", lens.capitalize()), status, summary, lines))
    # the layout is in rows of text: header, summary lines, a gap, metric lines, a margin
    depth = max(2.2 + 0.8 * len(summary) + 0.4 + len(lines) for _, _, summary, lines in cards) + 0.4

    fig, ax = new_axes(ax, (12, 0.8 + 0.24 * depth))
    ax.set_axis_off()
    ax.set_xlim(0, 3)
    ax.set_ylim(depth, 0)
    for i, (name, status, summary, lines) in enumerate(cards):
        fill, badge = _STATUS_COLORS.get(status, _STATUS_COLORS["SKIPPED"])
        x0 = i + 0.04
        ax.add_patch(FancyBboxPatch((x0, 0.1), 0.92, depth - 0.2, boxstyle="round,pad=0,rounding_size=0.03",
                                    facecolor=fill, edgecolor=badge, lw=1.5, mutation_aspect=depth / 3))
        ax.text(x0 + 0.05, 1.1, name, fontsize=13, fontweight="bold", va="center")
        ax.text(x0 + 0.87, 1.1, status, fontsize=10, fontweight="bold", color="white", va="center", ha="right",
                bbox=dict(boxstyle="round,pad=0.3", facecolor=badge, edgecolor="none"))
        for j, text in enumerate(summary):
            ax.text(x0 + 0.05, 2.2 + 0.8 * j, text, fontsize=9, style="italic", va="center")
        top = 2.2 + 0.8 * len(summary) + 0.4
        for j, (key, value) in enumerate(lines):
            ax.text(x0 + 0.05, top + j, key, fontsize=9, color="0.3", va="center")
            ax.text(x0 + 0.87, top + j, value, fontsize=9, va="center", ha="right", family="monospace")
    ax.set_title(f"MLSys·im scorecard: {getattr(evaluation, 'scenario_name', '')}", fontsize=14)
    save(fig, path)
    return fig
