"""0.1.0's design-space exploration (``mlsysim.core.dse``), optimization back ends (``mlsysim.core.optimization``),
differential explainer (``mlsysim.core.explainers``) and Hugging Face importer (``mlsysim.models.importer``), on
this package's solvers."""
import io
import json
import math

import numpy as np
import pytest

from mlsysim import Engine, Hardware, Models, ServingModel
from mlsysim.core.dse import DSE, Constraint, Objective, SearchSpace
from mlsysim.core.explainers import DifferentialExplainer
from mlsysim.core.optimization import OptimizationRegistry, OptimizationResult, OptimizerProtocol
from mlsysim.errors import InputError
from mlsysim.models.importer import fetch_hf_config, import_hf_model
from mlsysim.models.types import TransformerWorkload

# --- DSE -------------------------------------------------------------------------------------------------------
SPACE = {"hardware": ["H100", "A100", "T4"], "batch_size": [1, 8, 32, 128, 512], "seq_len": [1024, 4096]}


def test_dse_through_the_engine_equals_a_search_that_calls_the_engine_point_by_point():
    dse = DSE(SPACE, "maximize: throughput", ["latency_s < 0.05"])
    swept = dse.search(model="Llama3_8B")                        # vectorized: one Engine.solve per device
    looped = dse.search(lambda p: Engine.solve("Llama3_8B", **p))
    assert swept["best_params"] == looped["best_params"] == {"hardware": "H100", "batch_size": 128, "seq_len": 1024}
    assert swept["best_objective"] == pytest.approx(looped["best_objective"], rel=1e-9)
    assert swept["evaluated"] == 30 and swept["feasible"] == looped["feasible"]
    best = swept["best_result"]                                    # the best point's own profile
    assert best.latency_s < 0.05 and float(best.throughput.m_as("1/s")) == pytest.approx(swept["best_objective"])
    # every candidate meets the constraint and fits, and none outside beats the best
    for c in swept["top_candidates"]:
        p = Engine.solve("Llama3_8B", **c["params"])
        assert p.feasible and p.latency_s < 0.05 and c["objective_value"] <= swept["best_objective"]


def test_dse_parses_0_1_0_objectives_and_refuses_what_it_cannot_read():
    assert DSE({"a": [1]}, "minimize(latency_s)").objective == Objective(direction="minimize", metric="latency_s")
    assert DSE({"a": [1]}, "Maximize: x.y").objective.metric == "x.y"
    assert DSE({"a": [1]}, "minimize latency_s").objective == Objective(direction="minimize", metric="latency_s")
    assert SearchSpace(parameters={"a": [1, 2], "b": [3, 4, 5]}).size == 6
    assert Constraint(expression="m <= 4").parts() == ("m", "<=", 4.0)
    with pytest.raises(InputError):
        DSE({"a": [1]}, "fastest")
    with pytest.raises(InputError):
        DSE({"a": [1]}, "minimize: x", ["x is small"])
    with pytest.raises(InputError, match="no point"):
        DSE({"a": [1, 2]}, "minimize: v", ["v < 0"]).search(lambda p: {"v": p["a"]})


def test_dse_as_the_0_1_0_tutorial_wrote_it_over_the_distributed_model():
    from mlsysim import DistributedModel, Systems

    fleet = Systems.Clusters.Research_256

    def evaluate(p):
        return {"DistributedModel": DistributedModel().solve(Models.Llama3_8B, fleet, **p)}
    space = {"batch_size": [256, 512], "tp": [1, 2, 4], "pp": [1, 2]}
    r = DSE(space, "maximize: DistributedModel.effective_throughput").search(evaluate)
    every = {(b, t, q): float(evaluate({"batch_size": b, "tp": t, "pp": q})["DistributedModel"].effective_throughput)
             for b in space["batch_size"] for t in space["tp"] for q in space["pp"]}
    assert r["best_objective"] == pytest.approx(max(every.values()))
    assert every[tuple(r["best_params"].values())] == pytest.approx(max(every.values()))


