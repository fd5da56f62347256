"""How a mixture-of-experts layer routes its tokens: active against total parameters, the load on the
busiest expert, what a capacity factor drops, and the all-to-all that carries the tokens to their experts.

Each token goes to ``k`` of ``E`` routed experts (plus the shared ones, which every token visits). On
average an expert receives T·k/E of a batch's T tokens; a router that is not perfectly balanced sends
``imbalance`` times that to its busiest expert (the max/mean load ratio), and the rank holding that
expert sets the pace of the layer. A capacity factor c caps an expert at c·T·k/E tokens (GShard, Lepikhin
et al. 2020; Switch Transformer, Fedus et al. 2021): what the busiest expert receives beyond that is
dropped. Under expert parallelism over ``ep`` ranks, (ep-1)/ep of the routed copies leave their rank
in the dispatch all-to-all and come back in the combine.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..models.families.base import LM_CONTEXT
from ..models.types import SparseTransformerWorkload
from ..ops import PRECISION_BYTES, normalize_precision
from ..run import check_sizes, fraction, resolve_fleet, resolve_model, whole
from ..solver import Result, Solver
from ..units import format_si, quantity
from . import collectives as cc
from .topology import bisection_fraction, effective_bandwidth


def routed_bytes(tokens, hidden, act_bytes, top_k, imbalance=1.0):
    """Bytes of the routed token copies one rank sends in a dispatch: ``tokens`` x top-k copies of a hidden
    vector, times the busiest rank's excess load."""
    return tokens * hidden * act_bytes * top_k * imbalance


@dataclass(frozen=True)
class MoERoutingResult(Result):
    total_parameters: float
    active_parameters: float
    effective_active_parameters: float
    experts: int
    top_k: int
    tokens: float
    tokens_per_expert: float
    busiest_expert_tokens: float
    expert_capacity: float | None
    dropped_tokens: float
    dispatch_bytes: float            # routed copies that leave their rank, one direction, one MoE layer
    all_to_all_s: float | None       # dispatch + combine of one MoE layer's forward pass on the fleet
    ep: int
    routing_imbalance_factor: float

    @property
    def active_fraction(self) -> float:
        return self.active_parameters / self.total_parameters

    @property
    def active_parameter_multiplier(self) -> float:
        return self.effective_active_parameters / self.active_parameters

    # 0.1.0 names
    @property
    def effective_active_experts(self) -> float:
        return min(float(self.experts), self.top_k * self.routing_imbalance_factor)

    @property
    def token_dispatch_bytes(self): return quantity(self.dispatch_bytes, "MB")

    @property
    def all_to_all_latency(self):
        return None if self.all_to_all_s is None else quantity(self.all_to_all_s, "ms")

    @property
    def ep_size(self) -> int:
        return self.ep


class MoERoutingModel(Solver):
    """Active parameters, expert load, capacity drops and the expert all-to-all of a MoE model (wall 14)."""

    walls = (14,)
    needs = ("model",)

    def solve(self, model, batch_size=1, seq_len=LM_CONTEXT, precision="bf16", *, ep=1, tp=1,
              routing_imbalance_factor=1.0, capacity_factor=None, fleet=None, ep_size=None) -> MoERoutingResult:
        """``batch_size`` sequences of ``seq_len`` tokens through one MoE layer. ``routing_imbalance_factor``
        is the busiest expert's load over the mean (1: perfectly balanced); ``capacity_factor`` caps each
        expert at that multiple of the mean (None: no cap, nothing dropped). With a ``fleet`` and ``ep`` > 1
        the dispatch and combine all-to-alls are timed on its links (``tp`` ranks of each expert group
        inside a node first). ``ep_size`` is the 0.1.0 name of ``ep``."""
        m = resolve_model(model)
        if not isinstance(m, SparseTransformerWorkload):
            raise InputError(f"MoERoutingModel routes tokens to experts; {m.name} is dense")
        if ep_size is not None:
            if ep != 1:
                raise InputError("give the expert-parallel degree once: ep (or its 0.1.0 name ep_size)")
            ep = ep_size
        ep, tp = whole("ep", ep), whole("tp", tp)
        if m.experts % ep:
            raise InputError(f"ep={ep} must divide {m.name}'s {m.experts} experts")
        imbalance = fraction("routing_imbalance_factor", routing_imbalance_factor, 1.0, float(m.experts) /
                             m.active_experts)
        T = check_sizes("batch_size", batch_size) * check_sizes("seq_len", seq_len)
        a = PRECISION_BYTES[normalize_precision(precision)]
        k, E = m.active_experts, m.experts
        mean = T * k / E
        busiest = mean * imbalance
        capacity = None
        dropped = 0.0
        if capacity_factor is not None:
            capacity = fraction("capacity_factor", capacity_factor, 0.0, float("inf"), open_low=True) * mean
            dropped = max(busiest - capacity, 0.0)
        total, active = m.parameter_count(), float(m.active_parameters or m.parameter_count())
        routed_active = m.family.expert_params(m) * k / E          # the routed experts' part of the active
        effective = active + routed_active * (imbalance - 1.0)
        dispatch = routed_bytes(T, m.hidden_dim, a, k) * (ep - 1) / ep
        a2a = None
        notes = []
        if fleet is not None and ep > 1:
            fleet = resolve_fleet(fleet)
            g = fleet.node.accelerators_per_node
            per_rank = routed_bytes(T / ep, m.hidden_dim, a, k, imbalance) / tp
            if tp * ep <= g:
                bw, alpha = float(fleet.node.intra_node_bw), cc.NVLINK_ALPHA
            else:
                nic = min(float(fleet.fabric.bandwidth), float(fleet.node.nic_bandwidth or fleet.fabric.bandwidth))
                nic *= min(1.0, fleet.node.nics_per_node / g) / fleet.fabric.oversubscription_ratio
                bw = effective_bandwidth(nic, 1.0, bisection_fraction(fleet.fabric.topology, tp * ep // g))
                alpha = float(fleet.fabric.latency or cc.FABRIC_ALPHA)
                notes.append(f"the all-to-all crosses the fabric ({tp * ep} ranks > {g} per node) at its bisection")
            a2a = 2 * cc.all_to_all(per_rank, ep, bw, alpha)
        binding = (f"{k} of {E} experts per token: {active / total:.1%} of the parameters active"
                   + (f"; the busiest expert takes {imbalance:g}x the mean load" if imbalance > 1 else "")
                   + (f", {format_si(dropped, '')} tokens over capacity dropped" if dropped else "")
                   + (f"; all-to-all {format_si(a2a, 's')} per layer forward" if a2a is not None else ""))
        return MoERoutingResult(
            total_parameters=total, active_parameters=active, effective_active_parameters=effective, experts=E,
            top_k=k, tokens=T, tokens_per_expert=mean, busiest_expert_tokens=busiest, expert_capacity=capacity,
            dropped_tokens=dropped, dispatch_bytes=dispatch, all_to_all_s=a2a, ep=ep,
            routing_imbalance_factor=imbalance, binding=binding,
            assumptions=("top-k routing: each token's hidden vector copied to k experts (dispatch) and back "
                         "(combine), at the activation precision",
                         "capacity factor: GShard (Lepikhin et al. 2020) / Switch (Fedus et al. 2021); tokens over "
                         "an expert's capacity are dropped",
                         "the busiest expert's rank gates the layer: its experts' share of the active parameters "
                         "scales with the imbalance") + tuple(notes))


__all__ = ["MoERoutingModel", "MoERoutingResult", "routed_bytes"]
