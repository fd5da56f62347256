"""Invariants over the whole zoo: every device x every model x its phases, through ``Engine.solve``.

Properties that hold whatever the calibration says: more bandwidth or more compute is never slower,
energy is the engine's average power times the step's time, every figure is finite and non-negative,
the fit decision agrees with the memory breakdown, more devices never hold more memory each, the API,
the command line and a plan agree, and costs are never negative.

Each device is one test that walks its models and collects every broken invariant into one message.
A refusal (unsupported precision, a context past the model's window, ...) must be an ``MlsysimError``
with a reason; anything else is a failure. The tests at the end are the package bugs the sweep found, kept as
regressions.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import cli, one_json

import mlsysim
from mlsysim import Engine, Hardware, Models, Systems
from mlsysim.engine.timing import device_calibration
from mlsysim.errors import InputError, MlsysimError, UnsupportedPrecisionError
from mlsysim.hardware.power import IDLE_FRACTION, accelerator_power
from mlsysim.models.types import TransformerWorkload
from mlsysim.operations.economics import EconomicsModel
from mlsysim.operations.power import fleet_shape
from mlsysim.ops import PRECISION_BYTES
from mlsysim.run import DEFAULT_STACK
from mlsysim.training.memory import TrainingMemoryModel
from mlsysim.units import SIValue

HARDWARE = Hardware.items()
MODELS = Models.items()
HW_IDS = [k for k, _ in HARDWARE]
#: a sweep of two batch sizes per solve (the vectorized path)
BATCHES = np.array([1.0, 32.0])
TRAIN_BATCHES = np.array([1.0, 4.0])
#: MoE models (an MoE training step over a sweep once raised: a regression test at the end)
MOE = ("Mixtral_8x7B", "DeepSeek_V2_Lite", "DeepSeek_V3", "GPT4")
MOE_TRAIN_BATCHES = np.array([4.0, 8.0])
#: the context a language model is solved at (its window when that is shorter)
LM_CONTEXT = 2048
REL = 1e-9
#: one model or more of every family, a model that spills to the host on most devices (Llama3_70B),
#: MoE, MLA and the generic workloads
SAMPLE = ("GPT2_Small", "Llama3_8B", "Llama3_70B", "Mixtral_8x7B", "DeepSeek_V2_Lite", "BERT_Base", "ResNet50",
          "MobileNetV2", "Mamba_130M", "StableDiffusion_v1_5", "DLRM", "OpenVLA_7B")
TRAIN_SAMPLE = ("Llama3_8B", "Mixtral_8x7B", "DeepSeek_V2_Lite", "BERT_Base", "ResNet50", "Mamba_130M",
                "StableDiffusion_v1_5", "DLRM")
#: decoder language models with different attention layouts (MHA, GQA, MLA) for the tensor-parallel fit
TP_SAMPLE = ("GPT2_Small", "Llama3_8B", "DeepSeek_V2_Lite")


# --- helpers ------------------------------------------------------------------------------------------
MOE_NAMES = {Models.get(k).name for k in MOE}


def precision_of(hw) -> str:
    """A precision the device has a datasheet rate for (the int8-only parts: int8; the fp32-only: fp32)."""
    return next(p for p in ("fp16", "bf16", "int8", "fp32") if hw.compute.rate(p))


def phases_of(model) -> tuple:
    return ("prefill", "decode") if model.family.language_model else ("forward",)


def context_of(model, phase="train"):
    """The context a language model is solved at in ``phase`` (None for the rest, and for a state-space model's
    decode step, whose fixed-size state does not depend on it)."""
    if not model.family.language_model or (model.family.fixed_state and phase == "decode"):
        return None
    return min(LM_CONTEXT, getattr(model, "context_length", None) or LM_CONTEXT)


def scaled(value, factor: float) -> SIValue:
    return SIValue(float(value) * factor, value.unit)


def more_bandwidth(hw, factor: float = 1.5):
    return hw.model_copy(update={"memory": hw.memory.model_copy(update={"bandwidth": scaled(hw.memory.bandwidth,
                                                                                               factor)})})


def more_compute(hw, factor: float = 1.5):
    """Every precision's rate (and the default peak) times ``factor``; clocks and unit counts unchanged."""
    c = hw.compute
    rates = {p: scaled(v, factor) for p, v in c.precision_flops.items()}
    return hw.model_copy(update={"compute": c.model_copy(update={"peak_flops": scaled(c.peak_flops, factor),
                                                                 "precision_flops": rates})})


