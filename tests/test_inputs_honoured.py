"""Every input is used or refused: each command-line flag and each plan key changes the answer when it
changes, or is refused with one sentence and exit code 1 where it cannot apply. Nothing is dropped."""
from pathlib import Path

import pytest
import yaml
from conftest import cli as mlsysim
from conftest import one_json

ROOT = Path(__file__).resolve().parents[1]


def _json(*args) -> dict:
    out = mlsysim(*args, "-o", "json")
    assert out.returncode in (0, 2, 3), out.stdout + out.stderr
    return one_json(out)


def _refused(*args) -> str:
    out = mlsysim(*args)
    assert out.returncode == 1, out.stdout + out.stderr
    message = out.stderr.strip()
    assert message.startswith("error:") and "Traceback" not in message and message.count("\n") == 0
    return message


# --- eval -------------------------------------------------------------------------------------------
EVAL = ("eval", "Llama3_8B", "H100")
EVAL_FLAGS = [  # (flag values that differ, the figure that must differ)
    (("--batch-size", "1"), ("--batch-size", "32"), "p_latency_ms"),
    (("--precision", "fp16"), ("--precision", "fp8"), "f_memory_used_gb"),
    (("--seq-len", "1024"), ("--seq-len", "8192"), "f_memory_used_gb"),
    (("--phase", "prefill"), ("--phase", "prefill", "--efficiency", "0.2"), "p_latency_ms"),
    ((), ("--training",), "p_latency_ms"),
    (("--phase", "prefill"), ("--phase", "decode"), "p_latency_ms"),
    (("--stack", "vllm"), ("--stack", "pytorch_eager"), "p_latency_ms"),
    (("--stack", "pytorch_eager"), ("--stack", "pytorch_eager", "--host-speed", "2"), "p_latency_ms"),
    ((), ("--accelerators", "8"), "f_accelerators"),
    (("--accelerators", "8"), ("--nodes", "2"), "f_accelerators"),
    (("--accelerators", "8", "--tp", "8"), ("--accelerators", "8", "--tp", "2"), "f_tp"),
    (("--accelerators", "8", "--tp", "4", "--pp", "1"), ("--accelerators", "8", "--tp", "4", "--pp", "2"), "f_pp"),
    (("--region", "Quebec", "--duration-days", "30"), ("--region", "Poland", "--duration-days", "30"),
     "m_carbon_footprint"),
    (("--region", "Quebec", "--duration-days", "30"), ("--region", "Quebec", "--duration-days", "60"),
     "m_tco_usd"),
]


@pytest.mark.parametrize("before,after,figure", EVAL_FLAGS, ids=lambda v: " ".join(v) if isinstance(v, tuple)
                         else v)
def test_each_eval_flag_changes_the_answer(before, after, figure):
    assert _json(*EVAL, *before).get(figure) != _json(*EVAL, *after).get(figure)


@pytest.mark.parametrize("args,words", [
    (("--tp", "2"), "accelerator"),                                # tp on one device
    (("--accelerators", "8", "--phase", "prefill"), "phase"),      # a fleet serves whole requests
    (("--training", "--phase", "decode"), "train"),
    (("--stack", "tensorflow"), "stack"),
    (("--host-speed", "2"), "graph"),                              # the default stack replays CUDA graphs
    (("--stack", "pytorch_eager", "--host-speed", "0"), "host_speed"),
    (("--region", "Atlantis", "--duration-days", "30"), "Atlantis"),
    (("--accelerators", "8", "--tp", "3"), "divide"),
])
def test_eval_refuses_what_it_cannot_use(args, words):
    assert words in _refused(*EVAL, *args)


def test_eval_plot_writes_the_figure(tmp_path):
    figure = tmp_path / "roofline.svg"
    assert mlsysim(*EVAL, "--plot", figure).returncode == 0
    assert figure.read_text().lstrip().startswith("<?xml")


def test_eval_refuses_flags_beside_a_plan():
    plan = ROOT / "examples" / "llama3_8b_h100.yaml"
    assert "plan" in _refused("eval", plan, "--batch-size", "8")


def test_eval_on_eight_gpus_serves_across_them():
    one = _json("eval", "Llama3_70B", "H100")
    eight = _json("eval", "Llama3_70B", "H100", "--accelerators", "8")
    assert one["status"] == "infeasible" and eight["status"] == "ok"
    assert eight["f_accelerators"] == 8 and eight["f_tp"] * eight["f_pp"] * eight["f_replicas"] == 8
    assert eight["f_memory_used_gb"] < one["f_memory_used_gb"] / 4      # the weights are split
    assert eight["p_ttft_ms"] > 0 and eight["p_fleet_throughput"] > 0


