"""The search for a fleet's best training layout: TP × CP × PP (uneven splits) × virtual stages × DP × EP ×
ZeRO stage × recomputation × micro-batch, every candidate through DistributedModel's own formulas.

The engine times one layer of each distinct shard once (per TP, EP, CP, micro-batch and recomputation
mode); everything else a layout changes (pipeline depth and split, interleaving, data parallelism, ZeRO,
the schedule) is arithmetic that :func:`~mlsysim.training.distributed.step_terms` and the training memory
model evaluate for thousands of layouts at once. Constraints prune before anything is timed: TP inside the
scale-up domain and dividing the heads and KV heads, CP dividing the sequence into 2·CP chunks, EP dividing
the experts, PP at most the layers (the layers split as Llama 3 did when they do not divide: the end stages
lighter), interleaving only where every stage's layers split into the virtual stages, DP filling the fleet and
the batch splitting into whole micro-batches. Layouts that do not fit in memory are kept with that reason.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..engine.device import resident
from ..engine.engine import solve_step
from ..errors import InputError
from ..models.families.base import LM_CONTEXT, recompute_mode
from ..models.types import TransformerWorkload
from ..run import SCHEDULES, Run, resolve_fleet, resolve_model, whole
from ..run import Layout as RunLayout
from ..solver import Result, Solver
from ..training.distributed import BUBBLE_SLOTS, DEFAULT_OVERLAP, _links, _split_times, step_terms
from ..training.memory import FRAMEWORK_BYTES, _matrices, _stage, chunked, optimizer_name
from ..units import format_si

_MODES = ("none", "selective", "full")
_CP = (1, 2, 4, 8, 16)
_V = (1, 2, 3, 4, 6, 8)
_MICRO = (1, 2, 4, 8, 16)


@dataclass(frozen=True)
class Layout:
    tp: int
    pp: int
    dp: int
    mfu: float
    step_time_s: float
    memory_per_device_b: float
    feasible: bool
    cp: int = 1
    ep: int = 1
    v_stages: int = 1
    zero_stage: int = 0
    recompute: str = "none"
    micro_batch: int = 1
    schedule: str = "1f1b"
    layers_per_stage: tuple = ()
    #: why it is not the best (empty for the best)
    reason: str = ""

    @property
    def config(self) -> dict:
        return {"tp": self.tp, "cp": self.cp, "pp": self.pp, "dp": self.dp, "ep": self.ep, "v_stages": self.v_stages,
                "zero_stage": self.zero_stage, "recompute": self.recompute, "micro_batch": self.micro_batch,
                "schedule": self.schedule, "layers_per_stage": list(self.layers_per_stage)}


@dataclass(frozen=True)
class ParallelismResult(Result):
    best: Layout | None
    top_candidates: tuple[Layout, ...]   # feasible layouts, best first, each with why it lost
    total_searched: int                  # layouts timed (feasible or not)
    infeasible: int = 0                  # of them, those that do not fit in memory
    pruned: dict = field(default_factory=dict)   # layouts refused before timing, by constraint
    layouts_per_s: float = 0.0
    search_s: float = 0.0

    @property
    def best_config(self) -> dict:
        return {} if self.best is None else self.best.config

    @property
    def objective_value(self) -> float:
        return 0.0 if self.best is None else self.best.mfu


class ParallelismOptimizer(Solver):
    """The fastest layout of a training step on a fleet that fits, over every parallel dimension (wall 14)."""

    walls = (14,)

    def solve(self, model, fleet, batch_size, seq_len=LM_CONTEXT, precision="bf16", *, tp=None, cp=None, pp=None,
              v_stages=None, ep=None, zero_stage=None, recompute=None, micro_batch=None,
              schedules=("1f1b", "interleaved"), optimizer="adam", stack=None, overlap=DEFAULT_OVERLAP, top=10,
              max_tp=None, activation_recomputation=None, progress=None, efficiency=None, max_pp=None,
              overlap_comm=None) -> ParallelismResult:
        """Every layout of ``batch_size`` sequences of ``seq_len`` tokens on ``fleet``; the fastest that fits.

        Each dimension (``tp``, ``cp``, ``pp``, ``v_stages``, ``ep``, ``zero_stage``, ``recompute``,
        ``micro_batch``) may be one value or a list of the values to try (default: all that the constraints
        allow); ``schedules`` the pipeline schedules to try. ``progress(done, total)`` is called as chunks of
        layouts are evaluated. 0.1.0's keywords: ``activation_recomputation`` fixes ``recompute``;
        ``efficiency`` replaces the calibrated compute efficiency of every kernel timed; ``max_pp`` caps the
        pipeline depth as ``max_tp`` caps TP; ``overlap_comm=False`` exposes all data-parallel communication
        (``overlap`` 0), ``True`` keeps ``overlap``.
        """
        start = time.perf_counter()
        m, fleet = resolve_model(model), resolve_fleet(fleet)
        if overlap_comm is not None:
            if not isinstance(overlap_comm, bool):
                raise InputError(f"overlap_comm is True or False, got {overlap_comm!r}")
            overlap = overlap if overlap_comm else 0.0
        if max_pp is not None:
            max_pp = whole("max_pp", max_pp)
        if not isinstance(m, TransformerWorkload):
            raise InputError(f"ParallelismOptimizer searches transformer layouts; {m.name} is a {m.architecture}")
        B, S = whole("batch_size", batch_size), whole("seq_len", seq_len)
        opt = optimizer_name(optimizer)
        if activation_recomputation is not None:
            if recompute is not None:
                raise InputError("give recomputation once: recompute (or the 0.1.0 activation_recomputation flag)")
            recompute = recompute_mode(activation_recomputation)
        bad = [s for s in schedules if s not in SCHEDULES]
        if bad or not schedules:
            raise InputError(f"unknown pipeline schedule {bad[0] if bad else None!r}; use some of "
                             f"{', '.join(SCHEDULES)}")
        grid, pruned = _grid(m, fleet, B, S, tp=tp, cp=cp, pp=pp, v=v_stages, ep=ep, zero=zero_stage,
                             modes=recompute, micro=micro_batch, schedules=tuple(schedules), max_tp=max_tp,
                             max_pp=max_pp)
        if not len(grid["tp"]):
            reasons = "; ".join(f"{k} ({v})" for k, v in pruned.items()) or "none"
            raise InputError(f"no layout of {fleet.total_accelerators} accelerators takes a global batch of {B} "
                             f"sequences of {S} tokens under the constraints (refused: {reasons}); use a batch "
                             f"that is a multiple of the data-parallel degree")
        hw = fleet.node.accelerator
        template = Run.build(m, hw, training=True, batch_size=1, seq_len=S, precision=precision, stack=stack,
                             optimizer=opt, efficiency=efficiency)
        step, mfu, memory, terms = _evaluate(m, fleet, template, grid, S, B, opt, overlap, progress)
        capacity = float(hw.memory.capacity)
        fits = memory <= capacity
        order = np.lexsort((np.arange(len(step)), step))          # fastest first (stable)
        ok = order[fits[order]]
        layouts = [_layout(grid, i, mfu, step, memory, fits) for i in ok[:top]]
        best = layouts[0] if layouts else None
        if best is not None:
            layouts = [best] + [_lost(lay, best, terms, i, grid["M"][i]) for lay, i in zip(layouts[1:], ok[1:top])]
        elapsed = time.perf_counter() - start
        n = len(step)
        binding = (f"tp={best.tp} cp={best.cp} pp={best.pp} dp={best.dp} ep={best.ep} v={best.v_stages} "
                   f"zero={best.zero_stage} recompute={best.recompute} micro-batch={best.micro_batch}: "
                   f"{format_si(best.step_time_s, 's')} per step, MFU {best.mfu:.1%}" if best else
                   "no layout fits the accelerators' memory; add accelerators, ZeRO sharding or recomputation")
        return ParallelismResult(best, tuple(layouts), n, int(np.sum(~fits)), pruned, n / elapsed, elapsed,
                                 binding=binding,
                                 assumptions=(f"{n:,} layouts timed in {format_si(elapsed, 's')}; "
                                              "DistributedModel's step and TrainingMemoryModel's memory for each",
                                              f"optimizer {opt}",
                                              f"schedules tried: {', '.join(schedules)}",
                                              *((f"compute efficiency {template.efficiency:g} for every kernel",)
                                                if efficiency is not None else ()),
                                              *((f"pipeline depth at most {max_pp}",) if max_pp else ()),
                                              f"{overlap:.0%} of data-parallel communication hidden under "
                                              f"the backward pass"))


def _values(given, default, name):
    if given is None:
        return tuple(default)
    out = tuple(given) if isinstance(given, (list, tuple)) else (given,)
    if not out:
        raise InputError(f"{name}: give at least one value to try")
    return out


def _grid(m, fleet, B, S, *, tp, cp, pp, v, ep, zero, modes, micro, schedules, max_tp,
          max_pp=None) -> tuple[dict, dict]:
    """Every layout the constraints allow, as columns; and how many each constraint refused."""
    N, g, L = fleet.total_accelerators, fleet.node.accelerators_per_node, m.layers
    H, KV, E = m.heads, m.n_kv_heads, getattr(m, "experts", 0)
    limit = min(g, max_tp or g)
    pruned: dict = {}

    def refuse(reason, count=1):
        pruned[reason] = pruned.get(reason, 0) + count

    tps = []
    for t in _values(tp, [2 ** k for k in range(int(math.log2(g)) + 1)], "tp"):
        t = whole("tp", t)
        if t > limit:
            refuse(f"tp beyond the {limit}-accelerator scale-up domain")
        elif H % t or KV % t:
            refuse("tp not dividing the attention and KV heads")
        else:
            tps.append(t)
    cps = []
    for c in _values(cp, _CP, "cp"):
        c = whole("cp", c)
        if c == 1 or S % (2 * c) == 0:
            cps.append(c)
        else:
            refuse("cp not splitting the sequence into 2·cp chunks")
    eps = [whole("ep", e) for e in _values(ep, [d for d in range(1, E + 1) if E % d == 0] if E else [1], "ep")]
    if E and any(E % e for e in eps) or (not E and any(e > 1 for e in eps)):
        raise InputError(f"ep must divide {m.name}'s {E} experts" if E else f"{m.name} is dense: ep=1")
    zeros = [z for z in _values(zero, (0, 1, 2, 3), "zero_stage")]
    if any(z not in (0, 1, 2, 3) for z in zeros):
        raise InputError(f"zero_stage must be 0, 1, 2 or 3, got {zeros!r}")
    modes = [recompute_mode(x) for x in _values(modes, _MODES, "recompute")]
    micros = [whole("micro_batch", x) for x in _values(micro, _MICRO, "micro_batch")]
    vs = [whole("v_stages", x) for x in _values(v, _V, "v_stages")]
    pps = [whole("pp", x) for x in _values(pp, range(1, L + 1), "pp")]
    blocks = []
    inner = np.array([(z, k) for z in zeros for k in range(len(modes))]).reshape(-1, 2)
    for t in tps:
        for c in cps:
            for e in eps:
                for p in pps:
                    if p > L:
                        refuse("pp beyond the layers")
                        continue
                    if max_pp is not None and p > max_pp:
                        refuse(f"pp beyond max_pp={max_pp}")
                        continue
                    if N % (t * c * p * e):
                        refuse("degrees not dividing the accelerators")
                        continue
                    d = N // (t * c * p * e)
                    if B % (d * e):
                        refuse("batch not splitting over the data-parallel replicas")
                        continue
                    local = B // (d * e)
                    q = -(-L // p)
                    r = p * q - L
                    micro_ok = [b for b in micros if local % b == 0]
                    if len(micro_ok) < len(micros):
                        refuse("micro-batch not dividing the per-replica batch", len(micros) - len(micro_ok))
                    for sched in schedules:
                        for vv in vs:
                            if (sched == "interleaved") != (vv > 1) or (p == 1 and (vv > 1 or sched != "1f1b")):
                                continue
                            if vv > 1 and q - (r >= 1) < vv:
                                refuse("stages with fewer layers than virtual stages")
                                continue
                            if sched == "dualpipe" and p % 2:
                                refuse("dualpipe with an odd pp")
                                continue
                            if micro_ok:
                                blocks.append((t, c, p, d, e, vv, sched, q, r, local, micro_ok))
    keys = ("tp", "cp", "pp", "dp", "ep", "v", "zero", "mode", "mb", "M", "sched", "q", "r")
    if not blocks:
        return {k: np.array([]) for k in keys}, pruned
    per = [len(b[-1]) * len(inner) for b in blocks]
    outer = np.repeat(np.array([b[:6] + b[7:10] for b in blocks], dtype=np.int64), per, axis=0)
    mb = np.concatenate([np.repeat(b[-1], len(inner)) for b in blocks])
    zk = np.concatenate([np.tile(inner, (len(b[-1]), 1)) for b in blocks])
    cols = dict(zip(("tp", "cp", "pp", "dp", "ep", "v", "q", "r"), (outer[:, i] for i in range(6))))
    cols.update(q=outer[:, 6], r=outer[:, 7], mb=mb, M=outer[:, 8] // mb, zero=zk[:, 0],
                mode=np.array(modes)[zk[:, 1]], sched=np.repeat(np.array([b[6] for b in blocks]), per))
    return cols, pruned


def _evaluate(m, fleet, template, grid, S, B, opt, overlap, progress):
    """Step time, MFU, the most loaded device's memory and the per-term times of every layout in ``grid``."""
    family, hw = m.family, fleet.node.accelerator
    device = resident(hw)
    L, n = m.layers, len(grid["tp"])
    p = template.precisions
    # the engine, once per distinct shard: one layer's forward and backward and the two ends, per TP, EP, CP,
    # micro-batch and recomputation mode
    engine: dict = {}
    keys = set(zip(grid["tp"].tolist(), grid["ep"].tolist(), grid["cp"].tolist(), grid["mb"].tolist(),
                   grid["mode"].tolist()))
    for t, e, c, b, mode in keys:
        shard = family.shard(m, t, 1, e, 1)
        run = template.at(hardware=device, seq_len=S / c, batch_size=float(b), workload=shard.view,
                          layout=RunLayout(recompute=mode, optimizer=opt))
        prof = solve_step(run)
        first, last, t_opt, attn, cast = _split_times(prof)
        params = shard.dense_params + shard.expert_params
        engine[(t, e, c, b, mode)] = (prof.latency_s - t_opt - first - last - cast, first, last, attn,
                                      t_opt / params, cast / params)
    idx = list(zip(grid["tp"].tolist(), grid["ep"].tolist(), grid["cp"].tolist(), grid["mb"].tolist(),
                   grid["mode"].tolist()))
    table = np.array([engine[k] for k in idx])
    tl, tf, tlast, ta, opt_rate, cast_rate = table.T
    tp, cp, pp, dp, ep, v = (grid[k].astype(float) for k in ("tp", "cp", "pp", "dp", "ep", "v"))
    zero, M, mb, q, r = (grid[k].astype(float) for k in ("zero", "M", "mb", "q", "r"))
    full = grid["mode"] == "full"
    # the pipeline's stages: the end stages give up a layer each first (Llama 3's split), the others hold q
    first_n = np.where(pp > 1, q - (r >= 1), L)
    last_n = np.where(pp > 1, q - (r >= 2), L)
    per_layer = tl + (cp - 1) * ta                    # ring attention: queries meet every key of the sequence
    t_mb = np.where(pp > 1, np.maximum.reduce([first_n * per_layer + tf, last_n * per_layer + tlast,
                                               np.where(r < pp, q, 0) * per_layer]),
                    L * per_layer + tf + tlast)
    # the slowest stage's shard, as DistributedModel takes it: its layers and the vocabulary matrices it holds
    views = {}
    for t, pv, e, qq in set(zip(grid["tp"].tolist(), grid["pp"].tolist(), grid["ep"].tolist(),
                               np.where(grid["pp"] > 1, grid["q"], L).tolist())):
        sh = family.shard(m, t, pv, e, qq)
        views[(t, pv, e, qq)] = (sh.dense_params + sh.expert_params, sh.expert_params, sh.layers, sh.moe_layers)
    vrow = np.array([views[k] for k in zip(grid["tp"].tolist(), grid["pp"].tolist(), grid["ep"].tolist(),
                                           np.where(grid["pp"] > 1, grid["q"], L).tolist())])
    params, expert, layers, moe_layers = vrow.T
    t_mb = t_mb + cast_rate * params                  # the fp32 master weights cast, by the parameters held
    group = dp * cp * ep
    t_opt = opt_rate * params / np.where(zero >= 1, group, 1)
    sched = grid["sched"]
    bubble_slots = np.zeros(n)
    for name, slots in BUBBLE_SLOTS.items():
        pick = sched == name
        bubble_slots[pick] = np.where(pp[pick] > 1, slots(pp[pick], chunked(q[pick], v[pick])), 0.0)
    notes: list = []
    terms = step_terms(m, _links(fleet, notes), fleet.fabric.topology, p.a, S, tp=tp, cp=cp, pp=pp, dp=dp, ep=ep,
                       v=v, zero=zero, full=full, M=M, mb=mb, t_mb=t_mb, t_opt=t_opt, t_attn=ta * layers,
                       layers=layers, moe_layers=moe_layers, tp_all_reduces=family.tp_all_reduces(m, 1),
                       grads=params * p.w, weights=params * p.w, expert_share=expert / np.maximum(params, 1.0),
                       bubble_slots=bubble_slots, overlap=overlap, ep_hidden=np.where(sched == "dualpipe", 1.0, 0.0))
    step = terms["step"]
    flops = {}
    for c in set(grid["cp"].tolist()):
        full_model = solve_step(template.at(hardware=device, seq_len=S / c, batch_size=1.0))
        flops[c] = full_model.op_table.model_flops / (S / c) * S
    per_seq = np.array([flops[c] for c in grid["cp"].tolist()])
    mfu = per_seq * B / (step * fleet.total_accelerators * hw.peak_at(template.precision))
    memory = _memory(m, grid, S, opt, p.w, progress)
    return step, mfu, memory, terms