def solve_cases(model, hw, precision, calibration=None, training=True):
    """(label, kwargs) of every step solved for ``model``: each phase over BATCHES, and (``training``) a
    training step over TRAIN_BATCHES."""
    S = context_of(model)
    cases = [(ph, dict(batch_size=BATCHES, seq_len=context_of(model, ph), precision=precision, phase=ph,
                       calibration=calibration)) for ph in phases_of(model)]
    if training:
        cases.append(("train", dict(batch_size=MOE_TRAIN_BATCHES if model.name in MOE_NAMES else TRAIN_BATCHES,
                                    seq_len=S, precision=precision, is_training=True, calibration=calibration)))
    return cases


def profile_problems(prof, hw) -> list[str]:
    """Invariants 3, 4 and 5 of one profile (a sweep's arrays or one configuration's floats), in words.
    One vector test per invariant; the figures are named only when one fails (thousands of profiles)."""
    lat = np.asarray(prof.latency_s, dtype=float)
    shape = lat.shape
    parts = [np.asarray(v, dtype=float) for v in prof.memory_parts.values()]
    # a device whose datasheet gives no TDP has an unknown energy (NaN), never a made-up one
    known = bool(hw.tdp)
    figures = [lat, prof.latency_compute_s, prof.latency_memory_s, prof.latency_overhead_s, prof.mfu,
               prof.hfu, prof.flops_total, prof.bytes_total, np.asarray(prof.samples_per_step) / lat, *parts,
               *([prof.energy_j] if known else [])]
    flat = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in figures])
    tdp = float(hw.tdp or np.nan)
    busy = np.asarray(prof.latency_compute_s, dtype=float) + np.asarray(prof.latency_memory_s, dtype=float)
    energy = np.asarray(prof.energy_j, dtype=float)
    # 3. energy = the engine's average power x time: busy time (compute + memory) at TDP, the rest at idle power
    power = accelerator_power(tdp, busy / lat)
    need = sum(parts)
    # the MFU is clipped at 1: the unclipped hardware FLOP utilization must be <= 1 as well (no step beats the peak)
    raw = np.asarray(prof.flops_total, dtype=float) / (lat * prof.peak_flops_b)
    checks = {
        "a figure is NaN, infinite or negative (latencies, energy, MFU, HFU, FLOP, bytes, throughput, memory)":
            bool(np.isfinite(flat).all()) and flat.min() >= 0,
        "latency is not positive": lat.min() > 0,
        "MFU or HFU above 1": max(np.max(prof.mfu), np.max(prof.hfu)) <= 1,
        "FLOP per second above the peak": raw.max() <= 1 + REL,
        "energy without a TDP is not unknown (NaN)": known or bool(np.isnan(energy).all()),
        "energy != average power x latency": not known or bool((np.abs(energy - power * lat) <=
                                                                 REL * np.abs(power * lat)).all()),
        "energy outside [idle power, TDP] x latency": not known or bool(
            ((energy >= IDLE_FRACTION * tdp * lat * (1 - REL)) & (energy <= tdp * lat * (1 + REL))).all()),
        # 5. the fit decision is the memory breakdown against the capacity
        "feasible disagrees with the memory breakdown": bool(np.array_equal(
            np.broadcast_to(np.asarray(prof.feasible), shape),
            np.broadcast_to(need <= prof.memory_capacity_b, shape))),
    }
    broken = [what for what, ok in checks.items() if not ok]
    if broken:
        names = ("latency_s", "latency_compute_s", "latency_memory_s", "latency_overhead_s", "energy_j", "mfu", "hfu",
                 "flops_total", "bytes_total", "samples_per_step", "peak_flops_b", "feasible", "memory_parts",
                 "memory_capacity_b")
        broken.append("; ".join(f"{n}={getattr(prof, n)}" for n in names) + f"; TDP {tdp} W, power {power} W")
    return broken


def latency(prof) -> np.ndarray:
    return np.asarray(prof.latency_s, dtype=float)


# --- 4, 5 (and 3) over every device x every model x every phase --------------------------------------------
@pytest.mark.parametrize("key, hw", HARDWARE, ids=HW_IDS)
def test_every_model_on_every_device_is_finite_and_fits_its_breakdown(key, hw):
    precision = precision_of(hw)
    problems, solved, refused = [], 0, []
    for mk, model in MODELS:
        for label, kw in solve_cases(model, hw, precision, training=False):
            try:
                prof = Engine.solve(model, hw, **kw)
            except MlsysimError as exc:           # a refusal with its reason
                assert str(exc).strip(), f"{mk} {label}: {type(exc).__name__} without a reason"
                refused.append((mk, label, str(exc)))
                continue
            except Exception as exc:             # noqa: BLE001 - anything else is a bug, reported with the case
                problems.append(f"{mk} {label}: raised {exc!r} (not an MlsysimError)")
                continue
            solved += 1
            problems += [f"{mk} {label}: {p}" for p in profile_problems(prof, hw)]
    assert not problems, f"{key} ({precision}):\n" + "\n".join(problems)
    # the contexts are within every window and the precision is the device's: nothing is refused
    assert not refused, refused
    assert solved == sum(len(phases_of(m)) for _, m in MODELS)


