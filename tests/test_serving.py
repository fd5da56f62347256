"""ServingModel: known answers, the physics it must respect, and the errors a user sees."""
import numpy as np
import pytest

from mlsysim import Models
from mlsysim.errors import InputError, OOMError, UnsupportedPrecisionError
from mlsysim.models.families.decoder import attended_pairs as _attended_pairs
from mlsysim.serving.serving import ServingModel

serve = ServingModel().solve


def test_kv_bytes_per_token_llama3_8b_gqa():
    """2 (K, V) x 32 layers x 8 KV heads x 128 dims x 2 bytes = 131,072 B per token at fp16."""
    r = serve("Llama3_8B", "H100", seq_len=1024)
    assert r.kv_bytes_per_token == 131_072
    assert r.kv_cache_bytes == 131_072 * 1024


def test_mla_latent_of_deepseek_v3():
    """MLA caches one latent of kv_lora_rank + rope dims per layer: 61 x (512 + 64) x 2 B = 70,272 B."""
    m = Models.DeepSeek_V3
    assert m.kv_lora_rank == 512 and m.qk_rope_head_dim == 64 and m.layers == 61
    assert m.kv_bytes_per_token("fp16") == 61 * 576 * 2


def test_attended_pairs_with_a_cached_prefix_and_a_window():
    """S=4 new tokens after 3 cached: rows see 4, 5, 6, 7 keys = 22; with a window of 5: 4+5+5+5 = 19."""
    assert _attended_pairs(4, None, True, 3) == 22
    assert _attended_pairs(4, 5, True, 3) == 19
    assert _attended_pairs(4, None, True, 0) == 10


def test_itl_grows_with_context_and_batch():
    ctx = np.array([512, 2048, 8192, 32768])
    r = serve("Llama3_8B", "H100", seq_len=ctx)
    assert np.all(np.diff(r.itl_s) > 0)
    b = serve("Llama3_8B", "H100", seq_len=2048, batch_size=np.array([1, 4, 16, 64]))
    assert np.all(np.diff(b.itl_s) > 0) and np.all(np.diff(b.tokens_per_s) > 0)


def test_prefill_is_compute_bound_and_decode_memory_bound():
    r = serve("Llama3_8B", "H100", seq_len=4096)
    assert r.prefill_bound == "Compute" and r.decode_bound == "Memory"
    assert r.ttft_s > 5 * r.itl_s


def test_speculation_with_acceptance_zero_is_never_faster():
    base = serve("Llama3_70B", "B200", seq_len=2048)
    none = serve("Llama3_70B", "B200", seq_len=2048, draft_model="Llama3_8B", draft_acceptance_rate=0.0)
    good = serve("Llama3_70B", "B200", seq_len=2048, draft_model="Llama3_8B", draft_acceptance_rate=0.8)
    assert none.itl_s >= base.itl_s
    assert good.itl_s < base.itl_s and good.tokens_per_step == pytest.approx((1 - 0.8 ** 5) / 0.2)
    assert good.memory_bytes > base.memory_bytes


def test_chunked_prefill_bounds_the_decode_stall():
    whole = serve("Llama3_8B", "H100", prompt_len=4096)
    chunked = serve("Llama3_8B", "H100", prompt_len=4096, prefill_chunk_tokens=512)
    assert whole.prefill_chunks == 1 and whole.decode_stall_bound_s is None
    assert chunked.prefill_chunks == 8
    assert chunked.decode_stall_bound_s < whole.ttft_s <= chunked.ttft_s
    odd = serve("Llama3_8B", "H100", prompt_len=4097, prefill_chunk_tokens=512)
    assert odd.prefill_chunks == 9


def test_prefix_cache_shortens_ttft_but_keeps_the_memory():
    cold = serve("Llama3_8B", "H100", prompt_len=4096)
    warm = serve("Llama3_8B", "H100", prompt_len=4096, cached_prefix_len=3072)
    assert warm.ttft_s < cold.ttft_s / 2
    assert warm.kv_cache_bytes == cold.kv_cache_bytes and warm.prompt_cache_hit_ratio == 0.75


def test_disaggregated_decode_ships_the_kv_cache():
    r = serve("Llama3_8B", "H100", prompt_len=2048, decode_hardware="A100", kv_link_bandwidth="50 GB/s")
    assert r.kv_transfer_s == pytest.approx(131_072 * 2048 / 50e9)
    assert r.itl_s > serve("Llama3_8B", "H100", prompt_len=2048).itl_s     # the A100 decodes more slowly


def test_tensor_parallelism_shards_memory_and_adds_communication():
    one = serve("Llama3_70B", "H100", seq_len=2048, pp=1)
    eight = serve("Llama3_70B", "H100", seq_len=2048, tp=8)
    assert not one.feasible and eight.feasible
    assert eight.weights_bytes == pytest.approx(one.weights_bytes / 8, rel=0.02)
    assert eight.tp_comm_per_token_s > 0


