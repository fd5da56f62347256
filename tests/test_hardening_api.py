"""Reproducers of inputs that once came back silently wrong through the API, each now refused or reported in
one sentence (issue: hardened against bad input)."""
import math

import pytest

from mlsysim import Engine, ServingModel
from mlsysim.errors import InputError
from mlsysim.serving.batching import ContinuousBatchingModel


def test_an_efficiency_too_small_to_time_is_refused():
    """efficiency=1e-320 once gave an infinite step time and a passing scorecard."""
    with pytest.raises(InputError, match="efficiency 1e-320 is no fraction of a device's peak"):
        Engine.solve("Llama3_8B", "H100", efficiency=1e-320)
    assert math.isfinite(Engine.solve("Llama3_8B", "H100", efficiency=1e-9).latency_s)


def test_weights_that_leave_no_kv_cache_report_zero_not_a_negative_budget():
    """Llama 3 70B's 141 GB on a 24 GB L4 once reported a -121 GB KV budget and a NaN speed-up."""
    r = ContinuousBatchingModel().solve("Llama3_70B", "L4", max_seq_len=4096)
    assert not r.feasible and r.kv_budget_bytes == 0.0 and r.max_active_requests == 0
    assert r.throughput_tokens_per_s == 0.0 and r.speedup_vs_static is None
    assert "leave no KV cache" in r.binding and r.summary().startswith("infeasible: memory")


def test_a_pipeline_deeper_than_the_model_is_one_sentence():
    with pytest.raises(InputError, match="pp=1000000000 exceeds Llama-3.1-8B's 32 layers"):
        ServingModel().solve("Llama3_8B", "H100", pp=10**9)


def test_an_edge_or_mobile_device_pays_no_datacenter_pue_or_water():
    """An edge-device plan once applied a datacenter's PUE and cooling water to a camera."""
    from conftest import cli, one_json

    from mlsysim import Hardware
    from mlsysim.infra.registry import Infra
    from mlsysim.operations.sustainability import SustainabilityModel

    for key in ("JetsonOrinNano", "iPhone15Pro"):
        r = SustainabilityModel().solve(Hardware.get(key), 30, region="US_Avg")
        assert r.pue == 1.0 and r.water_onsite_liters == 0.0 and "outside any datacenter" in r.assumptions[0]
        assert r.facility_energy_j == pytest.approx(r.it_energy_j)
    housed = SustainabilityModel().solve(Hardware.get("JetsonOrinNano"), 30,
                                         datacenter=next(iter(Infra.Datacenters.items()))[1])
    assert housed.pue > 1.0
    assert SustainabilityModel().solve(Hardware.get("H100"), 30, region="US_Avg").pue > 1.0
    out = one_json(cli("eval", "ResNet50", "JetsonOrinNano", "-p", "int8", "--region", "US_Avg", "--duration-days",
                       "30", "-o", "json"))
    grid = Infra.Grids.get("US_Avg")              # only the water of generating its electricity remains
    assert out["m_water_liters"] == pytest.approx(grid.grid_water_l_kwh * out["m_energy_kwh"])


@pytest.mark.parametrize("kw, words", [
    (dict(zero_stage=2), "zero_stage describes a training step"),
    (dict(dp_size=4), "dp describes a training step"),
    (dict(is_lora=True), "lora describes a training step"),
    (dict(optimizer="sgd"), "optimizer describes a training step"),
    (dict(activation_recomputation=True), "recompute describes a training step"),
    (dict(seq_len=512), "seq_len is the sequence of a language model; ResNet-50 is a cnn"),
])
def test_an_input_an_inference_step_would_ignore_is_refused(kw, words):
    """Each of these was once accepted by Engine.solve for a ResNet-50 inference step and changed nothing."""
    with pytest.raises(InputError, match=words):
        Engine.solve("ResNet50", "A100", batch_size=8, **kw)
    training = {k: v for k, v in kw.items() if k != "seq_len"} | ({"dp_size": 4} if "zero_stage" in kw else {})
    Engine.solve("ResNet50", "A100", batch_size=8, is_training=True, **training)


