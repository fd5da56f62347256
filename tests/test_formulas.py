"""The formula library (``mlsysim.formulas``) and 0.1.0's ``calc_*`` names over it (``mlsysim.core.formulas``).

Known answers are worked by hand in each test's comment; properties check the direction every formula
must move in; a wrong dimension is refused naming the argument; and the solvers' figures equal the
formulas' (they call the same SI cores), so the book and the solvers cannot drift apart.
"""
from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from mlsysim import Models, Systems
from mlsysim import formulas as F
from mlsysim.core import formulas as C
from mlsysim.errors import InputError, UnitError
from mlsysim.formulas import memory, network, queueing, reliability, training
from mlsysim.units import Q_, SIValue

HOUR = 3600.0


def s(q):
    """A Quantity's magnitude in seconds."""
    return q.m_as("second")


# --- known answers, by hand ------------------------------------------------------------------------
def test_ring_all_reduce_by_hand():
    # 1 GB on 8 ranks at 50 GB/s, α = 500 ns: 2·7/8·(1e9/50e9) + 2·7·500e-9 = 0.035 + 7e-6
    assert s(F.ring_all_reduce_time("1 GB", 8, Q_(50, "GB/s"), Q_(500, "ns"))) == pytest.approx(0.035007)
    assert s(F.ring_all_reduce_time("1 GB", 1, "50 GB/s", "1 us")) == 0.0          # one rank: nothing to do


def test_tree_and_double_tree_by_hand():
    # 6 ranks: ⌈log₂6⌉ = 3 hops each way; 1 GB at 50 GB/s is 0.02 s a hop, α = 1 µs
    assert s(F.tree_all_reduce_time("1 GB", 6, "50 GB/s", "1 us")) == pytest.approx(6 * (0.02 + 1e-6))
    assert s(F.double_tree_all_reduce_time("1 GB", 6, "50 GB/s", "1 us")) == pytest.approx(2 * 5 / 6 * 0.02 + 6e-6)


def test_reduce_scatter_all_gather_all_to_all_point_to_point_by_hand():
    # 1 GB on 4 ranks at 100 GB/s, no latency: 3/4 · 0.01 s
    for f in (F.reduce_scatter_time, F.all_gather_time, F.all_to_all_time):
        assert s(f("1 GB", 4, "100 GB/s")) == pytest.approx(0.0075)
    assert s(F.all_to_all_time("1 GB", 4, "100 GB/s", "10 us")) == pytest.approx(0.0075 + 3e-5)
    assert s(F.point_to_point_time("1 MB", "10 GB/s", "2 us")) == pytest.approx(1e-4 + 2e-6)


def test_hierarchical_all_reduce_by_hand():
    # 8 GPUs x 4 nodes: 2 x reduce-scatter inside (7/8·1e9/450e9 + 7·500 ns), then a ring of
    # 1e9/8 across 4 nodes (2·3/4·1.25e8/50e9 + 6·5 µs)
    inside = 7 / 8 * 1e9 / 450e9 + 7 * 500e-9
    across = 2 * 3 / 4 * 1.25e8 / 50e9 + 6 * 5e-6
    t = F.hierarchical_all_reduce_time("1 GB", 8, 4, "450 GB/s", "50 GB/s", "500 ns", "5 us")
    assert s(t) == pytest.approx(2 * inside + across)


def test_network_latency_by_hand():
    # 1000 km there and back at 200,000 km/s: 10 ms
    assert F.network_latency(Q_(1000, "km")).m_as("ms") == pytest.approx(10.0)