def test_dse_skips_points_that_do_not_fit_or_fail():
    def evaluate(p):
        if p["b"] == 3:
            raise InputError("refused")
        return {"feasible": p["b"] != 2, "cost": p["b"] * 10}
    r = DSE({"b": [1, 2, 3, 4]}, "maximize: cost").search(evaluate)
    assert r["best_params"] == {"b": 4} and r["feasible"] == 2
    from mlsysim import SystemEvaluator

    scorecard = DSE({"batch_size": [8, 2048]}, "maximize: performance.metrics.throughput").search(
        lambda p: SystemEvaluator.evaluate("x", Models.Llama3_8B, Hardware.H100, seq_len=8192, **p))
    assert scorecard["best_params"] == {"batch_size": 8}            # batch 2048 does not fit: skipped
    assert scorecard["best_result"].feasibility.status == "PASS" and scorecard["feasible"] == 1


# --- optimization back ends ------------------------------------------------------------------------------------
def _replica_problem():
    """Fewest H100 replicas of Llama-3.1-8B serving 20 requests/s of 512 output tokens at batch 16: the
    throughput of one replica from ServingModel, the answer ceil(demand / per-replica)."""
    r = ServingModel().solve(Models.Llama3_8B, Hardware.H100, seq_len=1024, batch_size=16, output_len=512)
    per_replica = int(16 / r.request_latency_s * 512)               # tokens/s one replica finishes
    demand = 20 * 512 * 10                                          # tokens/s asked for (20 req/s, x10 headroom)
    return per_replica, demand


def test_exhaustive_and_ortools_find_the_same_fewest_replicas():
    pytest.importorskip("ortools", reason="OR-Tools is the ortools extra: pip install 'mlsysim[ortools]'")
    per, demand = _replica_problem()
    expected = math.ceil(demand / per)
    grid = OptimizationRegistry.get_backend("exhaustive").compile(
        lambda x: x[0] if x[0] * per >= demand else math.inf, [list(range(1, 65))], names=["replicas"]).solve()

    def build(model):
        n = model.NewIntVar(1, 64, "replicas")
        model.Add(n * per >= demand)
        model.Minimize(n)
        return {"replicas": n}
    cp = OptimizationRegistry.get_backend("discrete").compile(build).solve(time_limit_seconds=10)
    assert grid.feasible and cp.feasible and cp.metrics["ortools_status"] == "OPTIMAL"
    assert grid.best_configuration["replicas"] == cp.best_configuration["replicas"] == expected
    assert grid.optimal_value == cp.optimal_value == expected


def test_exhaustive_and_scipy_find_the_same_minimum_of_a_smooth_cost():
    """Cost per token of a batch b on H100: the engine's decode step time at a few batches, fitted by a smooth
    curve (time = a + c·b), plus a penalty on latency; both back ends land on the same b."""
    bs = np.array([1.0, 64.0, 256.0])
    t = Engine.solve(Models.Llama3_8B, Hardware.H100, batch_size=bs, seq_len=1024).latency_s
    c, a = np.polyfit(bs, t, 1)

    def cost(b):
        return (a + c * b) / b + 0.002 * (a + c * b)               # seconds per token + a latency price
    scipy_r = OptimizationRegistry.get_backend("continuous").compile(cost, (1.0, 512.0), is_scalar=True).solve()
    grid = OptimizationRegistry.get_backend("exhaustive").compile(lambda pts: cost(pts[:, 0]), [(1.0, 512.0)],
                                                                  grid_size=20001, vectorized=True).solve()
    assert scipy_r.feasible and grid.feasible
    assert scipy_r.best_configuration["optimal_variable"] == pytest.approx(
        grid.best_configuration["optimal_variable"], rel=2e-3)
    assert scipy_r.optimal_value == pytest.approx(grid.optimal_value, rel=1e-6)
    assert math.sqrt(a / (0.002 * c)) == pytest.approx(grid.best_configuration["optimal_variable"], rel=2e-3)
    constrained = OptimizationRegistry.get_backend("continuous").compile(
        lambda v: cost(v[0]), [(1.0, 512.0)], constraints=[{"type": "ineq", "fun": lambda v: 50.0 - v[0]}]).solve()
    assert constrained.solver_name == "scipy.optimize (SLSQP)"
    assert constrained.best_configuration["optimal_variable"] == pytest.approx(50.0, rel=1e-3)


