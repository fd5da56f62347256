"""0.1.0's formula names (``calc_*``), over the formula library :mod:`mlsysim.formulas`.

The textbook computes its inline numbers with these names, so each keeps 0.1.0's parameter names
and the kind of value it returned (a pint Quantity, a float, a tuple or a dict). As in 0.1.0, a
plain number stands for the unit its parameter's name gives (``latency_s`` seconds,
``component_mtbf_hours`` hours, ``bandwidth_bytes_s`` bytes/s ...); a Quantity of the wrong
dimension raises :class:`~mlsysim.errors.UnitError` naming the parameter. The equations, their
sources and their SI cores are in :mod:`mlsysim.formulas`; nothing is computed here.

Two results differ from 0.1.0 on purpose: the hierarchical all-reduce's intra-node phases are a
reduce-scatter and an all-gather (0.1.0 charged a whole ring all-reduce for each), and activation
memory follows Korthikanti et al. (2023), Table 2 (selective recompute 34·sbh per layer without
tensor parallelism, not 10; the 5·a·s/h attention term when ``n_heads`` is given and nothing is
recomputed).
"""
from __future__ import annotations

import math

from .. import formulas as _f
from ..errors import InputError, UnitError
from ..formulas._check import _DIM, result, si
from ..units import SIValue, to_si, unit_factor

#: pint's year (365.25 days), the unit 0.1.0 read a plain ``years`` in
_JULIAN_YEAR_S = 365.25 * 86400.0


class MixedUnitsError(UnitError, TypeError):
    """One argument has units and its partner does not (0.1.0 raised a TypeError here)."""


_KIND_OF = {dim: kind for kind, dim in _DIM.items()}


def _u(value, unit: str, name: str):
    """A plain number read in ``unit`` (0.1.0's convention), or a quantity checked under 0.1.0's parameter name."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return SIValue(to_si(float(value), unit), unit)
    return SIValue(si(value, _KIND_OF[unit_factor(unit)[1]], name), unit)    # an SIValue holds SI in any unit


def _at_least(value, minimum, name):
    if value < minimum:
        raise InputError(f"{name} must be >= {minimum}, got {value}")


def _collective(message_bytes, n_gpus, bandwidth_bytes_s, latency_s):
    _at_least(n_gpus, 1, "n_gpus")
    return (_u(message_bytes, "B", "message_bytes"), n_gpus, _u(bandwidth_bytes_s, "B/s", "bandwidth_bytes_s"),
            _u(latency_s, "s", "latency_s"))


# --- network --------------------------------------------------------------------------------------
def calc_network_latency_ms(distance_km):
    """Round trip over fiber, in milliseconds (a float): 2d / (c/1.5)."""
    return _f.network_latency(_u(distance_km, "km", "distance_km")).m_as("ms")


def calc_ring_allreduce_time(message_bytes, n_gpus, bandwidth_bytes_s, latency_s):
    """Ring all-reduce time, 2(N−1)/N · M/β + 2(N−1)·α, as a Quantity in seconds."""
    return _f.ring_all_reduce_time(*_collective(message_bytes, n_gpus, bandwidth_bytes_s, latency_s))


def calc_tree_allreduce_time(message_bytes, n_gpus, bandwidth_bytes_s, latency_s):
    """Binary-tree all-reduce time, 2⌈log₂N⌉·(M/β + α), as a Quantity in seconds."""
    return _f.tree_all_reduce_time(*_collective(message_bytes, n_gpus, bandwidth_bytes_s, latency_s))


def calc_all_to_all_time(message_bytes, n_gpus, bandwidth_bytes_s, latency_s):
    """All-to-all time, (N−1)/N · M/β + (N−1)·α, as a Quantity in seconds."""
    return _f.all_to_all_time(*_collective(message_bytes, n_gpus, bandwidth_bytes_s, latency_s))


def calc_hierarchical_allreduce_time(message_bytes, n_nodes, gpus_per_node, intra_node_bw, inter_node_bw,
                                     intra_node_lat="500 ns", inter_node_lat="5 us"):
    """Hierarchical all-reduce (intra-node reduce-scatter, inter-node ring, intra-node all-gather), seconds."""
    return _f.hierarchical_all_reduce_time(
        _u(message_bytes, "B", "message_bytes"), gpus_per_node, n_nodes, _u(intra_node_bw, "B/s", "intra_node_bw"),
        _u(inter_node_bw, "B/s", "inter_node_bw"),
        _u(intra_node_lat, "s", "intra_node_lat"), _u(inter_node_lat, "s", "inter_node_lat"))


# --- compute and training ---------------------------------------------------------------------------
def calc_training_time(total_ops, num_devices, peak_flops_per_device, efficiency_eta):
    """Training time C / (n·peak·η), as a Quantity in seconds."""
    _at_least(num_devices, 1, "num_devices")
    return _f.training_time(_u(total_ops, "FLOP", "total_ops"), num_devices,
                            _u(peak_flops_per_device, "FLOP/s", "peak_flops_per_device"), efficiency_eta)


#: 0.1.0's first name for :func:`calc_training_time`
dTime = calc_training_time  # noqa: N816 - 0.1.0's spelling


def calc_training_time_days(total_ops, num_devices, peak_flops_per_device, efficiency_eta):
    """Training time in days (a float)."""
    return calc_training_time(total_ops, num_devices, peak_flops_per_device, efficiency_eta).m_as("day")


def calc_transformer_training_flops(n_params, n_tokens):
    """6·N·D, as a Quantity in FLOPs."""
    return _f.training_flops(n_params, n_tokens)


def calc_pipeline_bubble(n_stages, n_microbatches, v_stages=1):
    """Pipeline bubble fraction (P − 1)/(V·M + P − 1), a float."""
    return float(_f.pipeline_bubble(n_stages, n_microbatches, v_stages))


def calc_effective_flops(peak_flops, mfu, scaling_eff, goodput_ratio):
    """Peak · MFU · η · goodput, as a Quantity in FLOP/s."""
    return _f.effective_flops(_u(peak_flops, "FLOP/s", "peak_flops"), mfu, scaling_eff, goodput_ratio)


def calc_bottleneck(ops, model_bytes, device_flops, device_bw):
    """Roofline verdict as 0.1.0's dict: compute_ms, memory_ms, bottleneck, ratio, intensity."""
    r = _f.roofline_bottleneck(_u(ops, "FLOP", "ops"), _u(model_bytes, "B", "model_bytes"),
                               _u(device_flops, "FLOP/s", "device_flops"), _u(device_bw, "B/s", "device_bw"))
    t_c, t_m = r["compute_time"].m_as("ms"), r["memory_time"].m_as("ms")
    if t_c < 1e-15:
        return {"compute_ms": 0.0, "memory_ms": t_m, "bottleneck": "Memory", "ratio": math.inf, "intensity": 0.0}
    if t_m < 1e-15:
        return {"compute_ms": t_c, "memory_ms": 0.0, "bottleneck": "Compute", "ratio": math.inf,
                "intensity": math.inf}
    return {"compute_ms": t_c, "memory_ms": t_m, "bottleneck": r["bottleneck"], "ratio": r["ratio"],
            "intensity": r["intensity"]}