def test_reliability_by_hand():
    # Young: √(2 · 60 s · 36,000 s) = √4.32e6 = 2078.46 s
    assert s(F.young_daly_interval("60 s", Q_(10, "hour"))) == pytest.approx(math.sqrt(2 * 60 * 36000))
    x = 60 / (2 * 36000)
    assert s(F.daly_interval("60 s", "10 h")) == pytest.approx(math.sqrt(4.32e6) * (1 + math.sqrt(x) / 3 + x / 9) - 60)
    # node: 8/50,000 + 8/1e6 + 2/1e5 = 1.88e-4 failures/h -> 5319.15 h
    node = F.node_mtbf([(8, "50000 h"), (8, "1e6 h"), (2, "1e5 h")])
    assert node.m_as("hour") == pytest.approx(1 / 1.88e-4)
    assert F.cluster_mtbf("1000 h", 100).m_as("hour") == pytest.approx(10.0)
    assert F.cluster_mtbf("1000 h", 100, 0.5).m_as("hour") == pytest.approx(5.0)
    # 14 days against a 50 h MTBF: 1 - e^(-336/50) = 0.998793
    assert F.failure_probability(Q_(50, "hour"), Q_(14, "day")) == pytest.approx(1 - math.exp(-6.72))
    assert F.availability_stacked(0.99, 3) == pytest.approx(0.999999)
    assert F.checkpoint_goodput("60 s", "3600 s", "300 s", "100 h") == pytest.approx(1 - 60 / 3600 - 300 / 360000)
    # Daly's wall time: M e^{R/M} (e^{(τ+δ)/M} - 1) W/τ
    m, r, tau, d, w = 36000.0, 300.0, 2000.0, 60.0, 1e6
    want = m * math.exp(r / m) * (math.exp((tau + d) / m) - 1) * w / tau
    assert s(F.daly_wall_time(f"{w} s", f"{tau} s", f"{d} s", f"{m} s", f"{r} s")) == pytest.approx(want)


def test_memory_by_hand():
    # Llama 3 8B: 2 · 32 layers · 8 KV heads · 128 · 4096 tokens · 1 · 2 B = 536,870,912 B
    assert F.kv_cache_size(32, 8, 128, 4096, 1, "2 B").m_as("byte") == 536_870_912
    # 17 tokens in 16-token pages hold 32 token slots; 15 of 32 empty
    assert F.paged_kv_cache_size(1, 1, 1, 17, 1, "1 B", 16).m_as("byte") == 2 * 32
    assert F.page_fragmentation(17, 16) == pytest.approx(15 / 32)
    assert F.page_fragmentation(4096, 16) == 0.0
    # Korthikanti et al. Table 2 at L = 32, s = 2048, b = 1, h = 4096, a = 32: sbh·(34 + 5·32·2048/4096 = 114),
    # selective sbh·34, full sbh·2
    sbh = 32 * 2048 * 4096
    assert F.activation_memory(32, 2048, 1, 4096, heads=32, strategy="none").m_as("byte") == 114 * sbh
    assert F.activation_memory(32, 2048, 1, 4096).m_as("byte") == 34 * sbh
    assert F.activation_memory(32, 2048, 1, 4096, strategy="full").m_as("byte") == 2 * sbh
    assert F.activation_memory(32, 2048, 1, 4096, tensor_parallel=8).m_as("byte") == pytest.approx(13 * sbh)
    # 8e9 parameters x 14 B (mixed-precision Adam) = 112 GB
    assert F.checkpoint_size(Q_(8e9, "param")).m_as("GB") == pytest.approx(112.0)
    assert F.weights_size(25.6e6, "4 B").m_as("MB") == pytest.approx(102.4)


def test_erlang_c_by_hand():
    # c = 3 servers, a = 2 Erlangs: Σ_{k<3} aᵏ/k! = 1 + 2 + 2 = 5; a³/3! · 3/(3-2) = 4; C = 4/9
    assert F.erlang_c(2, 3) == pytest.approx(4 / 9)
    # Erlang B(2, 2) = (4/2) / (1 + 2 + 2) = 0.4
    assert F.erlang_b(2, 2) == pytest.approx(0.4)


def test_mmc_queue_by_hand():
    # λ = 10/s, μ = 4/s, c = 3: a = 2.5, Σ_{k<3} = 1 + 2.5 + 3.125 = 6.625, a³/3!·3/0.5 = 15.625,
    # C = 15.625/22.25; the wait beyond 0 is exponential at cμ - λ = 2/s
    pw = 15.625 / 22.25
    q = F.mmc_queue("10 Hz", "4 Hz", 3)
    assert q["utilization"] == pytest.approx(10 / 12)
    assert q["wait_probability"] == pytest.approx(pw)
    assert s(q["mean_wait"]) == pytest.approx(pw / 2)
    assert s(q["p50_wait"]) == pytest.approx(math.log(pw / 0.5) / 2)
    assert s(q["p99_wait"]) == pytest.approx(math.log(pw / 0.01) / 2)
    assert math.isinf(s(F.mmc_queue("20 Hz", "4 Hz", 3)["p99_wait"]))


