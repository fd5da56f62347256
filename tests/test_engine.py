"""Engine.solve: known answers computed by hand, physical properties, and the errors a user sees."""
import numpy as np
import pytest

import mlsysim
from mlsysim import Engine, Hardware, Models
from mlsysim.errors import InputError, OOMError, UnknownNameError, UnsupportedPrecisionError
from mlsysim.models.families import lower
from mlsysim.ops import Precisions

FP16 = Precisions("fp16", "fp16", "fp16", "fp16")


def gemm_flops(table):
    return sum(f * c for f, c, cls in zip(table.flops, table.count, table.classes) if cls == "gemm")


# --- known answers -----------------------------------------------------------------------------
def test_llama3_8b_gemm_flops_per_token():
    """Per layer: QKV 4096x(32+2*8)*128, O 4096x4096, gated MLP 3x4096x14336 = 218,103,808 weights;
    x32 layers = 6,979,321,856, plus the LM head 4096x128,256 = 525,336,576. A forward FLOP is 2 per
    weight per token: 2 x 7,504,658,432 = 15,009,316,864 FLOP per decoded token."""
    table = lower(Models.Llama3_8B, "decode", 1, 2048, FP16)
    assert gemm_flops(table) == pytest.approx(15_009_316_864, rel=1e-9)
    assert gemm_flops(lower(Models.Llama3_8B, "decode", 8, 2048, FP16)) == pytest.approx(8 * 15_009_316_864)


def test_llama3_8b_decode_attention_flops():
    """Decode attention at context S: QK^T and AV are 2*H*d*S FLOP each per layer: 4*32*128*S*32 layers."""
    table = lower(Models.Llama3_8B, "decode", 1, 2048, FP16)
    attn = sum(f * c for f, c, n in zip(table.flops, table.count, table.names) if n == "attention")
    assert attn == pytest.approx(4 * 32 * 128 * 2048 * 32)


def test_llama3_8b_parameters_add_up_from_the_architecture():
    m = Models.Llama3_8B
    per_layer = m.attention_params() + 3 * 4096 * 14336
    total = 32 * per_layer + 2 * 128256 * 4096
    assert total == pytest.approx(float(m.parameters), rel=0.001)


def test_kv_bytes_per_token_with_gqa():
    """2 (K and V) x 32 layers x 8 KV heads x 128 dims x 2 bytes = 131,072 B."""
    assert Models.Llama3_8B.kv_bytes_per_token("fp16") == 131_072
    assert Models.Llama3_8B.kv_cache_bytes(4096, 1, "fp16") == 131_072 * 4096


def test_resnet50_forward_flops():
    """torchvision ResNet-50: 4.09 GMACs at 224x224, i.e. 8.18 GFLOP per image."""
    table = lower(Models.ResNet50, "forward", 1, 1, FP16)
    assert table.flops_total == pytest.approx(8.18e9, rel=0.02)


@pytest.mark.parametrize("prec, per_param", [("fp32", 4), ("fp16", 2), ("bf16", 2), ("fp8", 1), ("int8", 1),
                                             ("int4", 0.5)])
def test_weight_bytes_per_precision(prec, per_param):
    m = Models.Llama3_8B
    assert m.weight_bytes(prec) == float(m.parameters) * per_param
    p = Engine.solve(m, Hardware.H100 if prec not in ("int4",) else Hardware.B200, precision=prec)
    assert p.memory_parts["weights"] == pytest.approx(float(m.parameters) * per_param)


def test_training_step_is_about_three_forwards_of_gemm_work():
    fwd = gemm_flops(lower(Models.Llama3_8B, "prefill", 4, 1024, FP16))
    train = lower(Models.Llama3_8B, "train", 4, 1024, FP16)
    # the LM head runs on every position in training; the forward of serving keeps one
    lm_extra = 2 * 4096 * 128256 * (4 * 1024 - 4)
    assert gemm_flops(train) == pytest.approx(3 * (fwd + lm_extra), rel=1e-9)