# --- 1, 2 (and 3-5 on the changed devices) over every device x a sample of models --------------------------
@pytest.mark.parametrize("key, hw", HARDWARE, ids=HW_IDS)
def test_more_bandwidth_or_more_compute_is_never_slower(key, hw):
    """The device's own timing constants are pinned (``calibration=``), so a copy compares like with like (a
    copy keeps its device's constants anyway: a regression test at the end)."""
    precision = precision_of(hw)
    cal = device_calibration(key)
    wide, fast = more_bandwidth(hw), more_compute(hw)
    problems = []
    for mk in SAMPLE:
        model = Models.get(mk)
        for label, kw in solve_cases(model, hw, precision, cal, training=mk in TRAIN_SAMPLE):
            try:
                base = Engine.solve(model, hw, **kw)
            except Exception as exc:             # noqa: BLE001
                problems.append(f"{mk} {label}: raised {exc!r}")
                continue
            for name, other in (("bandwidth x1.5", wide), ("compute x1.5", fast)):
                prof = Engine.solve(model, other, **kw)
                if np.any(latency(prof) > latency(base) * (1 + REL)):
                    problems.append(f"{mk} {label}: {name} takes {latency(prof)} s, the device {latency(base)} s")
                problems += [f"{mk} {label} ({name}): {p}" for p in profile_problems(prof, other)]
            if label == "train":
                problems += [f"{mk} train: {p}" for p in profile_problems(base, hw)]
    assert not problems, f"{key} ({precision}):\n" + "\n".join(problems)


# --- refusals: each one an MlsysimError with a reason ------------------------------------------------------
@pytest.mark.parametrize("key, hw", HARDWARE, ids=HW_IDS)
def test_refusals_are_mlsysim_errors_for_the_stated_reason(key, hw):
    """Every precision on a language model's decode step: one the device rates solves; one it does not either
    solves (weight-only formats dequantize) or is refused as unsupported; nothing else. A context past the
    model's window is refused as such."""
    problems = []
    for p in PRECISION_BYTES:
        try:
            prof = Engine.solve("Llama3_1B", hw, batch_size=BATCHES, seq_len=512, precision=p, phase="decode")
        except UnsupportedPrecisionError as exc:
            if hw.compute.rate(p):
                problems.append(f"{p}: refused ({exc}) but the device rates {p}")
        except Exception as exc:                 # noqa: BLE001
            problems.append(f"{p}: raised {exc!r}")
        else:
            problems += [f"{p}: {x}" for x in profile_problems(prof, hw)]
    precision = precision_of(hw)
    window = Models.Llama2_7B.context_length
    with pytest.raises(InputError, match="context window"):
        Engine.solve("Llama2_7B", hw, seq_len=window + 1, precision=precision, phase="prefill")
    with pytest.raises(InputError, match="context window"):
        Engine.solve("Llama2_7B", hw, batch_size=BATCHES, seq_len=window + 1, precision=precision, phase="decode")
    assert not problems, f"{key}:\n" + "\n".join(problems)


# --- 6. more devices, never more memory per device -----------------------------------------------------------
@pytest.mark.parametrize("key, hw", HARDWARE, ids=HW_IDS)
def test_tensor_parallelism_never_adds_memory_per_device(key, hw):
    precision = precision_of(hw)
    problems = []
    for mk in TP_SAMPLE:
        model = Models.get(mk)
        before = None
        for tp in (1, 2, 4, 8):
            if model.heads % tp:
                continue
            try:       # one pipeline stage: the automatic depth would trade stages for tensor-parallel ranks
                r = mlsysim.ServingModel().solve(model, hw, seq_len=1024, tp=tp, pp=1, precision=precision)
            except Exception as exc:             # noqa: BLE001
                problems.append(f"{mk} tp={tp}: raised {exc!r}")
                continue
            mem = float(r.memory_bytes)
            if not (math.isfinite(mem) and mem > 0):
                problems.append(f"{mk} tp={tp}: memory_bytes {mem}")
            if before is not None and mem > before[1] * (1 + 1e-12):
                problems.append(f"{mk}: tp={tp} holds {mem:.6g} B per device, tp={before[0]} {before[1]:.6g} B")
            before = (tp, mem)
    assert not problems, f"{key} ({precision}):\n" + "\n".join(problems)