def test_compute_and_economics_by_hand():
    assert F.amdahl_speedup(0.9, 10) == pytest.approx(1 / (0.1 + 0.09))
    assert F.training_flops(8e9, 15e12).m_as("FLOP") == pytest.approx(7.2e23)
    # 1e21 FLOP on 8 x 989 TFLOP/s at 40%: 1e21 / 3.1648e15 s
    assert s(F.training_time("1e21 FLOP", 8, "989 TFLOPS", 0.4)) == pytest.approx(1e21 / (8 * 989e12 * 0.4))
    assert F.pipeline_bubble(8, 32) == pytest.approx(7 / 39)
    assert F.pipeline_bubble(8, 32, 2) == pytest.approx(7 / 71)
    assert F.effective_flops("1 EFLOPS", 0.4, 0.9, 0.95).m_as("FLOP/s") == pytest.approx(3.42e17)
    r = F.roofline_bottleneck("16 GFLOP", "16 GB", "989 TFLOPS", "3.35 TB/s")
    assert r["bottleneck"] == "Memory" and r["intensity"] == pytest.approx(1.0)
    assert s(r["memory_time"]) == pytest.approx(16e9 / 3.35e12) and s(r["compute_time"]) == pytest.approx(16e9 / 989e12)
    # 8 x $30,000 + 8 x 700 W x 26,280 h x $0.12/kWh = 240,000 + 17,660.16
    tco = F.fleet_tco("30000 USD", "700 W", 8, "26280 h", "0.12 USD/kWh")
    assert tco.m_as("USD") == pytest.approx(257_660.16)
    # 1 GB/s for 30 days = 2,592,000 GB at $0.09
    assert F.monthly_egress_cost("1 GB/s", "0.09 USD/GB").m_as("USD") == pytest.approx(233_280.0)


# --- properties ------------------------------------------------------------------------------------
BW = np.geomspace(1e9, 1e12, 25)


@pytest.mark.parametrize("core", [network.ring_all_reduce_si, network.tree_all_reduce_si,
                                  network.double_tree_all_reduce_si, network.reduce_scatter_si,
                                  network.all_to_all_si])
def test_more_bandwidth_is_never_slower(core):
    for n in (2, 8, 64, 1000):
        t = core(1e8, n, BW, 5e-6)
        assert np.all(np.diff(t) <= 0)
        assert np.all(np.diff(core(1e8, n, 1e11, np.geomspace(1e-9, 1e-3, 10))) >= 0)   # more latency: never faster


def test_hierarchical_more_bandwidth_is_never_slower():
    t = network.hierarchical_all_reduce_si(1e9, 8, 16, BW, 50e9, 5e-7, 5e-6)
    u = network.hierarchical_all_reduce_si(1e9, 8, 16, 450e9, BW, 5e-7, 5e-6)
    assert np.all(np.diff(t) <= 0) and np.all(np.diff(u) <= 0)


def test_more_mtbf_never_more_failures():
    mtbf = np.geomspace(1.0, 1e6, 40) * HOUR
    p = reliability.failure_probability_si(mtbf, 30 * 24 * HOUR)
    assert np.all(np.diff(p) <= 0) and np.all((p >= 0) & (p <= 1))
    assert np.all(np.diff(reliability.young_daly_interval_si(60.0, mtbf)) > 0)
    assert np.all(np.diff(reliability.cluster_mtbf_si(1e5, np.arange(1, 50))) < 0)   # more parts, fail sooner


