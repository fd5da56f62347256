"""Fitting the bands every prediction carries (``mlsysim.zoo.bands``) from the validation suite, and
measuring how often they hold.

Each category's residuals r = ln(measured / predicted), turned so that a positive r means the true step took
longer (a rate's residual changes sign), give a centre (their median) and a spread (their 10th-90th percentile
range, as a normal's sigma); the spread of the per-device medians is what a device the category never measured
adds. Coverage is measured leaving each anchor out of the fit that bands it, so the suite never grades a band
on the figure that set it.
"""
from __future__ import annotations

import math
import statistics
from functools import lru_cache

import numpy as np

from ..zoo.bands import Z90, factors
from ..zoo.registry import DATA

#: the file the fit is written to (``python scripts/fit_bands.py``)
BANDS = DATA / "bands.yaml"
#: fewer predicted anchors than this and a category gives no band (a spread of one or two errors is noise)
MIN_ANCHORS = 3
#: metrics that are rates (more is faster): their residuals change sign to read as time
RATE_METRICS = frozenset({"throughput", "output_tokens_per_s", "prompt_tokens_per_s", "mfu", "hfu"})


def residual(metric: str, measured: float, predicted: float) -> float:
    """ln(measured / predicted), positive when the truth is slower (or larger, for quantities)."""
    r = math.log(measured / predicted)
    return -r if metric in RATE_METRICS else r


def spread(rs) -> tuple[float, float]:
    """(centre, sigma) of residuals: their median and their 10th-90th percentile range as a normal's sigma."""
    q10, q90 = np.percentile(rs, [10.0, 90.0])
    return float(np.median(rs)), float(q90 - q10) / (2 * Z90)


def category_stats(rows: list[tuple[str, float]]) -> dict | None:
    """A category's band figures from (device name, residual) rows; None with too few."""
    if len(rows) < MIN_ANCHORS:
        return None
    centre, sigma = spread([r for _, r in rows])
    by_device: dict[str, list[float]] = {}
    for device, r in rows:
        by_device.setdefault(device, []).append(r)
    medians = [statistics.median(v) for v in by_device.values()]
    between = statistics.pstdev(medians) if len(medians) > 1 else 0.0
    return {"anchors": len(rows), "centre": centre, "sigma": sigma, "between_devices": between,
            "devices": sorted(by_device)}



def fit(results) -> dict[str, dict]:
    """Every category's band figures from validation results (AnchorResult)."""
    rows: dict[str, list] = {}
    for r in results:
        if r.predicted is not None and r.predicted > 0 and r.measured > 0:
            rows.setdefault(r.category, []).append((_device(r.hardware), residual(r.metric, r.measured, r.predicted)))
    out = {}
    for cat in sorted(rows):
        stats = category_stats(rows[cat])
        if stats is not None:
            out[cat] = stats
    return out


def coverage(results) -> dict[str, dict]:
    """Per category: how many measured values fall inside the band fitted without them (leave one out)."""
    rows: dict[str, list] = {}
    for r in results:
        if r.predicted is not None and r.predicted > 0 and r.measured > 0:
            rows.setdefault(r.category, []).append((_device(r.hardware), residual(r.metric, r.measured, r.predicted)))
    out = {}
    for cat, rs in sorted(rows.items()):
        inside = scored = 0
        for i, (device, r) in enumerate(rs):
            stats = category_stats(rs[:i] + rs[i + 1:])
            if stats is None:
                continue
            low, high = factors(stats, device)
            scored += 1
            inside += math.log(low) <= r <= math.log(high)
        out[cat] = {"scored": scored, "inside": inside, "coverage": inside / scored if scored else None}
    return out




@lru_cache(maxsize=256)
def _device(key: str) -> str:
    """A device's name as results carry it (anchors name zoo keys)."""
    from ..errors import MlsysimError
    from ..hardware.registry import Hardware

    try:
        return Hardware.get(key).name
    except MlsysimError:
        return key
