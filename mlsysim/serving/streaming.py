"""Weight streaming: a device keeps activations and the KV cache on chip and streams the weights in.

Wafer-scale and SRAM machines (Cerebras CS-3 with MemoryX, Graphcore's streaming memory) hold
far less than a large model's weights, so each step pulls every layer's weights over an
injection link while the previous layer computes. With the transfer double-buffered against
compute, a layer costs the larger of its injection time (its weight bytes over the link) and
its on-chip time (the engine's per-operator times for that phase on that device); the weights
cross once per step whatever the batch, so a larger batch buys compute until the two meet at
the balancing batch. Everything a step keeps on chip (KV cache, activations, two layers of
weight buffers) must fit the device's own memory.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine.device import resident
from ..engine.engine import solve_step
from ..engine.timing import step_times
from ..errors import InputError, OOMError
from ..hardware.power import accelerator_power
from ..models.families.base import LM_CONTEXT
from ..run import Run, resolve_model
from ..solver import Result, Solver, only_run, real, verdict
from ..units import format_number, format_si, parse, quantity

#: operators outside the repeated layers: the embedding lookup, the final norm and the LM head
ENDS = ("embedding", "final_norm", "lm_head")
#: weight buffers kept on chip: the layer computing and the layer arriving
BUFFERED_LAYERS = 2
#: the batch range searched for the balancing batch
_SEARCH = (1.0, 1e9)

INJECTION_BOUND = "weight-injection bound"
COMPUTE_BOUND = "compute bound"


@dataclass(frozen=True)
class WeightStreamingResult(Result):
    """SI floats (seconds, bytes, B/s, joules); arrays when the batch size or sequence length is one."""

    model_name: str
    hardware_name: str
    link_name: str
    phase: str
    batch_size: object
    seq_len: object
    injection_bandwidth: float
    layers: int
    layer_weight_bytes: float
    head_weight_bytes: float
    streamed_bytes_per_step: float
    layer_injection_s: float
    layer_compute_s: object
    layer_time_s: object
    head_time_s: object
    step_time_s: object
    tokens_per_step: object
    tokens_per_s: object
    bound: object
    balancing_batch_size: object
    max_batch_on_chip: object
    kv_cache_bytes: object
    activation_bytes: object
    buffer_bytes: float
    onchip_capacity_bytes: float
    feasible: object
    energy_per_token_j: object

    @property
    def onchip_bytes(self):
        """What a step keeps on chip: KV cache, activations and the weight buffers."""
        return self.kv_cache_bytes + self.activation_bytes + self.buffer_bytes

    @property
    def onchip_utilization(self):
        return self.onchip_bytes / self.onchip_capacity_bytes

    @property
    def injection_fraction(self):
        """Injection time over layer time: 1 when the link binds, below 1 when compute does."""
        return self.layer_injection_s / self.layer_time_s

    # -- 0.1.0 names, with units ----------------------------------------------------------------
    @property
    def throughput_tokens_per_sec(self): return self.tokens_per_s
    @property
    def wafer_memory_utilization(self): return self.onchip_utilization
    @property
    def layer_compute_time(self): return quantity(self.layer_compute_s, "ms")
    @property
    def layer_injection_time(self): return quantity(self.layer_injection_s, "ms")
    @property
    def step_time(self): return quantity(self.step_time_s, "ms")

    @property
    def bottleneck(self):
        """The 0.1.0 words for ``bound``."""
        words = {INJECTION_BOUND: "Interconnect-Bandwidth-Bound", COMPUTE_BOUND: "Compute-Bound"}
        if isinstance(self.bound, str):
            return words[self.bound]
        return np.vectorize(words.get)(self.bound)

    @property
    def optimal_batch_size(self):
        """The 0.1.0 figure: the balancing batch as a whole number of sequences (at least 1)."""
        b = self.balancing_batch_size
        if isinstance(b, np.ndarray):
            return np.where(np.isfinite(b), np.maximum(np.floor(b), 1.0), b)
        return max(1, math.floor(b)) if math.isfinite(b) else b

    def summary(self) -> str:
        step = float(np.max(self.step_time_s))
        bal = float(np.min(self.balancing_batch_size))
        compute = format_si(float(np.min(self.layer_compute_s)), "s")
        return (f"{self.model_name} on {self.hardware_name}, {self.phase}: layer injection "
                f"{format_si(self.layer_injection_s, 's')} vs compute {compute}"
                f"; step {format_si(step, 's')}, {float(np.max(self.tokens_per_s)):,.0f} tokens/s; balancing batch "
                f"{format_number(bal)}" + ("" if np.all(self.feasible) else "; does not fit on chip"))




def _decoder(model) -> None:
    if not model.family.decoder:
        raise InputError(f"{model.name} is not a decoder language model; weight streaming models the "
                         f"layers of one (prefill or decode)")


class WeightStreamingModel(Solver):
    """Layer-by-layer weight streaming onto a wafer-scale or SRAM device (wall 6)."""

    walls = (6,)
    needs = ("model", "hardware")

    def solve(self, model, hardware=None, seq_len=LM_CONTEXT, batch_size=1, precision="fp16", efficiency=None,
              phase="decode", *, injection_bandwidth=None, weight_precision=None, kv_precision=None,
              activation_precision=None, stack=None, raise_errors=False) -> WeightStreamingResult:
        """Step time, tokens/s and the binding side of streaming ``model``'s weights onto ``hardware``.

        ``model`` may be a :class:`~mlsysim.run.Run`. ``seq_len`` is the context a decode step attends
        to, or the prompt a prefill step processes; ``batch_size`` (sequences) and ``seq_len`` may be
        arrays. The link is ``injection_bandwidth`` when given, else the device's weight-streaming link,
        else its host interconnect.
        """
        if isinstance(model, Run):
            only_run(WeightStreamingModel.solve, locals())
            run = model
        else:
            _decoder(resolve_model(model))
            run = Run.build(model, hardware, purpose="serving", batch_size=batch_size, seq_len=seq_len,
                            precision=precision, weight_precision=weight_precision,
                            activation_precision=activation_precision, kv_precision=kv_precision, stack=stack,
                            efficiency=efficiency)
        run.refuse("WeightStreamingModel", "fleet", "tp", "pp", "ep", "prompt_len", "output_len", "site")
        model, hw = run.workload, run.hardware
        phase = run.phase or phase
        _decoder(model)
        if phase not in ("decode", "prefill"):
            raise InputError(f"phase must be 'decode' or 'prefill', got {phase!r}")
        link_name, bw = _link(hw, injection_bandwidth)
        B, S = run.batch_size, run.context
        # weights are off chip: the engine must not charge a spill for them
        on_chip = run.at(hardware=resident(hw), phase=phase, seq_len=S)
        prof = solve_step(on_chip)

        # weights: the repeated layers, then the LM head (the embedding table stays off chip:
        # only the rows a step looks up cross the link)
        L, P = model.layers, model.parameter_count()
        per_param = float(prof.memory_parts["weights"]) / P
        vocab = model.vocab_size * model.hidden_dim
        layer_bytes = (P - vocab * (1 if model.tied_embeddings else 2)) * per_param / L
        head_bytes = vocab * per_param
        t_inj, head_inj = layer_bytes / bw, head_bytes / bw

        body, head = _split_times(prof)
        t_c = body / L
        layer = np.maximum(t_c, t_inj)
        head_t = np.maximum(head, head_inj)
        step = L * layer + head_t
        tokens = B * (S if phase == "prefill" else 1.0)
        bound = np.where(t_inj > t_c, INJECTION_BOUND, COMPUTE_BOUND)

        # on chip: KV cache and activations grow with the batch; two layers of weights are in flight
        kv, acts = prof.memory_parts["kv_cache"], prof.memory_parts["activations"]
        buffers = BUFFERED_LAYERS * layer_bytes
        capacity = float(hw.memory.capacity)
        onchip = kv + acts + buffers
        feasible = onchip <= capacity
        per_seq = (kv + acts) / B
        max_batch = np.floor(np.maximum(capacity - buffers, 0.0) / per_seq)
        if raise_errors and not np.all(feasible):
            need = float(np.max(onchip))
            raise OOMError(f"{model.name} keeps {format_si(need, 'B')} on chip (KV cache, activations, "
                           f"{BUFFERED_LAYERS} layers of weights) but {hw.name} has {format_si(capacity, 'B')}",
                           required_bytes=need, available_bytes=capacity)

        balance = _balancing_batch(on_chip, S, t_inj, L)

        energy = None
        if hw.tdp:   # the engine's energy for the on-chip work, plus idle draw while waiting for weights
            idle = accelerator_power(float(hw.tdp), 0.0)
            energy = (prof.energy_j + idle * np.maximum(step - prof.latency_s, 0.0)) / tokens

        notes = [f"weights stream over {link_name} at {format_si(bw, 'B/s')}: "
                 f"{format_si(layer_bytes, 'B')} per layer, {format_si(head_bytes, 'B')} for the LM head, "
                 f"once per step whatever the batch",
                 "injection double-buffered against compute (steady state: the next step's first layer "
                 "arrives during this step's LM head); layer time = max(injection, on-chip time)",
                 f"on-chip time per layer: the engine's operator times for {phase} on {hw.name}",
                 f"on chip: KV cache + activations + {BUFFERED_LAYERS} layers of weight buffers against "
                 f"{format_si(capacity, 'B')}",
                 "the link's own power (MemoryX, switches) is not counted in the energy"]
        weights = float(prof.memory_parts["weights"])
        if weights + float(np.max(onchip)) - buffers <= capacity:
            notes.append(f"all {format_si(weights, 'B')} of weights would fit on chip beside the KV cache: "
                         f"streaming them is a choice here, not a necessity")
        if model.family.group == "moe":
            notes.append("mixture of experts: every expert's weights stream each step (a large batch routes "
                         "tokens to all of them); layers are averaged")
        return WeightStreamingResult(
            model.name, hw.name, link_name, phase, B, S, bw, L, layer_bytes, head_bytes, L * layer_bytes + head_bytes,
            t_inj, real(t_c), real(layer), real(head_t), real(step), tokens, real(tokens / step), _s(bound),
            real(balance),
            real(max_batch), real(kv), real(acts), buffers, capacity, verdict(feasible),
            None if energy is None else real(energy),
            assumptions=tuple(notes), binding=_binding(bound, t_inj, t_c, feasible, balance, max_batch))


def _link(hw, override) -> tuple[str, float]:
    """The injection link: as given, else the weight-streaming link, else the host interconnect."""
    if override is not None:
        return "the given link", parse(override, "B/s", "injection_bandwidth", positive=True)
    link = hw.weight_streaming or hw.interconnect
    if link is None:
        raise InputError(f"{hw.name} has no weight-streaming link or host interconnect to stream weights "
                         f"over; give injection_bandwidth (e.g. '150 GB/s') or pick a device with one "
                         f"(e.g. Cerebras_CS3)")
    return link.name, float(link.bandwidth)


def _split_times(prof):
    """Seconds of the repeated layers and of the ends (embedding, final norm, LM head), per configuration."""
    busy, overhead = step_times(*prof.op_times, prof.execution_profile)
    count = prof.op_table.count
    total = (busy + overhead) * count.reshape(count.shape + (1,) * (busy.ndim - count.ndim))
    ends = np.array([name in ENDS for name in prof.op_table.names])
    return total[~ends].sum(axis=0), total[ends].sum(axis=0)


def _layer_compute(step, B, S, L):
    return _split_times(solve_step(step.at(batch_size=B, seq_len=S)))[0] / L


def _balancing_batch(step, S, t_inj, L):
    """The largest batch (sequences) whose layers are still injection bound: beyond it, compute
    hides the injection at every batch.

    Where the engine's curve of on-chip time against batch is continuous, the two times are equal
    there (to the search's resolution); where tile and wave quantization make it jump across the
    injection time, it is the batch just before the jump, and isolated slow batch sizes (a
    quantization spike that one more or one fewer sequence avoids) do not count. Returns 1 where
    even one sequence is compute bound and infinity where no batch up to 1e9 is.
    """
    if isinstance(S, np.ndarray):
        values = {s: _balancing_batch(step, float(s), t_inj, L) for s in np.unique(S)}
        return np.vectorize(values.get)(S)
    grid = np.geomspace(*_SEARCH, 256)
    for _ in range(3):
        c = _layer_compute(step, grid, S, L)
        below = np.flatnonzero(c < t_inj)
        if below.size == 0:
            return 1.0
        last = int(below[-1])
        if last == grid.size - 1:
            return math.inf
        lo, hi, c_lo, c_hi = grid[last], grid[last + 1], c[last], c[last + 1]
        grid = np.linspace(lo, hi, 512)
    return float(lo + (hi - lo) * (t_inj - c_lo) / (c_hi - c_lo))


def _binding(bound, t_inj, t_c, feasible, balance, max_batch) -> str:
    if not np.all(feasible):
        return "on-chip memory: KV cache and activations exceed the device"
    if isinstance(bound, str) or np.ndim(bound) == 0:
        b, c, bal = str(bound), float(t_c), float(np.min(balance))
        if b == INJECTION_BOUND:
            fits = float(np.min(max_batch))
            room = f", beyond the {fits:,.0f} that fit on chip" if bal > fits else ""
            return (f"{b}: a layer's weights take {format_si(t_inj, 's')} to arrive and "
                    f"{format_si(c, 's')} to use; compute catches up at a batch of {format_number(bal)}{room}")
        return f"{b}: a layer computes for {format_si(c, 's')}, longer than its {format_si(t_inj, 's')} injection"
    n = int(np.sum(np.asarray(bound) == INJECTION_BOUND))
    return f"{INJECTION_BOUND} in {n} of {np.size(bound)} configurations, {COMPUTE_BOUND} in the rest"


def _s(x):
    return str(x) if np.ndim(x) == 0 else np.asarray(x)
