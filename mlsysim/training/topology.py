"""What a topology leaves of a fabric's bandwidth: bisection, hop counts, and the all-to-all rate.

Pure functions on SI floats that work unchanged on NumPy arrays, and ``TopologyModel`` over them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..solver import Result, Solver
from ..units import SIValue

_TOPOLOGIES = {"fat-tree": "fat-tree", "clos": "fat-tree", "leaf-spine": "fat-tree", "ring": "ring",
               "torus-2d": "torus-2d", "2d-torus": "torus-2d", "torus-3d": "torus-3d", "3d-torus": "torus-3d",
               "torus": "torus-3d", "dragonfly": "dragonfly", "rail-optimized": "rail-optimized",
               "rail": "rail-optimized"}


def topology_name(topology: str) -> str:
    """The canonical name of a topology (``fat_tree``, ``3D torus`` ... are accepted)."""
    key = str(topology).strip().lower().replace("_", "-").replace(" ", "-")
    if key not in _TOPOLOGIES:
        raise InputError(f"unknown topology '{topology}'; use one of fat-tree, rail-optimized, ring, torus-2d, "
                         f"torus-3d, dragonfly")
    return _TOPOLOGIES[key]


def bisection_fraction(topology: str, N):
    """The share of full bisection (N/2 ports at line rate) the topology keeps, at most 1.

    A cut through a ring crosses 2 links, through a k×k torus 2k, through a k×k×k torus 2k²
    (wraparound doubles each), giving 4/N, 4/√N and 4/∛N of N/2. A balanced dragonfly
    (Kim et al. 2008, a = 2p = 2h) has g²/4 global links across the cut for N ≈ g·2h² nodes,
    about 1/2. A non-blocking fat-tree keeps all of it, and so does a rail-optimized one (NVIDIA DGX
    SuperPOD reference architecture: GPU k of every node on leaf switch k, the rails joined by spines).
    """
    name = topology_name(topology)
    N = np.asarray(N, dtype=float)
    frac = {"fat-tree": np.ones_like(N), "rail-optimized": np.ones_like(N), "ring": 4.0 / N,
            "torus-2d": 4.0 / np.sqrt(N),
            "torus-3d": 4.0 / np.cbrt(N), "dragonfly": np.full_like(N, 0.5)}[name]
    out = np.minimum(frac, 1.0)
    return float(out) if out.ndim == 0 else out


def average_hops(topology: str, N):
    """Links a message crosses between two random nodes (ring: N/4; a k-ary torus: k/4 per dimension;
    dragonfly: local, global, local; two-tier fat-tree: node, leaf, spine, leaf, node; rail-optimized: node,
    rail leaf, node, the same-rail path collectives keep to by moving data onto the right GPU over NVLink
    first)."""
    name = topology_name(topology)
    N = np.asarray(N, dtype=float)
    hops = {"fat-tree": np.full_like(N, 4.0), "rail-optimized": np.full_like(N, 2.0), "ring": N / 4,
            "torus-2d": 2 * np.sqrt(N) / 4,
            "torus-3d": 3 * np.cbrt(N) / 4, "dragonfly": np.full_like(N, 3.0)}[name]
    return float(hops) if hops.ndim == 0 else hops


def effective_bandwidth(bw, oversubscription=1.0, bisection=1.0):
    """What one port sustains under all-to-all traffic: line rate, times the bisection kept, over
    the oversubscription of the upper tiers."""
    return bw * np.minimum(bisection, 1.0) / oversubscription


@dataclass(frozen=True)
class TopologyResult(Result):
    topology: str
    num_nodes: int
    bisection_fraction: float
    effective_bandwidth_b: float
    bisection_bandwidth_b: float
    hops_avg: float

    @property
    def effective_bw(self): return SIValue(self.effective_bandwidth_b, "GB/s")

    @property
    def bisection_bw(self): return SIValue(self.bisection_bandwidth_b, "GB/s")

    @property
    def bisection_bw_fraction(self) -> float: return self.bisection_fraction


class TopologyModel(Solver):
    """How a fabric's topology and oversubscription cap the bandwidth all-to-all traffic sees (wall 10)."""

    walls = (10,)

    def solve(self, fabric, topology=None, num_nodes=64) -> TopologyResult:
        if isinstance(fabric, str):
            from ..systems.registry import Systems

            fabric = Systems.Fabrics.get(fabric)
        bw = float(fabric.bandwidth)
        if isinstance(num_nodes, bool) or not isinstance(num_nodes, (int, np.integer)) or num_nodes < 2:
            raise InputError(f"num_nodes must be a whole number >= 2, got {num_nodes!r}")
        name = topology_name(topology or fabric.topology)
        frac = bisection_fraction(name, num_nodes)
        ratio = float(fabric.oversubscription_ratio)
        return TopologyResult(
            topology=name, num_nodes=int(num_nodes), bisection_fraction=frac,
            effective_bandwidth_b=effective_bandwidth(bw, ratio, frac),
            bisection_bandwidth_b=num_nodes / 2 * bw * frac / ratio, hops_avg=average_hops(name, num_nodes),
            binding=f"{name} keeps {frac:.0%} of full bisection"
            + (f", oversubscribed {ratio:g}:1" if ratio > 1 else ""),
            assumptions=("one port per node at the fabric's line rate", "uniform (all-to-all) traffic",
                         "minimal routing; hop counts are links between two random nodes"))


__all__ = ["bisection_fraction", "average_hops", "effective_bandwidth", "topology_name", "TopologyModel",
           "TopologyResult"]
