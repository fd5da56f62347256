"""The Pareto front of a sweep's table: the rows no other row matches or beats in every objective while beating
them in one."""
from __future__ import annotations

import math

import numpy as np

from ..errors import InputError


def pareto_front(rows: list[dict], objectives: dict) -> list[dict]:
    """The non-dominated ok rows over ``objectives`` ({column: "min" or "max"}), in table order; rows without a
    finite number in every objective take no part. An objective no row has a number for is one sentence."""
    for column in objectives:
        if not any(_number(row.get(column)) for row in rows):
            names = [k for k in dict.fromkeys(k for row in rows for k in row) if any(_number(r.get(k)) for r in rows)]
            raise InputError(f"objective '{column}' is no numeric column of the table (those are "
                             f"{', '.join(names) or 'none'})")
    eligible = [row for row in rows if row.get("status") == "ok" and all(_number(row.get(c)) for c in objectives)]
    if not objectives or not eligible:
        return []
    # every objective as one to minimise; in lexicographic order no row is dominated by a later one
    costs = np.array([[row[c] if sense == "min" else -row[c] for c, sense in objectives.items()] for row in eligible],
                     dtype=float)
    front: list[int] = []
    for i in np.lexsort(costs.T[::-1]):
        kept = costs[front]
        if not np.any(np.all(kept <= costs[i], axis=1) & np.any(kept < costs[i], axis=1)):
            front.append(int(i))
    return [eligible[i] for i in sorted(front)]


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
