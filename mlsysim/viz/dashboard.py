"""0.1.0's lab "cockpit" (marimo): a header with the scenario's constraints, a lever panel, a telemetry
panel and an audit panel laid out on one grid, metric cards, notes, and a Pareto plot. marimo is
imported when a panel is built; the plot is matplotlib, like the rest of ``viz``."""
from __future__ import annotations


def _mo():
    import marimo

    return marimo


def _panel(title: str, content, style: str):
    mo = _mo()
    return mo.md(f'<div style="{style}; padding:20px; border-radius:12px"><div style="font-weight:800; color:'
                 f'#4a5568; margin-bottom:12px; text-transform:uppercase; font-size:.8em; letter-spacing:1px">'
                 f'{title}</div>{mo.as_html(content)}</div>')


def command_header(title: str, subtitle: str, persona_name: str, scale: str, constraints: dict[str, bool]):
    """Zone 1: who the student is, at what scale, and which constraints the design meets (green) or not."""
    badges = "".join(
        f'<span style="background:{"#008f45" if met else "#cb202d"}; color:white; padding:4px 10px; border-radius:'
        f'12px; font-size:.8em; margin-right:10px; font-weight:bold">{"met" if met else "violated"}: {label}</span>'
        for label, met in constraints.items())
    return _mo().md(
        f'<div style="background:linear-gradient(135deg,#1a202c,#2d3748); padding:25px; border-radius:12px; '
        f'color:white; margin-bottom:20px; display:flex; justify-content:space-between"><div><h1 style="margin:0; '
        f'color:#e2e8f0">{title}</h1><p style="color:#a0aec0">{subtitle}</p><div>{badges}</div></div><div style='
        f'"text-align:right"><div style="font-weight:bold; color:#63b3ed">{persona_name}</div><div style="color:'
        f'#cbd5e0">Scale: {scale}</div></div></div>')


def pro_note(title: str, body: str):
    """A callout for guidance beside the instruments."""
    return _mo().md(f'<div style="background:#ebf8ff; border-left:6px solid #3182ce; padding:15px; border-radius:'
                    f'4px; margin:15px 0"><div style="font-weight:800; color:#2c5282; text-transform:uppercase; '
                    f'font-size:.85em">Note: {title}</div><div style="color:#2a4365">{body}</div></div>')


def lever_panel(content):
    """Zone 2: the controls."""
    return _panel("Control levers", content, "background:#f7fafc; border:1px solid #e2e8f0")


def telemetry_panel(content, color="#3182ce"):
    """Zone 3: the instruments, topped with ``color``."""
    return _panel("Live telemetry", content, f"background:white; border-top:6px solid {color}")


def audit_panel(content):
    """Zone 4: the log and the student's rationale."""
    return _panel("Audit trail and rationale", content, "background:#fffaf0; border:1px solid #feebc8")


def metric_card(label: str, value: str, trend: str, detail: str, color: str = "#3182ce"):
    return _mo().md(f'<div style="background:#fdfdfd; padding:15px; border-radius:8px; border:1px solid #edf2f7">'
                    f'<div style="font-size:.7em; color:#718096; font-weight:800; text-transform:uppercase">{label}'
                    f'</div><div style="font-size:1.6em; font-weight:900; color:#2d3748">{value}</div><div style='
                    f'"font-size:.75em; color:{color}; font-weight:bold">{trend} <span style="color:#a0aec0; '
                    f'font-weight:normal">| {detail}</span></div></div>')


def layout_cockpit(levers_ui, telemetry_ui, audit_ui):
    """Levers beside telemetry (4:6), the audit panel below."""
    mo = _mo()
    return mo.vstack([mo.hstack([levers_ui, telemetry_ui], widths=[4, 6], gap=2), audit_ui], gap=1)


def pareto_plot(x_val: float, y_val: float, x_label: str, y_label: str, title: str, pareto_x: list[float],
                pareto_y: list[float]):
    """The current design (a cross) against the Pareto front (dashed). Returns the matplotlib figure."""
    from . import new_axes

    fig, ax = new_axes(None, (7, 3.5))
    ax.plot(pareto_x, pareto_y, ls="--", lw=3, color="#a0aec080", label="optimum")
    ax.plot([x_val], [y_val], marker="P", ms=14, color="#e53e3e", mec="white", ls="", label="state")
    ax.set(title=title, xlabel=x_label, ylabel=y_label)
    ax.legend(fontsize=8)
    return fig
