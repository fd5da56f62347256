"""How wrong a prediction might be: the 10th-90th percentile band every prediction carries.

The figures (``data/bands.yaml``) come from the validation suite's own errors, per category: the centre and
spread of ln(measured / predicted) read as time (``mlsysim.validation.bands`` fits them; ``python
scripts/fit_bands.py`` writes the file). A device that no anchor of the category measured adds the spread
between devices in quadrature, so the further a device is from what was measured, the wider its band.
"""
from __future__ import annotations

import math

import numpy as np

from .registry import load_data

#: the normal's 90th percentile: a 10th-90th percentile band is centre +- Z90 sigma
Z90 = 1.2815515655446004


def factors(stats: dict, device: str | None) -> tuple[float, float]:
    """The (low, high) multipliers of a predicted time on ``device`` (wider where the category never
    measured it)."""
    sigma = stats["sigma"]
    if device not in stats["devices"]:
        sigma = math.hypot(sigma, stats["between_devices"])
    return math.exp(stats["centre"] - Z90 * sigma), math.exp(stats["centre"] + Z90 * sigma)


def band(category: str, value, device: str | None, *, rate: bool = False):
    """(low, high) around a predicted ``value`` (a time or a quantity; a rate with ``rate``) on ``device``;
    None where the category has no band. Arrays give arrays."""
    stats = load_data("bands")["categories"].get(category)
    if stats is None or value is None:
        return None
    low, high = factors(stats, device)
    value = np.asarray(value, dtype=float) if np.ndim(value) else float(value)
    return (value / high, value / low) if rate else (value * low, value * high)
