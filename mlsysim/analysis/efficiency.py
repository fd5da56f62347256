"""Software efficiency (wall 3): the gap between achieved and peak FLOP/s, operator class by operator
class, from the engine's own operator times."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.device import device_for
from ..engine.engine import solve_step
from ..engine.timing import step_times
from ..errors import InputError
from ..run import Run
from ..solver import Result, Solver, only_run
from ..units import format_si

_TYPE_CLASSES = {"ffn": ("gemm",), "attention": ("attention",), "conv": ("conv",)}


@dataclass(frozen=True)
class ClassEfficiency:
    """One operator class's share of the step and where its FLOP/s went (SI seconds, FLOP)."""

    op_class: str
    time_s: float
    time_share: float
    flops: float
    achieved_flops: float
    efficiency: float                 # achieved / peak
    losses_s: dict                    # time beyond the ideal flops/peak, by cause
    main_loss: str


@dataclass(frozen=True)
class EfficiencyResult(Result):
    """Achieved against peak FLOP/s, explained by operator class."""

    model_name: str
    hardware_name: str
    mfu: float
    peak_flops: float
    achievable_flops: float
    latency_s: float
    ideal_s: float
    classes: tuple[ClassEfficiency, ...]
    losses_s: dict
    workload_type: str | None = None
    use_flash_attention: bool = True

    @property
    def overhead_breakdown(self) -> dict:
        """Each loss as a fraction of the step time."""
        return {k: v / self.latency_s for k, v in self.losses_s.items()}

    def summary(self) -> str:
        worst = max(self.losses_s, key=self.losses_s.get)
        rows = ", ".join(f"{c.op_class} {c.time_share:.0%} of time at {c.efficiency:.0%}" for c in self.classes[:4])
        return f"MFU {self.mfu:.1%} ({format_si(self.achievable_flops, 'FLOP/s')}); main loss {worst}; {rows}"


class EfficiencyModel(Solver):
    """Why achieved FLOP/s fall short of peak, operator class by operator class — wall 3 (software)."""

    walls = (3,)
    needs = ("model", "hardware")

    def solve(self, model, hardware=None, batch_size=1, precision="fp16", workload_type=None,
              use_flash_attention=True, efficiency=None, *, seq_len=None, phase=None, stack=None,
              is_training=False) -> EfficiencyResult:
        """The engine's profile, decomposed: each operator's time = ideal (FLOPs / peak) + tile and shape
        waste (calibrated compute time beyond ideal) + memory bound (memory time beyond compute) + launch
        overhead. ``workload_type`` (``ffn``, ``attention``, ``conv``) makes ``mfu`` that class's efficiency.
        ``model`` may be a :class:`~mlsysim.run.Run` of one step.
        """
        if workload_type is not None and workload_type not in _TYPE_CLASSES:
            raise InputError(f"unknown workload_type '{workload_type}'; use one of {', '.join(_TYPE_CLASSES)}")
        if isinstance(model, Run):
            only_run(EfficiencyModel.solve, locals())
            run = model
        else:
            run = Run.build(model, hardware, phase=phase, training=is_training, batch_size=batch_size, seq_len=seq_len,
                            precision=precision, stack=stack, efficiency=efficiency)
        m, hw, efficiency = run.workload, run.hardware, run.efficiency
        prof = solve_step(run)
        profile = prof.execution_profile
        if np.ndim(prof.latency_s):
            raise InputError("EfficiencyModel explains one configuration; give scalar batch_size and seq_len")
        ops = prof.op_table
        t_c, t_m, t_l = (np.asarray(a, dtype=float).reshape(len(ops.names), -1)[:, 0] for a in prof.op_times)
        count = np.asarray(ops.count, dtype=float).reshape(len(ops.names), -1)[:, 0]
        flops = np.asarray(ops.flops, dtype=float).reshape(len(ops.names), -1)[:, 0]
        peak = float(prof.peak_flops_b)
        ideal, parts = _time_parts(t_c, t_m, t_l, flops, peak, profile)
        unfused = 0
        if not use_flash_attention:
            dev = device_for(hw, float(np.min(prof.memory_parts["weights"])))   # the view the step was timed on
            unfused = _standard_attention(ops, ideal, parts, dev, run.precisions.a, peak, profile, efficiency)
        total = sum(parts.values()) + ideal
        latency = float((total * count).sum())
        parts = {k: v * count for k, v in parts.items()}
        ideal = ideal * count
        total = total * count
        classes = []
        for name in dict.fromkeys(ops.classes):
            sel = np.array([c == name for c in ops.classes])
            t = float(total[sel].sum())
            if t <= 0:
                continue
            f = float((flops * count)[sel].sum())
            losses = {k: float(v[sel].sum()) for k, v in parts.items()}
            classes.append(ClassEfficiency(op_class=name, time_s=t, time_share=t / latency, flops=f,
                                           achieved_flops=f / t, efficiency=f / t / peak, losses_s=losses,
                                           main_loss=max(losses, key=losses.get)))
        classes.sort(key=lambda c: -c.time_s)
        losses = {k: float(v.sum()) for k, v in parts.items()}
        mfu = float(prof.mfu) * float(prof.latency_s) / latency
        if workload_type is not None:
            picked = [c for c in classes if c.op_class in _TYPE_CLASSES[workload_type]]
            if not picked:
                have = ", ".join(c.op_class for c in classes)
                raise InputError(f"{m.name} has no {workload_type} operators; it has {have}")
            mfu = sum(c.flops for c in picked) / sum(c.time_s for c in picked) / peak
        notes = [f"{m.name} {prof.phase}, batch {prof.batch_size:g}, {run.precision}, {prof.stack} stack on {hw.name}: "
                 "operator times from Engine.solve",
                 "tile and shape waste: the calibrated compute time beyond FLOPs/peak (wave and tile quantization, "
                 "short K, small M); memory bound: memory time beyond compute time; launch overhead: kernel launch "
                 "gaps the stack does not hide"]
        if not use_flash_attention:
            notes.append(f"standard attention: {unfused} fused attention operator(s) replaced by QK^T, softmax and PV "
                         "kernels that write, read and rewrite the full S x keys score matrix in memory and compute "
                         "the masked half too; decode attention already reads the whole KV cache, so it is unchanged")
        worst = max(losses, key=losses.get)
        return EfficiencyResult(model_name=m.name, hardware_name=hw.name, mfu=mfu, peak_flops=peak,
                                achievable_flops=mfu * peak, latency_s=latency, ideal_s=float(ideal.sum()),
                                classes=tuple(classes), losses_s=losses,
                                workload_type=workload_type, use_flash_attention=bool(use_flash_attention),
                                assumptions=tuple(notes),
                                binding=f"{worst}: {losses[worst] / latency:.0%} of the step")


