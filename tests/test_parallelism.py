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
    assert r.best is not None and r.best.feasible
    assert r.best.tp * r.best.pp * r.best.dp == fleet.total_accelerators
    assert all(r.best.mfu >= c.mfu for c in r.top_candidates)
    check = DistributedModel().solve(Models.Llama3_70B, fleet, batch_size=256, seq_len=2048, precision="bf16",
                                     tp=r.best.tp, pp=r.best.pp, dp=r.best.dp, zero_stage=1,
                                     activation_recomputation=True)
    assert float(check.mfu) == pytest.approx(r.best.mfu)


def test_a_batch_no_layout_divides_is_refused():
    with pytest.raises(InputError, match="multiple of the data-parallel degree"):
        ParallelismOptimizer().solve(Models.Llama3_8B, Systems.Clusters.Frontier_8K, batch_size=3)
