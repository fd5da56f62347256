"""Collectives and DistributedModel: hand-computed α–β answers, physical properties, and the errors a user sees."""
import json

import numpy as np
import pytest

from mlsysim import Models, Systems
from mlsysim.errors import InputError
from mlsysim.training import collectives as cc
from mlsysim.training.distributed import DistributedModel
from mlsysim.training.topology import TopologyModel, bisection_fraction

GB = 1e9
R256, F8K = Systems.Clusters.Research_256, Systems.Clusters.Frontier_8K


def solve(model=Models.Llama3_70B, fleet=R256, batch=1024, **kw):
    return DistributedModel().solve(model, fleet, batch, **kw)


def resized(fleet, nodes=None, fabric_bw=None):
    """The fleet with another node count or fabric port speed."""
    update = {} if nodes is None else {"count": nodes}
    if fabric_bw is not None:
        update["fabric"] = fleet.fabric.model_copy(update={"bandwidth": fabric_bw})
    return fleet.model_copy(update=update)


# --- collectives: known answers --------------------------------------------------------------------
def test_ring_all_reduce_known_answer():
    """1 GB over 8 ranks at 50 GB/s, 500 ns: 2·7/8·1e9/50e9 = 35 ms of bytes + 14 steps × 500 ns = 7 µs."""
    assert cc.ring_all_reduce(GB, 8, 50 * GB, 500e-9) == pytest.approx(0.035007, rel=1e-12)


def test_tree_all_reduce_has_ring_bandwidth_and_log_latency():
    """Same bytes as the ring (35 ms) but 2·⌈log₂8⌉ = 6 steps: 35.003 ms; never slower than the ring."""
    assert cc.tree_all_reduce(GB, 8, 50 * GB, 500e-9) == pytest.approx(0.035003, rel=1e-12)
    sizes = np.logspace(2, 10, 9)
    assert np.all(cc.tree_all_reduce(sizes, 64, 50 * GB, 5e-6) <= cc.ring_all_reduce(sizes, 64, 50 * GB, 5e-6))


def test_reduce_scatter_all_gather_all_to_all_are_half_a_ring():
    """7/8·1e9/50e9 = 17.5 ms + 7 × 500 ns = 17.5035 ms; a ring all-reduce is a reduce-scatter then an all-gather."""
    for f in (cc.reduce_scatter, cc.all_gather, cc.all_to_all):
        assert f(GB, 8, 50 * GB, 500e-9) == pytest.approx(0.0175035, rel=1e-12)
    assert cc.reduce_scatter(GB, 8, 50 * GB, 5e-7) + cc.all_gather(GB, 8, 50 * GB, 5e-7) == \
        pytest.approx(cc.ring_all_reduce(GB, 8, 50 * GB, 5e-7))


def test_point_to_point():
    """1 MB at 50 GB/s is 20 µs, plus 5 µs of latency."""
    assert cc.point_to_point(1e6, 50 * GB, 5e-6) == pytest.approx(25e-6)


def test_hierarchical_all_reduce_known_answer():
    """1 GB, 8 GPUs per node on 450 GB/s (500 ns), 4 nodes on 50 GB/s per GPU (5 µs).
    Inside: reduce-scatter 7/8·1e9/450e9 + 7·500 ns = 1.947944 ms, twice (and the all-gather);
    across: ring all-reduce of 1 GB/8 = 125 MB over 4 nodes, 2·3/4·125e6/50e9 + 6·5 µs = 3.78 ms."""
    t = cc.hierarchical_all_reduce(GB, 8, 4, 450 * GB, 50 * GB, 500e-9, 5e-6)
    assert t == pytest.approx(0.007675888889, rel=1e-9)
    # one node: the same as a flat ring on the scale-up link
    assert cc.hierarchical_all_reduce(GB, 8, 1, 450 * GB, 50 * GB) == pytest.approx(
        cc.ring_all_reduce(GB, 8, 450 * GB, cc.NVLINK_ALPHA))


def test_one_rank_communicates_nothing():
    for f in (cc.ring_all_reduce, cc.tree_all_reduce, cc.reduce_scatter, cc.all_gather, cc.all_to_all):
        assert f(GB, 1, 50 * GB, 5e-6) == 0


def test_collectives_take_arrays():
    sizes = np.array([1e6, 1e8, 1e9])
    out = cc.ring_all_reduce(sizes, 8, 50 * GB, 500e-9)
    assert out.shape == (3,)
    assert out[2] == pytest.approx(cc.ring_all_reduce(1e9, 8, 50 * GB, 500e-9))


