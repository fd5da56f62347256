"""The search for a fleet's best parallel layout: every (TP, PP, DP) through DistributedModel."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..models.families.base import LM_CONTEXT
from ..run import resolve_model
from ..solver import Result, Solver
from ..training.distributed import DistributedModel


@dataclass(frozen=True)
class Layout:
    tp: int
    pp: int
    dp: int
    mfu: float
    step_time_s: float
    memory_per_device_b: float
    feasible: bool


@dataclass(frozen=True)
class ParallelismResult(Result):
    best: Layout | None
    top_candidates: tuple[Layout, ...]   # feasible layouts, best first
    total_searched: int

    @property
    def best_config(self) -> dict:
        return {} if self.best is None else {"tp": self.best.tp, "pp": self.best.pp, "dp": self.best.dp}

    @property
    def objective_value(self) -> float:
        return 0.0 if self.best is None else self.best.mfu


class ParallelismOptimizer(Solver):
    """Every (TP, PP, DP) layout of a fleet through DistributedModel; the feasible one with the best MFU."""

    walls = (14,)

    def solve(self, model, fleet, batch_size, seq_len=LM_CONTEXT, precision="bf16", *, max_tp=None, zero_stage=1,
              activation_recomputation=True, microbatches=None, top=10, **distributed_kw) -> ParallelismResult:
        """TP stays inside a node (a power of two dividing the heads), PP divides the layers, DP the rest."""
        model = resolve_model(model)
        heads, layers = getattr(model, "heads", 1), getattr(model, "layers", 1)
        n, per_node = fleet.total_accelerators, fleet.node.accelerators_per_node
        tps = [t for t in _powers_of_two(min(per_node, max_tp or per_node)) if heads % t == 0]
        layouts, searched = [], 0
        for tp in tps:
            for pp in (p for p in range(1, layers + 1) if layers % p == 0 and n % (tp * p) == 0):
                dp = n // (tp * pp)
                if batch_size % dp:
                    continue
                searched += 1
                try:
                    r = DistributedModel().solve(model, fleet, batch_size=batch_size, seq_len=seq_len,
                                                 precision=precision, tp=tp, pp=pp, dp=dp, zero_stage=zero_stage,
                                                 activation_recomputation=activation_recomputation,
                                                 microbatches=microbatches, **distributed_kw)
                except InputError:
                    continue
                layouts.append(Layout(tp, pp, dp, float(r.mfu), float(r.step_time_s),
                                      float(r.memory_per_device_b), bool(r.feasible)))
        if not searched:
            raise InputError(f"no (tp, pp, dp) layout of {n} accelerators divides a global batch of {batch_size}; "
                             f"use a batch that is a multiple of the data-parallel degree")
        feasible = sorted((lay for lay in layouts if lay.feasible), key=lambda lay: -lay.mfu)
        best = feasible[0] if feasible else None
        binding = (f"tp={best.tp}, pp={best.pp}, dp={best.dp} reaches MFU {best.mfu:.1%}" if best else
                   "no layout fits the accelerators' memory; add accelerators, ZeRO sharding or recomputation")
        return ParallelismResult(best, tuple(feasible[:top]), searched, binding=binding,
                                 assumptions=(f"ZeRO stage {zero_stage}, recomputation "
                                              f"{'on' if activation_recomputation else 'off'}",))


def _powers_of_two(limit: int) -> list[int]:
    out, p = [], 1
    while p <= limit:
        out.append(p)
        p *= 2
    return out
