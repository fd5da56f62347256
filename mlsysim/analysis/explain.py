"""The differential explainer: why moving a workload from one device to another changes its time."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ..engine.engine import Engine
from ..run import resolve_hardware


@dataclass(frozen=True)
class Comparison:
    baseline: str
    proposal: str
    speedup: float
    base_bound: str
    new_bound: str
    base_latency_s: float
    new_latency_s: float
    bandwidth_ratio: float
    compute_ratio: float
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def compare(model, hardware_names, **solve_kw) -> list[Comparison]:
    """Each device against the first: speed-up, the bound each side sits on, and why."""
    devices = [resolve_hardware(h) for h in hardware_names]
    profiles = [Engine.solve(model, hw, **solve_kw) for hw in devices]
    base_hw, base = devices[0], profiles[0]
    out = []
    for hw, p in zip(devices[1:], profiles[1:]):
        bw = float(hw.memory.bandwidth) / float(base_hw.memory.bandwidth)
        fl = p.peak_flops_b / base.peak_flops_b
        speedup = base.latency_s / p.latency_s
        out.append(Comparison(base_hw.name, hw.name, speedup, base.bottleneck, p.bottleneck, base.latency_s,
                              p.latency_s, bw, fl, _reason(base.bottleneck, p.bottleneck, bw, fl, speedup)))
    return out


def _reason(old: str, new: str, bw: float, fl: float, speedup: float) -> str:
    if old == new == "Memory":
        why = f"both memory-bound: the speed-up tracks the {bw:.2f}x memory bandwidth, not the {fl:.2f}x FLOP/s"
    elif old == new == "Compute":
        why = f"both compute-bound: the speed-up tracks the {fl:.2f}x peak FLOP/s, not the {bw:.2f}x bandwidth"
    elif old == new == "Overhead":
        why = "both launch-bound: kernel launch costs dominate, so faster silicon barely helps"
    elif new == "Overhead":
        why = "the upgrade makes the kernels so short that launch overhead now dominates"
    elif old == "Memory" and new == "Compute":
        why = f"the {bw:.2f}x bandwidth lifts it off the memory bound; it is now compute-bound at {fl:.2f}x FLOP/s"
    elif old == "Compute" and new == "Memory":
        why = f"the {fl:.2f}x FLOP/s moves the bound to memory, where the bandwidth gain is only {bw:.2f}x"
    else:
        why = f"the bound moves from {old.lower()} to {new.lower()}"
    if speedup < 1:
        why += "; performance decreases"
    return why