def calc_amdahls_speedup(p, s):
    """Amdahl's law 1 / ((1 − p) + p/s), a float."""
    return float(_f.amdahl_speedup(p, s))


# --- memory ----------------------------------------------------------------------------------------
def model_memory(params, bytes_per_param, unit="MB"):
    """Weights' footprint N · bytes per parameter, as a float in ``unit`` (default MB)."""
    return _f.weights_size(params, _u(bytes_per_param, "B", "bytes_per_param")).m_as(unit)


def calc_activation_memory(n_layers, seq_len, batch_size, hidden_dim, n_heads=None, precision_bytes=1,
                           strategy="selective"):
    """Activation memory (Korthikanti et al. 2023), as a Quantity in bytes."""
    return _f.activation_memory(n_layers, seq_len, batch_size, hidden_dim, heads=n_heads, strategy=strategy,
                                precision_bytes=precision_bytes)


def calc_checkpoint_size(n_params, bytes_per_param=14):
    """Checkpoint N · bytes per parameter (14: mixed-precision Adam), as a Quantity in bytes."""
    return _f.checkpoint_size(n_params, _u(bytes_per_param, "B", "bytes_per_param"))


def calc_kv_cache_size(n_layers, n_heads, head_dim, seq_len, batch_size, bytes_per_elem=2, kv_precision_bytes=None):
    """KV cache 2·L·H·D·S·B·bytes, as a Quantity in bytes (``kv_precision_bytes`` overrides the width)."""
    if kv_precision_bytes is not None:
        return _f.kv_cache_size(n_layers, n_heads, head_dim, seq_len, batch_size,
                                _check_bytes(kv_precision_bytes, "kv_precision_bytes"))
    return _f.kv_cache_size(n_layers, n_heads, head_dim, seq_len, batch_size,
                            _check_bytes(bytes_per_elem, "bytes_per_elem"))


def calc_paged_kv_cache_size(n_layers, n_heads, head_dim, seq_len, batch_size, page_size_tokens=16,
                             bytes_per_elem=2):
    """PagedAttention KV cache: (Quantity in bytes, fraction of the last pages left empty)."""
    size = _f.paged_kv_cache_size(n_layers, n_heads, head_dim, seq_len, batch_size,
                                  _check_bytes(bytes_per_elem, "bytes_per_elem"), page_size_tokens)
    return size, _f.page_fragmentation(seq_len, page_size_tokens)


def _check_bytes(value, name):
    """Bytes per element under its own name (so an error names the parameter the caller used)."""
    return _u(value, "B", name)


# --- reliability -----------------------------------------------------------------------------------
def calc_young_daly_interval(checkpoint_cost_s, mtbf_s):
    """Young's optimum interval √(2·δ·MTBF), as a Quantity in seconds."""
    mtbf = _u(mtbf_s, "s", "mtbf_s")
    if mtbf <= 0:
        raise InputError(f"mtbf_s must be positive, got {mtbf_s}")
    return _f.young_daly_interval(_u(checkpoint_cost_s, "s", "checkpoint_cost_s"), mtbf)


