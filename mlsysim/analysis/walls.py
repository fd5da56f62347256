"""The 22 walls of ML systems: the limits a workload meets, grouped in six domains.

Each wall names the resolver of this package that models it, the constraint in words and its
core relation. Solvers carry the numbers of their walls in ``Solver.walls``; this module is the
table those numbers index.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from enum import Enum


class Domain(str, Enum):
    """Where a wall stands: one accelerator, the data path, the algorithm, the fleet, operations,
    or the analysis tools that reason across all of them."""

    NODE = "node"
    DATA = "data"
    ALGORITHM = "algorithm"
    FLEET = "fleet"
    OPERATIONS = "operations"
    ANALYSIS = "analysis"

    @property
    def number(self) -> int:
        return list(Domain).index(self) + 1

    @property
    def label(self) -> str:
        return _DOMAIN_LABELS[self]


_DOMAIN_LABELS = {
    Domain.NODE: "Node (Single-Accelerator Resources)",
    Domain.DATA: "Data (Movement & Pipelines)",
    Domain.ALGORITHM: "Algorithm (Scaling & Compression)",
    Domain.FLEET: "Fleet (Multi-Node Coordination)",
    Domain.OPERATIONS: "Operations (Economics, Sustainability & Safety)",
    Domain.ANALYSIS: "Meta-Analysis (Cross-Cutting Diagnostic Tools)",
}


@dataclass(frozen=True)
class Wall:
    """One limit: its number (1-22), name, domain, the resolver that models it, the constraint
    in words and its core equation."""

    number: int
    name: str
    domain: Domain
    resolver_name: str
    constraint: str
    equation: str

    def __str__(self) -> str:
        return f"Wall {self.number:02d}: {self.name} -> {self.resolver_name}"


_N, _D, _A, _F, _O, _X = Domain

#: every wall, in order of number
ALL_WALLS: tuple[Wall, ...] = (
    Wall(1, "Compute", _N, "SingleNodeModel",
         "arithmetic cannot run faster than the accelerator's peak FLOP/s at the precision used",
         "T_compute = FLOPs / (peak(precision) x efficiency)"),
    Wall(2, "Memory", _N, "SingleNodeModel",
         "every byte an operator touches crosses HBM, and the working set must fit in it",
         "T_memory = bytes / bandwidth;  footprint <= capacity"),
    Wall(3, "Software", _N, "EfficiencyModel",
         "kernels reach only a fraction of peak: tiling, occupancy, launch gaps, the framework",
         "MFU = useful FLOPs / (T x peak) = f(shape, fusion, stack)"),
    Wall(4, "Serving", _N, "ServingModel",
         "prefill is bound by compute, decode by streaming weights and KV cache each token",
         "TTFT ~ prefill FLOPs / peak;  ITL ~ (weights + KV) / bandwidth"),
    Wall(5, "Batching", _N, "ContinuousBatchingModel",
         "the KV cache left after the weights caps how many requests run at once",
         "N = KV memory / (bytes per token x tokens reserved per request)"),
    Wall(6, "Streaming", _N, "WeightStreamingModel",
         "a wafer that streams weights in is bound by the injection link, not HBM",
         "T_layer = max(W_layer / BW_inject, 2 P_layer B / (peak x efficiency))"),
    Wall(7, "Tail Latency", _N, "TailLatencyModel",
         "queueing delay, and with it P99, grows without bound as utilization nears 1",
         "Erlang C (M/M/c): P(wait) = C(c, lambda/mu);  rho = lambda / (c mu) < 1"),
    Wall(8, "Ingestion", _D, "DataModel",
         "storage and network must deliver samples as fast as the accelerators consume them",
         "rho = demand / supply;  stall when rho > 1"),
    Wall(9, "Transformation", _D, "TransformationModel",
         "CPU decode, tokenization and augmentation must keep up with the device",
         "T_transform = batch x sample bytes / CPU throughput"),
    Wall(10, "Locality", _D, "TopologyModel",
         "the topology and its oversubscription cap the bandwidth between far-apart nodes",
         "BW_eff = BW_link x bisection fraction / oversubscription"),
    Wall(11, "Complexity", _A, "ScalingModel",
         "a compute budget buys the best loss at one split of parameters and tokens",
         "C = 6 P D;  compute-optimal D ~ 20 P"),
    Wall(12, "Reasoning", _A, "InferenceScalingModel",
         "thinking longer at inference multiplies the per-token cost by the steps taken",
         "T = K x T_step"),
    Wall(13, "Fidelity", _A, "CompressionModel",
         "quantization and pruning save memory and time at a cost in accuracy",
         "ratio = b_base / b (quantization);  ratio = 1 / (1 - sparsity) (pruning)"),
    Wall(14, "Communication", _F, "DistributedModel",
         "data, tensor and pipeline parallel ranks must synchronize every step",
         "ring all-reduce = 2 (N-1)/N x M / beta + 2 (N-1) alpha"),
    Wall(15, "Fragility", _F, "ReliabilityModel",
         "with enough parts, something is always failing: the job must checkpoint and restart",
         "MTBF_cluster = MTBF_node / N"),
    Wall(16, "Multi-tenant", _F, "OrchestrationModel",
         "jobs on a shared cluster wait for their turn, more as the cluster fills",
         "W_queue = rho / (2 mu (1 - rho))"),
    Wall(17, "Capital", _O, "EconomicsModel",
         "hardware, power and operations must be paid for over the system's life",
         "TCO = CapEx + OpEx x years"),
    Wall(18, "Sustainability", _O, "SustainabilityModel",
         "energy drawn from a grid emits carbon and consumes water",
         "CO2 = E x PUE x carbon intensity;  water = E x WUE"),
    Wall(19, "Checkpoint", _O, "CheckpointModel",
         "writing the model state stalls training in bursts that eat into MFU",
         "penalty = T_write / T_interval;  Young-Daly T* = sqrt(2 T_write MTBF)"),
    Wall(20, "Safety", _O, "ResponsibleEngineeringModel",
         "privacy and fairness guarantees cost compute (DP-SGD clipping and noise)",
         "noise sigma ~ 1 / epsilon;  slowdown grows as epsilon shrinks"),
    Wall(21, "Sensitivity", _X, "SensitivitySolver",
         "which hardware figure binds: the one whose change moves latency most",
         "elasticity e_i = d ln T / d ln x_i"),
    Wall(22, "Synthesis", _X, "SynthesisSolver",
         "the inverse roofline: the device figures a latency target demands",
         "BW_req ~ bytes / T_target;  FLOP/s_req ~ FLOPs / (T_target x efficiency)"),
)

_BY_NUMBER = {w.number: w for w in ALL_WALLS}

#: resolvers that model walls named above under another resolver (no new walls)
_SECONDARY = {
    "Engine": (1, 2),
    "TrainingMemoryModel": (2,),
    "ServingCapacityModel": (4, 5, 7),
    "MoERoutingModel": (14,),
}


def wall(number: int) -> Wall:
    """Wall ``number`` (1-22); KeyError for any other number."""
    try:
        return _BY_NUMBER[number]
    except (KeyError, TypeError):
        raise KeyError(f"there is no wall {number!r}; walls are numbered 1 to {len(ALL_WALLS)}") from None


def walls_for_resolver(resolver) -> list[Wall]:
    """The walls a resolver models, by class name, class or instance; empty when it models none."""
    if not isinstance(resolver, str):
        resolver = resolver.__name__ if isinstance(resolver, type) else type(resolver).__name__
    found = {w.number for w in ALL_WALLS if w.resolver_name == resolver} | set(_SECONDARY.get(resolver, ()))
    return [_BY_NUMBER[n] for n in sorted(found)]


def walls_in_domain(domain) -> list[Wall]:
    """The walls of ``domain`` (a Domain or its value, e.g. ``"node"``), by number."""
    try:
        d = Domain(domain.lower() if isinstance(domain, str) else domain)
    except ValueError:
        raise KeyError(f"unknown domain {domain!r}; use one of {', '.join(d.value for d in Domain)}") from None
    return [w for w in ALL_WALLS if w.domain is d]


def taxonomy(width: int = 78) -> str:
    """The 22 walls as text, domain by domain: number, name, resolver, constraint, equation."""
    lines = ["═══ The 22 ML Systems Walls ═══"]
    for d in Domain:
        lines += ["", f"Domain {d.number} — {d.label}"]
        for w in walls_in_domain(d):
            lines.append(f"  Wall {w.number:02d}: {w.name} → {w.resolver_name}")
            lines += textwrap.wrap(w.constraint, width, initial_indent=" " * 12, subsequent_indent=" " * 12)
            lines += textwrap.wrap(w.equation, width, initial_indent=" " * 12 + "= ",
                                   subsequent_indent=" " * 14)
    return "\n".join(line.rstrip() for line in lines)
