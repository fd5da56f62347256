"""Data ingestion, preprocessing, orchestration, responsible engineering, efficiency, scaling, compression."""
import math

import numpy as np
import pytest

from mlsysim.analysis.efficiency import EfficiencyModel
from mlsysim.engine.engine import Engine
from mlsysim.errors import InputError, UnitError
from mlsysim.operations.compression import CompressionModel
from mlsysim.operations.data import DataModel, TransformationModel
from mlsysim.operations.orchestration import OrchestrationModel
from mlsysim.operations.responsible import ResponsibleEngineeringModel
from mlsysim.serving.queueing import TailLatencyModel
from mlsysim.training.scaling import ScalingModel
from mlsysim.zoo.registry import load_data


def test_walls():
    assert DataModel.walls == (8,) and TransformationModel.walls == (9,)
    assert OrchestrationModel.walls == (16,) and ResponsibleEngineeringModel.walls == (20,)
    assert EfficiencyModel.walls == (3,) and ScalingModel.walls == (11,) and CompressionModel.walls == (13,)


# --- scaling -------------------------------------------------------------------------------------
def test_chinchilla_known_answer():
    """C = 6 N D with D = 20 N: N = sqrt(5.88e23 / 120) = 7.0e10, D = 1.4e12 (Hoffmann et al. 2022)."""
    r = ScalingModel().solve(5.88e23)
    assert r.optimal_parameters == pytest.approx(70e9, rel=1e-3)
    assert r.optimal_tokens == pytest.approx(1.4e12, rel=1e-3)
    assert r.tokens_per_parameter == pytest.approx(20.0)


def test_scaling_fixed_size_and_time_budget():
    r = ScalingModel().solve(5.88e23, target_model_size=175e9)
    assert r.optimal_tokens == pytest.approx(5.88e23 / (6 * 175e9))
    day = ScalingModel().solve("1 day", hardware="H100", mfu=0.4)
    assert day.compute_budget_flops == pytest.approx(86400 * 989.4e12 * 0.4, rel=1e-3)


def test_scaling_errors():
    with pytest.raises(UnitError):
        ScalingModel().solve("5 GB")
    with pytest.raises(InputError):
        ScalingModel().solve(-1.0)
    with pytest.raises(InputError):
        ScalingModel().solve()


# --- orchestration -------------------------------------------------------------------------------
def test_orchestration_mm1_known_answer():
    """One slot, 12 jobs/day of 1 h: rho = 0.5, M/M/1 mean wait = rho s / (1 - rho) = 1 h, Lq = 0.5."""
    r = OrchestrationModel().solve(12, 1.0, cluster_gpus=8, gpus_per_job=8)
    assert r.servers == 1 and r.utilization == pytest.approx(0.5)
    assert r.mean_wait_s == pytest.approx(3600.0, rel=1e-6)
    assert r.mean_queue_length == pytest.approx(0.5, rel=1e-6)


def test_orchestration_matches_tail_latency_model():
    r = OrchestrationModel().solve(6, 24, cluster_gpus=512, gpus_per_job=64)
    q = TailLatencyModel().solve(arrival_rate=6 / 86400, service_time=24 * 3600, servers=8)
    assert r.servers == 8
    assert r.mean_wait_s == pytest.approx(q.mean_wait_s)
    assert r.p95_wait_s == pytest.approx(q.p95_wait_s)
    assert r.wait_probability == pytest.approx(q.wait_probability)
    assert r.is_stable and r.avg_wait_time_days == pytest.approx(q.mean_wait_s / 86400)


def test_orchestration_stranded_gpus_and_more_gpus_less_wait():
    r = OrchestrationModel().solve(6, 24, cluster_gpus=520, gpus_per_job=64)
    assert r.stranded_gpus == 8 and r.gpu_utilization < r.utilization
    waits = [OrchestrationModel().solve(6, 24, cluster_gpus=g, gpus_per_job=64).mean_wait_s for g in (448, 512, 640)]
    assert waits[0] > waits[1] > waits[2]


def test_orchestration_errors():
    with pytest.raises(InputError, match="saturate"):
        OrchestrationModel().solve(20, 24, cluster_gpus=512, gpus_per_job=64)
    with pytest.raises(InputError, match="cannot run"):
        OrchestrationModel().solve(1, 1, cluster_gpus=8, gpus_per_job=16)
    with pytest.raises(InputError):
        OrchestrationModel().solve(-1, 1, cluster_gpus=8)


# --- data ingestion ------------------------------------------------------------------------------
def test_data_demand_from_engine_step():
    """ResNet-50 at batch 256: demand = 256 / step time x 108 KB per stored JPEG."""
    r = DataModel().solve("ResNet50", "H100", batch_size=256)
    step = Engine.solve("ResNet50", "H100", batch_size=256, is_training=True).latency_s
    assert r.samples_per_s == pytest.approx(256 / step)
    assert r.storage_demand_bw == pytest.approx(256 / step * 138e9 / 1_281_167)
    assert r.host_link_demand_bw == pytest.approx(256 / step * 3 * 224 * 224)


