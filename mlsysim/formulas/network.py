"""Communication on the α–β model: collectives, point-to-point messages, and light in fiber.

Each formula has an SI core (``*_si``: floats or NumPy arrays in, seconds out, no units) that the
solvers call, and a unit-checked public function around it that takes quantities and returns a
pint Quantity. ``message`` is the buffer each rank holds (for all-to-all: what each rank sends in
all), ``ranks`` the ranks taking part, ``bandwidth`` each rank's link per direction and ``latency``
the start-up cost α of one step. Reference: Thakur, Rabenseifner & Gropp (2005), "Optimization of
Collective Communication Operations in MPICH"; Patarasuk & Yuan (2009) for the ring.
"""
from __future__ import annotations

import numpy as np

from ._check import link, number, result, si

#: light in optical fiber: c divided by a refractive index of about 1.5 (m/s)
FIBER_SPEED = 2.0e8


# --- SI cores ----------------------------------------------------------------------------------------
def point_to_point_si(M, bw, alpha=0.0):
    """T = α + M/β."""
    return alpha + M / bw


def ring_all_reduce_si(M, N, bw, alpha=0.0):
    """T = 2(N−1)/N · M/β + 2(N−1)·α (reduce-scatter then all-gather around a ring)."""
    return 2 * (N - 1) / N * M / bw + 2 * (N - 1) * alpha


def tree_all_reduce_si(M, N, bw, alpha=0.0):
    """T = 2⌈log₂N⌉ · (M/β + α): reduce up a binary tree, broadcast down, whole buffer per hop."""
    hops = 2 * np.ceil(np.log2(N))
    return hops * M / bw + hops * alpha


def double_tree_all_reduce_si(M, N, bw, alpha=0.0):
    """T = 2(N−1)/N · M/β + 2⌈log₂N⌉·α: NCCL's pipelined double binary tree (ring bytes, tree hops)."""
    return 2 * (N - 1) / N * M / bw + 2 * np.ceil(np.log2(N)) * alpha


def reduce_scatter_si(M, N, bw, alpha=0.0):
    """T = (N−1)/N · M/β + (N−1)·α: each rank ends with 1/N of the reduced buffer."""
    return (N - 1) / N * M / bw + (N - 1) * alpha


def all_gather_si(M, N, bw, alpha=0.0):
    """T = (N−1)/N · M/β + (N−1)·α: the mirror image of reduce-scatter."""
    return (N - 1) / N * M / bw + (N - 1) * alpha


def all_to_all_si(M, N, bw, alpha=0.0):
    """T = (N−1)/N · M/β + (N−1)·α: each rank keeps 1/N of its M and sends the rest, one peer per step."""
    return (N - 1) / N * M / bw + (N - 1) * alpha


def hierarchical_all_reduce_si(M, local, nodes, bw_intra, bw_inter, alpha_intra=0.0, alpha_inter=0.0):
    """T = 2·RS(M, G, β_intra) + AR_ring(M/G, nodes, β_inter): reduce-scatter inside each node, a ring
    all-reduce of each rank's 1/G slice across nodes (all G slices cross the fabric at once), all-gather
    inside again (NCCL / Horovod hierarchical all-reduce)."""
    inside = reduce_scatter_si(M, local, bw_intra, alpha_intra)
    return 2 * inside + ring_all_reduce_si(M / local, nodes, bw_inter, alpha_inter)


def fiber_round_trip_si(distance_m):
    """RTT = 2d / (c/1.5): a round trip over ``distance_m`` metres of fiber, nothing else."""
    return 2.0 * distance_m / FIBER_SPEED


# --- unit-checked public formulas ------------------------------------------------------------------
def _collective(message, ranks, bandwidth, latency):
    return (si(message, "data size", "message"), number(ranks, "ranks", minimum=1),
            si(bandwidth, "data rate", "bandwidth", positive=True), si(latency, "time", "latency"))


@link(ring_all_reduce_si)
def ring_all_reduce_time(message, ranks, bandwidth, latency="0 s"):
    """Ring all-reduce: T = 2(N−1)/N · M/β + 2(N−1)·α (Patarasuk & Yuan 2009). Returns seconds."""
    return result(ring_all_reduce_si(*_collective(message, ranks, bandwidth, latency)), "time")


