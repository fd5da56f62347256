"""The accelerators added to the zoo on request: each resolves, carries sourced datasheet figures, solves a
model, and one known answer per family is checked by hand against the datasheet it cites."""
import math

import pytest

import mlsysim
from mlsysim import Hardware
from mlsysim.errors import UnsupportedPrecisionError

T, G = 1e12, 1e9

#: key -> (tier, model to solve at batch 1, precision, words the entry's source must name)
ADDED = {
    "TPUv5e": ("Cloud", "ResNet50", "bf16", ("Google Cloud TPU v5e documentation",)),   # 16 GiB < Llama3_8B
    "A10G": ("Cloud", "ResNet50", "fp32", ("Baseten", "A10G")),        # no sourced 16-bit tensor rate
    "H800": ("Cloud", "Llama3_8B", "fp16", ("H800", "NVLink")),
    "H20": ("Cloud", "Llama3_8B", "fp16", ("H20", "96 GB")),
    "RTX3090": ("Workstation", "Llama3_8B", "fp16", ("GA102", "whitepaper")),
    "RTX4090": ("Workstation", "Llama3_8B", "fp16", ("Ada GPU architecture whitepaper",)),
    "RTX5090": ("Workstation", "Llama3_8B", "fp16", ("RTX Blackwell GPU architecture whitepaper",)),
    "RTX6000_Ada": ("Workstation", "Llama3_8B", "fp16", ("RTX 6000 Ada",)),
    "RTXA6000": ("Workstation", "Llama3_8B", "fp16", ("GA102", "RTX A6000")),
    "AppleM2Ultra": ("Workstation", "Llama3_8B", "fp16", ("Apple", "27.2 teraflops")),
    "AppleM4Pro": ("Workstation", "Llama3_8B", "fp16", ("Apple M4 Pro", "273GB/s")),
    "AppleM4Max": ("Workstation", "Llama3_8B", "fp16", ("Apple M4 Max", "546GB/s")),
}


@pytest.mark.parametrize("key", ADDED)
def test_added_device_resolves_with_sourced_figures(key):
    tier, _, precision, named = ADDED[key]
    hw = Hardware.get(key)
    assert hw is getattr(getattr(Hardware, tier), key) and Hardware.tier_of(hw) == tier
    assert hw.peak_at(precision) > 0
    if key != "A10G":                                  # the A10G's tensor rates are unpublished (see below)
        assert hw.compute.rate("fp16") or hw.compute.rate("bf16")
    assert float(hw.memory.capacity) > 0 and float(hw.memory.bandwidth) > 0
    for words in named:
        assert words in hw.metadata.source, f"{key}: source does not name {words!r}"


@pytest.mark.parametrize("key", ADDED)
def test_added_device_solves_a_model(key):
    _, model, precision, _ = ADDED[key]
    profile = mlsysim.Engine.solve(model, key, batch_size=1, precision=precision)
    assert math.isfinite(profile.latency_s) and profile.latency_s > 0
    assert profile.feasible, f"{model} should fit in {key}'s memory"


def test_llama3_8b_at_fp16_is_the_default_solve_where_it_fits():
    for key in ("RTX4090", "H800", "AppleM4Max"):
        assert math.isfinite(mlsysim.Engine.solve("Llama3_8B", key, batch_size=1).latency_s)


# -- one known answer per family, computed by hand from the cited datasheet ---------------------------

def test_tpu_v5e_and_v5p_figures_match_google_cloud_docs():
    v5e, v5p, v6e = Hardware.TPUv5e, Hardware.TPUv5p, Hardware.TPUv6
    assert v5e.peak_at("bf16") == pytest.approx(197 * T) and v5e.peak_at("int8") == pytest.approx(393 * T)
    assert float(v5e.memory.capacity) == 16 * 2**30 and float(v5e.memory.bandwidth) == pytest.approx(819 * G)
    assert float(v5e.nvlink.bandwidth) == pytest.approx(400 * G / 2)            # 400 GBps bidirectional ICI
    assert v5e.compute.matrix_arrays and v5e.compute.units == 1
    # v5p: Google's current table lists FP8 at the BF16 rate (459), and the entry now says where it is from.
    assert v5p.peak_at("fp8") == v5p.peak_at("bf16") == pytest.approx(459 * T)
    assert "compute.peak_tflops.fp8" in v5p.metadata.sources
    # v6e checked against the Cloud TPU v6e page: 918 bf16, 1836 int8, 32 GB at 1638 GBps, 800 GBps ICI.
    assert v6e.peak_at("bf16") == pytest.approx(918 * T) and v6e.peak_at("int8") == pytest.approx(1836 * T)
    assert float(v6e.memory.bandwidth) == pytest.approx(1638 * G) and float(v6e.nvlink.bandwidth) == 400 * G


