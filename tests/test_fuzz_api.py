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
    finite(r.latency_s, r.mfu, sum(r.memory_parts.values()))
    if resolve_hardware(hw).tdp:
        finite(r.energy_j)
    else:                                    # no published TDP: the energy is unknown, never a made-up zero
        assert np.all(np.isnan(r.energy_j))
    assert np.all(np.asarray(r.mfu) <= 1.0)


#: the inputs of one step, each with values a user would give
STEP_INPUTS = {"batch_size": [1, 2, 8, 64], "seq_len": [None, 256, 1024, 4096],
               "precision": ["fp16", "bf16", "fp8", "int8", "int4", "fp32"], "kv_precision": [None, "fp8", "int4"],
               "stack": [None, "vllm", "pytorch_eager", "torch_compile", "tensorrt", "tensorrt_llm", "llama_cpp"],
               "efficiency": [None, 0.3, 0.7], "phase": [None, "prefill", "decode", "forward"],
               "past_len": [0, 128, 2048]}


def answer(r) -> tuple:
    """The figures of a step a user reads: its time and parts, work, utilization, peak and memory."""
    return tuple(np.round(np.ravel(np.asarray(v, dtype=float)), 12).tobytes() for v in
                 (r.latency_s, r.latency_overhead_s, r.flops_total, r.bytes_total, r.mfu, r.peak_flops_b,
                  sum(r.memory_parts.values())))


@settings(max_examples=max(settings.default.max_examples * 3, 10))
@given(st.sampled_from(MODELS[:-2]), st.sampled_from(DEVICES[:-1]),
       st.fixed_dictionaries({k: st.sampled_from(v) for k, v in STEP_INPUTS.items()}),
       st.sampled_from(sorted(STEP_INPUTS)), st.data())
def test_every_accepted_input_changes_the_answer_or_is_refused(model, hw, base, key, data):
    """Change one input of a step that solves: the new step is refused in one sentence, or some figure moves.
    Equal answers are allowed only where the physics makes them equal: a phase, context, stack or KV-cache
    precision given as its own default, two precisions of the same width that the device runs at the same rate
    (or stores the cache in), or two stacks that launch and fuse a model that is no transformer alike."""
    changed = dict(base, **{key: data.draw(st.sampled_from([v for v in STEP_INPUTS[key] if v != base[key]]))})
    try:
        before, after = Engine.solve(model, hw, **base), Engine.solve(model, hw, **changed)
    except MlsysimError:
        return
    if answer(before) != answer(after):
        return
    echo = {"phase": "phase", "seq_len": "seq_len", "stack": "stack", "kv_precision": "precisions"}.get(key)
    if echo and np.array_equal(getattr(before, echo), getattr(after, echo)):
        return                                           # None resolved to the default the profile states
    from mlsysim.ops import PRECISION_BYTES

    if key == "precision":
        device = resolve_hardware(hw).compute
        p, q = base[key], changed[key]
        assert PRECISION_BYTES[p] == PRECISION_BYTES[q] and device.rate(p) == device.rate(q), f"{p} -> {q}"
    elif key == "kv_precision":                          # a cache of the same width holds the same bytes
        p, q = before.precisions.kv, after.precisions.kv
        assert PRECISION_BYTES[p] == PRECISION_BYTES[q], f"KV cache {p} -> {q}"
    elif key == "stack" and not hasattr(Models.get(model), "heads"):
        # a model that is no transformer reads of a stack how it launches, fuses and holds memory, not the
        # transformer kernels it picks: two stacks equal in those run it alike
        a, b = before.execution_profile, after.execution_profile
        assert before.precisions == after.precisions and all(
            getattr(a, f) == getattr(b, f) for f in ("launch", "host_dispatch", "host_ahead", "fuses",
                                                     "runtime_bytes")), f"{a} -> {b}"
    else:
        raise AssertionError(f"{key} {base[key]!r} -> {changed[key]!r} changed nothing for {model} on {hw} ({base})")


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
