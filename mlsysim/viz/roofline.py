"""The roofline of one device, with the operators of solved workloads placed on it."""
from __future__ import annotations

import math

import numpy as np

from ..units import format_si
from . import new_axes, pyplot, save

#: one colour per operator class (tab10); classes not listed take the remaining tab20 colours
_CLASS_COLORS = {"gemm": "#1f77b4", "attention": "#d62728", "conv": "#2ca02c", "norm": "#9467bd",
                 "elementwise": "#ff7f0e", "embedding": "#8c564b", "collective": "#e377c2", "pool": "#17becf",
                 "optimizer": "#bcbd22", "kv_cache": "#7f7f7f"}
_SPARE_COLORS = ["#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d"]
_PROFILE_MARKERS = "osD^vP"
_STEP_COLORS = ["black", "#b8860b", "#008b8b", "#8b008b", "#556b2f", "#8b4513"]


def _first(value) -> float:
    """A scalar, or the first configuration of a sweep."""
    return float(np.ravel(value)[0])


def _color(op_class: str, spare: dict) -> str:
    if op_class in _CLASS_COLORS:
        return _CLASS_COLORS[op_class]
    return spare.setdefault(op_class, _SPARE_COLORS[len(spare) % len(_SPARE_COLORS)])


def _operator_points(profile):
    """(op, intensity FLOP/B, achieved FLOP/s, share of step time) for each operator that takes time."""
    step = _first(profile.latency_s)
    out = []
    for op in profile.operators:
        if op.time_s <= 0:
            continue
        intensity = op.flops / op.bytes if op.bytes > 0 else math.inf
        out.append((op, intensity, op.flops * op.count / op.time_s, op.time_s / step))
    return out


def plot_roofline(hardware, profiles=None, precision=None, ax=None, path=None, title=None):
    """The device roofline on log–log axes, with each profile's operators placed on it.

    ``hardware``: a HardwareNode or a registry name. ``profiles``: one PerformanceProfile, a list
    of them, or None for the bare roofline. ``precision``: the ceiling drawn bold and whose ridge
    point is marked (default: the first profile's precision, else fp16); every other precision
    the datasheet lists is drawn as a thin dashed ceiling (dense peaks; precisions that share a
    rate share a line). The memory slope is the datasheet bandwidth.

    Each operator is a point at x = its FLOP/byte and y = its achieved FLOP/s (FLOPs of all its
    instances over their time), sized by its share of the step time and coloured by operator
    class; operators with no FLOPs (pure data movement) sit on the bottom-left edge. A star marks
    the whole step (total FLOP/byte, total FLOPs over step latency). Returns the Figure; ``path``
    (.png or .svg) also writes it.
    """
    pyplot()                                   # the clear error when the viz extra is missing
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    from ..hardware.types import normalize_precision
    from ..run import resolve_hardware

    hw = resolve_hardware(hardware)
    if profiles is None:
        profiles = []
    elif hasattr(profiles, "operators"):
        profiles = [profiles]
    profiles = list(profiles)
    prec = normalize_precision(precision or (profiles[0].precision if profiles else "fp16"))
    peak, bw = hw.peak_at(prec), float(hw.memory.bandwidth)
    ridge = peak / bw

    ceilings: dict[float, list[str]] = {}     # dense peak -> the precisions that reach it
    for p in hw.supported_precisions:
        ceilings.setdefault(hw.peak_at(p), []).append(p)
    top = max(ceilings, default=peak)

    # -- what goes on the plot, and the axis range that holds it --------------------------------
    ops = [_operator_points(p) for p in profiles]
    steps = [(_first(p.flops_total) / max(_first(p.bytes_total), 1e-30), _first(p.flops_total) / _first(p.latency_s))
             for p in profiles]
    xs = [x for pts in ops for _, x, _, _ in pts if 0 < x < math.inf] + [x for x, _ in steps if x > 0]
    ys = [y for pts in ops for _, _, y, _ in pts if y > 0] + [y for _, y in steps if y > 0]
    x_min = min([0.1, *xs]) / 2
    x_max = max([20 * max(ceilings, default=peak) / bw, *xs]) * 2
    y_min = min([top / 1e4, *ys]) / 2
    y_max = top * 3

    fig, ax = new_axes(ax, (9, 6))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(x_min / 1.5, x_max * 1.5)
    ax.set_ylim(y_min / 1.5, y_max)

    # -- the roof: memory slope, one ceiling per rate, the ridge point ----------------------------
    ax.plot([x_min / 1.5, top / bw], [bw * x_min / 1.5, top], color="0.25", lw=1.6, zorder=2)
    for rate, names in sorted(ceilings.items()):
        chosen = prec in names
        ax.plot([rate / bw, x_max * 1.5], [rate, rate], color="black" if chosen else "0.55",
                lw=2.2 if chosen else 1.0, ls="-" if chosen else "--", zorder=2)
        label = f"{'/'.join(names)}  {format_si(rate, 'FLOP/s')}" + (f"  (ridge {ridge:,.0f} FLOP/B)" if chosen else "")
        ax.text(rate / bw / 1.4, rate, label, ha="right", va="center", fontsize=8,   # the empty wedge over the slope
                fontweight="bold" if chosen else "normal", color="black" if chosen else "0.4")
    ax.plot([ridge], [peak], "o", ms=8, mfc="white", mec="black", mew=1.5, zorder=5)

    # -- the workload: operators by class, one star per step ------------------------------------------
    spare: dict[str, str] = {}
    classes: dict[str, str] = {}
    for i, (profile, pts) in enumerate(zip(profiles, ops)):
        pts = sorted(pts, key=lambda t: -t[3])            # big ones first, so small ones stay visible
        colors = [_color(op.op_class, spare) for op, *_ in pts]
        classes.update((op.op_class, c) for (op, *_), c in zip(pts, colors))
        sc = ax.scatter([min(max(x, x_min), x_max) for _, x, _, _ in pts], [max(y, y_min) for _, _, y, _ in pts],
                        s=[25 + 900 * share for *_, share in pts], c=colors, marker=_PROFILE_MARKERS[i % 6],
                        alpha=0.75, edgecolors="white", linewidths=0.6, zorder=3)
        sc.set_gid("operators")
        x, y = steps[i]
        ax.scatter([min(max(x, x_min), x_max)], [max(y, y_min)], s=260, marker="*", zorder=6,
                   c=_STEP_COLORS[i % 6], edgecolors="white", linewidths=0.8).set_gid("step")

    # -- labels and legend ---------------------------------------------------------------------------
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_si(v, "FLOP/s")))
    ax.set_xlabel("Arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("Achieved performance")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(title or f"Roofline: {hw.name}, {prec}")
    handles = [Line2D([], [], color="0.25", lw=1.6, label=f"memory {format_si(bw, 'B/s')}")]
    for i, p in enumerate(profiles):
        mfu = _first(p.mfu) if p.mfu is not None else float("nan")
        handles.append(Line2D([], [], ls="", marker="*", ms=13, color=_STEP_COLORS[i % 6],
                              label=f"{p.model_name} {p.phase} b={_first(p.batch_size):g}: step, MFU {100 * mfu:.2g}%"))
        if len(profiles) > 1:
            handles.append(Line2D([], [], ls="", marker=_PROFILE_MARKERS[i % 6], ms=7, mfc="none", mec="0.3",
                                  label=f"{p.model_name} {p.phase}: operators"))
    handles += [Line2D([], [], ls="", marker="o", ms=7, color=c, label=name) for name, c in classes.items()]
    ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9,
              title="point area = share of step time" if profiles else None, title_fontsize=8)
    save(fig, path)
    return fig
