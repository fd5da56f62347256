"""Questions asked backwards: what fits (longest context, largest batch, fewest devices) and the cheapest
hardware for a load, against answers worked by hand."""
import pytest
from conftest import cli, one_json

from mlsysim.errors import InputError
from mlsysim.optimize.cheapest import CheapestHardwareModel
from mlsysim.optimize.fit import FitModel
from mlsysim.serving.capacity import ServingCapacityModel

GIB, MIB = 2**30, 2**20
#: Llama 3.1 8B at fp16 on an H100 80 GB: 8.03B x 2 B of weights, PyTorch's 1343 MiB, and 32 layers x 8 KV
#: heads x 128 x (K, V) x 2 B = 131,072 B of KV cache per token; each decoding sequence also holds 631,808 B
WEIGHTS, RUNTIME, KV, ACTS = 16_060_522_496, 1343 * MIB, 131_072, 631_808
FREE = 80 * GIB - WEIGHTS - RUNTIME


def test_the_largest_batch_and_the_longest_context_by_hand():
    r = FitModel().solve("Llama3_8B", "H100", batch_size=64, seq_len=8192)
    assert r.max_batch == FREE // (8192 * KV + ACTS) == 63
    assert r.max_context == (FREE - 64 * ACTS) // (64 * KV) == 8152
    assert "64 sequences" in r.batch_binding and "8,153 tokens" in r.context_binding
    assert not r.fits                           # 64 x 8,192 tokens is one sequence too many


def test_the_context_window_binds_before_memory_and_the_weights_can_bind_first():
    one = FitModel().solve("Llama3_8B", "H100", batch_size=1)
    assert one.max_context == 131_072 and "context window" in one.context_binding
    big = FitModel().solve("Llama3_70B", "H100", batch_size=1, seq_len=4096)
    assert big.max_context is None and big.max_batch is None and "weights alone" in big.context_binding


def test_the_fewest_devices_split_the_weights_by_hand():
    """Llama 3 70B at fp16 holds 141 GB of weights: not one 80 GiB H100, but two at tp=2 (70.5 GB each)."""
    r = FitModel().solve("Llama3_70B", "H100", batch_size=1, seq_len=4096)
    assert (r.min_devices, r.min_devices_tp, r.min_devices_pp) == (2, 2, 1)
    fp8 = FitModel().solve("Llama3_70B", "H100", batch_size=1, seq_len=4096, precision="fp8")
    assert fp8.min_devices == 1                # 70.5 GB of fp8 weights fit one device


def test_more_memory_or_a_shorter_context_never_fits_less():
    small = FitModel().solve("Llama3_8B", "H100", batch_size=8, seq_len=8192)
    big = FitModel().solve("Llama3_8B", "H200", batch_size=8, seq_len=8192)
    short = FitModel().solve("Llama3_8B", "H100", batch_size=8, seq_len=4096)
    assert big.max_batch >= small.max_batch and big.max_context >= small.max_context
    assert short.max_batch >= small.max_batch
    fp8kv = FitModel().solve("Llama3_8B", "H100", batch_size=8, seq_len=8192, kv_precision="fp8")
    assert fp8kv.max_batch >= 2 * small.max_batch - 1


def test_cheapest_is_list_price_times_the_replicas_serving_capacity_sizes():
    r = CheapestHardwareModel().solve("Llama3_8B", qps=20, target_p99_latency="10 s", prompt_len=512,
                                      output_len=256, hardware=["H100", "A100", "TPUv4"])
    assert r.unpriced == ("TPUv4",) and r.candidates
    assert [c.cost_usd for c in r.candidates] == sorted(c.cost_usd for c in r.candidates)
    for c in r.candidates:
        sized = ServingCapacityModel().solve("Llama3_8B", c.hardware_key, qps=20, target_p99_latency="10 s",
                                             prompt_len=512, output_len=256, tp=c.tp)
        assert c.replicas == sized.required_replicas and c.devices == c.replicas * c.tp
        assert c.cost_usd == c.devices * c.price_usd
    assert r.best == r.candidates[0]


def test_a_target_no_device_meets_says_why_for_each():
    r = CheapestHardwareModel().solve("Llama3_8B", qps=20, target_p99_latency="1 ms", prompt_len=512,
                                      output_len=256, hardware=["H100", "A100"])
    assert r.best is None and {k for k, _ in r.rejected} == {"H100", "A100"}
    assert all("target" in why for _, why in r.rejected) and "no priced device" in r.summary()


@pytest.mark.parametrize("call, words", [
    (lambda: FitModel().solve("ResNet50", "H100"), "language model"),
    (lambda: FitModel().solve("Llama3_8B", "H100", batch_size=0), "batch_size"),
    (lambda: CheapestHardwareModel().solve("Llama3_8B", target_p99_latency="1 s"), "qps is required"),
    (lambda: CheapestHardwareModel().solve("Llama3_8B", qps=5), "target_p99_latency is required"),
])
def test_bad_questions_are_one_sentence(call, words):
    with pytest.raises(InputError, match=words):
        call()


def test_the_cli_answers_both(tmp_path):
    out = one_json(cli("fit", "Llama3_8B", "H100", "--seq-len", "8192", "--batch-size", "64", "-o", "json"))
    assert out["max_batch"] == 63 and out["max_context"] == 8152 and out["min_devices"] == 2
    text = cli("fit", "Llama3_8B", "H100", "--seq-len", "8192")
    assert text.returncode == 0 and "largest batch: 63 sequences" in text.stdout
    cheap = one_json(cli("cheapest", "Llama3_8B", "--qps", "20", "--p99", "10000", "--prompt-len", "512",
                         "--output-len", "256", "--hardware", "H100", "--hardware", "A100", "-o", "json"))
    assert cheap["best"]["hardware_key"] in ("H100", "A100")
    assert cli("fit", "ResNet50", "H100").returncode == 1
