"""`mlsysim serve --emit`: the engine's launch command carries exactly the configuration that was modelled."""
import json
import shlex

import pytest
from conftest import cli

SERVE = ("serve", "Llama3_70B", "H100", "--tp", "4", "--batch-size", "64", "--kv-precision", "fp8",
         "--prompt-len", "2048", "--output-len", "512", "--prefill-chunk-tokens", "1024")


def flags(script: str) -> dict:
    """The ``--flag value`` pairs of the script's command (the lines after any heredoc), as strings."""
    command = script.split("EOF\n")[-1]
    words = shlex.split(" ".join(line for line in command.splitlines() if not line.startswith("#")))
    out = {}
    for i, word in enumerate(words):
        if word.startswith("--"):
            nxt = words[i + 1] if i + 1 < len(words) else ""
            out[word] = "" if nxt.startswith("--") or not nxt else nxt
    return out


@pytest.mark.parametrize("engine, tp, batch, length, kv, chunk", [
    ("vllm", "--tensor-parallel-size", "--max-num-seqs", "--max-model-len", "--kv-cache-dtype",
     "--max-num-batched-tokens"),
    ("sglang", "--tp-size", "--max-running-requests", "--context-length", "--kv-cache-dtype", "--chunked-prefill-size"),
    ("trtllm", "--tp_size", "--max_batch_size", "--max_seq_len", None, "--max_num_tokens"),
])
def test_the_launch_command_is_the_modelled_configuration(engine, tp, batch, length, kv, chunk):
    out = cli(*SERVE, "--emit", engine)
    assert out.returncode == 0, out.stderr
    f = flags(out.stdout)
    assert f[tp] == "4" and f[batch] == "64" and f[chunk] == "1024"
    assert f[length] == str(2048 + 512)                         # the longest request: prompt + output
    assert "meta-llama/Llama-3.1-70B" in out.stdout
    if kv:
        assert f[kv].startswith("fp8")
    else:                                                       # TensorRT-LLM takes the cache dtype in its YAML
        assert "kv_cache_config:\n  dtype: fp8" in out.stdout and "enable_chunked_prefill: true" in out.stdout


def test_emitting_an_engine_models_that_engine():
    """--emit trtllm without --stack times TensorRT-LLM, so the numbers are those of what is launched."""
    emitted = json.loads(cli(*SERVE, "--emit", "trtllm", "-o", "json").stdout)
    modelled = json.loads(cli(*SERVE, "--stack", "tensorrt_llm", "-o", "json").stdout)
    assert emitted["execution_profile"] == "tensorrt_llm" and emitted["itl_ms"] == modelled["itl_ms"]
    assert emitted["launch_command"].startswith("# Llama-3.1-70B on")


def test_a_stack_that_is_not_the_engine_is_refused():
    out = cli(*SERVE, "--emit", "vllm", "--stack", "tensorrt_llm")
    assert out.returncode == 1
    assert "--emit vllm launches the vllm stack, and --stack tensorrt_llm models another" in out.stderr


def test_a_cache_format_the_engine_lacks_is_refused():
    out = cli("serve", "Llama3_8B", "H100", "--kv-precision", "int8", "--emit", "vllm")
    assert out.returncode == 1 and "vllm keeps the KV cache in 16 bits or fp8, not int8" in out.stderr


def test_what_the_user_must_supply_is_said():
    """A model with no known checkpoint is served from a path to fill in; 4-bit weights need a quantized one."""
    out = cli("serve", "GPT3", "H100", "--tp", "8", "--emit", "vllm")
    assert out.returncode == 0 and "has no known Hugging Face checkpoint: replace /path/to/" in out.stdout
    out = cli("serve", "Llama3_8B", "H100", "--weight-precision", "int4", "--emit", "sglang")
    assert "point the model at an int4 (AWQ or GPTQ) checkpoint" in out.stdout


def test_unknown_engine_is_one_sentence():
    out = cli("serve", "Llama3_8B", "H100", "--emit", "tgi")
    assert out.returncode == 1 and "unknown engine 'tgi' for --emit; use one of vllm, sglang, trtllm" in out.stderr