# --- topology ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("topology, nodes, fraction", [
    ("fat-tree", 512, 1.0), ("ring", 16, 0.25), ("torus-2d", 64, 0.5), ("torus_3d", 512, 0.5),
    ("dragonfly", 1024, 0.5), ("ring", 4, 1.0)])
def test_bisection_fraction(topology, nodes, fraction):
    """Cut links over N/2: ring 2 links → 4/N; k×k torus 2k → 4/k; k³ torus 2k² → 4/k; capped at 1."""
    assert bisection_fraction(topology, nodes) == pytest.approx(fraction)


def test_topology_model_oversubscription_halves_bandwidth():
    """NDR 400 Gb/s = 50 GB/s per port; 2:1 leaf-to-spine leaves 25 GB/s; 64 nodes × 25 GB/s / 2 = 800 GB/s."""
    r = TopologyModel().solve(Systems.Fabrics.InfiniBand_NDR_2to1, num_nodes=64)
    assert r.effective_bandwidth_b == pytest.approx(25 * GB)
    assert r.bisection_bandwidth_b == pytest.approx(800 * GB)
    torus = TopologyModel().solve(Systems.Fabrics.InfiniBand_NDR, topology="torus-3d", num_nodes=4096)
    assert torus.bisection_fraction == pytest.approx(0.25) and torus.hops_avg == pytest.approx(12.0)


def test_topology_model_rejects_unknown_topology():
    with pytest.raises(InputError, match="unknown topology 'hypercube'"):
        TopologyModel().solve(Systems.Fabrics.InfiniBand_NDR, topology="hypercube")


# --- DistributedModel: a plausible large run --------------------------------------------------------
def test_llama3_70b_on_research_256_is_feasible_and_physically_plausible():
    """6·P·tokens over the fleet's bf16 peak is the floor (100% MFU); real Megatron runs reach 35–55%."""
    m, B, S = Models.Llama3_70B, 1024, 2048
    r = solve(m, R256, B, seq_len=S, tp=8, pp=4)
    floor = 6 * m.parameter_count() * B * S / (256 * 989.4e12)
    assert r.feasible and r.memory_per_device_b < 80 * GB
    assert 1.0 < r.step_time_s < 30.0
    assert floor < r.step_time_s < floor / 0.2
    assert 0.2 < r.mfu < 0.6
    assert r.parallelism["dp"] == 8
    assert r.step_time_s == pytest.approx(r.compute_time_s + r.bubble_time_s + r.communication_time_s)
    # stage of 20 layers plus one vocabulary matrix, over 8 TP ranks: ~2.27 B parameters, bf16 weights
    assert r.weights_b == pytest.approx(4.54 * GB, rel=0.01)
    assert r.optimizer_b == pytest.approx(6 * r.weights_b)


def test_full_model_on_one_device_is_infeasible_and_says_so():
    r = solve(Models.Llama3_8B, R256, 1024, tp=1, pp=1, zero_stage=0)
    assert not r.feasible
    assert r.binding.startswith("memory")


# --- properties ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("model, kw", [(Models.Llama3_70B, dict(tp=8, pp=4)),
                                       (Models.Llama3_8B, dict(tp=1, zero_stage=1)),
                                       (Models.Mixtral_8x7B, dict(tp=2, ep=8, zero_stage=1))])
def test_more_fabric_bandwidth_is_never_slower(model, kw):
    times = [solve(model, resized(R256, fabric_bw=bw), **kw).step_time_s for bw in (12.5 * GB, 25 * GB, 50 * GB)]
    assert times[0] >= times[1] >= times[2]


def test_more_data_parallelism_at_fixed_global_batch_never_adds_memory():
    mem = [solve(Models.Llama3_8B, resized(R256, nodes=n), 256, tp=1, zero_stage=1).memory_per_device_b
           for n in (4, 8, 16, 32)]
    assert all(a >= b for a, b in zip(mem, mem[1:]))