@pytest.mark.parametrize("key", ["H100", "A100_40GB", "MI300X", "TPUv4", "Gaudi2", "T4"])
def test_data_parallelism_with_zero3_never_adds_memory_per_device(key):
    problems = []
    for mk, model in MODELS:
        if not isinstance(model, TransformerWorkload):
            continue
        before = None
        for dp in (1, 2, 4, 8, 16, 32, 64):
            r = TrainingMemoryModel().solve(model, key, batch_size=64, seq_len=context_of(model) or LM_CONTEXT,
                                            dp=dp, zero_stage=3)
            if not (math.isfinite(r.total_b) and r.total_b > 0):
                problems.append(f"{mk} dp={dp}: total {r.total_b}")
            if before is not None and r.total_b > before[1] * (1 + 1e-12):
                problems.append(f"{mk}: dp={dp} holds {r.total_b:.6g} B per device, dp={before[0]} {before[1]:.6g} B")
            before = (dp, r.total_b)
    assert not problems, "\n".join(problems)


# --- 7. the API, the command line and a plan give one number ---------------------------------------------------
CLI_SAMPLE = [("Llama3_8B", "H100", False), ("Llama3_8B", "H100", True), ("ResNet50", "T4", False),
              ("ResNet50", "A100", True), ("Mixtral_8x7B", "MI300X", False), ("DeepSeek_V2_Lite", "B200", False),
              ("Mamba_130M", "TPUv4", False), ("MobileNetV2", "Pixel8", False), ("BERT_Base", "L4", False),
              ("DS_CNN", "ESP32_S3", False), ("StableDiffusion_v1_5", "RTX4090", False),
              ("Llama3_70B", "JetsonAGXOrin", False), ("DLRM", "H200", False), ("GPT2", "Gaudi3", False)]


@pytest.mark.parametrize("model_key, hw_key, training", CLI_SAMPLE,
                         ids=[f"{m}-{h}{'-train' if t else ''}" for m, h, t in CLI_SAMPLE])
def test_api_cli_and_plan_agree(model_key, hw_key, training, tmp_path):
    hw, model = Hardware.get(hw_key), Models.get(model_key)
    precision = precision_of(hw)
    seq = context_of(model, "train" if training else model.family.default_phase(model, False))
    flags = ["-p", precision] + (["-s", str(seq)] if seq else []) + (["--training"] if training else [])
    out = cli("eval", model_key, hw_key, "-b", "4", "-o", "json", *flags)
    assert out.returncode in (0, 2), out.stderr          # 2: it does not fit (still scored)
    data = one_json(out)
    prof = Engine.solve(model_key, hw_key, batch_size=4, precision=precision, seq_len=seq, is_training=training)
    # like with like: both take the default stack of their purpose
    assert data["p_stack"] == prof.stack == DEFAULT_STACK["train" if training else "inference"]
    assert data["p_latency_ms"] == prof.latency_s * 1e3
    if hw.tdp:
        assert data["p_energy_per_step_j"] == pytest.approx(prof.energy_j, rel=1e-12)
    else:                                                 # unknown: null in JSON, NaN in the API
        assert data["p_energy_per_step_j"] is None and math.isnan(prof.energy_j)
    assert (data["f_status"] == "PASS") == prof.feasible
    plan = tmp_path / "plan.yaml"
    plan.write_text("\n".join([
        'version: "1.0"', f"name: {model_key} on {hw_key}", "workload:", f"  name: {model_key}", "  batch_size: 4",
        *([f"  seq_len: {seq}"] if seq else []), *(["  training: true"] if training else []),
        "hardware:", f"  name: {hw_key}", f"  precision: {precision}", ""]))
    planned = cli("eval", str(plan), "-o", "json")
    assert planned.returncode == out.returncode, planned.stderr
    assert one_json(planned)["p_latency_ms"] == data["p_latency_ms"]


DEFAULT_SAMPLE = [("Llama3_8B", "H100"), ("ResNet50", "A100"), ("Mamba_130M", "H100"), ("Mixtral_8x7B", "MI300X"),
                  ("BERT_Base", "T4")]


