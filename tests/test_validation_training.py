"""The training category of the validation suite: published MFU/HFU and throughput of large runs, each predicted by
DistributedModel on the exact fleet and layout the source gives."""
import math

import pytest
import yaml

from mlsysim.training.distributed import DistributedModel
from mlsysim.validation import run, summarize
from mlsysim.validation.runner import _TRAINING_KEYS, TRAINING_DATA, TRAINING_METRICS


def test_every_training_anchor_is_a_sourced_figure_with_its_layout():
    anchors = yaml.safe_load(TRAINING_DATA.read_text())["anchors"]
    assert anchors and {a["category"] for a in anchors} == {"training"}
    for a in anchors:
        assert a["metric"] in (*TRAINING_METRICS, "throughput"), a["id"]
        assert a["source"] and a["url"].startswith("https://"), a["id"]
        assert set(a["config"]) <= set(_TRAINING_KEYS) and {"tp", "pp", "dp"} <= set(a["config"]), a["id"]


def test_every_training_anchor_predicts_with_a_finite_error():
    results = run("training")
    assert len(results) == 11
    for r in results:
        assert r.failure is None, f"{r.id}: {r.failure}"
        assert r.predicted > 0 and math.isfinite(r.error)
        assert r.predicted < 1 or r.metric == "throughput"
    assert set(summarize(results)) == {"training"}


def test_the_anchor_is_distributed_model_on_the_published_layout(tmp_path):
    """The runner adds nothing: the same fleet and layout through DistributedModel give the same HFU."""
    from mlsysim import Systems
    from mlsysim.systems.types import Fleet

    (r,) = [x for x in run("training") if x.id == "megatron2021_gpt_146b_1536_a100"]
    fleet = Fleet(name="selene", node=Systems.Nodes.DGX_A100, count=192, fabric=Systems.Fabrics.InfiniBand_HDR)
    d = DistributedModel().solve("Megatron_GPT_146B", fleet, batch_size=2304, seq_len=2048, precision="fp16",
                                 stack="megatron", tp=8, pp=8, dp=24, recompute="full", microbatches=96)
    assert r.predicted == pytest.approx(float(d.hfu))


def test_a_throughput_anchor_is_the_fleets_samples_per_second():
    """MLPerf's LoRA run: the runner's samples/s is DistributedModel's on the logged layout and options."""
    from mlsysim import Systems
    from mlsysim.systems.types import Fleet

    (r,) = [x for x in run("training") if x.id.startswith("mlperf_train_v4.0_llama2_70b_lora")]
    fleet = Fleet(name="eos", node=Systems.Nodes.DGX_H100, count=1, fabric=Systems.Fabrics.InfiniBand_NDR)
    d = DistributedModel().solve("Llama2_70B_8K", fleet, batch_size=8, seq_len=8192, precision="fp8", stack="megatron",
                                 tp=4, pp=1, dp=2, recompute="none", microbatches=4, optimizer="adamw", is_lora=True,
                                 tp_overlap=1.0)
    assert r.unit == "samples/s" and r.predicted == pytest.approx(float(d.samples_per_s))


def test_a_layout_the_memory_model_refuses_is_still_timed_and_says_so(tmp_path):
    """A measured run the memory model thinks cannot fit keeps its timing error and names the disagreement."""
    config = dict(node="DGX_A100", nodes=32, fabric="InfiniBand_HDR", batch_size=1024, seq_len=2048, tp=1, pp=1,
                  dp=256, recompute="none", micro_batch=4)
    anchor = {"id": "x", "category": "training", "model": "Megatron_GPT_18B", "hardware": "A100",
              "config": config, "metric": "hfu", "measured": {"value": 43, "unit": "%"}, "source": "synthetic"}
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump({"anchors": [anchor]}))
    (res,) = run(path=path)
    assert res.failure is None and 0 < res.predicted < 1 and res.bound.startswith("memory model disagrees")


@pytest.mark.parametrize("config, reason", [
    (dict(node="DGX_A100", nodes=32, fabric="InfiniBand_HDR", batch_size=1024, seq_len=2048, tp=8, warp=1), "warp"),
    (dict(node="DGX_H100", nodes=32, fabric="InfiniBand_HDR", batch_size=1024, seq_len=2048, tp=8), "carries"),
    (dict(nodes=32, fabric="InfiniBand_HDR", batch_size=1024, seq_len=2048, tp=8), "config.node"),
])
def test_an_unpredictable_training_anchor_is_reported_with_its_reason(tmp_path, config, reason):
    anchor = {"id": "x", "category": "training", "model": "Megatron_GPT_18B", "hardware": "A100",
              "config": config, "metric": "hfu", "measured": {"value": 43, "unit": "%"}, "source": "synthetic"}
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump({"anchors": [anchor]}))
    (res,) = run(path=path)
    assert res.predicted is None and reason in res.failure


def test_memory_anchors_are_training_memory_models_model_states():
    """The ZeRO paper's figures: the runner's bytes are TrainingMemoryModel's weights + gradients + optimizer
    state on the same layout, and ZeRO's stages only ever shrink them."""
    from mlsysim.training.memory import TrainingMemoryModel

    results = sorted(run("training_memory"), key=lambda r: r.config["zero_stage"])
    assert [r.config["zero_stage"] for r in results] == [0, 1, 2, 3]
    assert all(r.failure is None and r.unit == "GB" for r in results)
    assert all(a.predicted > b.predicted for a, b in zip(results, results[1:]))
    m = TrainingMemoryModel().solve("Megatron_GPT_7_5B", "V100", batch_size=64, seq_len=1024, precision="fp16",
                                    dp=64, zero_stage=1)
    assert results[1].predicted == pytest.approx(float(m.weights_b + m.gradients_b + m.optimizer_b))
