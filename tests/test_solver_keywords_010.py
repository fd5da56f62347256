"""0.1.0's solver keywords, accepted beside this package's and each one used: ParallelismOptimizer's
``efficiency``, ``max_pp`` and ``overlap_comm``; PlacementOptimizer's ``mfu``; SensitivitySolver's ``efficiency``."""
import pytest

from mlsysim import Engine, Hardware, Models, ParallelismOptimizer, PlacementOptimizer, SensitivitySolver, Systems
from mlsysim.errors import InputError

FLEET = Systems.Clusters.Research_256
#: a small search: one ZeRO stage, one recomputation mode, one micro-batch, one schedule
SMALL = dict(batch_size=256, seq_len=2048, zero_stage=1, recompute="selective", micro_batch=1, schedules=("1f1b",))


def _solve(**kw):
    return ParallelismOptimizer().solve(Models.Llama3_70B, FLEET, **SMALL, **kw)


def test_parallelism_efficiency_times_every_kernel_at_that_efficiency():
    base, slow = _solve(), _solve(efficiency=0.2)
    assert slow.best.step_time_s > 1.5 * base.best.step_time_s
    assert any("compute efficiency 0.2" in a for a in slow.assumptions)
    with pytest.raises(InputError):
        _solve(efficiency=1.5)


def test_parallelism_max_pp_caps_the_pipeline_depth():
    free, capped = _solve(), _solve(max_pp=2)
    assert free.best.pp > 2 and capped.best.pp <= 2
    assert capped.pruned.get("pp beyond max_pp=2", 0) > 0
    assert all(lay.pp <= 2 for lay in capped.top_candidates)
    assert capped.best.step_time_s >= free.best.step_time_s


def test_parallelism_overlap_comm_false_exposes_all_communication():
    hidden, exposed = _solve(), _solve(overlap_comm=False)
    assert exposed.best_config == _solve(overlap=0.0).best_config
    assert exposed.best.step_time_s == pytest.approx(_solve(overlap=0.0).best.step_time_s)
    assert exposed.best.step_time_s > hidden.best.step_time_s
    assert _solve(overlap_comm=True).best.step_time_s == pytest.approx(hidden.best.step_time_s)
    with pytest.raises(InputError):
        _solve(overlap_comm="yes")


def test_placement_mfu_sets_the_activity_power_follows():
    regions = ["Texas", "Quebec"]
    idle, busy = (PlacementOptimizer().solve(FLEET, 30, regions=regions, mfu=m) for m in (0.1, 0.9))
    assert busy.best.total_usd > idle.best.total_usd and busy.best.carbon_t > idle.best.carbon_t
    same = PlacementOptimizer().solve(FLEET, 30, regions=regions, utilization=0.9)
    assert busy.best.total_usd == pytest.approx(same.best.total_usd)
    with pytest.raises(InputError, match="once"):
        PlacementOptimizer().solve(FLEET, 30, regions=regions, mfu=0.5, utilization=0.5)


def test_sensitivity_efficiency_is_the_engines():
    kw = dict(batch_size=64, phase="prefill", seq_len=1024)
    r = SensitivitySolver().solve(Models.Llama3_8B, Hardware.H100, efficiency=0.3, **kw)
    assert r.baseline_latency_s == pytest.approx(Engine.solve(Models.Llama3_8B, Hardware.H100, efficiency=0.3,
                                                              **kw).latency_s)
    assert r.baseline_latency_s > SensitivitySolver().solve(Models.Llama3_8B, Hardware.H100, **kw).baseline_latency_s
    assert any("efficiency 0.3" in a for a in r.assumptions)