# --- properties ------------------------------------------------------------------------------------
def _scaled(hw, bw=1.0, flops=1.0):
    compute = hw.compute.model_copy(update={"peak_flops": float(hw.compute.peak_flops) * flops,
                                            "precision_flops": {k: float(v) * flops for k, v in
                                                                hw.compute.precision_flops.items()}})
    memory = hw.memory.model_copy(update={"bandwidth": float(hw.memory.bandwidth) * bw})
    return hw.model_copy(update={"compute": compute, "memory": memory})


@pytest.mark.parametrize("model, batch", [("Llama3_8B", 1), ("Llama3_8B", 64), ("ResNet50", 1), ("ResNet50", 256),
                                          ("BERT_Base", 8)])
def test_more_bandwidth_or_flops_is_never_slower(model, batch):
    hw = Hardware.A100
    base = Engine.solve(model, hw, batch_size=batch).latency_s
    assert Engine.solve(model, _scaled(hw, bw=2.0), batch_size=batch).latency_s <= base
    assert Engine.solve(model, _scaled(hw, flops=2.0), batch_size=batch).latency_s <= base


def test_a_copied_device_is_timed_with_its_new_figures():
    """Derived views (the timing device) must not survive a copy that changes the figures."""
    base = Engine.solve("Llama3_8B", "H100").latency_s
    faster = Engine.solve("Llama3_8B", _scaled(Hardware.H100, bw=2.0)).latency_s
    assert faster < 0.75 * base


def test_larger_batch_never_lowers_decode_throughput():
    batches = np.array([1, 2, 4, 8, 16, 32, 64])
    p = Engine.solve("Llama3_8B", "H100", batch_size=batches)
    assert np.all(np.diff(p.throughput) >= 0)
    assert set(p.bottleneck) <= {"Memory", "Overhead"}


def test_sweep_equals_scalar_solves():
    batches = np.array([1, 3, 17, 64])
    sweep = Engine.solve("ResNet50", "A100", batch_size=batches)
    for i, b in enumerate(batches):
        one = Engine.solve("ResNet50", "A100", batch_size=int(b))
        assert sweep.latency_s[i] == pytest.approx(one.latency_s, rel=1e-12)
        assert sweep.energy_j[i] == pytest.approx(one.energy_j, rel=1e-12)


@pytest.mark.parametrize("model,phase", [
    ("Llama3_8B", "decode"), ("Llama3_8B", "prefill"), ("Llama3_8B", "train"), ("Mixtral_8x7B", "decode"),
    ("DeepSeek_V2_Lite", "prefill"), ("Gemma2_9B", "decode"), ("BERT_Base", "forward"), ("Mamba_130M", "decode"),
    ("StableDiffusion_v1_5", "forward"), ("MobileNetV2", "train"), ("DLRM", "forward"), ("GPT4", "forward")])
def test_one_configuration_and_a_sweep_agree_for_every_family(model, phase):
    """A scalar solve runs the step's traced template and the per-operator float loop; a sweep runs the
    lowering and the vectorized timing. Both are the same model, configuration by configuration."""
    batches, contexts = np.array([1.0, 3.0, 16.0]), np.array([[96.0], [400.0]])
    kw = {"phase": phase} if phase != "train" else {"is_training": True}
    fam = Models.get(model).family
    seq = contexts if fam.language_model and not (fam.fixed_state and phase == "decode") else None
    sweep = Engine.solve(model, "H100", batch_size=batches, seq_len=seq, **kw)
    shape = (len(contexts), len(batches)) if seq is not None else (len(batches),)
    for i, b in enumerate(batches):
        for j, s in enumerate(contexts[:, 0] if seq is not None else [None]):
            one = Engine.solve(model, "H100", batch_size=float(b), seq_len=s, **kw)
            at = (j, i) if seq is not None else (i,)
            for name in ("latency_s", "latency_compute_s", "latency_memory_s", "energy_j", "flops_total"):
                figure = np.broadcast_to(getattr(sweep, name), shape)[at]   # (a figure the context leaves alone
                assert figure == pytest.approx(getattr(one, name), rel=1e-9), name  # keeps the batch's shape)
            for part, value in one.memory_parts.items():
                assert np.broadcast_to(sweep.memory_parts[part], shape)[at] == pytest.approx(value, rel=1e-12), part


