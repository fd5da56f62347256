"""The wall taxonomy, the solver Pipeline, and walls 21-22 (sensitivity and synthesis)."""
import pytest

from mlsysim.analysis.pipeline import Pipeline
from mlsysim.analysis.sensitivity import SensitivitySolver, scaled
from mlsysim.analysis.synthesis import SynthesisSolver
from mlsysim.analysis.walls import ALL_WALLS, Domain, taxonomy, wall, walls_for_resolver, walls_in_domain
from mlsysim.engine.engine import Engine
from mlsysim.errors import InputError
from mlsysim.serving.serving import ServingModel


# --- walls -------------------------------------------------------------------------------------
def test_twenty_two_walls_numbered_and_described():
    assert [w.number for w in ALL_WALLS] == list(range(1, 23))
    assert len({w.name for w in ALL_WALLS}) == 22
    assert all(w.constraint.strip() and w.equation.strip() and w.resolver_name for w in ALL_WALLS)
    assert wall(4).name == "Serving" and wall(22).resolver_name == "SynthesisSolver"


@pytest.mark.parametrize("n", [0, 23, -1, "1"])
def test_wall_outside_range_is_a_key_error(n):
    with pytest.raises(KeyError):
        wall(n)


def test_resolvers_and_domains():
    assert {w.number for w in walls_for_resolver("Engine")} == {1, 2}
    assert {w.number for w in walls_for_resolver("SingleNodeModel")} == {1, 2}
    assert [w.number for w in walls_for_resolver(ServingModel)] == [4]
    assert walls_for_resolver("NoSuchModel") == []
    assert sorted(w.number for d in Domain for w in walls_in_domain(d)) == list(range(1, 23))
    assert len(walls_in_domain("node")) == 7
    with pytest.raises(KeyError):
        walls_in_domain("galaxy")


def test_solver_wall_attributes_match_the_table():
    for cls in (ServingModel, SensitivitySolver, SynthesisSolver):
        assert {w.number for w in walls_for_resolver(cls)} >= set(cls.walls)


def test_taxonomy_text_fits_80_columns():
    text = taxonomy()
    assert "Domain 1" in text and "Domain 6" in text and "Synthesis" in text
    assert max(len(line) for line in text.splitlines()) <= 80


# --- pipeline ----------------------------------------------------------------------------------
class Recorder:
    def __init__(self):
        self.seen = []

    def on_stage_end(self, stage_name, result):
        self.seen.append((stage_name, type(result).__name__))


def test_pipeline_runs_real_solvers_and_calls_back_in_order():
    pipe = Pipeline([
        Engine,
        ("serving", ServingModel(), lambda inputs, results: {"seq_len": results["Engine"].seq_len}),
    ], name="decode")
    rec = Recorder()
    pipe.register_callback(rec)
    out = pipe.run(model="Llama3_8B", hardware="H100", seq_len=1024, stack="vllm")
    assert list(out) == ["Engine", "serving"]
    assert rec.seen == [("Engine", "PerformanceProfile"), ("serving", "ServingResult")]
    assert out["serving"].context_len == 1024
    # decode ITL at batch 1 is one engine decode step under the same stack (no tensor parallelism)
    assert out["serving"].itl_s == pytest.approx(out["Engine"].latency_s, rel=1e-6)
    assert repr(pipe).startswith("Pipeline(")
    text = pipe.explain()
    assert "Engine → serving" in text and "1 Compute" in text and "4 Serving" in text


def test_pipeline_errors():
    with pytest.raises(InputError):
        Pipeline([])
    with pytest.raises(InputError):
        Pipeline([object()])
    with pytest.raises(InputError):
        Pipeline([ServingModel(), ServingModel()])
    with pytest.raises(InputError, match="needs hardware"):
        Pipeline([ServingModel()]).run(model="Llama3_8B")
    with pytest.raises(InputError):
        Pipeline([ServingModel()]).register_callback(object())


# --- sensitivity -------------------------------------------------------------------------------
def test_llama_decode_on_h100_binds_on_bandwidth():
    """A batch-1 decode step streams 16 GB of weights: T ~ bytes / BW, so d ln T / d ln BW ~ -1
    (less in size by the launch gaps that no bandwidth removes) and FLOP/s does not matter."""
    r = SensitivitySolver().solve("Llama3_8B", "H100")
    assert r.binding_figure == "memory_bandwidth" and r.feasible
    assert -1.05 < r.elasticities["memory_bandwidth"] < -0.8
    assert abs(r.elasticities["peak_flops"]) < 0.02
    assert abs(r.elasticities["memory_capacity"]) < 1e-9
    assert r.sensitivities["memory_bandwidth"] < 0


def test_resnet50_large_batch_on_a100_binds_on_flops():
    r = SensitivitySolver().solve("ResNet50", "A100", batch_size=256)
    assert r.binding_figure == "peak_flops"
    assert r.elasticities["peak_flops"] < -0.5


def test_sensitivity_through_serving_and_infeasible_baseline():
    r = SensitivitySolver().solve("Llama3_8B", "H100", solver="serving", seq_len=4096)
    assert r.binding_figure == "memory_bandwidth" and r.metric == "itl_s"
    big = SensitivitySolver().solve("Llama3_70B", "H100")
    assert not big.feasible and big.binding_figure == "memory_capacity"
    assert any("does not fit" in line for line in big.constraint_trace)
    with pytest.raises(InputError):
        SensitivitySolver().solve("Llama3_8B", "H100", solver="quantum")
    with pytest.raises(InputError):
        SensitivitySolver().solve("Llama3_8B", "H100", perturbation=1.5)


def test_scaled_copy_is_timed_with_its_new_figures():
    """Doubling bandwidth must reach the timing layer (no stale cached device view)."""
    base = Engine.solve("Llama3_8B", "H100")
    from mlsysim import Hardware

    fast = Engine.solve("Llama3_8B", scaled(Hardware.H100, bandwidth=2.0))
    assert fast.latency_s < 0.6 * base.latency_s


# --- synthesis ---------------------------------------------------------------------------------
def test_tighter_target_needs_more_bandwidth_and_the_device_meets_it():
    loose = SynthesisSolver().solve("Llama3_8B", "5 ms")
    tight = SynthesisSolver().solve("Llama3_8B", "2 ms")
    assert tight.required_bandwidth > 2 * loose.required_bandwidth
    assert tight.required_flops > loose.required_flops
    assert tight.required_memory == pytest.approx(loose.required_memory)
    for r, target in ((loose, 5e-3), (tight, 2e-3)):
        prof = Engine.solve("Llama3_8B", r.device)
        assert prof.feasible and prof.latency_s <= target * (1 + 1e-6)
        assert prof.latency_s > 0.99 * target          # and not needlessly faster
    # a device that merely needs the ~16 GB of weights at 5 ms: an H200 does it, an A100 does not
    assert any("H200" in n for n in loose.meeting) and not any("A100" in n for n in loose.meeting)
    for name in loose.meeting[:3]:
        assert Engine.solve("Llama3_8B", name).latency_s <= 5e-3


def test_synthesis_errors():
    with pytest.raises(InputError, match="launch gaps"):
        SynthesisSolver().solve("Llama3_8B", "10 us")
    with pytest.raises(InputError):
        SynthesisSolver().solve("Llama3_8B", -1)