def test_queue_and_memory_directions():
    c = np.arange(3, 40)
    assert np.all(np.diff(queueing.erlang_c_si(2.5, c)) <= 0)              # more servers, less waiting
    assert np.all(np.diff(queueing.erlang_c_si(np.linspace(0.1, 2.9, 30), 3)) >= 0)
    assert np.all(np.diff(memory.kv_cache_si(32, 8, 128, np.arange(1, 100), 1, 2)) > 0)
    assert np.all(np.diff(training.pipeline_bubble_si(8, np.arange(1, 64))) < 0)   # more microbatches, less bubble
    assert np.all(np.diff([F.amdahl_speedup(0.95, k) for k in (1, 2, 4, 8, 16)]) > 0)


def test_public_and_core_agree_on_arrays():
    t = F.ring_all_reduce_time(Q_(np.array([1.0, 2.0]), "GB"), 8, "100 GB/s")
    assert np.allclose(t.m_as("s"), network.ring_all_reduce_si(np.array([1e9, 2e9]), 8, 100e9))


# --- units ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, name, kind", [
    (lambda: F.ring_all_reduce_time("1 GB", 8, Q_(3, "second")), "bandwidth", "data rate"),
    (lambda: F.ring_all_reduce_time("1 GB", 8, 3), "bandwidth", "data rate"),
    (lambda: F.ring_all_reduce_time(Q_(1, "GB/s"), 8, "50 GB/s"), "message", "data size"),
    (lambda: F.ring_all_reduce_time("1 GB", 8, "50 GB/s", "5 GB"), "latency", "time"),
    (lambda: F.young_daly_interval("60 s", Q_(3, "GB")), "mtbf", "time"),
    (lambda: F.young_daly_interval(60, "10 h"), "checkpoint_time", "time"),
    (lambda: F.kv_cache_size(32, 8, 128, 4096, 1, Q_(2, "s")), "bytes_per_elem", "data size"),
    (lambda: F.mmc_queue("10 s", "4 Hz", 3), "arrival_rate", "rate"),
    (lambda: F.training_time("1e21 FLOP", 8, "989 GB/s", 0.4), "peak_flops", "compute rate"),
    (lambda: F.fleet_tco("30000 USD", "700 J", 8, "3 year", "0.12 USD/kWh"), "power", "power"),
    (lambda: F.monthly_egress_cost("1 GB/s", "0.09 USD"), "price_per_gb", "data price"),
    (lambda: F.network_latency("10 ms"), "distance", "length"),
])
def test_a_wrong_unit_names_the_argument(call, name, kind):
    with pytest.raises(UnitError) as err:
        call()
    assert str(err.value).startswith(f"{name} must be a{'n' if kind[0] in 'aeiou' else ''} {kind} (e.g. ")
    assert isinstance(err.value, InputError)


def test_the_briefs_message_and_counts_refuse_units():
    with pytest.raises(UnitError, match=r"^bandwidth must be a data rate \(e\.g\. '400 GB/s'\), got 3 s"):
        F.ring_all_reduce_time("1 GB", 8, Q_(3, "second"))
    with pytest.raises(UnitError, match="ranks"):
        F.ring_all_reduce_time("1 GB", "8 s", "50 GB/s")
    with pytest.raises(InputError, match="parallel_fraction"):
        F.amdahl_speedup(1.5, 2)
    with pytest.raises(InputError, match="strategy"):
        F.activation_memory(1, 1, 1, 1, strategy="half")


def test_quantities_of_any_spelling_are_read():
    a = F.ring_all_reduce_time(Q_(1, "GiB"), 8, Q_(400, "Gbit/s"), SIValue(5e-6, "us"))
    assert s(a) == pytest.approx(2 * 7 / 8 * 2**30 / 50e9 + 14 * 5e-6)
    assert s(F.young_daly_interval(Q_(1, "minute"), Q_(1, "year"))) == pytest.approx(math.sqrt(2 * 60 * 365.25 * 86400))


def test_every_public_formula_has_its_core():
    for name in F.__all__:
        f = getattr(F, name)
        if callable(f):
            assert callable(f.si), name