@pytest.mark.parametrize("model", ["ResNet50", "MobileNetV2", "Llama3_8B"])
def test_more_storage_bandwidth_never_more_stall(model):
    stalls = [DataModel().solve(model, "H100", batch_size=64, storage_bandwidth=bw).stall_fraction
              for bw in np.geomspace(1e3, 1e11, 25)]
    assert all(a >= b for a, b in zip(stalls, stalls[1:]))
    assert stalls[-1] == 0.0


def test_data_bottleneck_names_and_stall():
    slow = DataModel().solve("ResNet50", "H100", batch_size=256, storage_bandwidth="100 MB/s")
    assert slow.bottleneck == "storage" and slow.is_stalled
    assert slow.stall_fraction == pytest.approx(1 - 100e6 / slow.storage_demand_bw)
    link = DataModel().solve("ResNet50", "H100", batch_size=256, host_link_bandwidth="100 MB/s")
    assert link.bottleneck == "host link"
    ok = DataModel().solve("2 GB/s", "H100", storage_bandwidth="10 GB/s")
    assert ok.bottleneck == "none" and ok.stall_fraction == 0.0 and ok.utilization == pytest.approx(0.2)


def test_data_errors():
    with pytest.raises(InputError):
        DataModel().solve("ResNet50", "H100", storage_bandwidth=-1)
    with pytest.raises(UnitError):
        DataModel().solve("5 GB", "H100")
    with pytest.raises(InputError):
        DataModel().solve(None, "H100")


# --- preprocessing -------------------------------------------------------------------------------
def test_transformation_legacy_form():
    """32 samples of 150 KB at 1 GB/s take 4.8 ms; a 10 ms step hides them; a 2 ms step waits."""
    r = TransformationModel().solve(32, 150e3, 1e9, 0.010)
    assert r.transform_time_s == pytest.approx(4.8e-3) and not r.is_bottleneck and r.accelerator_utilization == 1.0
    r = TransformationModel().solve(32, 150e3, 1e9, 0.002)
    assert r.is_bottleneck and r.accelerator_utilization == pytest.approx(0.002 / 4.8e-3)


def test_more_cores_never_lower_utilization():
    utils = [TransformationModel().solve(model="ResNet50", hardware="H100", batch_size=256, cpu_cores=c)
             .accelerator_utilization for c in (1, 4, 16, 64, 256)]
    assert all(a <= b for a, b in zip(utils, utils[1:])) and utils[-1] == 1.0
    r = TransformationModel().solve(model="ResNet50", hardware="H100", batch_size=256, cpu_cores=16)
    assert r.cores_needed == pytest.approx(r.accelerator_samples_per_s / 100.0)


def test_transformation_errors():
    with pytest.raises(InputError):
        TransformationModel().solve(model="ResNet50", hardware="H100")
    with pytest.raises(InputError):
        TransformationModel().solve(model="ResNet50", hardware="H100", cpu_cores=8, task="telepathy")
    with pytest.raises(InputError):
        TransformationModel().solve(32, 150e3)


# --- compression ---------------------------------------------------------------------------------
def test_int4_weights_are_a_quarter_of_fp16():
    r = CompressionModel().solve("Llama3_8B", "H100", bits=4)
    fp16 = Engine.solve("Llama3_8B", "H100").memory_parts["weights"]
    assert r.original_size_b == pytest.approx(fp16)
    assert r.compressed_size_b == pytest.approx(fp16 / 4)
    assert r.compression_ratio == pytest.approx(4.0) and r.memory_savings_pct == pytest.approx(75.0)


def test_memory_bound_decode_gains_up_to_byte_ratio():
    r = CompressionModel().solve("Llama3_8B", "H100", bits=4)
    assert r.baseline_bottleneck == "Memory"
    assert 1.5 < r.inference_speedup <= 4.0


@pytest.mark.parametrize("batch", [64, 256])
def test_compute_bound_cnn_gains_nothing_from_weight_only(batch):
    """VGG16's convolutions do ~30 GFLOP per image against 0.28 GB of weights: compute-bound at any batch
    of tens of images, so halving the weight bytes leaves the step as it was."""
    prof = Engine.solve("VGG16", "H100", batch_size=batch)
    r = CompressionModel().solve("VGG16", "H100", bits=8, weight_only=True, batch_size=batch)
    assert prof.bottleneck == "Compute"
    assert r.inference_speedup == pytest.approx(1.0, abs=0.02)


