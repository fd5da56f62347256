"""Collective communication on the α–β model, and what a topology leaves of a fabric's bandwidth.

Pure functions on SI floats that work unchanged on NumPy arrays. ``M`` is the buffer each rank
holds (all-to-all: the bytes each rank sends in total), ``N`` the ranks taking part, ``bw`` the
bandwidth per rank per direction (bytes/s) and ``alpha`` the latency of one step (s). There is
no reduction-compute term: reduction kernels run at HBM speed, far above any link.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..units import SIValue
from .base import Result, Solver

#: per-step latency of an NVLink/NVSwitch hop and of an InfiniBand NDR fabric at collective level
#: (NCCL's intra-node and network step latencies, src/graph/tuning.cc), used when a record has none
NVLINK_ALPHA = 500e-9
FABRIC_ALPHA = 5e-6


def point_to_point(M, bw, alpha=0.0):
    """One message: the latency, then the bytes."""
    return alpha + M / bw


def ring_all_reduce(M, N, bw, alpha=0.0):
    """Reduce-scatter then all-gather around a ring: 2(N−1) steps, each moving M/N."""
    return 2 * (N - 1) / N * M / bw + 2 * (N - 1) * alpha


def tree_all_reduce(M, N, bw, alpha=0.0):
    """Pipelined double binary tree (NCCL; Sanders et al. 2009): ring bandwidth, log₂N latency.

    Reducing up one tree and broadcasting down the other moves the same bytes per rank as a
    ring, but a message crosses only 2⌈log₂N⌉ hops instead of 2(N−1): trees win on small buffers.
    """
    return 2 * (N - 1) / N * M / bw + 2 * np.ceil(np.log2(N)) * alpha


def reduce_scatter(M, N, bw, alpha=0.0):
    """Each rank ends with 1/N of the reduced buffer: N−1 steps of M/N."""
    return (N - 1) / N * M / bw + (N - 1) * alpha


def all_gather(M, N, bw, alpha=0.0):
    """Each rank ends with the whole M from N slices: the mirror image of reduce-scatter."""
    return reduce_scatter(M, N, bw, alpha)


def all_to_all(M, N, bw, alpha=0.0):
    """Pairwise exchange: each rank keeps 1/N of its M and sends the rest in N−1 messages."""
    return (N - 1) / N * M / bw + (N - 1) * alpha


def hierarchical_all_reduce(M, local, nodes, bw_intra, bw_inter, alpha_intra=NVLINK_ALPHA, alpha_inter=FABRIC_ALPHA):
    """Reduce-scatter inside the node, ring all-reduce of M/local across nodes, all-gather inside.

    ``local`` ranks per node share the scale-up link; ``bw_inter`` is what one rank gets of the
    fabric (its NIC), so all ``local`` slices cross the fabric in parallel.
    """
    inside = reduce_scatter(M, local, bw_intra, alpha_intra)
    return 2 * inside + ring_all_reduce(M / local, nodes, bw_inter, alpha_inter)


# --- topology ----------------------------------------------------------------------------------
_TOPOLOGIES = {"fat-tree": "fat-tree", "clos": "fat-tree", "leaf-spine": "fat-tree", "ring": "ring",
               "torus-2d": "torus-2d", "2d-torus": "torus-2d", "torus-3d": "torus-3d", "3d-torus": "torus-3d",
               "torus": "torus-3d", "dragonfly": "dragonfly"}


def topology_name(topology: str) -> str:
    """The canonical name of a topology (``fat_tree``, ``3D torus`` ... are accepted)."""
    key = str(topology).strip().lower().replace("_", "-").replace(" ", "-")
    if key not in _TOPOLOGIES:
        raise InputError(f"unknown topology '{topology}'; use one of fat-tree, ring, torus-2d, torus-3d, dragonfly")
    return _TOPOLOGIES[key]


def bisection_fraction(topology: str, N):
    """The share of full bisection (N/2 ports at line rate) the topology keeps, at most 1.

    A cut through a ring crosses 2 links, through a k×k torus 2k, through a k×k×k torus 2k²
    (wraparound doubles each), giving 4/N, 4/√N and 4/∛N of N/2. A balanced dragonfly
    (Kim et al. 2008, a = 2p = 2h) has g²/4 global links across the cut for N ≈ g·2h² nodes,
    about 1/2. A non-blocking fat-tree keeps all of it.
    """
    name = topology_name(topology)
    N = np.asarray(N, dtype=float)
    frac = {"fat-tree": np.ones_like(N), "ring": 4.0 / N, "torus-2d": 4.0 / np.sqrt(N),
            "torus-3d": 4.0 / np.cbrt(N), "dragonfly": np.full_like(N, 0.5)}[name]
    out = np.minimum(frac, 1.0)
    return float(out) if out.ndim == 0 else out


def average_hops(topology: str, N):
    """Links a message crosses between two random nodes (ring: N/4; a k-ary torus: k/4 per dimension;
    dragonfly: local, global, local; two-tier fat-tree: node, leaf, spine, leaf, node)."""
    name = topology_name(topology)
    N = np.asarray(N, dtype=float)
    hops = {"fat-tree": np.full_like(N, 4.0), "ring": N / 4, "torus-2d": 2 * np.sqrt(N) / 4,
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


__all__ = ["point_to_point", "ring_all_reduce", "tree_all_reduce", "reduce_scatter", "all_gather", "all_to_all",
           "hierarchical_all_reduce", "bisection_fraction", "average_hops", "effective_bandwidth", "topology_name",
           "TopologyModel", "TopologyResult", "NVLINK_ALPHA", "FABRIC_ALPHA"]