# --- 0.1.0's calc_* names --------------------------------------------------------------------------
V010 = {  # 0.1.0's parameter names, in order (its core/formulas.py)
    "calc_network_latency_ms": ["distance_km"],
    "calc_training_time": ["total_ops", "num_devices", "peak_flops_per_device", "efficiency_eta"],
    "dTime": ["total_ops", "num_devices", "peak_flops_per_device", "efficiency_eta"],
    "calc_training_time_days": ["total_ops", "num_devices", "peak_flops_per_device", "efficiency_eta"],
    "calc_amdahls_speedup": ["p", "s"],
    "calc_monthly_egress_cost": ["bytes_per_sec", "cost_per_gb"],
    "calc_fleet_tco": ["unit_cost", "power_w", "quantity", "years", "kwh_price"],
    "calc_bottleneck": ["ops", "model_bytes", "device_flops", "device_bw"],
    "model_memory": ["params", "bytes_per_param", "unit"],
    "calc_ring_allreduce_time": ["message_bytes", "n_gpus", "bandwidth_bytes_s", "latency_s"],
    "calc_tree_allreduce_time": ["message_bytes", "n_gpus", "bandwidth_bytes_s", "latency_s"],
    "calc_all_to_all_time": ["message_bytes", "n_gpus", "bandwidth_bytes_s", "latency_s"],
    "calc_transformer_training_flops": ["n_params", "n_tokens"],
    "calc_activation_memory": ["n_layers", "seq_len", "batch_size", "hidden_dim", "n_heads", "precision_bytes",
                               "strategy"],
    "calc_hierarchical_allreduce_time": ["message_bytes", "n_nodes", "gpus_per_node", "intra_node_bw",
                                         "inter_node_bw", "intra_node_lat", "inter_node_lat"],
    "calc_young_daly_interval": ["checkpoint_cost_s", "mtbf_s"],
    "calc_mtbf_cluster": ["component_mtbf_hours", "n_components", "correlation_factor"],
    "calc_mtbf_node": ["gpu_mtbf_h", "n_gpus", "nic_mtbf_h", "n_nics", "psu_mtbf_h", "n_psus", "other_mtbf_h",
                       "n_other"],
    "calc_pipeline_bubble": ["n_stages", "n_microbatches", "v_stages"],
    "calc_checkpoint_size": ["n_params", "bytes_per_param"],
    "calc_kv_cache_size": ["n_layers", "n_heads", "head_dim", "seq_len", "batch_size", "bytes_per_elem",
                           "kv_precision_bytes"],
    "calc_availability_stacked": ["single_availability", "n_replicas"],
    "calc_failure_probability": ["mtbf", "job_duration"],
    "calc_effective_flops": ["peak_flops", "mfu", "scaling_eff", "goodput_ratio"],
    "calc_paged_kv_cache_size": ["n_layers", "n_heads", "head_dim", "seq_len", "batch_size", "page_size_tokens",
                                 "bytes_per_elem"],
    "calc_queue_latency_mmc": ["arrival_rate_hz", "service_rate_hz", "num_servers"],
}


@pytest.mark.parametrize("name", sorted(V010))
def test_calc_keeps_010_parameter_names(name):
    assert list(inspect.signature(getattr(C, name)).parameters) == V010[name]


def test_calc_matches_the_recorded_010_api():
    import json
    from pathlib import Path

    api = json.loads((Path(__file__).parent / "data" / "v010_api.json").read_text(encoding="utf-8"))
    for name, params in api["modules"]["mlsysim.core.formulas"]["signatures"].items():
        assert list(inspect.signature(getattr(C, name)).parameters) == params, name


