"""SingleNodeModel and the parallel-layout search."""
import pytest

from mlsysim import Engine, Hardware, Models, Systems
from mlsysim.engine.engine import SingleNodeModel
from mlsysim.errors import InputError
from mlsysim.optimize.parallelism import ParallelismOptimizer
from mlsysim.training.distributed import DistributedModel


def test_single_node_model_is_the_engine():
    a = SingleNodeModel().solve(Models.ResNet50, Hardware.A100, batch_size=32)
    b = Engine.solve(Models.ResNet50, Hardware.A100, batch_size=32)
    assert a.latency_s == b.latency_s and SingleNodeModel.walls == (1, 2)


def test_the_best_layout_fits_and_beats_every_other_feasible_one():
    fleet = Systems.Clusters.Research_256
    r = ParallelismOptimizer().solve(Models.Llama3_70B, fleet, batch_size=256, seq_len=2048)
    assert r.best is not None and r.best.feasible and r.total_searched > 1000
    b = r.best
    assert b.tp * b.cp * b.pp * b.dp * b.ep == fleet.total_accelerators
    assert all(b.step_time_s <= c.step_time_s for c in r.top_candidates)
    assert all(c.reason and "slower" in c.reason for c in r.top_candidates[1:])


def _distributed(fleet, B, S, lay):
    return DistributedModel().solve(Models.Llama3_70B, fleet, batch_size=B, seq_len=S, tp=lay.tp, cp=lay.cp,
                                    pp=lay.pp, dp=lay.dp, ep=lay.ep, v_stages=lay.v_stages, zero_stage=lay.zero_stage,
                                    recompute=lay.recompute, schedule=lay.schedule,
                                    microbatches=B // (lay.dp * lay.ep) // lay.micro_batch,
                                    layers_per_stage=list(lay.layers_per_stage))


def test_the_search_times_a_layout_as_distributed_model_does():
    """The search times one layer of each shard and scales it; DistributedModel times the whole stage: the
    same step within 1%, the same memory exactly."""
    fleet, B, S = Systems.Clusters.Research_256, 256, 2048
    r = ParallelismOptimizer().solve(Models.Llama3_70B, fleet, batch_size=B, seq_len=S, top=40)
    for lay in r.top_candidates[::8]:
        d = _distributed(fleet, B, S, lay)
        assert d.step_time_s == pytest.approx(lay.step_time_s, rel=0.01)
        assert d.memory_per_device_b == pytest.approx(lay.memory_per_device_b, rel=1e-9)
        assert float(d.mfu) == pytest.approx(lay.mfu, rel=0.01)


def test_no_layout_distributed_model_times_beats_the_search():
    """Layouts drawn from across the space (other TP, PP, ZeRO, recomputation): none is faster than the best,
    beyond the 1% by which the two timings can differ."""
    fleet, B, S = Systems.Clusters.Research_256, 256, 2048
    best = ParallelismOptimizer().solve(Models.Llama3_70B, fleet, batch_size=B, seq_len=S).best
    for tp, pp, zero, mode in ((8, 4, 1, "none"), (4, 2, 2, "selective"), (8, 1, 3, "full"), (2, 8, 1, "none")):
        dp = 256 // (tp * pp)
        d = DistributedModel().solve(Models.Llama3_70B, fleet, batch_size=B, seq_len=S, tp=tp, pp=pp, dp=dp,
                                     zero_stage=zero, recompute=mode)
        assert not d.feasible or d.step_time_s >= best.step_time_s * 0.99


def test_the_published_uneven_405b_layout_is_found_and_fits():
    """Restricted to Meta's TP 8 × PP 16 × DP 128 on 16,384 H100, the search splits the 126 layers as Llama 3
    did (7, fourteen of 8, 7) and the layout fits."""
    fleet = Systems.Clusters.Frontier_8K.model_copy(update={"count": 2048})
    r = ParallelismOptimizer().solve(Models.Llama3_405B, fleet, batch_size=2048, seq_len=8192, tp=8, pp=16, cp=1,
                                     ep=1, zero_stage=1, schedules=("1f1b",))
    assert r.best is not None and r.best.feasible
    assert r.best.layers_per_stage == (7,) + (8,) * 14 + (7,) and r.best.dp == 128


def test_interleaving_an_uneven_split_is_searched_and_timed_as_distributed_model_does():
    """The 405B's uneven stages (7 and 8 layers) in 2 or 4 virtual stages: chunks differ by a layer, and the
    search's step and memory are DistributedModel's on the same layout."""
    fleet = Systems.Clusters.Frontier_8K.model_copy(update={"count": 2048})
    r = ParallelismOptimizer().solve(Models.Llama3_405B, fleet, batch_size=2048, seq_len=8192, tp=8, pp=16, cp=1,
                                     ep=1, zero_stage=1, recompute="full", micro_batch=1, v_stages=(2, 4),
                                     schedules=("interleaved",), top=4)
    assert {c.v_stages for c in r.top_candidates} == {2, 4}
    for lay in r.top_candidates:
        assert lay.layers_per_stage == (7,) + (8,) * 14 + (7,)
        d = DistributedModel().solve(Models.Llama3_405B, fleet, batch_size=2048, seq_len=8192, tp=8, pp=16,
                                     dp=lay.dp, v_stages=lay.v_stages, zero_stage=1, recompute="full",
                                     schedule="interleaved", microbatches=16,
                                     layers_per_stage=list(lay.layers_per_stage))
        assert d.step_time_s == pytest.approx(lay.step_time_s, rel=0.01)
        assert d.memory_per_device_b == pytest.approx(lay.memory_per_device_b, rel=1e-9)


def test_constraints_prune_before_timing_and_say_which():
    r = ParallelismOptimizer().solve(Models.Qwen2_5_7B, Systems.Clusters.Research_256, batch_size=256, seq_len=4096,
                                     tp=[1, 2, 4, 8, 16])
    assert "tp beyond the 8-accelerator scale-up domain" in r.pruned
    assert "tp not dividing the attention and KV heads" in r.pruned        # 28 heads, 4 KV heads: not 8
    assert all(c.tp <= 4 for c in r.top_candidates)


def test_a_batch_no_layout_divides_is_refused():
    with pytest.raises(InputError, match="multiple of the data-parallel degree"):
        ParallelismOptimizer().solve(Models.Llama3_8B, Systems.Clusters.Frontier_8K, batch_size=3)