def test_zero_on_one_rank_is_refused():
    """zero_stage=2 on one device without data-parallel ranks shards nothing: once accepted and ignored."""
    with pytest.raises(InputError, match="zero_stage=2 shards the training state over the data-parallel ranks"):
        Engine.solve("Llama3_8B", "H100", is_training=True, zero_stage=2)


def test_the_default_training_batch_checks_the_degrees_first():
    """DistributedModel without a batch once divided by a zero or a string degree (ZeroDivisionError, TypeError)."""
    from mlsysim.training.distributed import DistributedModel

    for kw, words in ((dict(ep=0), "ep must be a whole number"), (dict(ep=""), "ep must be a whole number"),
                      (dict(tp=None), "tp must be a whole number")):
        with pytest.raises(InputError, match=words):
            DistributedModel().solve("Llama3_8B", "Research_256", **kw)


def test_a_model_with_a_short_window_takes_it_as_its_default_context():
    """GPT-2 (1,024 tokens) once could not be evaluated without a seq_len: the default 2,048 exceeded its window."""
    from conftest import cli

    assert Engine.solve("GPT2_Small", "H100").seq_len == 1024
    from mlsysim.run import Run
    assert Run.build("GPT2_Small", "H100").context == 1024
    assert cli("eval", "GPT2_Small", "H100").returncode == 0


def test_a_period_longer_than_a_million_years_is_refused():
    """The long fuzz run found 6.3e296 days giving an infinite energy."""
    from mlsysim.operations.sustainability import SustainabilityModel
    from mlsysim.run import resolve_fleet

    with pytest.raises(InputError, match="duration_days must be at most a million years"):
        SustainabilityModel().solve(resolve_fleet("Training_1K"), 6.3309721179621044e296)


def test_a_kv_precision_for_a_model_without_a_kv_cache_is_refused():
    """kv_precision was once accepted for ResNet-50 and BERT (no KV cache in their steps) and changed nothing."""
    for model in ("ResNet50", "BERT_Base"):
        with pytest.raises(InputError, match="kv_precision sets the precision of a decoder's KV cache"):
            Engine.solve(model, "H100", kv_precision="fp8")


def test_the_cli_refuses_a_sequence_for_a_model_without_one():
    from conftest import cli

    out = cli("eval", "ResNet50", "A100", "--seq-len", "512")
    assert out.returncode == 1 and "seq_len is the sequence of a language model" in out.stderr


def test_a_context_a_state_space_decode_step_cannot_use_is_refused():
    """Mamba's decode step once took seq_len=65536 and returned the same step as seq_len=512: its state has one
    size whatever the context, so the input was silently ignored."""
    with pytest.raises(InputError, match="seq_len does not change a decode step of Mamba-2.8B: a state-space model"):
        Engine.solve("Mamba_2_8B", "H100", seq_len=65536)
    with pytest.raises(InputError, match="past_len does not change a step of Mamba-2.8B"):
        Engine.solve("Mamba_2_8B", "H100", phase="prefill", seq_len=512, past_len=4096)
    short, long = (Engine.solve("Mamba_2_8B", "H100", phase="prefill", seq_len=s).latency_s for s in (512, 4096))
    assert long > short                                  # where the context is used, it changes the answer


def test_a_device_without_a_published_tdp_has_unknown_energy_not_zero():
    """TPU v5e's step once cost 0 J: its datasheet gives no power, and zero read as a free step."""
    from conftest import cli

    assert math.isnan(Engine.solve("Llama3_8B", "TPUv5e", batch_size=8).energy_j)
    out = cli("eval", "Llama3_1B", "TPUv5e", "-b", "8")
    assert out.returncode == 0 and "energy per step              unknown" in out.stdout
    assert Engine.solve("Llama3_8B", "H100", batch_size=8).energy_j > 0


def test_an_llm_engine_for_a_model_that_is_no_language_model_is_refused():
    """The long fuzz run of 'every accepted input changes the answer' found `stack='vllm'` on ResNet-50 accepted
    and timed as a general graph engine: vLLM, SGLang, TensorRT-LLM and llama.cpp load language models only."""
    with pytest.raises(InputError, match="vLLM runs language models, and ResNet-50 is a cnn"):
        Engine.solve("ResNet50", "H100", stack="vllm")
    assert Engine.solve("ResNet50", "H100", stack="tensorrt").latency_s > 0