def test_weights_that_do_not_fit_get_pipeline_stages():
    r = serve("Llama3_70B", "H100", seq_len=2048)
    assert r.pp >= 2 and r.feasible and any("pipeline" in a for a in r.assumptions)


def test_request_latency_covers_the_generation():
    r = serve("Llama3_8B", "H100", prompt_len=1024, output_len=256, batch_size=8)
    assert r.request_latency_s == pytest.approx(r.ttft_s + 256 * r.itl_s)


def test_precisions_are_separate():
    fp16 = serve("Llama3_8B", "H100", seq_len=8192, batch_size=32)
    kv8 = serve("Llama3_8B", "H100", seq_len=8192, batch_size=32, kv_precision="fp8")
    w4 = serve("Llama3_8B", "H100", seq_len=8192, batch_size=32, weight_precision="int4")
    assert kv8.kv_cache_bytes == fp16.kv_cache_bytes / 2 and kv8.itl_s < fp16.itl_s
    assert w4.weights_bytes == pytest.approx(fp16.weights_bytes / 4) and w4.itl_s < fp16.itl_s


def test_moe_holds_every_expert_but_computes_the_active_ones():
    r = serve("Mixtral_8x7B", "H100", seq_len=2048, tp=2)
    assert r.weights_bytes == pytest.approx(float(Models.Mixtral_8x7B.parameters) * 2 / 2, rel=0.05)


def test_arrays_in_arrays_out():
    r = serve("Llama3_8B", "H100", seq_len=np.array([1024, 4096]), batch_size=np.array([[1], [32]]))
    assert r.itl_s.shape == (2, 2) and r.feasible.shape == (2, 2)


def test_oom_is_raised_on_request():
    with pytest.raises(OOMError):
        serve("Llama3_70B", "H100", seq_len=2048, pp=1, raise_errors=True)


@pytest.mark.parametrize("kw, words", [
    ({"model": "ResNet50"}, "not a decoder language model"),
    ({"prompt_len": 200_000}, "context window"),
    ({"hardware": "A100", "kv_precision": "fp8"}, "KV cache"),
    ({"cached_prefix_len": 4096, "prompt_len": 2048}, "shorter than the prompt"),
    ({"draft_model": "Llama3_8B", "draft_acceptance_rate": 1.5}, "draft_acceptance_rate"),
    ({"tp": 3}, "divide"),
    ({"batch_size": 0}, "batch_size"),
    ({"prefill_chunk_tokens": 0}, "prefill_chunk_tokens"),
])
def test_bad_input(kw, words):
    args = {"model": "Llama3_8B", "hardware": "H100", "seq_len": 2048} | kw
    with pytest.raises((InputError, UnsupportedPrecisionError), match=words):
        serve(**args)


def test_weight_activation_and_kv_precisions_are_independent():
    w8a16 = serve("Llama3_8B", "H100", seq_len=2048, batch_size=256, weight_precision="int8",
                  activation_precision="fp16")
    w8a8 = serve("Llama3_8B", "H100", seq_len=2048, batch_size=256, precision="int8", kv_precision="fp16")
    assert w8a16.weights_bytes == w8a8.weights_bytes
    assert w8a8.ttft_s < w8a16.ttft_s                # the prompt's matmuls run at the int8 rate
    with pytest.raises(UnsupportedPrecisionError):
        serve("Llama3_8B", "A100", seq_len=2048, activation_precision="fp8")


def test_a_result_set_at_once_names_a_misspelt_field():
    """Result.of takes every field in one dict: a misspelt one is an error even when the count is right."""
    from mlsysim.run import Run
    from mlsysim.serving.serving import ServingResult, serve

    good = serve(Run.build("Llama3_8B", "H100", purpose="serving", seq_len=1024)).__dict__
    assert ServingResult.of(dict(good)).ttft_s == good["ttft_s"]
    bad = dict(good)
    bad["ttft"] = bad.pop("ttft_s")
    with pytest.raises(TypeError, match="ttft"):
        ServingResult.of(bad)


def test_each_tensor_parallel_all_reduce_pays_a_collective_start_up():
    """A decode step's all-reduces are tiny: each costs NCCL's base latency (6.6 us, ring LL) before its
    steps and bytes, so 80 layers x 2 all-reduces of one token over tp=8 take at least 160 x 6.6 us."""
    from mlsysim.hardware.links import COLLECTIVE_BASE
    from mlsysim.training import collectives as cc

    assert COLLECTIVE_BASE == pytest.approx(6.6e-6)
    bytes_ = 8192 * 2.0
    t = cc.tensor_parallel(1, 8192, 2.0, 8, 160, 450e9, 0.5e-6)
    assert t == pytest.approx(160 * (6.6e-6 + cc.ring_all_reduce(bytes_, 8, 450e9, 0.5e-6)))
    eight = serve("Llama3_70B", "H100", seq_len=2048, tp=8)
    assert eight.tp_comm_per_token_s >= 160 * 6.6e-6
