"""InferenceScalingModel and WeightStreamingModel: known answers, the physics they must respect, the errors."""
import numpy as np
import pytest

from mlsysim import Hardware
from mlsysim.errors import InputError, OOMError
from mlsysim.serving.reasoning import InferenceScalingModel
from mlsysim.serving.serving import ServingModel
from mlsysim.serving.streaming import COMPUTE_BOUND, INJECTION_BOUND, WeightStreamingModel

reason = InferenceScalingModel().solve
stream = WeightStreamingModel().solve

LMS = [("Llama3_8B", "H100"), ("Llama3_70B", "B200"), ("Mistral_7B", "A100"), ("Llama3_1B", "L4")]


# --- test-time compute ---------------------------------------------------------------------------
def test_one_token_costs_exactly_the_prefill():
    """K = 1 step of 1 token: the prefill emits it, so there is no decode step and latency = TTFT."""
    r = reason("Llama3_8B", "H100", reasoning_steps=1, tokens_per_step=1)
    ttft = ServingModel().solve("Llama3_8B", "H100", prompt_len=2048).ttft_s
    assert r.decode_s == 0 and r.latency_s == pytest.approx(ttft) and r.tokens_generated == 1


def test_decode_is_the_itl_summed_over_the_growing_context():
    """3 tokens after a 2,048-token prompt: the prefill emits the first, then decode steps attend to
    2,049 and 2,050 tokens, so decode time = ITL(2049) + ITL(2050), and the mean ITL lies between."""
    r = reason("Llama3_8B", "H100", reasoning_steps=1, tokens_per_step=3)
    itl = ServingModel().solve("Llama3_8B", "H100", prompt_len=2048, seq_len=np.array([2049.0, 2050.0])).itl_s
    assert r.decode_s == pytest.approx(itl.sum(), rel=1e-12)
    assert r.itl_first_s == pytest.approx(itl[0]) and r.itl_last_s == pytest.approx(itl[1])


def test_long_generations_sampled_agree_with_the_exact_sum():
    """Past 4,096 decode steps the ITL is sampled; the two sums meet at the switch-over."""
    exact = reason("Llama3_8B", "H100", reasoning_steps=1, tokens_per_step=4097)      # 4,096 steps, summed
    sampled = reason("Llama3_8B", "H100", reasoning_steps=1, tokens_per_step=4098)    # 4,097 steps, sampled
    assert "sampled" in sampled.assumptions[1] and "sampled" not in exact.assumptions[1]
    assert sampled.decode_s == pytest.approx(exact.decode_s, rel=1e-3)
    assert sampled.decode_s > exact.decode_s


@pytest.mark.parametrize("model,hw", LMS)
def test_more_reasoning_never_costs_less(model, hw):
    K = np.array([1, 2, 3, 5, 8, 16, 32])
    r = reason(model, hw, reasoning_steps=K, context_length=1024)
    for name in ("latency_s", "decode_s", "energy_per_query_j", "usd_per_query", "tokens_generated",
                 "device_seconds_per_query", "memory_bytes"):
        assert np.all(np.diff(getattr(r, name)) > 0), name
    # the prompt is the same at every depth: reasoning longer never changes the time to its first token
    one = reason(model, hw, reasoning_steps=8, context_length=1024)
    assert np.all(np.asarray(r.ttft_s) == one.ttft_s) and one.ttft_s > 0
    # the swept figures match one solve per depth
    assert one.latency_s == pytest.approx(r.latency_s[4]) and one.energy_per_query_j == pytest.approx(
        r.energy_per_query_j[4])


@pytest.mark.parametrize("model,hw", LMS)
def test_best_of_n_shares_the_prefill_and_never_yields_fewer_tokens(model, hw):
    one = reason(model, hw, reasoning_steps=4, context_length=1024)
    for n in (2, 4, 16):
        r = reason(model, hw, reasoning_steps=4, context_length=1024, best_of_n=n)
        assert r.tokens_generated == n * one.tokens_generated >= one.tokens_generated
        assert r.ttft_s == one.ttft_s                         # one prefill, shared by prefix caching
        assert r.latency_s >= one.latency_s and r.energy_per_query_j >= one.energy_per_query_j
        # batching the samples is cheaper than N separate answers
        assert r.energy_per_query_j < n * one.energy_per_query_j
        # the prompt's KV is held once: less than N private copies of the whole context
        assert one.kv_cache_bytes < r.kv_cache_bytes < n * one.kv_cache_bytes