def calc_mtbf_cluster(component_mtbf_hours, n_components, correlation_factor=1.0):
    """MTBF/N · k, as a Quantity in hours."""
    mtbf = _u(component_mtbf_hours, "h", "component_mtbf_hours")
    if mtbf <= 0:
        raise InputError(f"component_mtbf_hours must be positive, got {component_mtbf_hours}")
    return _f.cluster_mtbf(mtbf, n_components, correlation_factor)


def calc_mtbf_node(gpu_mtbf_h, n_gpus, nic_mtbf_h, n_nics, psu_mtbf_h, n_psus, other_mtbf_h=None, n_other=0):
    """1 / Σ nᵢ/MTBFᵢ over GPUs, NICs, PSUs (and another part), as a Quantity in hours."""
    def read(value, name):
        mtbf = _u(value, "h", name)
        if mtbf <= 0:
            raise InputError(f"{name} must be positive, got {value}")
        return mtbf

    parts = [(n_gpus, read(gpu_mtbf_h, "gpu_mtbf_h")), (n_nics, read(nic_mtbf_h, "nic_mtbf_h")),
             (n_psus, read(psu_mtbf_h, "psu_mtbf_h"))]
    if other_mtbf_h is not None and n_other > 0:
        parts.append((n_other, read(other_mtbf_h, "other_mtbf_h")))
    return _f.node_mtbf(parts)


def calc_failure_probability(mtbf, job_duration):
    """1 − e^(−T/MTBF), a float. Both arguments Quantities (any time units), or both plain numbers in the
    same unit; one of each is ambiguous and raises (a TypeError, as in 0.1.0)."""
    has = [hasattr(x, "units") or isinstance(x, (str, SIValue)) for x in (mtbf, job_duration)]
    if has[0] != has[1]:
        raise MixedUnitsError("calc_failure_probability: give both mtbf and job_duration with units, or both as "
                              "plain numbers in the same unit")
    if not has[0]:
        mtbf, job_duration = _u(mtbf, "h", "mtbf"), _u(job_duration, "h", "job_duration")
    return float(_f.failure_probability(mtbf, job_duration))


def calc_availability_stacked(single_availability, n_replicas):
    """1 − (1 − A)^k, a float."""
    return float(_f.availability_stacked(single_availability, n_replicas))


# --- queueing and economics ------------------------------------------------------------------------
def calc_queue_latency_mmc(arrival_rate_hz, service_rate_hz, num_servers):
    """M/M/c through Erlang C: (utilization, P50 wait, P99 wait), the waits Quantities in seconds.

    An unstable queue (λ ≥ cμ) gives (1.0, inf s, inf s) as in 0.1.0."""
    lam, mu = _u(arrival_rate_hz, "Hz", "arrival_rate_hz"), _u(service_rate_hz, "Hz", "service_rate_hz")
    if float(mu) == 0 or float(lam) >= max(1, int(num_servers)) * float(mu):
        return 1.0, result(math.inf, "time"), result(math.inf, "time")
    q = _f.mmc_queue(lam, mu, max(1, int(num_servers)))
    return q["utilization"], q["p50_wait"], q["p99_wait"]


def calc_fleet_tco(unit_cost, power_w, quantity, years, kwh_price):
    """Capex + energy opex of ``quantity`` units over ``years``, in USD (a float)."""
    years = SIValue(float(years) * _JULIAN_YEAR_S, "s") if isinstance(years, (int, float)) else years
    return _f.fleet_tco(_u(unit_cost, "USD", "unit_cost"), _u(power_w, "W", "power_w"), quantity, years,
                        _u(kwh_price, "USD/kWh", "kwh_price")).m_as("USD")


def calc_monthly_egress_cost(bytes_per_sec, cost_per_gb):
    """Egress bill of a steady ``bytes_per_sec`` for a 30-day month, in USD (a float)."""
    return _f.monthly_egress_cost(_u(bytes_per_sec, "B/s", "bytes_per_sec"),
                                  _u(cost_per_gb, "USD/GB", "cost_per_gb")).m_as("USD")


__all__ = ["MixedUnitsError", "calc_activation_memory", "calc_all_to_all_time", "calc_amdahls_speedup",
           "calc_availability_stacked", "calc_bottleneck", "calc_checkpoint_size", "calc_effective_flops",
           "calc_failure_probability", "calc_fleet_tco", "calc_hierarchical_allreduce_time", "calc_kv_cache_size",
           "calc_monthly_egress_cost", "calc_mtbf_cluster", "calc_mtbf_node", "calc_network_latency_ms",
           "calc_paged_kv_cache_size", "calc_pipeline_bubble", "calc_queue_latency_mmc", "calc_ring_allreduce_time",
           "calc_training_time", "calc_training_time_days", "calc_transformer_training_flops",
           "calc_tree_allreduce_time", "calc_young_daly_interval", "dTime", "model_memory"]
