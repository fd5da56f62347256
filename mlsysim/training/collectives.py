"""Collective communication on the α–β model, and the traffic of tensor and pipeline parallelism.

Pure functions on SI floats that work unchanged on NumPy arrays. ``M`` is the buffer each rank
holds (all-to-all: the bytes each rank sends in total), ``N`` the ranks taking part, ``bw`` the
bandwidth per rank per direction (bytes/s) and ``alpha`` the latency of one step (s). There is
no reduction-compute term: reduction kernels run at HBM speed, far above any link.
"""
from __future__ import annotations

import numpy as np

from ..hardware.links import COLLECTIVE_BASE, FABRIC_ALPHA, NVLINK_ALPHA


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


def hierarchical_all_reduce(M, local, nodes, bw_intra, bw_inter, alpha_intra=NVLINK_ALPHA,
                            alpha_inter=FABRIC_ALPHA):
    """Reduce-scatter inside the node, ring all-reduce of M/local across nodes, all-gather inside.

    ``local`` ranks per node share the scale-up link; ``bw_inter`` is what one rank gets of the
    fabric (its NIC), so all ``local`` slices cross the fabric in parallel.
    """
    inside = reduce_scatter(M, local, bw_intra, alpha_intra)
    return 2 * inside + ring_all_reduce(M / local, nodes, bw_inter, alpha_inter)


# --- the parallel layouts' traffic -------------------------------------------------------------
def tensor_parallel(tokens, hidden, act_bytes, tp, all_reduces, bw, alpha):
    """Time of the all-reduces a tensor-parallel rank joins in a step: each sums the partial outputs of
    ``tokens`` x ``hidden`` activations (at their own precision) over the ``tp`` ranks, after the fixed
    start-up of a collective call (what bounds the small all-reduces of a decode step)."""
    if type(tp) is int:             # one layout (a serving step): no array work
        return 0.0 if tp == 1 else all_reduces * (COLLECTIVE_BASE + ring_all_reduce(tokens * hidden * act_bytes, tp,
                                                                                    bw, alpha))
    return np.where(np.asarray(tp) > 1, all_reduces * (COLLECTIVE_BASE + ring_all_reduce(
        tokens * hidden * act_bytes, tp, bw, alpha)), 0.0)


def pipeline_hand_off(tokens, hidden, act_bytes, bw, alpha):
    """Time of one message between pipeline stages: ``tokens`` x ``hidden`` activations."""
    return point_to_point(tokens * hidden * act_bytes, bw, alpha)


__all__ = ["point_to_point", "ring_all_reduce", "tree_all_reduce", "reduce_scatter", "all_gather", "all_to_all",
           "hierarchical_all_reduce", "tensor_parallel", "pipeline_hand_off"]