@link(tree_all_reduce_si)
def tree_all_reduce_time(message, ranks, bandwidth, latency="0 s"):
    """Binary-tree all-reduce, unpipelined: T = 2⌈log₂N⌉·(M/β + α) (Thakur et al. 2005)."""
    return result(tree_all_reduce_si(*_collective(message, ranks, bandwidth, latency)), "time")


@link(double_tree_all_reduce_si)
def double_tree_all_reduce_time(message, ranks, bandwidth, latency="0 s"):
    """Pipelined double binary tree (NCCL; Sanders et al. 2009): T = 2(N−1)/N · M/β + 2⌈log₂N⌉·α."""
    return result(double_tree_all_reduce_si(*_collective(message, ranks, bandwidth, latency)), "time")


@link(reduce_scatter_si)
def reduce_scatter_time(message, ranks, bandwidth, latency="0 s"):
    """Ring reduce-scatter: T = (N−1)/N · M/β + (N−1)·α."""
    return result(reduce_scatter_si(*_collective(message, ranks, bandwidth, latency)), "time")


@link(all_gather_si)
def all_gather_time(message, ranks, bandwidth, latency="0 s"):
    """Ring all-gather of an M-byte result: T = (N−1)/N · M/β + (N−1)·α."""
    return result(all_gather_si(*_collective(message, ranks, bandwidth, latency)), "time")


@link(all_to_all_si)
def all_to_all_time(message, ranks, bandwidth, latency="0 s"):
    """Pairwise all-to-all (MoE token routing): T = (N−1)/N · M/β + (N−1)·α."""
    return result(all_to_all_si(*_collective(message, ranks, bandwidth, latency)), "time")


@link(hierarchical_all_reduce_si)
def hierarchical_all_reduce_time(message, gpus_per_node, nodes, intra_bandwidth, inter_bandwidth,
                                 intra_latency="500 ns", inter_latency="5 us"):
    """Two-level all-reduce: T = 2·[(G−1)/G · M/β_intra + (G−1)·α_intra] + AR_ring(M/G, nodes, β_inter, α_inter).

    ``inter_bandwidth`` is what one rank gets of the fabric (its NIC). Source: NCCL / Horovod
    hierarchical all-reduce; the 500 ns and 5 µs defaults are NVLink and InfiniBand start-up costs.
    """
    return result(hierarchical_all_reduce_si(
        si(message, "data size", "message"), number(gpus_per_node, "gpus_per_node", minimum=1),
        number(nodes, "nodes", minimum=1), si(intra_bandwidth, "data rate", "intra_bandwidth", positive=True),
        si(inter_bandwidth, "data rate", "inter_bandwidth", positive=True),
        si(intra_latency, "time", "intra_latency"), si(inter_latency, "time", "inter_latency")), "time")


@link(point_to_point_si)
def point_to_point_time(message, bandwidth, latency="0 s"):
    """One message: T = α + M/β (Hockney's model)."""
    return result(point_to_point_si(si(message, "data size", "message"),
                                    si(bandwidth, "data rate", "bandwidth", positive=True),
                                    si(latency, "time", "latency")), "time")


@link(fiber_round_trip_si)
def network_latency(distance):
    """Round-trip time over fiber: RTT = 2d / (c/1.5), light at ~200,000 km/s (propagation only)."""
    return result(fiber_round_trip_si(si(distance, "length", "distance")), "time")


__all__ = ["FIBER_SPEED", "all_gather_si", "all_gather_time", "all_to_all_si", "all_to_all_time",
           "double_tree_all_reduce_si", "double_tree_all_reduce_time", "fiber_round_trip_si",
           "hierarchical_all_reduce_si", "hierarchical_all_reduce_time", "network_latency", "point_to_point_si",
           "point_to_point_time", "reduce_scatter_si", "reduce_scatter_time", "ring_all_reduce_si",
           "ring_all_reduce_time", "tree_all_reduce_si", "tree_all_reduce_time"]
