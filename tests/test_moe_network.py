"""MoERoutingModel and NetworkRooflineModel: hand-computed answers, properties, and their errors."""
import math

import pytest

from mlsysim import Models, MoERoutingModel, NetworkRooflineModel, Systems
from mlsysim.errors import InputError
from mlsysim.training.topology import TopologyModel, average_hops, bisection_fraction

R256 = Systems.Clusters.Research_256


# --- MoERoutingModel ---------------------------------------------------------------------------------
def test_mixtral_routes_two_of_eight_experts_known_answer():
    """8 sequences of 4,096 tokens, top-2 of 8: 8,192 token copies per expert on average; with ep = 8, 7/8 of
    the 32,768 x 2 copies of 4,096 bf16 values leave their rank: 65,536 x 4,096 x 2 x 7/8 bytes."""
    r = MoERoutingModel().solve("Mixtral_8x7B", batch_size=8, seq_len=4096, ep=8)
    assert r.tokens_per_expert == pytest.approx(8 * 4096 * 2 / 8)
    assert r.dispatch_bytes == pytest.approx(8 * 4096 * 2 * 4096 * 2 * 7 / 8)
    assert r.active_fraction == pytest.approx(float(Models.Mixtral_8x7B.active_parameters) /
                                              Models.Mixtral_8x7B.parameter_count())
    assert r.dropped_tokens == 0 and r.all_to_all_s is None


def test_a_capacity_factor_drops_what_the_busiest_expert_receives_beyond_it():
    r = MoERoutingModel().solve("Mixtral_8x7B", batch_size=1, seq_len=1024, routing_imbalance_factor=1.5,
                                capacity_factor=1.25)
    mean = 1024 * 2 / 8
    assert r.busiest_expert_tokens == pytest.approx(1.5 * mean)
    assert r.dropped_tokens == pytest.approx((1.5 - 1.25) * mean)


def test_imbalance_never_helps():
    kw = dict(batch_size=4, seq_len=2048, ep=8, fleet=R256)
    loads = [MoERoutingModel().solve("Mixtral_8x7B", routing_imbalance_factor=f, **kw) for f in (1.0, 1.3, 2.0)]
    assert loads[0].all_to_all_s <= loads[1].all_to_all_s <= loads[2].all_to_all_s
    assert loads[0].effective_active_parameters < loads[1].effective_active_parameters


@pytest.mark.parametrize("kw, words", [(dict(model="Llama3_8B"), "dense"), (dict(ep=3), "divide"),
                                       (dict(routing_imbalance_factor=0.5), "routing_imbalance_factor"),
                                       (dict(ep=2, ep_size=4), "once")])
def test_moe_routing_bad_input(kw, words):
    model = kw.pop("model", "Mixtral_8x7B")
    with pytest.raises(InputError, match=words):
        MoERoutingModel().solve(model, **kw)


# --- NetworkRooflineModel ----------------------------------------------------------------------------
def test_data_parallel_traffic_is_the_inter_node_ring_known_answer():
    """Llama 3 8B, pure DP over 256 GPUs in 8-GPU nodes: each GPU's bf16 gradients (2 x P bytes) reduce-
    scatter inside the node, and 1/8 of them cross a ring of 32 nodes: 2 x 31/32 x 2P/8 bytes per GPU."""
    P = Models.Llama3_8B.parameter_count()
    r = NetworkRooflineModel().solve("Llama3_8B", R256, batch_size=512, seq_len=4096, dp=256)
    assert r.fabric_bytes_by_dimension["data-parallel"] == pytest.approx(2 * 31 / 32 * 2 * P / 8)
    per_token = 6 * P + 12 * 32 * 4096 * 4096
    assert r.flops_per_device == pytest.approx(per_token * 4096 * 512 / 256)


def test_the_critical_batch_is_where_intensity_meets_the_ridge():
    M = NetworkRooflineModel()
    r = M.solve("Llama3_8B", R256, batch_size=64, seq_len=4096, dp=256)
    assert r.network_bound and math.isfinite(r.critical_batch)
    at = M.solve("Llama3_8B", R256, batch_size=r.critical_batch, seq_len=4096, dp=256)
    assert at.communication_intensity == pytest.approx(at.network_ridge)
    assert not M.solve("Llama3_8B", R256, batch_size=2 * r.critical_batch, seq_len=4096, dp=256).network_bound


def test_a_faster_fabric_never_makes_a_layout_more_network_bound():
    fast = R256.model_copy(update={"fabric": R256.fabric.model_copy(update={"bandwidth": 4 * float(
        R256.fabric.bandwidth)})})
    for kw in (dict(dp=256), dict(tp=8, pp=4), dict(tp=8, dp=32, zero_stage=3)):
        slow_r, fast_r = (NetworkRooflineModel().solve("Llama3_70B", f, batch_size=1024, seq_len=4096, **kw)
                          for f in (R256, fast))
        assert fast_r.network_ridge < slow_r.network_ridge and fast_r.attainable_flops >= slow_r.attainable_flops


def test_network_roofline_bad_input():
    with pytest.raises(InputError, match="must equal the 256"):
        NetworkRooflineModel().solve("Llama3_8B", R256, tp=8, dp=8)
    with pytest.raises(InputError, match="transformer"):
        NetworkRooflineModel().solve("ResNet50", R256)


# --- topology: rail-optimized --------------------------------------------------------------------------
def test_a_rail_optimized_fabric_is_non_blocking_with_one_switch_between_same_rail_gpus():
    assert bisection_fraction("rail-optimized", 512) == 1.0 and average_hops("rail", 512) == 2.0
    r = TopologyModel().solve(Systems.Fabrics.InfiniBand_NDR, topology="rail-optimized", num_nodes=128)
    assert r.bisection_fraction == 1.0 and r.hops_avg < TopologyModel().solve(
        Systems.Fabrics.InfiniBand_NDR, num_nodes=128).hops_avg