def test_sharding_never_adds_memory():
    """At fixed dp and global batch: more TP, more PP, or a higher ZeRO stage holds no more per device."""
    m = Models.Llama3_70B
    by_tp = [solve(m, resized(R256, nodes=tp), 64, tp=tp, dp=8).memory_per_device_b for tp in (1, 2, 4, 8)]
    by_pp = [solve(m, resized(R256, nodes=pp), 64, tp=1, pp=pp, dp=8).memory_per_device_b for pp in (1, 2, 4, 8)]
    by_zero = [solve(m, R256, 1024, tp=8, pp=4, zero_stage=z).memory_per_device_b for z in (0, 1, 2, 3)]
    for seq in (by_tp, by_pp, by_zero):
        assert all(a >= b for a, b in zip(seq, seq[1:])), seq


@pytest.mark.parametrize("fleet", [R256, F8K])
@pytest.mark.parametrize("kw", [dict(tp=1), dict(tp=8), dict(tp=8, pp=4), dict(tp=4, pp=8, zero_stage=3),
                                dict(tp=8, pp=2, activation_recomputation=True, v_stages=2)])
def test_scaling_efficiency_and_bubble_stay_in_range(fleet, kw):
    r = solve(Models.Llama3_70B, fleet, 8192, **kw)
    assert 0 < r.scaling_efficiency <= 1
    assert 0 <= r.bubble_fraction < 1
    assert all(v >= 0 for v in r.comm_breakdown.values())
    if kw.get("pp", 1) == 1:
        assert r.bubble_fraction == 0 and r.bubble_time_s == 0 and r.pp_comm_s == 0


def test_bubble_matches_the_1f1b_formula():
    """(P−1)/(v·M+P−1): 4 stages, 16 microbatches → 3/19; interleaved over 2 virtual stages → 3/35."""
    assert solve(tp=8, pp=4, microbatches=16).bubble_fraction == pytest.approx(3 / 19)
    assert solve(tp=8, pp=4, microbatches=16, v_stages=2).bubble_fraction == pytest.approx(3 / 35)


def test_interleaving_without_a_count_takes_torchtitans_two_and_says_so():
    r = solve(tp=8, pp=4, microbatches=16, schedule="interleaved")
    assert r.parallelism["v_stages"] == 2 and r.bubble_fraction == pytest.approx(3 / 35)
    assert any("virtual stages 2 per device" in a for a in r.assumptions)
    assert not any("virtual stages" in a for a in solve(tp=8, pp=4, v_stages=2).assumptions)


def test_virtual_stages_that_do_not_divide_a_stage_pay_for_the_largest_chunk():
    """80 layers over 4 stages of 20, each cut into 3 chunks of 7, 7 and 6 layers: the bubble is (p-1) slots of
    the largest chunk, 3 x 7/20 of a stage's microbatch (against 3 x 1/3 if the chunks were equal)."""
    r = solve(tp=8, pp=4, microbatches=16, v_stages=3)
    slots = 3 * 7 / 20
    assert r.bubble_fraction == pytest.approx(slots / (16 + slots))


def test_overlap_hides_data_parallel_communication():
    exposed = [solve(Models.Llama3_8B, tp=1, zero_stage=1, overlap=o).dp_exposed_s for o in (0.0, 0.5, 1.0)]
    assert exposed[0] > exposed[1] > exposed[2] >= 0
    assert exposed[0] == pytest.approx(solve(Models.Llama3_8B, tp=1, zero_stage=1).dp_comm_s)


def test_tp_overlap_hides_tensor_parallel_collectives_behind_the_gemms():
    """Megatron's --tp-comm-overlap: more overlap never slows a step; complete overlap hides every TP collective
    that is shorter than the layers' GEMMs, and what it hides comes off every microbatch slot, bubble included."""
    runs = [solve(tp=8, pp=4, microbatches=16, tp_overlap=o) for o in (0.0, 0.5, 1.0)]
    assert runs[0].tp_comm_s > runs[1].tp_comm_s > runs[2].tp_comm_s == 0.0
    assert runs[0].step_time_s > runs[1].step_time_s > runs[2].step_time_s
    saved = (runs[0].step_time_s - runs[2].step_time_s) / (runs[0].tp_comm_s - runs[2].tp_comm_s)
    assert saved == pytest.approx(1 / (1 - runs[0].bubble_fraction), rel=1e-9)    # its share of the bubble too
    with pytest.raises(InputError, match="tp_overlap"):
        solve(tp=8, tp_overlap=1.5)


def test_zero3_trades_memory_for_communication():
    z1, z3 = (solve(Models.Llama3_8B, tp=1, zero_stage=z) for z in (1, 3))
    assert z3.memory_per_device_b < z1.memory_per_device_b and z3.dp_comm_s > z1.dp_comm_s