def test_efficiency_override_is_honoured():
    slow = Engine.solve("ResNet50", "A100", batch_size=256, efficiency=0.1)
    fast = Engine.solve("ResNet50", "A100", batch_size=256, efficiency=1.0)
    assert slow.latency_s > fast.latency_s
    assert slow.bottleneck == "Compute"
    assert slow.peak_flops_b == pytest.approx(0.1 * fast.peak_flops_b)


def test_energy_lies_between_idle_and_tdp():
    p = Engine.solve("Llama3_8B", "H100", batch_size=16)
    tdp = float(Hardware.H100.tdp)
    assert 0.3 * tdp * p.latency_s <= p.energy_j <= tdp * p.latency_s
    assert float(p.power) == pytest.approx(p.energy_j / p.latency_s)


def test_time_parts_add_up_to_latency():
    p = Engine.solve("Llama3_8B", "H100", batch_size=4)
    assert p.latency_compute_s + p.latency_memory_s + p.latency_overhead_s == pytest.approx(p.latency_s)


def test_decode_is_memory_bound_and_large_cnn_batches_compute_bound():
    assert Engine.solve("Llama3_8B", "H100").bottleneck == "Memory"
    assert Engine.solve("ResNet50", "A100", batch_size=256).bottleneck == "Compute"


def test_fp32_is_slower_than_fp16():
    fp32 = Engine.solve("ResNet50", "A100", batch_size=64, precision="fp32")
    fp16 = Engine.solve("ResNet50", "A100", batch_size=64, precision="fp16")
    assert fp32.latency_s > fp16.latency_s and fp32.peak_flops_b < fp16.peak_flops_b


def test_sharded_state_never_grows_with_zero_stage():
    totals = [sum(Engine.solve("Llama3_8B", "H100", is_training=True, batch_size=1, seq_len=1024, zero_stage=z,
                               dp_size=8).memory_parts.values()) for z in range(4)]
    assert all(a >= b for a, b in zip(totals, totals[1:]))


# --- feasibility -----------------------------------------------------------------------------------
def test_gpt3_does_not_fit_one_h100():
    p = Engine.solve("GPT3", "H100")
    assert not p.feasible and "FAILED" in p.constraint_trace[0]
    with pytest.raises(OOMError) as err:
        Engine.solve("GPT3", "H100", raise_errors=True)
    assert err.value.required_bytes > err.value.available_bytes == float(Hardware.H100.memory.capacity)


def test_llama3_8b_fits_one_h100():
    assert Engine.solve("Llama3_8B", "H100").feasible


# --- errors -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, match", [
    ({"batch_size": 0}, "batch_size"), ({"batch_size": -3}, "batch_size"), ({"batch_size": float("nan")}, "batch_size"),
    ({"efficiency": 1.5}, "efficiency"), ({"efficiency": -0.1}, "efficiency"), ({"efficiency": 50.0}, "efficiency"),
    ({"precision": "float7"}, "precision"), ({"seq_len": 0}, "seq_len"), ({"seq_len": 10**7}, "context window"),
    ({"phase": "warp"}, "phase"), ({"stack": "magic"}, "stack"),
])
def test_bad_input_is_one_clear_error(kw, match):
    with pytest.raises(InputError, match=match):
        Engine.solve("Llama3_8B", "H100", **kw)