@pytest.mark.parametrize("model_key, hw_key", DEFAULT_SAMPLE, ids=[f"{m}-{h}" for m, h in DEFAULT_SAMPLE])
def test_cli_defaults_are_the_api_defaults(model_key, hw_key):
    """``mlsysim eval MODEL HW -b 4`` and ``Engine.solve(MODEL, HW, batch_size=4)``, nothing else given."""
    data = one_json(cli("eval", model_key, hw_key, "-b", "4", "-o", "json"))
    prof = Engine.solve(model_key, hw_key, batch_size=4)
    assert data["p_latency_ms"] == prof.latency_s * 1e3
    assert data["p_stack"] == prof.stack == DEFAULT_STACK["inference"]


@pytest.mark.parametrize("stack", ["pytorch_eager", "vllm"])
def test_cli_and_api_agree_under_a_named_stack(stack):
    data = one_json(cli("eval", "Llama3_8B", "H100", "-b", "4", "--stack", stack, "-o", "json"))
    prof = Engine.solve("Llama3_8B", "H100", batch_size=4, stack=stack)
    assert data["p_stack"] == prof.stack == stack
    assert data["p_latency_ms"] == prof.latency_s * 1e3


# --- 8. costs are never negative ---------------------------------------------------------------------------------
FLEETS = HARDWARE + list(Systems.Nodes.items()) + list(Systems.Clusters.items())


@pytest.mark.parametrize("key, fleet", FLEETS, ids=[k for k, _ in FLEETS])
def test_costs_are_never_negative(key, fleet):
    for days, extra in ((1, {}), (365, {}), (365, dict(storage_tb=10, egress_gb=100, tokens=1e9))):
        try:
            r = EconomicsModel().solve(fleet, days, **extra)
        except MlsysimError as exc:              # refused only for the stated reason: no power figure
            assert not fleet_shape(fleet)[0].tdp and "power" in str(exc), exc
            return
        figures = {"capex": r.capex_usd, "opex": r.opex_usd, "tco": r.tco_usd, "electricity": r.energy_cost_usd,
                   "maintenance": r.maintenance_usd, "hardware": r.hardware_cost_usd, "storage": r.storage_usd,
                   "egress": r.network_usd,
                   "cloud": 0.0 if r.cloud_cost_usd is None else r.cloud_cost_usd}
        for name, value in figures.items():
            assert math.isfinite(value) and value >= 0, f"{key}, {days} days: {name} = {value}"
        assert r.tco_usd == pytest.approx(r.capex_usd + r.opex_usd, rel=1e-12)
        assert (r.capex_usd > 0) == (r.hardware_cost_usd > 0)


def test_priced_devices_have_positive_capex():
    priced = [(k, hw) for k, hw in HARDWARE if hw.unit_cost and hw.tdp]
    assert len(priced) >= 10
    for key, hw in priced:
        assert EconomicsModel().solve(hw, 30).capex_usd > 0, key


# --- regressions: package bugs these invariants found, now fixed ---------------------------------------------------
@pytest.mark.parametrize("model_key", MOE)
def test_moe_training_sweep_solves_like_each_size(model_key):
    sweep = Engine.solve(model_key, "H100", batch_size=np.array([4.0, 8.0]), seq_len=2048, is_training=True)
    for i, b in enumerate((4, 8)):
        one = Engine.solve(model_key, "H100", batch_size=b, seq_len=2048, is_training=True)
        assert sweep.latency_s[i] == pytest.approx(one.latency_s, rel=1e-9)


def test_a_copy_of_a_zoo_device_keeps_its_timing_and_more_bandwidth_is_not_slower():
    h200 = Hardware.H200
    kw = dict(batch_size=1, seq_len=1024, phase="decode")
    base = Engine.solve("GPT2_Small", h200, **kw).latency_s
    repriced = h200.model_copy(update={"tdp": SIValue(800.0, "W")})
    assert Engine.solve("GPT2_Small", repriced, **kw).latency_s == base
    assert Engine.solve("GPT2_Small", more_bandwidth(h200), **kw).latency_s <= base


@pytest.mark.parametrize("model_key, training", [("DLRM", False), ("StableDiffusion_v1_5", False),
                                                 ("OpenVLA_7B", False), ("Mamba_130M", True)])
def test_every_figure_of_a_sweep_has_the_sweep_shape(model_key, training):
    prof = Engine.solve(model_key, "H100", batch_size=np.array([1.0, 64.0]), is_training=training)
    for name in ("latency_s", "energy_j", "mfu", "flops_total", "bytes_total", "samples_per_step", "feasible"):
        assert np.shape(getattr(prof, name)) == (2,), name