def _time_parts(t_c, t_m, t_l, flops, peak, profile):
    """Each operator's ideal time (FLOPs at peak) and its losses, per instance."""
    _, overhead = step_times(t_c, t_m, t_l, profile)
    ideal = np.minimum(flops / peak, t_c)
    return ideal, {"launch overhead": np.array(overhead), "memory bound": np.maximum(t_m - t_c, 0.0),
                   "tile and shape waste": t_c - ideal}


def _standard_attention(ops, ideal, parts, dev, act_bytes, peak, profile, efficiency) -> int:
    """Re-time each fused prefill attention as unfused kernels, in place; returns how many.

    QK^T (a batched GEMM writing G x S x keys scores), softmax (reads and writes them) and PV (reads
    them): the full square is computed and moved, where the fused kernel keeps it on chip.
    """
    from ..engine import timing

    rows = np.flatnonzero(np.asarray(ops.kind).reshape(len(ops.names), -1)[:, 0] == timing.ATTN_PREFILL)
    for i in rows:
        M, N, K, G = (float(np.ravel(x[i])[0]) for x in (ops.M, ops.N, ops.K, ops.G))
        prec = int(np.ravel(ops.prec[i])[0])
        scores = G * M * N * act_bytes
        kinds = np.array([timing.GEMM, timing.SOFTMAX, timing.GEMM])
        flops = np.array([2.0 * G * M * N * K, 5.0 * G * M * N, 2.0 * G * M * N * K])
        nbytes = np.array([G * (M + N) * K * act_bytes + scores, 2.0 * scores, scores + G * (N + M) * K * act_bytes])
        tc, tm, tl = timing.op_times(dev, kinds, np.full(3, prec), flops, nbytes,
                                     np.array([M, 0.0, M]), np.array([N, 0.0, K]), np.array([K, 0.0, N]),
                                     np.array([G, 1.0, G]), stack=profile, efficiency=efficiency)
        k_ideal, k_parts = _time_parts(tc, tm, tl, np.array([flops[0], 0.0, flops[2]]), peak, profile)
        for name, arr in k_parts.items():
            parts[name][i] = float(arr.sum())
        # the model's FLOPs stay the useful (causal) ones: the kernels' time beyond them is waste
        parts["tile and shape waste"][i] += max(float(k_ideal.sum()) - ideal[i], 0.0)
    return len(rows)


__all__ = ["EfficiencyModel", "EfficiencyResult"]
