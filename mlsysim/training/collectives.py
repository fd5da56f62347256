"""Collective communication on the α–β model, and the traffic of tensor and pipeline parallelism.

Pure functions on SI floats that work unchanged on NumPy arrays. ``M`` is the buffer each rank
holds (all-to-all: the bytes each rank sends in total), ``N`` the ranks taking part, ``bw`` the
bandwidth per rank per direction (bytes/s) and ``alpha`` the latency of one step (s). There is
no reduction-compute term: reduction kernels run at HBM speed, far above any link.
"""
from __future__ import annotations

import numpy as np

from ..formulas import network
from ..hardware.links import COLLECTIVE_BASE, FABRIC_ALPHA, NVLINK_ALPHA

# The collectives' equations live in the formula library (one implementation for the book and the
# solvers); these are its SI cores under the names the solvers use.
point_to_point = network.point_to_point_si
ring_all_reduce = network.ring_all_reduce_si
#: NCCL's pipelined double binary tree: ring bandwidth, 2⌈log₂N⌉ latency (Sanders et al. 2009)
tree_all_reduce = network.double_tree_all_reduce_si
reduce_scatter = network.reduce_scatter_si
all_gather = network.all_gather_si
all_to_all = network.all_to_all_si


def hierarchical_all_reduce(M, local, nodes, bw_intra, bw_inter, alpha_intra=NVLINK_ALPHA,
                            alpha_inter=FABRIC_ALPHA):
    """Reduce-scatter inside the node, ring all-reduce of M/local across nodes, all-gather inside.

    ``local`` ranks per node share the scale-up link; ``bw_inter`` is what one rank gets of the
    fabric (its NIC), so all ``local`` slices cross the fabric in parallel.
    """
    return network.hierarchical_all_reduce_si(M, local, nodes, bw_intra, bw_inter, alpha_intra, alpha_inter)


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