def _memory(m, grid, S, opt, w, progress) -> np.ndarray:
    """The most loaded device's bytes (first, second and last stage checked) of every layout, framework included."""
    shapes = _matrices(m)
    L, n = m.layers, len(grid["tp"])
    out = np.zeros(n)
    master = w < 4.0 and opt != "none"
    done = 0
    for mode in set(grid["mode"].tolist()):
        for sched in set(grid["sched"].tolist()):
            rows = np.flatnonzero((grid["mode"] == mode) & (grid["sched"] == sched))
            if not rows.size:
                continue
            tp, cp, pp, dp, ep, v, zero, M, mb, q, r = (grid[k][rows].astype(float) for k in (
                "tp", "cp", "pp", "dp", "ep", "v", "zero", "M", "mb", "q", "r"))
            first_n = np.where(pp > 1, q - (r >= 1), L)
            last_n = np.where(pp > 1, q - (r >= 2), L)
            second_n = np.where(pp > 2, q - (r >= 3), last_n)
            worst = np.zeros(rows.size)
            for i, count, begin in ((np.zeros(rows.size), first_n, 0.0), (np.minimum(1, pp - 1), second_n, first_n),
                                    (pp - 1, last_n, L - last_n)):
                st = _stage(m, shapes, i, pp, count, begin, tp=tp, cp=cp, pp=pp, dp=dp, ep=ep, zero=zero, name=opt,
                            mode=mode, w=w, master=master, tune="full", adapters=None, tokens=S * mb, seq=S, M=M, v=v,
                            schedule=sched, sp=tp > 1, flash=True, dropout=False)
                worst = np.maximum(worst, st.total_b)
            out[rows] = worst + FRAMEWORK_BYTES
            done += rows.size
            if progress is not None:
                progress(done, n)
    return out