def test_calc_answers_010_keyword_calls_with_010_kinds():
    """Each with 0.1.0's keywords and plain numbers in the units its names give; figures as 0.1.0 gave them."""
    assert C.calc_network_latency_ms(distance_km=1000) == pytest.approx(10.0)
    t = C.calc_training_time(total_ops=Q_(1e21, "FLOP"), num_devices=8, peak_flops_per_device=Q_(989e12, "FLOP/s"),
                             efficiency_eta=0.4)
    assert t.m_as("s") == pytest.approx(1e21 / (8 * 989e12 * 0.4)) and C.dTime is C.calc_training_time
    assert C.calc_training_time_days(1e21, 8, 989e12, 0.4) == pytest.approx(t.m_as("s") / 86400)
    assert C.calc_amdahls_speedup(p=0.9, s=10) == pytest.approx(5.2631578947)
    assert C.calc_monthly_egress_cost(bytes_per_sec=1e9, cost_per_gb=0.09) == pytest.approx(233_280.0)
    # years read as pint's (Julian) years, as 0.1.0 did
    assert C.calc_fleet_tco(unit_cost=30000, power_w=700, quantity=8, years=3, kwh_price=0.12) == \
        pytest.approx(240_000 + 8 * 0.7 * 3 * 8766 * 0.12)
    b = C.calc_bottleneck(ops=Q_(16e9, "FLOP"), model_bytes=Q_(16e9, "byte"), device_flops=Q_(989e12, "FLOP/s"),
                          device_bw=Q_(3.35e12, "byte/s"))
    assert b["bottleneck"] == "Memory" and b["memory_ms"] == pytest.approx(4.776119402985075)
    assert b["ratio"] == pytest.approx(295.2238806)
    assert C.model_memory(params=25.6e6, bytes_per_param=4) == pytest.approx(102.4)
    ring = C.calc_ring_allreduce_time(message_bytes=1e9, n_gpus=8, bandwidth_bytes_s=50e9, latency_s=500e-9)
    assert ring.m_as("s") == pytest.approx(0.035007)
    assert C.calc_tree_allreduce_time(1e9, 6, 50e9, 1e-6).m_as("s") == pytest.approx(0.120006)
    assert C.calc_all_to_all_time(1e9, 8, 50e9, 500e-9).m_as("s") == pytest.approx(0.0175035)
    assert C.calc_transformer_training_flops(n_params=Q_(8e9, "param"), n_tokens=15e12).m_as("FLOP") == 7.2e23
    assert C.calc_activation_memory(n_layers=32, seq_len=2048, batch_size=1, hidden_dim=4096,
                                    strategy="full").m_as("byte") == 2 * 32 * 2048 * 4096
    h = C.calc_hierarchical_allreduce_time(message_bytes=1e9, n_nodes=4, gpus_per_node=8, intra_node_bw=450e9,
                                           inter_node_bw=50e9)
    assert h.m_as("s") == pytest.approx(2 * (7 / 8 * 1e9 / 450e9 + 7 * 5e-7) + 2 * 3 / 4 * 1.25e8 / 50e9 + 6 * 5e-6)
    assert C.calc_young_daly_interval(checkpoint_cost_s=60, mtbf_s=36000).m_as("s") == pytest.approx(2078.4609691)
    assert C.calc_mtbf_cluster(component_mtbf_hours=1000, n_components=100).m_as("hour") == pytest.approx(10.0)
    node = C.calc_mtbf_node(gpu_mtbf_h=50000, n_gpus=8, nic_mtbf_h=1e6, n_nics=8, psu_mtbf_h=1e5, n_psus=2,
                            other_mtbf_h=2e5, n_other=4)
    assert node.m_as("hour") == pytest.approx(1 / (1.88e-4 + 4 / 2e5))
    assert C.calc_pipeline_bubble(n_stages=8, n_microbatches=32, v_stages=2) == pytest.approx(7 / 71)
    assert C.calc_checkpoint_size(n_params=8e9).m_as("GB") == pytest.approx(112.0)
    assert C.calc_kv_cache_size(32, 8, 128, 4096, 1).m_as("byte") == 536_870_912
    assert C.calc_kv_cache_size(32, 8, 128, 4096, 1, kv_precision_bytes=1).m_as("byte") == 268_435_456
    assert C.calc_availability_stacked(single_availability=0.99, n_replicas=3) == pytest.approx(0.999999)
    assert C.calc_failure_probability(mtbf=50, job_duration=336) == pytest.approx(1 - math.exp(-6.72))
    assert C.calc_failure_probability(Q_(50, "hour"), Q_(14, "day")) == pytest.approx(1 - math.exp(-6.72))
    with pytest.raises(TypeError):
        C.calc_failure_probability(Q_(50, "hour"), 336)
    assert C.calc_effective_flops(Q_(1e18, "FLOP/s"), 0.4, 0.9, 0.95).m_as("FLOP/s") == pytest.approx(3.42e17)
    size, frag = C.calc_paged_kv_cache_size(n_layers=1, n_heads=1, head_dim=1, seq_len=17, batch_size=1,
                                            page_size_tokens=16, bytes_per_elem=1)
    assert size.m_as("byte") == 64 and frag == pytest.approx(15 / 32)
    rho, p50, p99 = C.calc_queue_latency_mmc(arrival_rate_hz=10, service_rate_hz=4, num_servers=3)
    assert rho == pytest.approx(10 / 12) and p99.m_as("s") == pytest.approx(math.log(15.625 / 22.25 / 0.01) / 2)
    assert C.calc_queue_latency_mmc(20, 4, 3)[0] == 1.0 and math.isinf(C.calc_queue_latency_mmc(20, 4, 3)[2].m_as("s"))