# --- serve ------------------------------------------------------------------------------------------
SERVE = ("serve", "Llama3_8B", "H100")
SERVE_FLAGS = [
    (("--seq-len", "1024"), ("--seq-len", "8192"), "itl_ms"),
    (("--prompt-len", "512"), ("--prompt-len", "4096"), "ttft_ms"),
    (("--output-len", "64"), ("--output-len", "512"), "request_latency_ms"),
    (("--batch-size", "1"), ("--batch-size", "16"), "tokens_per_s"),
    (("--precision", "fp16"), ("--precision", "fp8"), "weights_gb"),
    ((), ("--weight-precision", "int4"), "weights_gb"),
    ((), ("--activation-precision", "fp8"), "ttft_ms"),
    ((), ("--kv-precision", "fp8"), "kv_cache_gb"),
    (("--tp", "1"), ("--tp", "2"), "weights_gb"),
    (("--pp", "1"), ("--pp", "2"), "weights_gb"),
    (("--stack", "vllm"), ("--stack", "pytorch_eager"), "itl_ms"),
    (("--stack", "pytorch_eager"), ("--stack", "pytorch_eager", "--host-speed", "0.5"), "itl_ms"),
    ((), ("--prefill-chunk-tokens", "512"), "ttft_ms"),
    ((), ("--cached-prefix", "1024"), "ttft_ms"),
    ((), ("--draft-model", "Llama3_1B"), "itl_ms"),
    (("--draft-model", "Llama3_1B", "--acceptance", "0.3"), ("--draft-model", "Llama3_1B", "--acceptance", "0.9"),
     "itl_ms"),
    (("--qps", "5", "--p99", "3000", "--service-cv", "0.3"), ("--qps", "50", "--p99", "3000", "--service-cv", "0.3"),
     "replicas"),
    (("--qps", "20", "--p99", "3000", "--service-cv", "0.3"), ("--qps", "20", "--p99", "2000", "--service-cv", "0.3"),
     "replicas"),
    (("--qps", "20", "--p99", "3000", "--service-cv", "0.1"), ("--qps", "20", "--p99", "3000", "--service-cv", "0.6"),
     "p99_latency_ms"),
]


@pytest.mark.parametrize("before,after,figure", SERVE_FLAGS, ids=lambda v: " ".join(v) if isinstance(v, tuple)
                         else v)
def test_each_serve_flag_changes_the_answer(before, after, figure):
    assert _json(*SERVE, *before)[figure] != _json(*SERVE, *after)[figure]


@pytest.mark.parametrize("args,words", [
    (("--acceptance", "0.8"), "draft"),                            # acceptance without a draft model
    (("--service-cv", "0.3"), "qps"),                              # variability without a load
    (("--qps", "20"), "p99"),                                      # a load without a target
    (("--qps", "20", "--p99", "3000", "--pp", "2"), "pp"),
    (("--kv-precision", "fp6"), "KV"),
    (("--cached-prefix", "4096", "--prompt-len", "2048"), "cached"),
    (("--stack", "tensorflow"), "stack"),
])
def test_serve_refuses_what_it_cannot_use(args, words):
    assert words in _refused(*SERVE, *args)


def test_the_readme_load_example_sizes_tensor_parallel_replicas_or_says_none_fits():
    readme = ("serve", "Llama3_70B", "H100", "--tp", "8", "--kv-precision", "fp8", "--qps", "20", "--p99", "3000")
    out = mlsysim(*readme, "-o", "json")
    data = one_json(out)
    assert data["tp"] == 8 and data["kv_cache_gb"] < _json("serve", "Llama3_70B", "H100", "--tp", "8")["kv_cache_gb"]
    if data["meets_p99_target"]:
        assert out.returncode == 0 and 1 <= data["replicas"] < 1024 and data["p99_latency_ms"] <= 3000
    else:                          # service times of CV 1 put even an idle replica's P99 over the target
        assert out.returncode == 3 and data["status"] == "sla_failed"
        assert 3000 < data["p99_latency_ms"] < float("inf")
        text = mlsysim(*readme)
        assert text.returncode == 3 and "no replica count meets the P99 target" in text.stdout
    steady = _json(*readme, "--service-cv", "0.3")
    assert steady["meets_p99_target"] and 1 <= steady["replicas"] < 1024 and steady["p99_latency_ms"] <= 3000