def test_expert_parallelism_pays_all_to_all_and_imbalance_makes_it_worse():
    m = Models.Mixtral_8x7B
    base, skewed = (solve(m, tp=2, ep=8, zero_stage=1, moe_routing_imbalance_factor=f) for f in (1.0, 1.5))
    assert base.ep_comm_s > 0 and skewed.ep_comm_s > base.ep_comm_s and skewed.step_time_s > base.step_time_s
    assert solve(m, tp=2, ep=1, zero_stage=1).ep_comm_s == 0


def test_batch_sweep_matches_scalar_solves():
    batches = np.array([1024, 4096])
    sweep = solve(Models.Llama3_70B, F8K, batches, tp=8, pp=4)
    for i, b in enumerate(batches):
        one = solve(Models.Llama3_70B, F8K, int(b), tp=8, pp=4)
        assert sweep.step_time_s[i] == pytest.approx(one.step_time_s)
        assert sweep.tokens_per_s[i] == pytest.approx(one.tokens_per_s)
    json.dumps(sweep.to_dict())


def test_0_1_0_argument_names_still_work():
    old = DistributedModel().solve(Models.Llama3_8B, R256, batch_size=1024, tp_size=8, pp_size=4,
                                   microbatch_count=16, zero_stage=1, overlap_comm=True)
    new = solve(Models.Llama3_8B, tp=8, pp=4, microbatches=16, zero_stage=1)
    assert old.parallelism == new.parallelism
    assert float(old.step_latency_total) == pytest.approx(new.step_time_s)
    assert old.step_latency.m_as("ms") == pytest.approx(1e3 * new.step_time_s)


# --- errors ------------------------------------------------------------------------------------------
def test_degrees_must_multiply_to_the_fleet():
    with pytest.raises(InputError, match="must equal the 256 accelerators"):
        solve(tp=8, pp=4, dp=16)
    with pytest.raises(InputError, match="does not divide the 256 accelerators"):
        solve(tp=3)


def test_tp_must_divide_the_heads():
    with pytest.raises(InputError, match="tp=8 must divide .* 28 attention heads"):
        solve(Models.Qwen2_5_7B, tp=8)


def test_other_bad_inputs():
    with pytest.raises(InputError, match="does not split over dp×ep = 256"):
        solve(Models.Llama3_8B, batch=128, tp=1)
    with pytest.raises(InputError, match="mixture-of-experts"):
        solve(Models.Llama3_8B, tp=8, ep=2)
    with pytest.raises(InputError, match="microbatches"):
        solve(tp=8, pp=4, microbatches=1000)
    with pytest.raises(InputError, match="overlap"):
        solve(tp=8, pp=4, overlap=1.5)
    with pytest.raises(InputError, match="unknown argument 'tp_degree'"):
        solve(tp_degree=8)


# --- every parallel dimension, strict layouts ---------------------------------------------------------
L405 = [7] + [8] * 14 + [7]


def test_the_published_405b_layout_runs_with_its_uneven_split():
    """Llama 3 405B on 16,384 H100 (Dubey et al. 2024, 3.3.2 and Table 4): TP 8, PP 16, DP 128, 2,048 sequences
    of 8,192 tokens, one layer fewer on the first and last stages."""
    fleet = resized(F8K, nodes=2048)
    r = DistributedModel().solve(Models.Llama3_405B, fleet, 2048, seq_len=8192, tp=8, pp=16, dp=128, zero_stage=1,
                                 layers_per_stage=L405, stack="megatron")
    assert r.feasible and r.parallelism["layers_per_stage"] == L405
    assert r.parallelism["microbatches"] == 16 and r.bubble_fraction == pytest.approx(15 / 31)
    assert 0.15 < r.mfu < 0.6 and r.hfu == pytest.approx(r.mfu)      # no recomputation: HFU = MFU
    with pytest.raises(InputError, match="does not split .* 126 layers"):
        DistributedModel().solve(Models.Llama3_405B, fleet, 2048, seq_len=8192, tp=8, pp=16, dp=128)


def test_full_recomputation_costs_hardware_flops_but_not_model_flops():
    base, full = (solve(tp=8, pp=4, recompute=mode) for mode in ("none", "full"))
    assert full.hfu > full.mfu and base.hfu == pytest.approx(base.mfu)
    assert full.step_time_s > base.step_time_s and full.activations_b < base.activations_b