def test_unsupported_precision_names_what_the_chip_supports():
    with pytest.raises(UnsupportedPrecisionError, match="A100.*supports"):
        Engine.solve("Llama3_8B", "A100", precision="fp8")


def test_unknown_names_suggest_the_closest():
    with pytest.raises(UnknownNameError, match="H100"):
        Engine.solve("Llama3_8B", "H10O")
    with pytest.raises(UnknownNameError, match="Llama3_8B"):
        Engine.solve("Lama3_8B", "H100")


def test_prefill_needs_a_language_model():
    with pytest.raises(InputError, match="language model"):
        Engine.solve("ResNet50", "H100", phase="prefill")


def test_profile_quantities_carry_units():
    p = Engine.solve(mlsysim.Models.ResNet50, mlsysim.Hardware.A100)
    assert p.latency.to("ms").magnitude == pytest.approx(p.latency_s * 1e3)
    assert p.memory_parts["weights"] == pytest.approx(float(Models.ResNet50.parameters) * 2, rel=0.01)
    assert p.memory_footprint.m_as("MB") == pytest.approx(sum(p.memory_parts.values()) / 1e6)
    assert "Latency" in p.summary()


def test_two_dimensional_sweep_broadcasts_like_numpy():
    batches, seqs = np.array([[1], [8], [64]]), np.array([512, 4096])
    grid = Engine.solve("Llama3_8B", "H100", batch_size=batches, seq_len=seqs)
    assert grid.latency_s.shape == (3, 2)
    for i, b in enumerate(batches[:, 0]):
        for j, s in enumerate(seqs):
            one = Engine.solve("Llama3_8B", "H100", batch_size=int(b), seq_len=int(s))
            assert grid.latency_s[i, j] == pytest.approx(one.latency_s, rel=1e-12)
    assert np.all(np.diff(grid.latency_s, axis=1) > 0)       # a longer context is never faster


def test_training_sweep_and_prefill_sweep_run():
    train = Engine.solve("ResNet50", "H100", batch_size=np.array([1, 8, 64]), is_training=True)
    assert np.all(np.diff(train.throughput) > 0) and np.all(train.mfu <= 1)
    prefill = Engine.solve("Llama3_8B", "H100", batch_size=1, seq_len=np.array([512, 4096]), phase="prefill")
    assert np.all(prefill.bottleneck == "Compute")


@pytest.mark.parametrize("value", ["80 GiB", "eight", [1, "x"]])
def test_non_numeric_sizes_are_one_clear_error(value):
    with pytest.raises(InputError, match="batch_size must be a number"):
        Engine.solve("ResNet50", "A100", batch_size=value)


def test_records_reject_wrong_units_and_unknown_keys_in_one_sentence():
    from mlsysim.hardware.types import MemoryHierarchy

    with pytest.raises(InputError, match=r"MemoryHierarchy: 'capacity' must be in B \(a data size\), got '3 s'"):
        MemoryHierarchy(capacity="3 s", bandwidth="1 TB/s")
    with pytest.raises(InputError, match="'colour' is not a field"):
        MemoryHierarchy(capacity="80 GB", bandwidth="1 TB/s", colour="red")
    assert float(MemoryHierarchy(capacity="80 GiB", bandwidth="2 TB/s").capacity) == 80 * 2**30


@pytest.mark.parametrize("hw", ["Cerebras_CS3", "Graphcore_GC200"])
def test_spatial_dataflow_parts_get_no_wave_quantization(hw):
    """A wafer or IPU lays a layer across its cores: per-sequence time never rises with batch."""
    batches = np.array([1, 2, 3, 4, 8, 16, 33, 64, 128])
    lat = np.asarray(Engine.solve("Llama3_8B", hw, batch_size=batches, phase="prefill", seq_len=512).latency_s)
    assert np.all(np.diff(lat) >= 0) and np.all(np.diff(lat / batches) <= 1e-15)