def _layout(grid, i, mfu, step, memory, fits) -> Layout:
    pp, q, r = int(grid["pp"][i]), int(grid["q"][i]), int(grid["r"][i])
    split = [q] * pp                       # the end stages give up a layer each first, then the next ones in
    for k in [j for pair in zip(range(pp), range(pp - 1, -1, -1)) for j in pair][:r]:
        split[k] -= 1
    return Layout(tp=int(grid["tp"][i]), pp=pp, dp=int(grid["dp"][i]), mfu=float(mfu[i]),
                  step_time_s=float(step[i]), memory_per_device_b=float(memory[i]), feasible=bool(fits[i]),
                  cp=int(grid["cp"][i]), ep=int(grid["ep"][i]), v_stages=int(grid["v"][i]),
                  zero_stage=int(grid["zero"][i]), recompute=str(grid["mode"][i]), micro_batch=int(grid["mb"][i]),
                  schedule=str(grid["sched"][i]), layers_per_stage=tuple(split))


def _lost(lay: Layout, best: Layout, terms: dict, i: int, M: float) -> Layout:
    """The layout with why it lost to the best: how much slower, and where its time goes beyond compute."""
    over = {"pipeline bubble": terms["bubble"][i], "tensor-parallel all-reduces": M * terms["tp_mb"][i],
            "context-parallel ring": M * terms["cp_mb"][i], "pipeline point-to-point": M * terms["pp_mb"][i],
            "expert all-to-all": M * terms["ep_mb"][i], "data-parallel sync": terms["dp_exposed"][i]}
    worst = max(over, key=over.get)
    share = over[worst] / lay.step_time_s
    return Layout(**{**lay.__dict__, "reason": f"{lay.step_time_s / best.step_time_s - 1:.1%} slower; its largest "
                     f"overhead is the {worst} ({share:.0%} of its step)"})


__all__ = ["ParallelismOptimizer", "ParallelismResult", "Layout"]