def test_energy_comes_from_the_engine_steps_not_tdp_times_time():
    r = reason("Llama3_70B", "B200")
    tdp = float(Hardware.B200.tdp)
    assert 0.3 * tdp * r.latency_s < r.energy_per_query_j < tdp * r.latency_s
    assert r.energy_per_query_j == pytest.approx(r.prefill_energy_j + r.decode_energy_j)
    assert r.energy_per_1k_queries_kwh == pytest.approx(1e3 * r.energy_per_query_j / 3.6e6)


def test_the_0_1_0_names():
    r = reason("Llama3_70B", "B200", 8, 2048)                 # 0.1.0 positional order
    assert r.reasoning_steps == 8 and r.tokens_generated == 400
    assert r.total_reasoning_time.unit == "s" and float(r.total_reasoning_time) == pytest.approx(r.latency_s)
    assert r.ttft == r.ttft_s and r.itl == pytest.approx(r.decode_s / 399)
    assert float(r.time_per_step) == pytest.approx(r.decode_s / 8)
    assert r.energy_per_query.unit == "J" and r.feasible
    assert r.serving_detail.model_name == r.model_name


def test_dollars_owned_or_rented_and_per_thousand_queries():
    owned = reason("Llama3_8B", "H100")
    assert owned.cost_basis == "owned" and owned.cloud_usd_per_query is not None      # the zoo lists an H100 rate
    rented = reason("Llama3_8B", "H100", cloud_rate_usd_hr=3.0)
    assert rented.cost_basis == "cloud"
    assert rented.usd_per_query == pytest.approx(3.0 * rented.device_seconds_per_query / 3600)
    assert rented.usd_per_1k_queries == pytest.approx(1e3 * rented.usd_per_query)
    # four devices held for the answer cost four device-seconds per second
    tp4 = reason("Llama3_70B", "H100", tp=4, cloud_rate_usd_hr=3.0)
    assert tp4.device_seconds_per_query == pytest.approx(4 * tp4.latency_s)
    # queries batched together share the device-seconds
    batched = reason("Llama3_8B", "H100", batch_size=8, cloud_rate_usd_hr=3.0)
    assert batched.usd_per_query < rented.usd_per_query / 4


def test_carbon_only_where_a_grid_is_given_and_cleaner_grids_emit_less():
    assert reason("Llama3_8B", "H100").carbon_per_query_kg is None
    quebec = reason("Llama3_8B", "H100", grid="Quebec")
    poland = reason("Llama3_8B", "H100", grid="Poland")
    assert 0 < quebec.carbon_per_query_kg < poland.carbon_per_query_kg
    assert poland.carbon_per_1k_queries_kg == pytest.approx(1e3 * poland.carbon_per_query_kg)


def test_a_model_too_big_for_the_device_is_reported_or_raised():
    r = reason("Llama3_70B", "H100", pp=1)
    assert not r.feasible and r.binding.startswith("memory")
    with pytest.raises(OOMError) as e:
        reason("Llama3_70B", "H100", pp=1, raise_errors=True)
    assert e.value.required_bytes > e.value.available_bytes


@pytest.mark.parametrize("kwargs,words", [
    (dict(reasoning_steps=3000, tokens_per_step=50), "context window"),
    (dict(best_of_n=2.5), "whole number"),
    (dict(best_of_n=0), "best_of_n"),
    (dict(reasoning_steps=-1), "reasoning_steps"),
    (dict(batch_size=np.array([1, 2])), "one value"),
    (dict(tokens_per_step=float("nan")), "tokens_per_step"),
])
def test_reasoning_errors_are_one_sentence(kwargs, words):
    with pytest.raises(InputError, match=words):
        reason("Llama3_8B", "H100", **kwargs)