def test_the_registry_and_the_protocol():
    assert isinstance(OptimizationRegistry.get_backend("exhaustive"), OptimizerProtocol)
    assert OptimizationRegistry.available()["exhaustive"] is True
    with pytest.raises(InputError, match="unknown optimization class"):
        OptimizationRegistry.get_backend("quantum")
    r = OptimizationRegistry.get_backend("exhaustive").compile(lambda x: math.inf, [(0, 1)], grid_size=3).solve()
    assert isinstance(r, OptimizationResult) and not r.feasible and r.metrics["grid_points_evaluated"] == 3


def test_a_missing_back_end_says_how_to_install_it(monkeypatch):
    import builtins
    import sys

    real = builtins.__import__

    def no_ortools(name, *args, **kw):
        if name.startswith("ortools"):
            raise ImportError("No module named 'ortools'")
        return real(name, *args, **kw)
    monkeypatch.setattr(builtins, "__import__", no_ortools)
    monkeypatch.delitem(sys.modules, "mlsysim.core.optimization.ortools_backend", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'mlsysim\[ortools\]'"):
        OptimizationRegistry.get_backend("discrete")


# --- explainer ------------------------------------------------------------------------------------------------
def test_differential_explainer_names_the_regimes_and_the_ratio_that_binds():
    a100, h100 = Engine.solve("Llama3_8B", "A100"), Engine.solve("Llama3_8B", "H100")
    text = DifferentialExplainer.compare_performance(a100, h100)
    assert f"Speedup: {a100.latency_s / h100.latency_s:.2f}x" in text
    assert "Memory-bound (wall 2, Memory)" in text and "memory bandwidth" in text
    slower = DifferentialExplainer.compare_performance({"SingleNodeModel": h100}, a100)
    assert "decreased performance" in slower
    kw = dict(batch_size=256, phase="prefill", seq_len=512)
    big = DifferentialExplainer.compare_performance(Engine.solve("Llama3_8B", "A100", **kw),
                                                    Engine.solve("Llama3_8B", "H100", **kw))
    assert "Compute-bound (wall 1, Compute)" in big and "peak FLOP/s" in big
    assert "missing latency" in DifferentialExplainer.compare_performance({}, h100)
    assert "1.55x" in DifferentialExplainer.compare_hardware("Llama3_8B", "A100", "H100")


# --- Hugging Face importer --------------------------------------------------------------------------------------
LLAMA = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu", "hidden_size": 4096,
         "intermediate_size": 14336, "max_position_embeddings": 131072, "num_attention_heads": 32,
         "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
         "tie_word_embeddings": False, "vocab_size": 128256}


def test_import_hf_model_from_a_file_the_cache_or_the_hub(tmp_path, monkeypatch):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA))
    assert fetch_hf_config(str(path)) == LLAMA == fetch_hf_config(str(tmp_path))
    snap = tmp_path / "hub" / "models--meta-llama--Llama-3.1-8B" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps(LLAMA))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    w = import_hf_model("meta-llama/Llama-3.1-8B")
    assert isinstance(w, TransformerWorkload) and w.name == "Llama-3.1-8B"
    assert float(w.parameters) == pytest.approx(float(Models.Llama3_8B.parameters), rel=1e-3)
    assert import_hf_model("meta-llama/Llama-3.1-8B", name="mine").name == "mine"

    import urllib.request
    asked = []

    def fake_urlopen(request, timeout):
        asked.append((request.full_url, timeout))
        return io.BytesIO(json.dumps(LLAMA).encode())
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    w = import_hf_model("someone/Llama-copy", timeout=3)
    assert asked == [("https://huggingface.co/someone/Llama-copy/resolve/main/config.json", 3)]
    assert w.name == "Llama-copy" and w.layers == 32
    with pytest.raises(InputError, match="Hugging Face model id"):
        fetch_hf_config("not a valid id!")
