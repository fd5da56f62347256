"""The ``mlsysim`` command: every command and output format, every exit code, bad input.

Commands run through the entry point in-process (``conftest.cli``); the few tests that prove the
installed command works end to end start a real process (``conftest.process``).
"""
from pathlib import Path

import jsonschema
import pytest
from conftest import cli as mlsysim
from conftest import one_json, process

from mlsysim.evaluation import envelope_schema

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


# --- eval -------------------------------------------------------------------------------------------
def test_eval_text_is_a_scorecard_that_fits_80_columns():
    out = process("eval", "Llama3_8B", "H100", "--batch-size", "8")
    assert out.returncode == 0, out.stderr
    for lens in ("Feasibility", "Performance", "Macro"):
        assert lens in out.stdout
    assert max(len(line) for line in out.stdout.splitlines()) <= 80


@pytest.mark.parametrize("args", [("eval", "Llama3_8B", "H100", "-o", "json"),
                                  ("-o", "json", "eval", "Llama3_8B", "H100")])
def test_eval_json_matches_the_published_envelope(args):
    out = mlsysim(*args)
    data = one_json(out)
    jsonschema.validate(data, envelope_schema())
    assert data["scenario"] == "Llama3_8B on H100" and data["f_status"] == "PASS" and data["status"] == "ok"
    assert data["m_status"] == "SKIPPED"


def test_eval_markdown():
    out = mlsysim("eval", "ResNet50", "A100", "-b", "32", "-o", "markdown")
    assert out.returncode == 0 and out.stdout.startswith("## ResNet50 on A100") and "| Feasibility |" in out.stdout


def test_eval_with_region_and_duration_fills_the_macro_lens():
    out = mlsysim("eval", "Llama3_8B", "H100", "--region", "Quebec", "--duration-days", "30", "-o", "json")
    data = one_json(out)
    jsonschema.validate(data, envelope_schema())
    assert data["m_status"] == "PASS" and data["m_tco_usd"] > 0 and data["m_region"].startswith("Quebec")


def test_region_changes_carbon_not_latency():
    q = one_json(mlsysim("eval", "Llama3_8B", "H100", "--region", "Quebec", "--duration-days", "30", "-o", "json"))
    p = one_json(mlsysim("eval", "Llama3_8B", "H100", "--region", "Poland", "--duration-days", "30", "-o", "json"))
    assert p["m_carbon_footprint"] > 5 * q["m_carbon_footprint"]
    assert p["p_latency_ms"] == q["p_latency_ms"]


def test_infeasible_exits_2_with_the_scorecard():
    out = mlsysim("eval", "GPT3", "H100", "-o", "json")
    assert out.returncode == 2
    data = one_json(out)
    assert data["status"] == "infeasible" and data["f_status"] == "FAIL"


