"""Design-space sweeps: one plan evaluated at every point of a grid of its keys, as a table and a Pareto front.

A sweep file names a plan and the plan keys to vary:

  plan: single_gpu_inference.yaml   # a plan file (relative to this one),
                                    # or the plan itself, inline
  axes:                             # plan keys by dotted path: lists of
    hardware.name: [H100, A100, B200]                 # values, or ranges
    workload.batch_size: {start: 1, stop: 256, num: 9, scale: log}
    ops.region: [Quebec, Poland, US_Avg]
  objectives:                       # optional: the Pareto front's columns
    p_latency_ms: min
    m_tco_usd: min
    m_carbon_footprint: min

A range's scale is linear (the default) or log; its values are whole numbers
where the key takes them. The grid is every combination of the axes' values,
the last axis changing fastest. Each point is the plan with those values,
validated and evaluated as `mlsysim eval PLAN` does. Its row holds the axis
values, status (ok, infeasible, sla_failed, or error: not a valid plan), the
reason it is not ok, and the columns of `mlsysim eval PLAN -o json`
(p_latency_ms, m_tco_usd, m_carbon_footprint, ...). Points on one device that
differ only in workload.batch_size and workload.seq_len are solved as one
array. The Pareto front: the ok rows no other ok row matches or beats in every
objective while beating them in one.
"""
from __future__ import annotations

import importlib

_EXPORTS = {"Sweep": "spec", "load_sweep": "spec", "parse_sweep": "spec", "run_sweep": "runner",
            "pareto_front": "pareto", "write_table": "table"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mlsysim.sweep' has no attribute '{name}'")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
