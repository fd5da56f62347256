"""0.1.0's lab look: the palette, the style sheet a lab injects once (``LAB_CSS``), a step indicator,
section headers, a confidence question, and a figure theme. marimo is imported when something is
rendered, so listing the labs needs no marimo."""
from __future__ import annotations

#: the curriculum's palette (brand lines, light fills, neutrals, text, one accent per deployment tier)
COLORS = {
    "BlueLine": "#006395", "BlueL": "#D1E6F3", "BlueLL": "#EBF4FA",
    "GreenLine": "#008F45", "GreenL": "#D4EFDF", "GreenLL": "#ECFDF5",
    "RedLine": "#CB202D", "RedL": "#F5D2D5", "RedLL": "#FEF2F2",
    "OrangeLine": "#CC5500", "OrangeL": "#FFE5CC", "OrangeLL": "#FFF7ED",
    "Grey": "#bdc3c7", "Neutral": "#f8f9fa", "Surface0": "#0f172a", "Surface1": "#1e293b", "Surface2": "#f8fafc",
    "Border": "#e2e8f0", "Text": "#0f172a", "TextSec": "#475569", "TextMuted": "#94a3b8",
    "Cloud": "#6366f1", "Edge": "#CB202D", "Mobile": "#CC5500", "Tiny": "#008F45",
}

#: the classes the lab components use (cards, metric rows, the step indicator, banners)
_CSS = f"""<style>
.lab-card {{background:white; border:1px solid {COLORS['Border']}; border-radius:12px; padding:1.25rem 1.5rem;
  box-shadow:0 2px 8px rgba(0,0,0,.04);}}
.lab-card h3 {{margin:0 0 .5rem 0; color:{COLORS['Text']};}}
.metric-row {{display:flex; justify-content:space-between; align-items:baseline; padding:.3rem 0;
  border-bottom:1px solid {COLORS['Border']};}}
.metric-label {{color:{COLORS['TextSec']}; font-size:.85rem; font-weight:600;}}
.metric-value {{color:{COLORS['Text']}; font-weight:800; font-family:'SF Mono','Fira Code',monospace;}}
.prediction-box {{background:{COLORS['OrangeLL']}; border:1px dashed {COLORS['OrangeLine']}; border-radius:8px;
  padding:.75rem 1rem; color:{COLORS['OrangeLine']};}}
.stakeholder-card {{background:{COLORS['Surface2']}; border-left:5px solid {COLORS['BlueLine']}; border-radius:8px;
  padding:1rem 1.25rem;}}
.lab-progress {{display:flex; align-items:center; gap:6px; margin:.5rem 0;}}
.lab-progress-dot {{width:10px; height:10px; border-radius:50%; background:{COLORS['Border']};}}
.lab-progress-dot.done {{background:{COLORS['GreenLine']};}}
.lab-progress-dot.active {{background:{COLORS['BlueLine']}; box-shadow:0 0 0 3px {COLORS['BlueL']};}}
.lab-progress-line {{flex:0 0 24px; height:2px; background:{COLORS['Border']};}}
.lab-progress-line.done {{background:{COLORS['GreenLine']};}}
.concept-header {{display:flex; align-items:center; gap:8px; color:{COLORS['TextMuted']}; font-size:.75rem;
  font-weight:700; text-transform:uppercase;}}
.concept-header-line {{flex:1; height:1px; background:{COLORS['Border']};}}
</style>"""


def _mo():
    import marimo

    return marimo


def __getattr__(name: str):
    if name == "LAB_CSS":       # an ``mo.Html``: built when a lab asks for it, not at import
        return _mo().Html(_CSS)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def progress_bar(current: int, total: int, labels: list[str] | None = None):
    """Dots for ``total`` steps: those before ``current`` (0-based) done, ``current`` active."""
    items = []
    for i in range(total):
        state = "done" if i < current else "active" if i == current else ""
        items.append(f'<span class="lab-progress-dot {state}"></span>')
        if labels and i < len(labels):
            color = COLORS["GreenLine"] if i < current else COLORS["BlueLine"] if i == current else COLORS["TextMuted"]
            items.append(f'<span style="color:{color}; font-size:.72rem; font-weight:700">{labels[i]}</span>')
        if i < total - 1:
            items.append(f'<span class="lab-progress-line {"done" if i < current else ""}"></span>')
    return _mo().Html(f'<div class="lab-progress">{"".join(items)}</div>')


def concept_section_header(step: int, total: int, title: str, subtitle: str = ""):
    """``Step 2 of 3`` over the section's title and an optional subtitle."""
    sub = f'<div style="color:{COLORS["TextMuted"]}; font-size:.82rem">{subtitle}</div>' if subtitle else ""
    return _mo().Html(f'<div style="margin:1.5rem 0 .5rem 0"><div class="concept-header"><span>Step {step} of '
                      f'{total}</span><span class="concept-header-line"></span></div><div style="font-size:1.35rem; '
                      f'font-weight:800; color:{COLORS["Text"]}">{title}</div>{sub}</div>')


def confidence_widget(mo_instance):
    """How sure the student is of an answer (``low``, ``med``, ``high``), to sit beside a check question."""
    return mo_instance.ui.radio(options={"Not sure": "low", "Pretty confident": "med", "Very sure": "high"},
                                label="Confidence:", inline=True)


def apply_plotly_theme(fig):
    """The labs' figure look (white ground, light grid, the palette's text color) on a plotly figure, or on a
    matplotlib figure, which is what this package's labs draw with. Returns ``fig``."""
    if hasattr(fig, "update_layout"):
        fig.update_layout(plot_bgcolor="white", paper_bgcolor="white", font_color=COLORS["Text"],
                          margin=dict(l=40, r=20, t=20, b=40),
                          xaxis=dict(gridcolor="#f1f5f9", linecolor=COLORS["Border"]),
                          yaxis=dict(gridcolor="#f1f5f9", linecolor=COLORS["Border"]))
        return fig
    fig.set_facecolor("white")
    for ax in fig.axes:
        ax.set_facecolor("white")
        ax.grid(True, color="#f1f5f9")
        for spine in ax.spines.values():
            spine.set_color(COLORS["Border"])
        ax.tick_params(colors=COLORS["TextSec"])
    return fig
