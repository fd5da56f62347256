"""The first-order step of a profile that carries one (``textbook``): MLSys·im 0.1.0's model.

The whole step is one roofline: ``max(FLOPs / (peak x efficiency), bytes / bandwidth)`` plus a fixed
overhead, the chip's dispatch overhead and a per-layer framework overhead (paid once per pass; a
training step makes ``training_passes``). FLOPs are the workload's published count per sample (a
CNN's multiply-accumulates, ``2 x parameters`` for a language model, per token) times the batch
(times the tokens of a prefill), and times ``training_flops`` for a training step (per sequence, as
0.1.0 counted it). Bytes are the weights plus ``activation_traffic`` of them per sample. The
footprint is the weights for inference; for training a transformer's weights, gradients, optimizer
state and activations (Korthikanti et al. 2023 coefficients), or ``training_state`` x the weights
for other workloads. A model that does not fit streams everything over the host link. The bound is
the larger of the compute and memory times (the overhead never is); energy is
``TDP x (idle + (1 - idle) x MFU) x latency``. Every constant is the profile's
(``zoo/data/profiles.yaml``, ``first_order``).

It plugs into the engine where a step's structure does (:func:`.engine._structure`): the same
``figures`` and ``profile`` calls, so ``Engine.solve``, serving and the scorecard run it unchanged, and
the profile it returns has an operator table of one operator (``roofline``).

:func:`fleet_footprint` is the same model's fleet lens (0.1.0's ``SustainabilityModel`` and
``EconomicsModel``): energy, carbon, water and cost of a fleet over a period with the profile's ``site``
rules and grid table.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, OOMError
from ..hardware.power import rated_power
from ..models.types import TransformerWorkload
from ..ops import FUSED, PRECISION_BYTES, OpBuilder
from ..units import format_si

#: the sequence length of a training step's activations when the run gives none (0.1.0's Engine.solve default)
TRAINING_SEQ_LEN = 2048
#: optimizer state in bytes per parameter (fp32 master weights, momentum, variance for Adam; master weights for SGD)
OPTIMIZER_BYTES = {"adam": 12.0, "adamw": 12.0, "sgd": 4.0}
#: activation bytes per layer per token per hidden unit by recomputation strategy (Korthikanti et al. 2023, Table 1)
ACTIVATION_COEFFICIENT = {"full": 2.0, "selective": 10.0, "none": 34.0}
#: LoRA rank and the projections it adapts per layer (Q, K, V, O)
LORA_RANK, LORA_MATRICES = 16, 4


class FirstOrderStep:
    """One step's structure under a first-order profile: the workload's totals and the chip's figures, taken
    once; :meth:`figures` and :meth:`profile` then solve any sizes (floats, or arrays for a sweep)."""

    __slots__ = ("workload", "hardware", "stack", "phase", "fo", "flops", "weights", "layers", "training",
                 "overhead", "peak", "capacity", "bw", "offload_bw", "tdp", "precisions", "recompute", "hw_key")

    def __init__(self, run, phase: str, hardware_key: str | None):
        w, hw, fo = run.workload, run.hardware, run.profile.first_order
        self.workload, self.hardware, self.stack, self.phase, self.fo = w, hw, run.profile, phase, fo
        self.precisions, self.hw_key = run.precisions, hardware_key
        self.training = phase == "train"
        lay = run.layout
        self.recompute = self.training and lay.recompute != "none"
        bpp = PRECISION_BYTES[run.precisions.weights]
        params = float(w.parameter_count()) if w.parameters is not None or getattr(w, "arch", None) else 0.0
        self.weights = float(w.model_size) if not params and w.model_size is not None else params * bpp
        if w.inference_flops is None and getattr(w, "arch", None) and w.family.name == "cnn":
            flops = float(w.forward_flops()) / 2.0 * fo.cnn_flops_per_mac    # counted from its layers: the MACs
        elif w.inference_flops is not None and w.family.name == "cnn":
            flops = float(w.inference_flops)                                 # the published count as given
        else:
            flops = float(w.forward_flops())     # inference_flops where given (x denoising steps), else 2 x params
        if self.training:
            flops *= fo.recompute_training_flops if self.recompute else fo.training_flops
        self.flops = flops
        self.layers = int(getattr(w, "layers", None) or 1)
        passes = fo.training_passes if self.training else 1
        self.overhead = fo.dispatch(hardware_key) + self.layers * float(fo.layer_overhead_s) * passes
        self.peak = float(hw.compute.rate(run.precisions.compute) or hw.compute.peak_flops)
        mem = hw.memory
        self.capacity = float(mem.capacity)
        if mem.sram_capacity and mem.sram_bandwidth and self.weights <= float(mem.sram_capacity):
            self.bw = float(mem.sram_bandwidth)
        elif mem.flash_bandwidth:
            self.bw = float(mem.flash_bandwidth)
        else:
            self.bw = float(mem.bandwidth)
        link = float(hw.interconnect.bandwidth) if hw.interconnect and hw.interconnect.bandwidth else \
            float(fo.offload_bandwidth)
        self.offload_bw = min(float(mem.bandwidth), link)
        self.tdp = rated_power(hw)

    # -- the step ----------------------------------------------------------------------------------
    def _footprint(self, run, B, S):
        """The memory parts: the weights for inference; a training step's state by 0.1.0's rules."""
        zero = 0.0 * B
        parts = {"weights": self.weights + zero, "kv_cache": zero, "activations": zero, "gradients": zero,
                 "optimizer": zero, "runtime": float(self.stack.runtime_bytes)}
        if not self.training:
            return parts
        w, lay, fo = self.workload, run.layout, self.fo
        if not isinstance(w, TransformerWorkload) or w.parameters is None:
            parts["optimizer"] = self.weights * ((fo.lora_training_state if lay.lora else fo.training_state) - 1) + zero
            return parts
        n = float(w.parameters)
        bpp = PRECISION_BYTES[run.precisions.weights]
        weights, grads, opt = n * bpp, n * bpp, n * OPTIMIZER_BYTES.get(lay.optimizer, 4.0)
        if lay.lora:
            share = min(2 * LORA_RANK * w.hidden_dim * LORA_MATRICES * w.layers / n, 1.0)
            grads, opt = grads * share, opt * share
        dp = lay.dp or 1
        if lay.zero_stage >= 1:
            opt /= dp
        if lay.zero_stage >= 2:
            grads /= dp
        if lay.zero_stage >= 3:
            weights /= dp
        seq = TRAINING_SEQ_LEN if run.seq_len is None else S
        strategy = "selective" if self.recompute else "none"
        acts = w.layers * ACTIVATION_COEFFICIENT[strategy] * seq * B * w.hidden_dim * bpp
        parts.update(weights=weights + zero, gradients=grads + zero, optimizer=opt + zero, activations=acts)
        return parts

    def solve(self, run, B, S, past, raise_errors: bool):
        parts = self._footprint(run, B, S)
        total = sum(parts.values())
        worst = float(np.max(total))
        if raise_errors and worst > self.capacity:
            raise OOMError(f"{self.workload.name} needs {format_si(worst, 'B')} but {self.hardware.name} has "
                           f"{format_si(self.capacity, 'B')}", required_bytes=worst, available_bytes=self.capacity)
        fits = total <= self.capacity
        bw = np.where(fits, self.bw, self.offload_bw) if np.ndim(fits) else (self.bw if fits else self.offload_bw)
        flops = self.flops * B * (S if self.phase == "prefill" else 1.0)
        traffic = self.weights * (1.0 + self.fo.activation_traffic * B)
        eff = self.fo.efficiency if run.efficiency is None else run.efficiency
        t_c = flops / (self.peak * eff)
        t_m = traffic / bw
        memory_bound = t_m > t_c
        lat_c = np.where(memory_bound, 0.0, t_c) if np.ndim(memory_bound) else (0.0 if memory_bound else t_c)
        lat_m = np.where(memory_bound, t_m, 0.0) if np.ndim(memory_bound) else (t_m if memory_bound else 0.0)
        lat_o = self.overhead + 0.0 * B
        return parts, total, fits, flops, traffic, eff, t_c, t_m, lat_c, lat_m, lat_o, memory_bound, bw

    def _energy(self, latency, mfu):
        idle = self.fo.idle_power_fraction
        return self.tdp * (idle + (1.0 - idle) * mfu) * latency

    def figures(self, run, B, S, past):
        from .engine import Step

        parts, total, fits, flops, traffic, eff, t_c, t_m, lat_c, lat_m, lat_o, mb, bw = \
            self.solve(run, B, S, past, False)
        latency = lat_c + lat_m + lat_o
        mfu = np.minimum(flops / (latency * self.peak), 1.0)
        bound = np.where(mb, "Memory", "Compute") if np.ndim(mb) else ("Memory" if mb else "Compute")
        return Step(latency, lat_c, lat_m, lat_o, bound, parts, self._energy(latency, mfu))

    def profile(self, run, B, S, past, raise_errors: bool):
        from .profile import PerformanceProfile

        parts, total, fits, flops, traffic, eff, t_c, t_m, lat_c, lat_m, lat_o, mb, bw = \
            self.solve(run, B, S, past, raise_errors)
        latency = lat_c + lat_m + lat_o
        mfu = np.minimum(flops / (latency * self.peak), 1.0)
        hfu = np.minimum(mfu * self.fo.hfu_ratio, 1.0)
        sweep = bool(np.ndim(latency))
        bound = np.where(mb, "Memory", "Compute") if sweep else ("Memory" if mb else "Compute")
        ops = OpBuilder(run.precisions)
        ops.add("roofline", "roofline", FUSED, flops, traffic)
        table = ops.table()
        if sweep:
            t = (np.atleast_1d(t_c)[None], np.atleast_1d(t_m)[None], np.broadcast_to(lat_o, np.shape(latency))[None])
        else:
            t = ([float(t_c)], [float(t_m)], np.array([float(lat_o)]))
        samples, unit = run.family.throughput(self.phase, B, S)
        return PerformanceProfile.of({
            "model_name": self.workload.name, "hardware_name": self.hardware.name, "phase": self.phase,
            "batch_size": B, "seq_len": S, "precision": run.precision, "precisions": run.precisions,
            "stack": self.stack.key, "latency_s": latency, "latency_compute_s": lat_c, "latency_memory_s": lat_m,
            "latency_overhead_s": lat_o, "flops_total": flops, "bytes_total": traffic, "samples_per_step": samples,
            "bottleneck": bound, "memory_parts": parts, "memory_capacity_b": self.capacity,
            "peak_flops_b": self.peak * eff, "peak_bw_b": bw, "mfu": mfu, "hfu": hfu,
            "energy_j": self._energy(latency, mfu), "feasible": fits if sweep else bool(fits),
            "offload_spill_bytes": max(float(np.max(total)) - self.capacity, 0.0), "throughput_unit": unit,
            "op_table": table, "op_times": t, "execution_profile": self.stack})


@dataclass(frozen=True)
class FleetFootprint:
    """A fleet's energy, carbon, water and cost over a period by a first-order profile's site rules (kWh, kg,
    litres, USD: 0.1.0's figures under its names)."""

    region_name: str
    pue: float
    carbon_intensity_g_kwh: float
    duration_days: float
    accelerators: int
    utilization: float
    it_power_w: float
    it_energy_kwh: float
    total_energy_kwh: float
    carbon_footprint_kg: float
    water_usage_liters: float
    capex_usd: float
    energy_cost_usd: float
    maintenance_usd: float

    @property
    def tco_usd(self) -> float:
        return self.capex_usd + self.energy_cost_usd + self.maintenance_usd


def fleet_footprint(fleet, duration_days, grid=None, utilization=None, stack="textbook") -> FleetFootprint:
    """Energy, carbon, water and cost of ``fleet`` (a Fleet, a Node or one HardwareNode) run for ``duration_days``
    on ``grid`` (a grid or datacenter record or name; default the US average) by the first-order ``stack``'s site
    rules: its accelerators alone at ``TDP x (idle + (1 - idle) x utilization)``, times PUE for the facility, the
    grid's carbon intensity and WUE from the profile's grid table (this zoo's figures for a grid it does not list),
    capex over its amortization period plus yearly maintenance, energy at its price."""
    from ..execution import execution_profile
    from ..infra.registry import Infra
    from ..infra.types import Datacenter

    fo = execution_profile(stack).first_order
    if fo is None or fo.site is None:
        raise InputError(f"stack '{stack}' has no first-order site rules (use stack='textbook')")
    site = fo.site
    days = float(duration_days)
    if not days > 0:
        raise InputError(f"duration_days must be positive, got {duration_days!r}")
    u = site.utilization if utilization is None else float(utilization)
    if not 0.0 <= u <= 1.0:
        raise InputError(f"utilization must be between 0 and 1, got {utilization!r}")
    node = getattr(fleet, "node", None)
    if node is not None:
        acc, n = node.accelerator, int(fleet.total_accelerators)
    elif getattr(fleet, "accelerator", None) is not None:
        acc, n = fleet.accelerator, int(fleet.accelerators_per_node)
    else:
        acc, n = fleet, 1
    place = grid if grid is not None else "US_Avg"
    if isinstance(place, str):
        place = Infra.Datacenters.get(place) if place not in Infra.Grids and place in Infra.Datacenters else \
            Infra.Grids.get(place)
    dc_pue = float(place.pue) if isinstance(place, Datacenter) else None
    g = place.grid if isinstance(place, Datacenter) else place
    pue, carbon, wue = site.grid(Infra.Grids.key_of(g)) or (float(g.pue), float(g.carbon_intensity_g_kwh),
                                                           float(g.wue))
    pue = dc_pue or pue
    tdp = float(acc.tdp) if acc.tdp else 700.0            # 0.1.0: an H100's TDP for a device without one
    idle = fo.idle_power_fraction
    it_w = tdp * (idle + (1.0 - idle) * u) * n
    it_kwh = it_w * days * 24.0 / 1000.0
    facility = it_kwh * pue
    price = float(acc.unit_cost) if acc.unit_cost else site.unit_cost_usd
    capex = price * n
    return FleetFootprint(
        region_name=g.name, pue=pue, carbon_intensity_g_kwh=carbon, duration_days=days, accelerators=n,
        utilization=u, it_power_w=it_w, it_energy_kwh=it_kwh, total_energy_kwh=facility,
        carbon_footprint_kg=facility * carbon / 1000.0, water_usage_liters=facility * wue,
        capex_usd=capex / site.amortization_years * days / 365.0, energy_cost_usd=facility * site.kwh_price_usd,
        maintenance_usd=capex * site.maintenance_per_year * days / 365.0)


__all__ = ["FirstOrderStep", "FleetFootprint", "fleet_footprint"]