def test_geforce_dense_fp32_accumulate_tensor_rates_match_the_whitepapers():
    # GeForce tensor cores with FP32 accumulate: 512 dense FP16 FLOP per SM per clock (half the
    # FP16-accumulate rate); SMs x 512 x boost clock reproduces each whitepaper figure.
    for key, whitepaper in (("RTX3090", 71.2), ("RTX4090", 165.2), ("RTX5090", 209.5)):
        hw = Hardware.get(key)
        assert hw.peak_at("fp16") == hw.peak_at("bf16") == pytest.approx(whitepaper * T)
        assert hw.compute.units * 512 * hw.compute.clock_ghz * G == pytest.approx(whitepaper * T, rel=2e-3)
    rtx4090 = Hardware.RTX4090
    assert rtx4090.peak_at("fp8") == pytest.approx(330.3 * T)                 # FP8 with FP32 accumulate (v2.02)
    assert float(rtx4090.memory.bandwidth) == 1008 * G and float(rtx4090.memory.capacity) == 24e9
    assert float(rtx4090.tdp) == 450
    # GeForce Blackwell halves FP8 with FP32 accumulate but not FP4: fp4 = 4 x fp8 (1676 = 4 x 419).
    rtx5090 = Hardware.RTX5090
    assert rtx5090.peak_at("fp8") == pytest.approx(2 * rtx5090.peak_at("fp16"))
    assert rtx5090.peak_at("fp4") == pytest.approx(4 * rtx5090.peak_at("fp8"))


def test_professional_cards_run_fp32_accumulate_at_full_rate():
    # RTX 6000 Ada / RTX A6000: 1024 dense FP16 FLOP per SM per clock, twice the GeForce rate.
    for key, figure in (("RTX6000_Ada", 364), ("RTXA6000", 154.8)):
        hw = Hardware.get(key)
        assert hw.peak_at("bf16") == pytest.approx(figure * T)
        assert hw.compute.units * 1024 * hw.compute.clock_ghz * G == pytest.approx(figure * T, rel=2e-3)
        assert float(hw.memory.capacity) == 48e9 and float(hw.tdp) == 300
    assert float(Hardware.RTXA6000.nvlink.bandwidth) == pytest.approx(112.5 * G / 2)


def test_a10g_has_no_invented_tensor_rate():
    a10g = Hardware.A10G
    with pytest.raises(UnsupportedPrecisionError):
        a10g.peak_at("fp16")
    assert a10g.peak_at("fp32") == pytest.approx(31.52 * T)
    assert float(a10g.memory.bandwidth) == 600 * G and float(a10g.memory.capacity) == 24e9


def test_export_hoppers_against_the_h100():
    h100, h800, h20 = Hardware.H100, Hardware.H800, Hardware.H20
    assert h800.peak_at("fp16") == h100.peak_at("fp16") and h800.peak_at("fp8") == h100.peak_at("fp8")
    assert float(h800.nvlink.bandwidth) == pytest.approx(400 * G / 2)          # 400 GB/s send+receive
    assert float(h800.nvlink.bandwidth) < float(h100.nvlink.bandwidth)
    assert h800.peak_at("fp64") == pytest.approx(1 * T) and h800.peak_at("fp64") < h100.peak_at("fp64")
    assert h800.memory.capacity == h100.memory.capacity
    # H20: 'H100 SXM 6.68x faster' compares sparse FP16: 1979 / 6.68 / 2 = 148 dense.
    assert h20.peak_at("fp16") == pytest.approx(1979 / 6.68 / 2 * T, rel=2e-3)
    assert float(h20.memory.bandwidth) == 4.0e12 > float(h100.memory.bandwidth)
    assert float(h20.memory.capacity) == 96 * 2**30 and float(h20.nvlink.bandwidth) == float(h100.nvlink.bandwidth)


def test_apple_entries_carry_the_gpu_rate_and_unified_memory():
    # GPU rate = cores x 128 ALUs x 2 FLOP x clock, FP16 at the FP32 rate; Apple's own figure for M2 Ultra.
    m2u = Hardware.AppleM2Ultra
    assert m2u.peak_at("fp16") == m2u.peak_at("fp32") == pytest.approx(27.2 * T)
    assert float(m2u.memory.capacity) == 192e9 and float(m2u.memory.bandwidth) == 800 * G
    for key in ("AppleM2Ultra", "AppleM4Pro", "AppleM4Max"):
        hw = Hardware.get(key)
        assert hw.compute.units * 128 * 2 * hw.compute.clock_ghz * G == pytest.approx(hw.peak_at("fp32"), rel=0.01)
        assert "unified" in hw.memory.type and "Neural Engine" in hw.name
        assert not hw.compute.matrix_arrays                                     # the GPU, not the NPU
    assert float(Hardware.AppleM4Pro.memory.bandwidth) == 273 * G
    assert float(Hardware.AppleM4Max.memory.bandwidth) == 546 * G == 2 * float(Hardware.AppleM4Pro.memory.bandwidth)