@pytest.mark.parametrize("schedule, slots", [("1f1b", 3), ("zero_bubble", 1), ("dualpipe", 2 * (4 / 2 - 1) / 3)])
def test_each_schedule_has_its_published_bubble(schedule, slots):
    """Slots of bubble for 4 stages: 1F1B p-1 = 3; ZB-H1 a third (Qi et al. 2023); DualPipe (p/2-1)(F&B+B-3W)
    with F = W = B/2 = 1 slot's third: 2(p/2-1)/3 (DeepSeek-V3 report, Table 2)."""
    r = solve(tp=8, pp=4, microbatches=16, schedule=schedule)
    assert r.bubble_fraction == pytest.approx(slots / (16 + slots))


def test_dualpipe_hides_the_expert_all_to_all_and_keeps_two_parameter_copies():
    m = Models.Mixtral_8x7B
    plain = solve(m, tp=2, pp=2, ep=8, dp=8, zero_stage=1)
    dual = solve(m, tp=2, pp=2, ep=8, dp=8, zero_stage=1, schedule="dualpipe")
    assert plain.ep_comm_s > 0 and dual.ep_comm_s == 0
    assert dual.weights_b == pytest.approx(2 * plain.weights_b, rel=1e-4)    # the stage with the LM head
    half = solve(m, tp=2, pp=2, ep=8, dp=8, zero_stage=1, ep_overlap=0.5)
    assert half.ep_comm_s == pytest.approx(plain.ep_comm_s / 2)


def test_context_parallelism_splits_the_sequence_and_passes_keys_around_the_ring():
    kw = dict(tp=8, pp=1, seq_len=32768, zero_stage=1)
    one = solve(Models.Llama3_8B, R256, 64, **kw)
    four = solve(Models.Llama3_8B, R256, 16, cp=4, **kw)           # the same tokens per replica step
    assert four.parallelism["cp"] == 4 and four.activations_b < one.activations_b
    assert four.cp_comm_s >= 0 and four.communication_time_s >= four.cp_comm_s
    with pytest.raises(InputError, match="multiple of 8"):
        solve(Models.Llama3_8B, R256, 16, tp=8, cp=4, seq_len=4100)


def test_a_faster_fabric_never_slows_any_dimension():
    for kw in (dict(tp=8, cp=2, zero_stage=1, seq_len=16384), dict(tp=4, pp=4, schedule="zero_bubble"),
               dict(tp=2, pp=2, ep=8, zero_stage=1)):
        model = Models.Mixtral_8x7B if "ep" in kw else Models.Llama3_70B
        batch = 256 if "ep" in kw else 512
        times = [solve(model, resized(R256, fabric_bw=bw), batch, **kw).step_time_s for bw in (12.5 * GB, 50 * GB)]
        assert times[1] <= times[0] * (1 + 1e-12), kw


@pytest.mark.parametrize("kw, words", [
    (dict(tp=16), "keep tp <= 8"),
    (dict(tp=8, pp=4, microbatches=3), "divisor of 128"),
    (dict(tp=8, pp=32), "does not split"),
    (dict(tp=8, pp=4, v_stages=21), "at least 21 layers"),
    (dict(tp=8, pp=4, schedule="interleaved", v_stages=1), "v_stages > 1"),
    (dict(tp=8, pp=4, schedule="gpipe"), "unknown pipeline schedule"),
    (dict(tp=8, pp=4, layers_per_stage=[20, 20, 20]), "4 whole layer counts"),
    (dict(tp=8, pp=4, recompute="full", activation_recomputation=True), "recomputation once"),
    (dict(tp=8, optimizer="lion"), "unknown optimizer"),
    (dict(tp=8, ep_overlap=2.0), "ep_overlap"),
])
def test_a_layout_it_cannot_take_is_refused_in_one_sentence(kw, words):
    with pytest.raises(InputError, match=words):
        solve(**kw)


def test_the_global_batch_defaults_to_what_the_layout_needs():
    """64 accelerators as TP 8 × PP 4 leave DP 2: one sequence per replica per microbatch, 4 microbatches."""
    r = DistributedModel().solve(Models.Llama3_70B, Systems.Clusters.Lab_64_H100, tp=8, pp=4)
    assert r.parallelism["dp"] == 2 and r.parallelism["microbatches"] == 4
    assert r.samples_per_s * r.step_time_s == pytest.approx(8)