@pytest.mark.parametrize("plan", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_example_plans_run(plan):
    out = mlsysim("eval", plan, "-o", "json")
    data = one_json(out)
    jsonschema.validate(data, envelope_schema())
    assert out.returncode == {"ok": 0, "infeasible": 2, "sla_failed": 3}[data["status"]]
    assert data["m_status"] == "PASS"


def test_failed_assert_exits_3_with_violations(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: '1.0'\nname: tight\nworkload: {name: Llama3_8B, batch_size: 8}\n"
                    "hardware: {name: H100}\nops: {region: Poland, duration_days: 30}\n"
                    "constraints:\n  assert:\n    - {metric: performance.latency_ms, max: 0.001}\n"
                    "    - {metric: macro.no_such_metric, max: 1}\n")
    out = mlsysim("eval", plan, "-o", "json")
    assert out.returncode == 3
    data = one_json(out)
    jsonschema.validate(data, envelope_schema())
    assert data["status"] == "sla_failed" and "m_tco_usd" in data
    assert any("exceeds max" in v for v in data["violations"])
    assert any("not available" in v for v in data["violations"])
    text = mlsysim("eval", plan)
    assert text.returncode == 3 and "assert failed" in text.stdout


def test_plot_writes_the_requested_format(tmp_path):
    pytest.importorskip("matplotlib")
    png, svg = tmp_path / "roofline.png", tmp_path / "roofline.svg"
    assert mlsysim("eval", "Llama3_8B", "H100", "--plot", png).returncode == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert mlsysim("eval", "ResNet50", "A100", "-b", "64", "--plot", svg).returncode == 0
    assert "<svg" in svg.read_text()[:2000]


# --- bad input: one sentence, exit 1, never a traceback -----------------------------------------------
BAD = {
    "unknown hardware": (("eval", "Llama3_8B", "H10O"), "did you mean"),
    "unknown model": (("eval", "Lama3_8B", "H100"), "did you mean"),
    "zero batch": (("eval", "Llama3_8B", "H100", "--batch-size", "0"), "batch_size"),
    "unsupported precision": (("eval", "Llama3_8B", "A100", "--precision", "fp8"), "supports"),
    "unknown format": (("eval", "Llama3_8B", "H100", "-o", "xml"), "unsupported output format"),
    "typo in an option": (("eval", "Llama3_8B", "H100", "--batch-sise", "3"), "no such option"),
    "missing argument": (("eval",), "missing argument"),
    "missing hardware": (("eval", "Llama3_8B"), "HARDWARE"),
    "missing file": (("eval", "no/such/plan.yaml"), "no/such/plan.yaml"),
    "bad region": (("eval", "Llama3_8B", "H100", "--region", "Atlantis", "--duration-days", "3"), "Atlantis"),
    "zoo without category": (("zoo",), "category is required"),
    "unknown zoo category": (("zoo", "toasters"), "unknown zoo category"),
    "bad sort field": (("zoo", "hardware", "--sort-by", "memory.colour"), "colour"),
    "unknown schema type": (("schema", "--type", "pizza"), "unknown schema type"),
    "schema as markdown": (("schema", "-o", "markdown"), "not supported by this command"),
    "explain one device": (("explain", "Llama3_8B", "H100"), "at least two"),
    "serve a CNN": (("serve", "ResNet50", "H100"), "not a decoder language model"),
    "prompt beyond the window": (("serve", "Llama3_8B", "H100", "--prompt-len", "200000"), "context window"),
    "KV format the chip lacks": (("serve", "Llama3_8B", "A100", "--kv-precision", "fp8"), "KV cache"),
    "qps without a target": (("serve", "Llama3_8B", "H100", "--qps", "5"), "go together"),
}


@pytest.mark.parametrize("args, words", BAD.values(), ids=BAD.keys())
def test_bad_input_is_one_sentence_and_exit_1(args, words):
    out = mlsysim(*args)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr and words.lower() in out.stderr.lower()
    assert len(out.stderr.strip().splitlines()) == 1
    assert out.stdout == ""


def test_bad_input_in_json_mode_is_one_json_object():
    out = process("eval", "Llama3_8B", "H10O", "-o", "json")
    data = one_json(out)
    assert out.returncode == 1 and data["status"] == "error" and "H100" in data["error"]


@pytest.mark.parametrize("text, words", [
    ("version: '1.0'\nname: x\nworkload: {name: Llama3_8B\nhardware: {name: H100}\n", "line 4, column"),
    ("version: '1.0'\nname: x\nworkload: {name: Llama3_8B}\nhardware: {name: H100, nodez: 4}\n",
     "unknown key 'hardware.nodez'"),
    ("version: '1.0'\nname: x\nworkload: {name: Llama3_8B}\n", "missing required key 'hardware'"),
    ("version: '1.0'\nname: x\nworkload: {name: Llama3_8B}\nhardware: {name: H100, accelerators: 10, "
     "accelerators_per_node: 4}\n", "divisible"),
    ("- just\n- a list\n", "must be a mapping"),
])
def test_bad_plans_name_the_problem(tmp_path, text, words):
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    out = mlsysim("eval", plan)
    assert out.returncode == 1 and words in out.stderr and "Traceback" not in out.stderr


# --- zoo, schema, explain, validate -------------------------------------------------------------------
@pytest.mark.parametrize("category", ["hardware", "models", "systems", "grids", "scenarios"])
@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_zoo_lists_every_category(category, fmt):
    out = mlsysim("zoo", category, "-o", fmt)
    assert out.returncode == 0, out.stderr
    if fmt == "json":
        rows = one_json(out)[category]
        assert rows and all(r["source"] for r in rows)


def test_zoo_entry_shows_figures_and_sources():
    out = mlsysim("zoo", "hardware", "H100")
    assert out.returncode == 0 and "memory.bandwidth" in out.stdout and "source" in out.stdout
    data = one_json(mlsysim("zoo", "grids", "Quebec", "-o", "json"))
    assert data["entry"]["carbon_intensity_g_kwh"] > 0 and data["source"]


def test_zoo_sorts_by_a_field():
    data = one_json(mlsysim("zoo", "hardware", "--sort-by", "memory.bandwidth", "-o", "json"))
    bws = [row["bandwidth"]["value"] for row in data["hardware"]]
    assert bws == sorted(bws, reverse=True)


@pytest.mark.parametrize("kind", ["plan", "hardware", "workload", "evaluation"])
def test_schema_is_valid_json_schema(kind):
    schema = one_json(mlsysim("schema", "--type", kind))
    jsonschema.Draft202012Validator.check_schema(schema)


def test_example_plans_validate_against_the_plan_schema():
    import yaml

    schema = one_json(mlsysim("schema"))
    for plan in EXAMPLES.glob("*.yaml"):
        jsonschema.validate(yaml.safe_load(plan.read_text()), schema)


def test_explain_says_why():
    data = one_json(mlsysim("explain", "Llama3_8B", "A100", "H100", "-b", "8", "-o", "json"))
    step = data["comparisons"][0]
    assert step["speedup"] > 1 and step["new_bound"] == "Memory" and "bandwidth" in step["reason"]
    text = mlsysim("explain", "Llama3_8B", "A100", "H100", "B200")
    assert text.returncode == 0 and text.stdout.count("->") == 2


def test_validate_reports_every_anchor():
    out = mlsysim("validate", "-o", "json")
    data = one_json(out)
    assert out.returncode == 0 and len(data["anchors"]) >= 20 and "single_device_inference" in data["summary"]
    text = mlsysim("validate", "--category", "single_device_inference")
    assert "median |error|" in text.stdout


@pytest.mark.parametrize("command", ["eval", "serve", "zoo", "schema", "explain", "validate"])
def test_every_command_has_help_with_an_example(command):
    out = mlsysim(command, "--help")
    assert out.returncode == 0 and "Example" in out.stdout


def test_fleet_inference_is_served_not_silently_trained():
    """Sixteen H100 and one sequence: one replica spread over all of them, reported as serving."""
    data = one_json(mlsysim("eval", "Llama3_8B", "H100", "--accelerators", "16", "-o", "json"))
    assert data["status"] == "ok" and data["f_accelerators"] == 16
    assert data["f_tp"] * data["f_pp"] * data["f_replicas"] == 16 and data["f_replicas"] == 1
    assert data["p_ttft_ms"] > data["p_latency_ms"] > 0 and data["p_throughput_unit"] == "tokens/s"
    assert "p_step_latency_ms" not in data


def test_fleet_eval_checks_memory_per_accelerator():
    ok = one_json(mlsysim("eval", "Llama3_70B", "H100", "--accelerators", "64", "--training", "--tp", "8",
                          "--pp", "4", "-b", "64", "-o", "json"))
    assert ok["f_status"] == "PASS" and ok["f_accelerators"] == 64 and ok["p_step_latency_ms"] > 0
    out = mlsysim("eval", "Llama3_70B", "H100", "--accelerators", "8", "--training", "-b", "8", "-o", "json")
    assert out.returncode == 2 and one_json(out)["f_status"] == "FAIL"


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_serve_reports_ttft_itl_and_memory(fmt):
    out = mlsysim("serve", "Llama3_8B", "H100", "--prompt-len", "1024", "--output-len", "128", "-b", "8", "-o", fmt)
    assert out.returncode == 0, out.stderr
    if fmt == "json":
        data = one_json(out)
        assert data["ttft_ms"] > data["itl_ms"] > 0 and data["kv_cache_gb"] > 0 and data["feasible"] is True
    else:
        assert "inter-token latency" in out.stdout or "inter-token latency" in out.stdout.lower()


def test_serve_sizes_replicas_for_a_load():
    data = one_json(mlsysim("serve", "Llama3_8B", "H100", "--qps", "20", "--p99", "3000", "--output-len", "128",
                            "--service-cv", "0.25", "-o", "json"))
    assert data["replicas"] >= 1 and data["qps_capacity"] >= 20 and data["p99_latency_ms"] <= 3000


def test_optimize_batching_finds_a_batch_or_exits_3():
    ok = mlsysim("optimize", "batching", "Llama3_8B", "H100", "--sla-ms", "5000", "--qps", "5", "--replicas", "2",
                 "--output-len", "128", "--service-cv", "0.25", "-o", "json")
    data = one_json(ok)
    assert ok.returncode == 0 and data["best_batch_size"] >= 1 and data["p99_latency_ms"] <= 5000
    tight = mlsysim("optimize", "batching", "Llama3_8B", "H100", "--sla-ms", "10", "--qps", "5")
    assert tight.returncode == 3 and "SLA" in tight.stdout
    helped = mlsysim("optimize", "batching", "--help")
    assert helped.returncode == 0 and "Example" in helped.stdout


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_optimize_placement_prices_carbon(fmt):
    out = mlsysim("optimize", "placement", EXAMPLES / "training_64_gpus.yaml", "--carbon-tax", "150", "-o", fmt)
    assert out.returncode == 0, out.stderr
    if fmt == "json":
        data = one_json(out)
        assert data["best_region"] and data["regions"][0]["total_usd"] <= data["regions"][-1]["total_usd"]


def test_the_readme_training_example_runs_with_the_layouts_default_batch():
    """README: `mlsysim eval Llama3_70B H100 --accelerators 64 --training --tp 8 --pp 4` (no batch given)."""
    out = mlsysim("eval", "Llama3_70B", "H100", "--accelerators", "64", "--training", "--tp", "8", "--pp", "4",
                  "-o", "json")
    assert out.returncode == 0, out.stderr
    assert one_json(out)["p_step_latency_ms"] > 0


def test_the_whole_layout_travels_on_flags_and_in_plans(tmp_path):
    flags = ["--accelerators", "64", "--training", "--tp", "8", "--pp", "4", "-b", "64", "--zero", "1",
             "--recompute", "selective", "--micro-batch", "2", "--schedule", "zero_bubble", "--optimizer", "adamw",
             "--layers-per-stage", "20,20,20,20", "-o", "json"]
    by_flags = one_json(mlsysim("eval", "Llama3_70B", "H100", *flags))
    plan = tmp_path / "layout.yaml"
    plan.write_text("version: '1.0'\nname: layout\nworkload: {name: Llama3_70B, training: true, batch_size: 64, "
                    "optimizer: adamw}\nhardware: {name: H100, accelerators: 64}\nparallelism: {tp: 8, pp: 4, "
                    "zero: 1, recompute: selective, micro_batch: 2, schedule: zero_bubble, "
                    "layers_per_stage: [20, 20, 20, 20]}\n")
    by_plan = one_json(mlsysim("eval", str(plan), "-o", "json"))
    assert by_flags["p_step_latency_ms"] == pytest.approx(by_plan["p_step_latency_ms"])
    plain = one_json(mlsysim("eval", "Llama3_70B", "H100", "--accelerators", "64", "--training", "--tp", "8",
                             "--pp", "4", "-b", "64", "-o", "json"))
    assert plain["p_step_latency_ms"] != pytest.approx(by_flags["p_step_latency_ms"])


@pytest.mark.parametrize("args, words", [
    (["--tp", "16"], "keep tp <= 8"),
    (["--tp", "8", "--pp", "4", "--layers-per-stage", "20,20,x"], "whole numbers separated by commas"),
    (["--tp", "8", "--pp", "4", "-b", "64", "--micro-batch", "3"], "micro_batch (3) must divide"),
    (["--tp", "8", "--zero", "5"], "zero"),
])
def test_a_bad_training_layout_is_one_sentence_and_a_non_zero_exit(args, words):
    out = mlsysim("eval", "Llama3_70B", "H100", "--accelerators", "64", "--training", *args)
    assert out.returncode != 0 and words in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_optimize_parallelism_in_every_format(fmt):
    out = mlsysim("optimize", "parallelism", "Llama3_70B", "H100", "--accelerators", "64", "--global-batch", "64",
                  "--seq-len", "2048", "--tp", "4,8", "--zero", "1,3", "-o", fmt)
    assert out.returncode == 0, out.stderr
    if fmt == "json":
        data = one_json(out)
        assert data["best"]["tp"] in (4, 8) and data["best"]["zero_stage"] in (1, 3) and data["searched"] > 10
        assert all(c["reason"] for c in data["top"][1:])
    else:
        assert "MFU" in out.stdout


def test_optimize_parallelism_reads_a_plan_and_refuses_half_given_flags():
    plan = Path(__file__).parent.parent / "examples" / "training_64_gpus.yaml"
    data = one_json(mlsysim("optimize", "parallelism", str(plan), "--tp", "8", "-o", "json"))
    assert data["accelerators"] == 64 and data["best"]["tp"] == 8
    out = mlsysim("optimize", "parallelism", "Llama3_70B", "H100", "--global-batch", "64")
    assert out.returncode != 0 and "--accelerators" in out.stderr