def test_reasoning_needs_a_language_model():
    with pytest.raises(InputError, match="not a decoder language model"):
        reason("ResNet50", "H100")


# --- weight streaming ------------------------------------------------------------------------------
def test_one_llama3_8b_layer_over_memoryx():
    """One Llama-3-8B layer at fp16 over the CS-3's 150 GB/s MemoryX link.

    Per layer: Q and O 4096 x 4096 each (16,777,216), K and V 4096 x 1024 each (4,194,304), the
    gated MLP 3 x 4096 x 14336 (176,160,768), two RMSNorms 2 x 4096: 218,112,000 parameters. The
    zoo's 8,030,261,248 also holds the final norm (4,096, i.e. 128 per layer) and two vocabulary
    matrices 128,256 x 4,096: (8,030,261,248 - 2 x 525,336,576) / 32 = 218,112,128 parameters,
    436,224,256 bytes at 2 bytes each; 436,224,256 B / 150e9 B/s = 2.908 ms. The LM head is
    525,336,576 x 2 = 1,050,673,152 bytes (7.00 ms).
    """
    r = stream("Llama3_8B", "Cerebras_CS3", seq_len=2048)
    assert r.layer_weight_bytes == 436_224_256
    assert r.layer_injection_s == pytest.approx(436_224_256 / 150e9)
    assert r.head_weight_bytes == 1_050_673_152
    assert r.streamed_bytes_per_step == 32 * 436_224_256 + 1_050_673_152
    # batch 1 decode: the wafer waits for every layer; a token takes 32 injections and the head
    assert r.bound == INJECTION_BOUND and r.bottleneck == "Interconnect-Bandwidth-Bound"
    assert r.step_time_s == pytest.approx(32 * 436_224_256 / 150e9 + 1_050_673_152 / 150e9)
    assert r.tokens_per_s == pytest.approx(1 / r.step_time_s)


def test_more_injection_bandwidth_is_never_slower():
    bws = ["50 GB/s", "150 GB/s", "400 GB/s", "1 TB/s", "4 TB/s", "20 TB/s", "100 TB/s"]
    for phase in ("decode", "prefill"):
        rates = [stream("Llama3_8B", "Cerebras_CS3", seq_len=1024, batch_size=8, phase=phase,
                        injection_bandwidth=bw).tokens_per_s for bw in bws]
        assert np.all(np.diff(rates) >= 0)
        assert rates[-1] > rates[0]
    fast = stream("Llama3_8B", "Cerebras_CS3", seq_len=1024, batch_size=8, injection_bandwidth="100 TB/s")
    assert fast.bound == COMPUTE_BOUND


@pytest.mark.parametrize("model,hw,phase,seq", [
    ("Llama3_8B", "Cerebras_CS3", "decode", 2048),
    ("Llama3_8B", "Cerebras_CS3", "prefill", 2048),
    ("Llama3_8B", "H100", "decode", 2048),
    ("Llama3_8B", "H100", "prefill", 2048),
    ("Llama3_8B", "Graphcore_GC200", "decode", 512),
])
def test_the_balancing_batch_makes_injection_and_compute_meet(model, hw, phase, seq):
    r = stream(model, hw, seq_len=seq, phase=phase)
    b = r.balancing_batch_size
    assert 1 < b < np.inf
    at = stream(model, hw, seq_len=seq, phase=phase, batch_size=b)
    assert at.layer_compute_s == pytest.approx(at.layer_injection_s, rel=0.01)
    assert r.bound == INJECTION_BOUND                            # batch 1 waits for its weights
    assert stream(model, hw, seq_len=seq, phase=phase, batch_size=2 * b).bound == COMPUTE_BOUND
    assert r.optimal_batch_size == int(b)