def test_weight_only_barely_helps_a_cnn_whose_bytes_are_activations():
    """ResNet50 at batch 64 moves its 51 MB of fp16 weights once but gigabytes of activations: int8
    weights save at most the weights' share of the bytes, and never slow it down."""
    prof = Engine.solve("ResNet50", "H100", batch_size=64)
    r = CompressionModel().solve("ResNet50", "H100", bits=8, weight_only=True, batch_size=64)
    weights = prof.memory_parts["weights"]
    assert weights / prof.bytes_total < 0.05
    assert 1.0 <= r.inference_speedup <= 1.0 + weights / prof.bytes_total


def test_int8_compute_needs_the_device_rate():
    fast = CompressionModel().solve("VGG16", "H100", bits=8, weight_only=False, batch_size=64)
    assert fast.inference_speedup > 1.3          # the H100 has an int8 rate twice its fp16 rate
    with pytest.raises(InputError, match="weight_only"):
        CompressionModel().solve("VGG16", "V100", bits=8, weight_only=False, batch_size=64)


def test_unstructured_pruning_gives_no_speedup():
    for s in (0.3, 0.5, 0.9):
        r = CompressionModel().solve("Llama3_8B", "H100", method="pruning", sparsity=s)
        assert r.inference_speedup == 1.0 and r.compression_ratio == 1.0


def test_structured_and_24_pruning_speed_up():
    st = CompressionModel().solve("Llama3_8B", "H100", method="pruning", sparsity=0.5, structured=True)
    assert st.compression_ratio == pytest.approx(2.0) and 1.0 < st.inference_speedup <= 2.0
    nm = CompressionModel().solve("Llama3_8B", "H100", method="pruning", sparsity=0.5, pattern="2:4")
    assert 1.0 < nm.inference_speedup < 2.0


def test_published_accuracy_with_source():
    r = CompressionModel().solve("Llama2_7B", "H100", bits=4)
    assert r.accuracy is not None and r.estimated_accuracy_delta == pytest.approx(0.13)
    assert "AWQ" in r.accuracy.source
    r = CompressionModel().solve("ResNet50", "H100", bits=8, weight_only=False, batch_size=64)
    assert r.accuracy is not None and r.accuracy.delta == pytest.approx(-0.7646)


def test_unknown_combination_says_no_published_figure():
    r = CompressionModel().solve("Llama3_8B", "H100", bits=4)
    assert r.accuracy is None and r.estimated_accuracy_delta is None
    assert "no published figure" in r.accuracy_note
    assert any("AWQ" in x.source or "GPTQ" in x.source for x in r.related)
    r = CompressionModel().solve("MobileNetV2", "H100", method="pruning", sparsity=0.7)
    assert r.accuracy is None and "no published figure" in r.accuracy_note


def test_every_published_row_has_a_source_and_consistent_delta():
    rows = load_data("compression")["results"]
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["source"] and r["method"] in ("quantization", "pruning", "distillation")
        if r.get("baseline") is not None and r.get("compressed") is not None:
            assert r["delta"] == pytest.approx(r["compressed"] - r["baseline"], abs=1e-9)


def test_distillation():
    r = CompressionModel().solve("Llama3_8B", "H100", method="distillation", student="Llama3_1B")
    assert r.compression_ratio > 4 and r.inference_speedup > 2
    with pytest.raises(InputError, match="student"):
        CompressionModel().solve("Llama3_8B", "H100", method="distillation")


def test_compression_errors():
    with pytest.raises(InputError, match="bits"):
        CompressionModel().solve("Llama3_8B", "H100", bits=5)
    with pytest.raises(InputError, match="method"):
        CompressionModel().solve("Llama3_8B", "H100", method="hashing")
    with pytest.raises(InputError, match="half"):
        CompressionModel().solve("Llama3_8B", "H100", method="pruning", sparsity=0.3, pattern="2:4")
    with pytest.raises(InputError, match="sparsity"):
        CompressionModel().solve("Llama3_8B", "H100", method="pruning", sparsity=1.0)
    with pytest.raises(InputError, match="baseline"):
        CompressionModel().solve("Llama3_8B", "H100", baseline="int8")


# --- responsible engineering ---------------------------------------------------------------------
def test_dp_slowdown_is_published_and_independent_of_epsilon():
    a = ResponsibleEngineeringModel().solve("100 h", epsilon=1.0)
    b = ResponsibleEngineeringModel().solve("100 h", epsilon=8.0)
    assert a.dp_slowdown_factor == b.dp_slowdown_factor == pytest.approx(math.sqrt(2.6 * 8.0))
    assert a.effective_training_time_s == pytest.approx(100 * 3600 * a.dp_slowdown_factor)
    jax = ResponsibleEngineeringModel().solve(epsilon=1.0, implementation="jax")
    assert jax.dp_slowdown_factor == pytest.approx(1.2)


