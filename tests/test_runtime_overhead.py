"""The runtime's own device memory (CUDA context, framework kernels) in every memory fit: from the stack's
published figure, changeable per run, through the API, a plan and the CLI."""
import pytest
from conftest import cli, one_json

from mlsysim import Engine, ServingModel
from mlsysim.errors import InputError
from mlsysim.execution import Stacks
from mlsysim.run import Run
from mlsysim.serving.batching import ContinuousBatchingModel

MIB = 2**20


def test_pytorch_stacks_hold_the_published_1343_mib_and_others_say_why_not():
    """Hugging Face's "Model training anatomy": 1343 MiB before any model tensor; stacks without a published
    figure count none and say so."""
    for key in ("pytorch_eager", "torch_compile", "megatron", "vllm", "sglang"):
        assert float(Stacks.get(key).runtime_bytes) == 1343 * MIB and "1343" in Stacks.get(key).runtime_source
    for key in ("tensorrt_llm", "llama_cpp"):
        assert float(Stacks.get(key).runtime_bytes) == 0 and "no published figure" in Stacks.get(key).runtime_source


def test_the_runtime_adds_its_bytes_to_the_fit_and_nothing_else():
    base = Engine.solve("Llama3_8B", "H100", batch_size=4, seq_len=2048, stack="vllm")
    more = Engine.solve("Llama3_8B", "H100", batch_size=4, seq_len=2048, stack="vllm", runtime_overhead="4 GiB")
    assert base.memory_parts["runtime"] == 1343 * MIB and more.memory_parts["runtime"] == 4 * 2**30
    assert sum(more.memory_parts.values()) - sum(base.memory_parts.values()) == pytest.approx(4 * 2**30 - 1343 * MIB)
    assert more.latency_s == base.latency_s


def test_the_fit_turns_exactly_where_the_runtime_fills_the_margin():
    """Llama 3 8B on an H100 with no runtime leaves a margin; a runtime a byte under it fits, one over it
    does not."""
    bare = Engine.solve("Llama3_8B", "H100", batch_size=4, seq_len=2048, runtime_overhead=0)
    margin = bare.memory_capacity_b - sum(bare.memory_parts.values())
    assert bare.feasible and margin > 0
    assert Engine.solve("Llama3_8B", "H100", batch_size=4, seq_len=2048, runtime_overhead=margin - 1).feasible
    assert not Engine.solve("Llama3_8B", "H100", batch_size=4, seq_len=2048, runtime_overhead=margin + 1).feasible


def test_serving_and_continuous_batching_leave_the_runtime_out_of_the_kv_cache():
    s = ServingModel().solve("Llama3_8B", "H100", seq_len=4096, batch_size=8, stack="vllm")
    assert s.runtime_bytes == 1343 * MIB
    assert s.memory_bytes == pytest.approx(s.weights_bytes + s.kv_cache_bytes + s.activation_bytes + s.runtime_bytes)
    a = ContinuousBatchingModel().solve("Llama3_8B", "H100", max_seq_len=8192, stack="vllm")
    run = Run.build("Llama3_8B", "H100", purpose="serving", seq_len=8192, stack="vllm", runtime_overhead="10 GiB")
    b = ContinuousBatchingModel().solve(run)
    assert b.kv_budget_bytes == pytest.approx(a.kv_budget_bytes - (10 * 2**30 - 1343 * MIB))


def test_a_runtime_overhead_that_is_not_a_size_is_one_sentence():
    with pytest.raises(InputError, match="runtime_overhead must be in B"):
        Engine.solve("Llama3_8B", "H100", runtime_overhead="3 GHz")
    out = cli("eval", "Llama3_8B", "H100", "--runtime-overhead", "-1 GiB", "-o", "json")
    assert out.returncode == 1 and one_json(out)["status"] == "error"


def test_the_cli_and_a_plan_carry_it(tmp_path):
    flag = one_json(cli("eval", "Llama3_8B", "H100", "--runtime-overhead", "6 GiB", "-o", "json"))
    plan = tmp_path / "p.yaml"
    plan.write_text("version: '1.0'\nname: t\nworkload: {name: Llama3_8B, runtime_overhead: 6 GiB}\n"
                    "hardware: {name: H100}\n")
    planned = one_json(cli("eval", str(plan), "-o", "json"))
    default = one_json(cli("eval", "Llama3_8B", "H100", "-o", "json"))
    assert flag["f_memory_used_gb"] == planned["f_memory_used_gb"]
    assert flag["f_memory_used_gb"] > default["f_memory_used_gb"]