def test_balancing_batch_extremes():
    # a link so fast that one sequence already hides it, and one so slow that no batch does
    assert stream("Llama3_8B", "Cerebras_CS3", phase="prefill", injection_bandwidth="1 PB/s").balancing_batch_size == 1
    assert stream("Llama3_8B", "Cerebras_CS3", injection_bandwidth="1 MB/s").balancing_batch_size == np.inf


def test_batch_sweep_and_the_on_chip_memory():
    B = np.array([1, 4, 16, 64, 256, 1024])
    r = stream("Llama3_8B", "Cerebras_CS3", seq_len=2048, batch_size=B)
    assert r.tokens_per_s.shape == B.shape and np.all(np.diff(r.tokens_per_s) > 0)
    # injection bound at every batch here: the step time does not depend on the batch
    assert np.all(r.bound == INJECTION_BOUND) and np.allclose(r.step_time_s, r.step_time_s[0])
    assert r.tokens_per_s == pytest.approx(B / r.step_time_s)
    # 268 MB of KV per 2,048-token sequence: about 160 fit in 44 GB beside two layers of weights
    m = r.max_batch_on_chip[0]
    assert 150 < m < 170
    assert stream("Llama3_8B", "Cerebras_CS3", seq_len=2048, batch_size=m).feasible
    assert not stream("Llama3_8B", "Cerebras_CS3", seq_len=2048, batch_size=m + 1).feasible
    assert list(r.feasible) == [True, True, True, True, False, False]
    with pytest.raises(OOMError):
        stream("Llama3_8B", "Cerebras_CS3", seq_len=2048, batch_size=1024, raise_errors=True)


def test_prefill_processes_every_prompt_token():
    r = stream("Llama3_8B", "Cerebras_CS3", seq_len=1024, batch_size=2, phase="prefill")
    assert r.tokens_per_step == 2048 and r.tokens_per_s == pytest.approx(2048 / r.step_time_s)
    d = stream("Llama3_8B", "Cerebras_CS3", seq_len=1024, batch_size=2)
    assert r.layer_compute_s > d.layer_compute_s and r.layer_injection_s == d.layer_injection_s


def test_streaming_energy_counts_the_wait():
    r = stream("Llama3_8B", "Cerebras_CS3", seq_len=2048)
    tdp = float(Hardware.Cerebras_CS3.tdp)
    # injection bound: the wafer idles most of the step, so a token costs about idle power x step
    assert 0.3 * tdp * r.step_time_s <= r.energy_per_token_j < 0.35 * tdp * r.step_time_s
    wide = stream("Llama3_8B", "Cerebras_CS3", seq_len=2048, batch_size=128)
    assert wide.energy_per_token_j < r.energy_per_token_j / 50


def test_a_device_with_no_link_says_so():
    with pytest.raises(InputError, match="no weight-streaming link.*injection_bandwidth"):
        stream("Llama3_8B", "Untether_speedAI240")
    r = stream("Llama3_1B", "Untether_speedAI240", seq_len=128, injection_bandwidth="100 GB/s")
    assert r.injection_bandwidth == 100e9 and r.link_name == "the given link"


@pytest.mark.parametrize("kwargs,words", [
    (dict(phase="train"), "phase"),
    (dict(batch_size=0), "batch_size"),
    (dict(seq_len=-5), "seq_len"),
    (dict(injection_bandwidth="10 GB"), "injection_bandwidth"),
    (dict(injection_bandwidth=0), "injection_bandwidth"),
])
def test_streaming_errors_are_one_sentence(kwargs, words):
    with pytest.raises(InputError, match=words):
        stream("Llama3_8B", "Cerebras_CS3", **kwargs)


def test_streaming_needs_a_language_model():
    with pytest.raises(InputError, match="not a decoder language model"):
        stream("ResNet50", "Cerebras_CS3")


def test_results_flatten_to_plain_values():
    import json

    json.dumps(stream("Llama3_8B", "Cerebras_CS3", batch_size=np.array([1, 2])).to_dict())
    d = reason("Llama3_8B", "H100", reasoning_steps=np.array([1, 2]), grid="Quebec").to_dict()
    json.dumps(d)
    assert d["serving_detail"]["model_name"] == d["model_name"]