# --- explain, optimize, validate, zoo, schema -------------------------------------------------------
EXPLAIN = ("explain", "Llama3_8B", "H100", "A100")


@pytest.mark.parametrize("before,after", [
    (("--batch-size", "1"), ("--batch-size", "64")),
    (("--precision", "fp16"), ("--precision", "fp32")),
    (("--seq-len", "512"), ("--seq-len", "8192")),
    ((), ("--training",)),
])
def test_each_explain_flag_changes_the_answer(before, after):
    a, b = (_json(*EXPLAIN, *f)["comparisons"][0] for f in (before, after))
    assert (a["base_latency_s"], a["new_latency_s"]) != (b["base_latency_s"], b["new_latency_s"])


BATCHING = ("optimize", "batching", "Llama3_8B", "H100", "--sla-ms", "20000", "--qps", "5")


@pytest.mark.parametrize("before,after,figure", [
    (("--replicas", "1"), ("--replicas", "4"), "p99_latency_ms"),
    (("--prompt-len", "512"), ("--prompt-len", "4096"), "p99_latency_ms"),
    (("--output-len", "64"), ("--output-len", "256"), "p99_latency_ms"),
    (("--max-batch", "256"), ("--max-batch", "2"), "searched"),
    (("--precision", "fp16"), ("--precision", "fp8"), "p99_latency_ms"),
    (("--service-cv", "0.2"), ("--service-cv", "0.9"), "p99_latency_ms"),
])
def test_each_batching_flag_changes_the_answer(before, after, figure):
    assert _json(*BATCHING, *before)[figure] != _json(*BATCHING, *after)[figure]


def test_batching_targets_change_the_answer():
    loose = _json("optimize", "batching", "Llama3_8B", "H100", "--sla-ms", "20000", "--qps", "5")
    tight = _json("optimize", "batching", "Llama3_8B", "H100", "--sla-ms", "2000", "--qps", "5")
    busy = _json("optimize", "batching", "Llama3_8B", "H100", "--sla-ms", "20000", "--qps", "40")
    assert len({(d["best_batch_size"], d["p99_latency_ms"]) for d in (loose, tight, busy)}) == 3


PLACEMENT_PLAN = ROOT / "examples" / "training_64_gpus.yaml"


def test_each_placement_flag_changes_the_answer():
    base = _json("optimize", "placement", PLACEMENT_PLAN, "--regions", "Quebec,Poland,US_Avg")
    taxed = _json("optimize", "placement", PLACEMENT_PLAN, "--regions", "Quebec,Poland,US_Avg", "--carbon-tax", "900")
    narrow = _json("optimize", "placement", PLACEMENT_PLAN, "--regions", "Poland,US_Avg")
    assert base != taxed and base["best_region"] != narrow["best_region"] or base != narrow


def test_validate_category_selects_the_anchors():
    every = _json("validate")
    serving = _json("validate", "--category", "serving")
    assert 0 < len(serving["anchors"]) < len(every["anchors"])
    assert {a["category"] for a in serving["anchors"]} == {"serving"}


def test_zoo_sort_by_orders_the_listing():
    plain = [e["key"] for e in _json("zoo", "hardware")["hardware"]]
    by_bandwidth = [e["key"] for e in _json("zoo", "hardware", "--sort-by", "memory.bandwidth")["hardware"]]
    assert sorted(plain) == sorted(by_bandwidth) and plain != by_bandwidth


def test_zoo_lists_the_software_stacks():
    stacks = {e["key"]: e for e in _json("zoo", "stacks")["stacks"]}
    assert {"pytorch_eager", "pytorch_cuda_graphs", "torch_compile", "vllm", "sglang", "tensorrt_llm", "llama_cpp",
            "jax_xla"} <= set(stacks)
    assert stacks["pytorch_eager"]["launch"] == "eager" and stacks["vllm"]["launch"] == "graph"
    assert all(e["source"] for e in stacks.values())


def test_schema_type_selects_the_schema():
    titles = {t: mlsysim("schema", "--type", t).stdout for t in ("plan", "hardware", "workload", "evaluation")}
    assert len(set(titles.values())) == 4


# --- plan keys --------------------------------------------------------------------------------------
BASE_PLAN = {"version": "1.0", "name": "keys", "workload": {"name": "Llama3_8B"}, "hardware": {"name": "H100"}}
TRAINING_PLAN = {"version": "1.0", "name": "keys", "workload": {"name": "Llama3_8B", "training": True, "batch_size": 64,
                                                                 "seq_len": 2048},
                 "hardware": {"name": "H100", "accelerators": 16}}


