"""Generated API calls, as a careless user would make them: only MlsysimError subclasses may escape a solver,
and what comes back is finite and non-negative where the quantity cannot be negative.

The default profile is bounded for CI; before a release run the long one (about 10,000 cases per property):
    HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz_api.py
"""
import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlsysim import Engine, Hardware, Models, ServingModel
from mlsysim.errors import MlsysimError
from mlsysim.operations.economics import EconomicsModel
from mlsysim.operations.sustainability import SustainabilityModel
from mlsysim.optimize.fit import FitModel
from mlsysim.run import resolve_fleet, resolve_hardware
from mlsysim.serving.batching import ContinuousBatchingModel
from mlsysim.training.distributed import DistributedModel
from mlsysim.training.memory import TrainingMemoryModel

settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
settings.register_profile("long", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

DEVICES = [key for key, _ in Hardware.items()] + ["nope"]
MODELS = [key for key, _ in Models.items()] + ["nope", ""]
LMS = ["Llama3_8B", "Llama3_70B", "Mixtral_8x7B", "DeepSeek_V3", "GPT2_Small", "ResNet50", "nope"]
FLEETS = ["Research_256", "Lab_64_H100", "Training_1K", "NVL72_SU_8Rack", "nope"]
#: what a user might type for a number: sizes, zero, negatives, huge, fractions, NaN and infinities, text, None
numbers = st.one_of(st.integers(-3, 10**6), st.sampled_from([0, -1, 10**30, 2**63]),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4), st.none(), st.booleans())
degrees = st.one_of(st.sampled_from([1, 2, 4, 8, 16, 3, 0, -1, 10**9]), numbers)
precisions = st.sampled_from(["fp16", "bf16", "fp8", "int8", "int4", "fp32", "fp4", "nf4", "xx", "", None, 3])
stacks = st.sampled_from([None, "vllm", "pytorch_eager", "torch_compile", "tensorrt_llm", "llama_cpp", "nope"])


def finite(*values):
    for value in values:
        if value is not None:
            v = np.asarray(value, dtype=float)
            assert np.all(np.isfinite(v)) and np.all(v >= 0), v


@given(st.sampled_from(MODELS), st.sampled_from(DEVICES), numbers, numbers, precisions, stacks,
       st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
       st.sampled_from([None, "fp8", "int4", "zz"]), st.sampled_from([None, "prefill", "decode", "forward", "x"]))
def test_engine(model, hw, batch, seq, precision, stack, efficiency, kv, phase):
    try:
        r = Engine.solve(model, hw, batch_size=batch, seq_len=seq, precision=precision, stack=stack,
                         efficiency=efficiency, kv_precision=kv, phase=phase)
    except MlsysimError:
        return
    finite(r.latency_s, r.energy_j, r.mfu, sum(r.memory_parts.values()))
    assert np.all(np.asarray(r.mfu) <= 1.0)


@given(st.sampled_from(LMS), st.sampled_from(DEVICES), numbers, numbers, precisions, stacks, degrees,
       st.one_of(st.none(), st.sampled_from([1, 2, 4, 10**9])), st.one_of(st.none(), numbers))
def test_serving(model, hw, batch, seq, precision, stack, tp, pp, prompt):
    try:
        r = ServingModel().solve(model, hw, batch_size=batch, seq_len=seq, precision=precision, stack=stack, tp=tp,
                                 pp=pp, prompt_len=prompt)
    except MlsysimError:
        return
    finite(r.ttft_s, r.itl_s, r.tokens_per_s, r.memory_bytes)


@given(st.sampled_from(LMS), st.sampled_from(FLEETS), numbers, degrees, degrees, degrees,
       st.sampled_from([0, 1, 2, 3, "fsdp", 5]), st.sampled_from([None, "none", "selective", "full", "x"]),
       st.sampled_from([None, "1f1b", "interleaved", "dualpipe", "zz"]))
def test_distributed(model, fleet, batch, tp, pp, ep, zero, recompute, schedule):
    try:
        r = DistributedModel().solve(model, fleet, batch_size=batch, tp=tp, pp=pp, ep=ep, zero_stage=zero,
                                     recompute=recompute, schedule=schedule)
    except MlsysimError:
        return
    finite(r.step_time_s, r.mfu, r.memory_total_b)


@given(st.sampled_from(LMS), st.sampled_from(DEVICES), numbers, degrees, degrees,
       st.sampled_from(["adam", "sgd", "adafactor", "x"]), st.sampled_from(["full", "lora", "qlora", "z"]))
def test_training_memory(model, hw, batch, tp, dp, optimizer, finetune):
    try:
        r = TrainingMemoryModel().solve(model, hw, batch_size=batch, tp=tp, dp=dp, optimizer=optimizer,
                                        finetune=finetune)
    except MlsysimError:
        return
    finite(r.total_b, r.weights_b, r.activations_b)


@given(st.sampled_from(LMS), st.sampled_from(DEVICES), numbers, numbers, degrees,
       st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none()))
def test_continuous_batching(model, hw, longest, mean, cap, share):
    try:
        r = ContinuousBatchingModel().solve(model, hw, max_seq_len=longest, mean_request_tokens=mean,
                                            max_batch_size=cap, gpu_memory_utilization=share if share else 0.9)
    except MlsysimError:
        return
    finite(r.kv_budget_bytes, r.throughput_tokens_per_s, r.itl_s)


@settings(max_examples=max(settings.default.max_examples // 4, 5))
@given(st.sampled_from(LMS), st.sampled_from(DEVICES), numbers, numbers, degrees)
def test_fit(model, hw, batch, seq, tp):
    try:
        r = FitModel().solve(model, hw, batch_size=batch, seq_len=seq, tp=tp)
    except MlsysimError:
        return
    finite(r.memory_bytes, r.max_context, r.max_batch)


@given(st.sampled_from(DEVICES + FLEETS), numbers, st.one_of(st.floats(allow_nan=True, allow_infinity=True), numbers),
       st.sampled_from([None, "US_Avg", "Quebec", "nope"]))
def test_operations(system, days, utilization, region):
    try:
        target = resolve_fleet(system) if system in FLEETS else resolve_hardware(system)
        r = SustainabilityModel().solve(target, days, utilization=utilization, region=region)
        e = EconomicsModel().solve(fleet=target, duration_days=days, utilization=utilization, grid=region)
    except MlsysimError:
        return
    finite(r.it_energy_j, r.carbon_footprint_kg, r.water_usage_liters, e.tco_usd, e.capex_usd)