def test_dp_noise_falls_with_epsilon_and_memory_scales_with_batch():
    sig = [ResponsibleEngineeringModel().solve(epsilon=e, batch_size=256, dataset_size=50_000, epochs=50)
           .noise_multiplier for e in (0.5, 1, 2, 4, 8)]
    assert all(a > b for a, b in zip(sig, sig[1:]))
    m1 = ResponsibleEngineeringModel().solve(model="ResNet50", batch_size=1).per_example_gradient_bytes
    m64 = ResponsibleEngineeringModel().solve(model="ResNet50", batch_size=64).per_example_gradient_bytes
    assert m1 == pytest.approx(25_557_032 * 4) and m64 == pytest.approx(64 * m1)
    ghost = ResponsibleEngineeringModel().solve(model="ResNet50", batch_size=64, implementation="ghost_clipping")
    assert ghost.per_example_gradient_bytes == 0.0


def test_fairness_samples_known_answer():
    """±2 points at 95% on a rate near 0.5: n = 1.96^2 x 0.25 / 0.02^2 = 2,401; a 1% subgroup needs 100x."""
    r = ResponsibleEngineeringModel().solve(min_subgroup_prevalence=0.01)
    assert r.subgroup_samples_needed == pytest.approx(2401, rel=1e-3)
    assert r.total_samples_needed == pytest.approx(240_100, rel=1e-3) and r.fairness_data_ratio == pytest.approx(100)


def test_responsible_errors():
    with pytest.raises(InputError):
        ResponsibleEngineeringModel().solve(epsilon=0)
    with pytest.raises(InputError):
        ResponsibleEngineeringModel().solve(min_subgroup_prevalence=1.5)
    with pytest.raises(InputError):
        ResponsibleEngineeringModel().solve(implementation="magic")


# --- efficiency ----------------------------------------------------------------------------------
@pytest.mark.parametrize("model,kw", [("Llama3_8B", {}), ("ResNet50", {"batch_size": 256}),
                                      ("ResNet50", {"batch_size": 64, "is_training": True}),
                                      ("BERT_Base", {"batch_size": 32})])
def test_efficiency_classes_add_up_to_the_engine_step(model, kw):
    r = EfficiencyModel().solve(model, "H100", **kw)
    prof = Engine.solve(model, "H100", **kw)
    assert sum(c.time_s for c in r.classes) == pytest.approx(prof.latency_s, rel=1e-9)
    assert r.ideal_s + sum(r.losses_s.values()) == pytest.approx(prof.latency_s, rel=1e-9)
    assert r.mfu == pytest.approx(prof.mfu)
    assert all(0.0 <= c.efficiency <= 1.0 + 1e-9 for c in r.classes)


def test_efficiency_explains_decode_as_memory_bound():
    r = EfficiencyModel().solve("Llama3_8B", "H100")
    assert max(r.losses_s, key=r.losses_s.get) == "memory bound"
    conv = EfficiencyModel().solve("ResNet50", "H100", batch_size=256, workload_type="conv")
    assert 0.0 < conv.mfu <= 1.0
    with pytest.raises(InputError, match="conv"):
        EfficiencyModel().solve("Llama3_8B", "H100", workload_type="conv")
    with pytest.raises(InputError):
        EfficiencyModel().solve("Llama3_8B", "H100", workload_type="magic")


@pytest.mark.parametrize("seq_len", [512, 4096])
def test_standard_attention_is_never_faster_than_flash(seq_len):
    """Unfused attention moves the S x keys score matrix through memory: slower, lower attention MFU,
    worse as the sequence grows; the other operators and the step's parts still add up."""
    kw = dict(batch_size=1, seq_len=seq_len, phase="prefill")
    flash = EfficiencyModel().solve("Llama3_8B", "H100", **kw)
    plain = EfficiencyModel().solve("Llama3_8B", "H100", use_flash_attention=False, **kw)
    assert plain.latency_s > flash.latency_s and plain.mfu < flash.mfu
    assert plain.ideal_s + sum(plain.losses_s.values()) == pytest.approx(plain.latency_s, rel=1e-9)
    assert sum(c.time_s for c in plain.classes) == pytest.approx(plain.latency_s, rel=1e-9)
    gemm = {c.op_class: c.time_s for c in flash.classes}["gemm"]
    assert {c.op_class: c.time_s for c in plain.classes}["gemm"] == pytest.approx(gemm)
    attn = [EfficiencyModel().solve("Llama3_8B", "H100", workload_type="attention", use_flash_attention=f, **kw).mfu
            for f in (True, False)]
    assert attn[0] > attn[1] > 0


def test_standard_attention_leaves_decode_alone():
    flash = EfficiencyModel().solve("Llama3_8B", "H100", batch_size=8)
    plain = EfficiencyModel().solve("Llama3_8B", "H100", batch_size=8, use_flash_attention=False)
    assert plain.latency_s == pytest.approx(flash.latency_s)
