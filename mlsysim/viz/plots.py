"""0.1.0 path of the plots (``from mlsysim.viz.plots import plot_roofline``), with 0.1.0's book style
(``COLORS``, ``set_book_style``, ``setup_plot``) and its fleet-scale roofline, drawn here from
``NetworkRooflineModel``. matplotlib is imported only when something is drawn."""
from __future__ import annotations

from ..units import format_si
from . import new_axes, pyplot, save
from .roofline import plot_roofline
from .scorecard import plot_evaluation_scorecard

#: the book's palette (Harvard crimson, the TikZ figure colors): a style convention, by name
COLORS = {
    "crimson": "#A51C30", "primary": "#333333", "grid": "#CCCCCC",
    "BlueLine": "#006395", "BlueL": "#D1E6F3", "BlueFill": "#D6EAF8",
    "RedLine": "#CB202D", "RedL": "#F5D2D5", "RedFill": "#F2D7D5",
    "GreenLine": "#008F45", "GreenL": "#D4EFDF", "GreenFill": "#D5F5E3",
    "OrangeLine": "#E67817", "OrangeL": "#FCE4CC", "VioletLine": "#7E317B", "VioletL": "#E6D4E5",
    "BrownLine": "#78492A", "BrownL": "#E3D3C8", "YellowFill": "#FEF9E0",
}

__all__ = ["COLORS", "plot_distributed_roofline", "plot_evaluation_scorecard", "plot_roofline", "set_book_style",
           "setup_plot"]


def set_book_style() -> None:
    """matplotlib defaults for the book's figures (sans-serif, light dashed grid, 300 dpi)."""
    pyplot().rcParams.update({
        "font.family": "sans-serif", "font.sans-serif": ["Helvetica", "Arial", "DejaVu Sans"], "font.size": 10,
        "text.color": COLORS["primary"], "axes.labelsize": 11, "axes.titlesize": 12, "axes.titleweight": "bold",
        "axes.grid": True, "grid.color": COLORS["grid"], "grid.alpha": 0.4, "grid.linestyle": "--",
        "figure.dpi": 300, "savefig.bbox": "tight"})


def setup_plot(figsize=(8, 5)):
    """(figure, axes, COLORS, pyplot) in the book style: one line at the top of a figure cell."""
    set_book_style()
    fig, ax = pyplot().subplots(figsize=figsize)
    return fig, ax, COLORS, pyplot()


def plot_distributed_roofline(fleet_system, workloads=None, ax=None, path=None):
    """The network roofline of one accelerator of ``fleet_system``: attainable FLOP/s against FLOPs per
    byte it sends over the fabric, the NIC's slope meeting the peak at the network ridge. Each workload
    (a transformer, or a name in the zoo) is placed by ``NetworkRooflineModel`` at its default layout, whose
    per-accelerator NIC share sets the slope (with no workload, the fabric's port). Returns (figure, axes)."""
    from ..training.network_roofline import NetworkRooflineModel

    fleet = fleet_system
    hw = fleet.node.accelerator
    peak = hw.peak_at("bf16") if "bf16" in hw.supported_precisions else float(hw.compute.peak_flops)
    points = [(getattr(w, "name", str(w)), NetworkRooflineModel().solve(w, fleet)) for w in (workloads or [])]
    nic = points[0][1].nic_bandwidth if points else float(fleet.fabric.bandwidth)
    ridge = peak / nic
    xs = [r.communication_intensity for _, r in points] + [ridge]
    x_lo, x_hi = min(xs) / 20, max(xs) * 20

    fig, ax = new_axes(ax, (9, 5.5))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.plot([x_lo, ridge, x_hi], [nic * x_lo, peak, peak], color=COLORS["VioletLine"], lw=2.5)
    ax.axvspan(x_lo, ridge, color=COLORS["RedL"], alpha=0.4, label="network-bound")
    ax.axvspan(ridge, x_hi, color=COLORS["BlueL"], alpha=0.4, label="compute-bound")
    ax.plot([ridge], [peak], "X", color=COLORS["crimson"], ms=10, zorder=5)
    ax.annotate(f"network ridge {ridge:,.0f} FLOP/B", (ridge, peak), xytext=(6, -16), textcoords="offset points",
                color=COLORS["crimson"], fontsize=8.5, fontweight="bold")
    for name, r in points:
        ax.plot([r.communication_intensity], [r.attainable_flops], "o", ms=8, zorder=6, label=name)
    ax.set_xlabel("communication intensity (FLOP per fabric byte)")
    ax.set_ylabel("attainable FLOP/s per accelerator")
    ax.set_title(f"{fleet.name}: {format_si(nic, 'B/s')} per accelerator, peak {format_si(peak, 'FLOP/s')}")
    ax.legend(loc="lower right", fontsize=8)
    save(fig, path)
    return fig, ax
