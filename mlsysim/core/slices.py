"""Big vectorized sweeps, slice by slice: each slice stays in the CPU caches, and slices run on every
core at once (NumPy releases the GIL inside its loops)."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor


def map_slices(fn, total: int, size: int) -> list:
    """``fn(start)`` for start = 0, size, 2·size, ... < total, in order; in parallel when there are several."""
    starts = range(0, total, size)
    if len(starts) <= 1:
        return [fn(0)]
    with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 8)) as pool:
        return list(pool.map(fn, starts))