def test_calc_names_a_wrong_unit():
    with pytest.raises(UnitError, match="^bandwidth_bytes_s must be a data rate"):
        C.calc_ring_allreduce_time(1e9, 8, Q_(3, "second"), 0)
    with pytest.raises(UnitError, match="^mtbf_s must be a time"):
        C.calc_young_daly_interval(60, Q_(1, "GB"))
    with pytest.raises(UnitError, match="^kv_precision_bytes must be a data size"):
        C.calc_kv_cache_size(1, 1, 1, 1, 1, kv_precision_bytes=Q_(1, "s"))
    with pytest.raises(InputError, match="n_gpus"):
        C.calc_ring_allreduce_time(1e9, 0, 50e9, 0)


# --- the solvers use the formulas ------------------------------------------------------------------
def test_solver_cores_are_the_library():
    from mlsysim.operations import reliability as ops_rel
    from mlsysim.serving import queueing as serving_q
    from mlsysim.training import collectives as cc

    assert cc.ring_all_reduce is F.ring_all_reduce_time.si
    assert cc.tree_all_reduce is F.double_tree_all_reduce_time.si
    assert cc.all_to_all is F.all_to_all_time.si and cc.reduce_scatter is F.reduce_scatter_time.si
    assert serving_q.erlang_c is F.erlang_c.si and serving_q.erlang_b is F.erlang_b.si
    assert ops_rel.young_interval is F.young_daly_interval.si and ops_rel.daly_wall_time is F.daly_wall_time.si
    assert cc.hierarchical_all_reduce(1e9, 8, 4, 450e9, 50e9, 5e-7, 5e-6) == \
        pytest.approx(s(F.hierarchical_all_reduce_time("1 GB", 8, 4, "450 GB/s", "50 GB/s")))


def test_reliability_solver_equals_the_formulas():
    from mlsysim.operations.reliability import ReliabilityModel

    fleet = Systems.Clusters.Research_256
    r = ReliabilityModel().solve(fleet, job_duration_hours=720, checkpoint_time_s=120, avg_recovery_time_s=600)
    node_h = r.node_mtbf_s / HOUR
    assert r.fleet_mtbf_s == pytest.approx(s(F.cluster_mtbf(f"{node_h} h", fleet.count)))
    assert r.failure_probability == pytest.approx(F.failure_probability(f"{r.fleet_mtbf_s} s", "720 h"))
    assert r.optimal_checkpoint_interval_s == pytest.approx(s(F.young_daly_interval("120 s", f"{r.fleet_mtbf_s} s")))
    assert r.goodput_ratio == pytest.approx(F.checkpoint_goodput("120 s", f"{r.optimal_checkpoint_interval_s} s",
                                                                 "600 s", f"{r.fleet_mtbf_s} s"))