def _plan(tmp_path, plan: dict, **changes) -> dict:
    data = yaml.safe_load(yaml.safe_dump(plan))
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        data.setdefault(section, {})[key] = value
    path = tmp_path / f"plan{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(data))
    return _json("eval", path)


PLAN_KEYS = [  # (plan, key as section__key, two values, the figure that must differ)
    (BASE_PLAN, "workload__name", "Llama3_8B", "Llama3_1B", "f_memory_used_gb"),
    (BASE_PLAN, "workload__batch_size", 1, 32, "p_latency_ms"),
    (BASE_PLAN, "workload__seq_len", 1024, 8192, "f_memory_used_gb"),
    (BASE_PLAN, "workload__training", False, True, "p_latency_ms"),
    (BASE_PLAN, "workload__phase", "prefill", "decode", "p_latency_ms"),
    (BASE_PLAN, "workload__stack", "vllm", "pytorch_eager", "p_latency_ms"),
    (dict(BASE_PLAN, workload={"name": "Llama3_8B", "stack": "pytorch_eager"}), "workload__host_speed", 1.0, 3.0,
     "p_latency_ms"),
    (BASE_PLAN, "hardware__name", "H100", "A100", "p_latency_ms"),
    (BASE_PLAN, "hardware__accelerators", 1, 8, "f_accelerators"),
    (BASE_PLAN, "hardware__precision", "fp16", "fp8", "f_memory_used_gb"),
    (dict(BASE_PLAN, workload={"name": "Llama3_8B", "phase": "prefill"}), "hardware__efficiency", 0.9, 0.2,
     "p_latency_ms"),
    (TRAINING_PLAN, "hardware__fabric", "InfiniBand_NDR", "Ethernet_100G", "p_step_latency_ms"),
    (TRAINING_PLAN, "hardware__fabric_bandwidth", "400 Gbps", "25 Gbps", "p_step_latency_ms"),
    (dict(TRAINING_PLAN, parallelism={"tp": 8}), "hardware__intra_node_bw", "900 GB/s", "50 GB/s",
     "p_step_latency_ms"),
    (TRAINING_PLAN, "parallelism__tp", 1, 8, "p_step_latency_ms"),
    (TRAINING_PLAN, "parallelism__pp", 1, 2, "p_step_latency_ms"),
    (BASE_PLAN, "ops__region", "Quebec", "Poland", "m_carbon_footprint"),
    (BASE_PLAN, "ops__duration_days", 30, 60, "m_tco_usd"),
    (BASE_PLAN, "ops__utilization", 0.3, 0.9, "m_energy_kwh"),
]


@pytest.mark.parametrize("plan,key,a,b,figure", PLAN_KEYS, ids=[k[1] for k in PLAN_KEYS])
def test_each_plan_key_changes_the_answer(tmp_path, plan, key, a, b, figure):
    assert _plan(tmp_path, plan, **{key: a}).get(figure) != _plan(tmp_path, plan, **{key: b}).get(figure)


def test_node_count_and_accelerators_per_node_describe_the_fleet(tmp_path):
    two = _plan(tmp_path, TRAINING_PLAN, hardware__node_count=2, hardware__accelerators_per_node=8)
    four = _plan(tmp_path, dict(TRAINING_PLAN, hardware={"name": "H100"}), hardware__node_count=4,
                 hardware__accelerators_per_node=4)
    assert two["f_accelerators"] == four["f_accelerators"] == 16
    assert two["p_step_latency_ms"] != four["p_step_latency_ms"]


def test_plan_on_eight_gpus_evaluates_inference_and_a_failed_assert_exits_3(tmp_path):
    plan = {"version": "1.0", "name": "eight", "workload": {"name": "Llama3_70B", "batch_size": 8},
            "hardware": {"name": "H100", "accelerators": 8},
            "constraints": {"assert": [{"metric": "performance.latency_ms", "max": 0.001}]}}
    path = tmp_path / "eight.yaml"
    path.write_text(yaml.safe_dump(plan))
    out = mlsysim("eval", path, "-o", "json")
    data = one_json(out)
    assert out.returncode == 3 and data["status"] == "sla_failed" and data["f_accelerators"] == 8
    assert data["p_ttft_ms"] > 0 and "performance.latency_ms" in " ".join(data["violations"])
    del plan["constraints"]
    path.write_text(yaml.safe_dump(plan))
    assert mlsysim("eval", path).returncode == 0
