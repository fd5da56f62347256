"""When a training layout becomes network-bound: the roofline of one accelerator against its share of the
scale-out fabric.

Per accelerator and step, the demand is its training FLOPs (6 per active parameter per token, plus the
attention's 12·L·h·s, Kaplan et al. 2020) against the bytes its layout sends across the fabric (what stays
on the node's scale-up link does not count): the data-parallel gradient exchange (the inter-node ring of a
hierarchical all-reduce over the shard's gradients, or ZeRO-3's gathers too), pipeline hand-offs between
stages on different nodes, expert all-to-alls and the context-parallel ring when their groups span nodes.
The supply is the accelerator's peak and its NIC share of the fabric. Communication intensity = FLOPs /
fabric bytes; the network ridge = peak / NIC bandwidth; below the ridge no overlap can hide the network.
Gradient bytes do not grow with the batch and the rest does, so the batch at which the layout crosses the
ridge has a closed form.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InputError
from ..models.families.base import LM_CONTEXT
from ..models.types import TransformerWorkload
from ..ops import PRECISION_BYTES, normalize_precision
from ..run import check_sizes, resolve_fleet, resolve_model, whole
from ..solver import Result, Solver
from ..units import format_si
from .moe import routed_bytes


@dataclass(frozen=True)
class NetworkRooflineResult(Result):
    flops_per_device: float
    fabric_bytes_per_device: float
    fabric_bytes_by_dimension: dict
    communication_intensity: float       # FLOP per fabric byte
    network_ridge: float                 # FLOP per byte at which the NIC and the peak balance
    peak_flops: float
    nic_bandwidth: float                 # bytes/s per accelerator
    attainable_flops: float              # min(peak, intensity x NIC bandwidth)
    network_bound: bool
    critical_batch: float                # sequences per step above which the layout is compute-bound (inf: never)
    batch_size: float


class NetworkRooflineModel(Solver):
    """Communication intensity of a training layout against the fabric's ridge (fleet-scale roofline)."""

    needs = ("model", "fleet")

    def solve(self, model, fleet, batch_size=None, seq_len=LM_CONTEXT, precision="bf16", *, tp=1, cp=1, pp=1,
              dp=None, ep=1, zero_stage=0) -> NetworkRooflineResult:
        """One step of ``batch_size`` sequences (default: one per replica per microbatch, pp microbatches) of
        ``seq_len`` tokens under the layout ``tp × cp × pp × dp × ep`` (``dp``: what the others leave)."""
        m, fleet = resolve_model(model), resolve_fleet(fleet)
        if not isinstance(m, TransformerWorkload):
            raise InputError(f"NetworkRooflineModel counts a transformer's traffic; {m.name} is a {m.architecture}")
        tp, cp, pp, ep = (whole(k, v) for k, v in (("tp", tp), ("cp", cp), ("pp", pp), ("ep", ep)))
        N, g = fleet.total_accelerators, fleet.node.accelerators_per_node
        rest = tp * cp * pp * ep
        if dp is None:
            if N % rest:
                raise InputError(f"tp×cp×pp×ep = {rest} does not divide the {N} accelerators of {fleet.name}")
            dp = N // rest
        dp = whole("dp", dp)
        if rest * dp != N:
            raise InputError(f"tp×cp×pp×dp×ep = {rest * dp} must equal the {N} accelerators of {fleet.name}")
        if zero_stage not in (0, 1, 2, 3):
            raise InputError(f"zero_stage must be 0, 1, 2 or 3, got {zero_stage!r}")
        S = whole("seq_len", check_sizes("seq_len", seq_len))
        B = float(dp * ep * pp if batch_size is None else check_sizes("batch_size", batch_size))
        a = 4.0 if PRECISION_BYTES[normalize_precision(precision)] >= 4 else 2.0
        hw = fleet.node.accelerator
        peak = hw.peak_at(precision)
        port = min(float(fleet.fabric.bandwidth), float(fleet.node.nic_bandwidth or fleet.fabric.bandwidth))
        nic = port * min(1.0, fleet.node.nics_per_node / g) / fleet.fabric.oversubscription_ratio

        active = float(getattr(m, "active_parameters", None) or m.parameter_count())
        per_token = 6.0 * active + 12.0 * m.layers * m.hidden_dim * S
        flops_per_seq = per_token * S / N                       # per accelerator, per sequence of the batch
        # bytes per accelerator across the fabric: fixed per step (a), and per sequence of the batch (b)
        expert = m.family.expert_params(m) if hasattr(m, "experts") else 0.0
        shard = ((m.parameter_count() - expert) / (tp * pp) + expert / (tp * pp * ep))
        group = dp * cp * ep                                    # ranks holding the same dense shard
        local = max(1, min(group, g // max(tp, 1)))             # of them on one node
        nodes = math.ceil(group / local)
        ring = 2 * (nodes - 1) / nodes if nodes > 1 else 0.0    # inter-node ring of a hierarchical all-reduce
        grad = shard * a / local * ring
        # ZeRO-3: the reduce-scatter (half an all-reduce) and two all-gathers of the parameters (half each)
        fixed = {"data-parallel": grad * (1.5 if zero_stage == 3 else 1.0)}
        tokens_per_rank_seq = S / (dp * ep * cp)                # tokens one rank handles per sequence of the batch
        per_seq = {}
        if pp > 1 and tp * cp * ep * dp >= g:                   # neighbouring stages on other nodes
            per_seq["pipeline"] = 2 * tokens_per_rank_seq * m.hidden_dim * a / tp     # activations out, gradients in
        if ep > 1 and tp * ep > g:
            moe_layers = m.layers - getattr(m, "dense_layers", 0)
            per_seq["expert"] = 4 * moe_layers / pp * routed_bytes(tokens_per_rank_seq, m.hidden_dim, a,
                                                                    m.active_experts) / tp * (ep - 1) / ep
        if cp > 1 and tp * cp > g:
            per_seq["context"] = 3 * m.layers / pp * (cp - 1) * tokens_per_rank_seq * 2 * m.n_kv_heads * \
                m.d_head * a / tp
        c, d = sum(fixed.values()), sum(per_seq.values())
        flops, fabric = flops_per_seq * B, c + d * B
        intensity = flops / fabric if fabric else math.inf
        ridge = peak / nic
        if flops_per_seq <= ridge * d:
            critical = math.inf
        else:
            critical = ridge * c / (flops_per_seq - ridge * d)
        bound = intensity < ridge
        by_dim = {k: v for k, v in fixed.items() if v} | {k: v * B for k, v in per_seq.items()}
        binding = (f"{'network' if bound else 'compute'}-bound: {intensity:,.0f} FLOP per fabric byte against a "
                   f"ridge of {ridge:,.0f} ({format_si(peak, 'FLOP/s')} over {format_si(nic, 'B/s')} of NIC)"
                   + (f"; compute-bound above {critical:,.0f} sequences per step" if math.isfinite(critical) and
                      bound else ""))
        return NetworkRooflineResult(
            flops_per_device=flops, fabric_bytes_per_device=fabric, fabric_bytes_by_dimension=by_dim,
            communication_intensity=intensity, network_ridge=ridge, peak_flops=peak, nic_bandwidth=nic,
            attainable_flops=min(peak, intensity * nic), network_bound=bound, critical_batch=critical,
            batch_size=B, binding=binding,
            assumptions=("training FLOPs per token 6 x active parameters + 12 L h s (Kaplan et al. 2020)",
                         "fabric bytes: only what leaves the node (the intra-node parts of collectives stay on "
                         "the scale-up link); data-parallel gradients as the inter-node ring of a hierarchical "
                         "all-reduce; ZeRO-3 adds the two parameter gathers",
                         "supply: the accelerator's dense peak and its share of the node's NIC ports, after "
                         "oversubscription"))


__all__ = ["NetworkRooflineModel", "NetworkRooflineResult"]