def test_reliability_solver_uses_each_010_keyword():
    from mlsysim.operations.reliability import ReliabilityModel

    fleet = Systems.Clusters.Research_256
    base = ReliabilityModel().solve(fleet, job_duration_hours=720)
    assert base.checkpoint_time_s == 60.0 and base.recovery_time_s == 300.0      # 0.1.0's defaults
    assert ReliabilityModel().solve(fleet, job_hours=720).failure_probability == base.failure_probability
    assert ReliabilityModel().solve(fleet, job_duration_hours=72).failure_probability < base.failure_probability
    slower = ReliabilityModel().solve(fleet, job_duration_hours=720, checkpoint_time_s=240)
    assert slower.optimal_checkpoint_interval_s == pytest.approx(2 * base.optimal_checkpoint_interval_s)
    assert ReliabilityModel().solve(fleet, job_duration_hours=720, avg_recovery_time_s=3000).goodput_ratio < \
        base.goodput_ratio
    assert base.optimal_checkpoint_interval.m_as("min") == pytest.approx(base.optimal_checkpoint_interval_s / 60)
    with pytest.raises(InputError):
        ReliabilityModel().solve(fleet, job_hours=1, job_duration_hours=1)


def test_checkpoint_solver_equals_the_formulas_and_uses_010_keywords():
    from mlsysim import Hardware
    from mlsysim.operations.reliability import CheckpointModel

    m = Models.Llama3_8B
    c = CheckpointModel().solve(m, Systems.Clusters.Lab_64_H100, "1 TB/s", writers=64, mtbf=100)
    assert c.checkpoint_bytes == pytest.approx(F.checkpoint_size(float(m.parameters)).m_as("byte"))
    assert c.interval_s == pytest.approx(s(F.young_daly_interval(f"{c.write_time_s} s", "100 h")))
    old = dict(model=m, hardware=Hardware.H100, optimizer="adam", checkpoint_interval_hours=4.0, n_writers=1,
               filesystem_limit_gbs=500.0)
    a = CheckpointModel().solve(**old)
    assert a.checkpoint_size.m_as("GB") == pytest.approx(14 * float(m.parameters) / 1e9)
    assert a.interval_s == 4 * HOUR and a.mfu_penalty_pct == pytest.approx(a.write_time_s / (4 * HOUR))
    assert a.write_time_seconds.m_as("s") == pytest.approx(a.write_time_s)
    assert CheckpointModel().solve(**{**old, "checkpoint_interval_hours": 1.0}).mfu_penalty_pct == \
        pytest.approx(4 * a.mfu_penalty_pct)
    assert CheckpointModel().solve(**{**old, "n_writers": 4}).write_time_s == pytest.approx(a.write_time_s / 4)
    capped = CheckpointModel().solve(**{**old, "n_writers": 64, "filesystem_limit_gbs": 2.0})
    assert capped.write_bandwidth == pytest.approx(2e9)
    assert CheckpointModel().solve(**{**old, "optimizer": "sgd"}).checkpoint_bytes < a.checkpoint_bytes
    assert CheckpointModel().solve(m, Hardware.H100, "adam", 4.0, 1, 500.0).write_time_s == a.write_time_s
    assert isinstance(a.storage_bottleneck, bool)


def test_serving_and_training_solvers_equal_the_formulas():
    from mlsysim.serving.queueing import TailLatencyModel
    from mlsysim.training.scaling import ScalingModel

    q = TailLatencyModel().solve(arrival_rate=10.0, service_time=0.25, servers=3, service_cv=1.0)
    assert q.wait_probability == pytest.approx(F.mmc_queue("10 Hz", "4 Hz", 3)["wait_probability"])
    assert q.mean_wait_s == pytest.approx(s(F.mmc_queue("10 Hz", "4 Hz", 3)["mean_wait"]))
    llama = Models.Llama3_8B
    assert llama.kv_cache_bytes(4096, 4) == \
        F.kv_cache_size(llama.layers, llama.n_kv_heads, llama.d_head, 4096, 4, "2 B").m_as("byte")
    sc = ScalingModel().solve(compute_budget=Q_(1e23, "FLOP"))
    assert F.training_flops(sc.optimal_parameters, sc.optimal_tokens).m_as("FLOP") == pytest.approx(1e23)


def test_distributed_bubble_equals_the_formula():
    from mlsysim.training.distributed import DistributedModel

    d = DistributedModel().solve("Llama3_8B", Systems.Clusters.Research_256, 1024, pp=4, microbatches=16)
    assert d.bubble_fraction == pytest.approx(F.pipeline_bubble(4, 16))
