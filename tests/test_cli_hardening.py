"""Inputs an earlier fuzzing run of the command line turned into "internal error": each is now one sentence
naming the problem, exit 1 (and, with ``-o json``, one JSON object on stdout)."""
import json
import re

import pytest
from conftest import cli

PLAN = "version: '1.0'\nname: p\nworkload: {name: Llama3_8B}\nhardware: {name: H100}\n"


def refused(*args, words):
    """``mlsysim ARGS`` exits 1 with one line on stderr, ``error: ...`` holding every one of ``words``."""
    out = cli(*args)
    assert out.returncode == 1, (out.returncode, out.stdout[:300], out.stderr[-300:])
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert "internal error" not in out.stderr and "Traceback" not in out.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    data = json.loads(cli(*args, "-o", "json").stdout)        # the same error as one JSON object
    assert data["status"] == "error" and data["exit_code"] == 1 and data["error"] == lines[0][len("error: "):]
    return lines[0]


def plan_file(tmp_path, text, name="plan.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- 1. a NUL character in a plan file ---------------------------------------------------------------------
def test_a_nul_character_in_a_plan_is_named_with_its_line(tmp_path):
    path = plan_file(tmp_path, PLAN.replace("name: p", "name: p\x00"))
    refused("eval", path, words=["plan.yaml", "NUL character at line 2, column 8"])


def test_other_control_characters_in_a_plan_are_named(tmp_path):
    path = plan_file(tmp_path, PLAN.replace("name: p", "name: é\x01"))
    refused("eval", path, words=["character U+0001 at line 2, column 8 is not allowed in YAML"])


def test_a_plan_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_bytes(b"version: '1.0'\nname: \xff\n")
    refused("eval", path, words=["not UTF-8 text", "line 2"])


# --- 2. deeply nested YAML ------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["[" * 10_000 + "]" * 10_000, "{a: " * 10_000 + "1" + "}" * 10_000,
                                  "- " * 200_000 + "x\n", "[" * 200_000 + "]" * 200_000],
                         ids=["lists", "maps", "block lists (once a crash of the C parser)", "200k brackets"])
def test_deeply_nested_yaml_is_refused(tmp_path, text):
    path = plan_file(tmp_path, text)
    refused("eval", path, words=["plan.yaml", "nested more than", "levels deep"])


def test_a_plan_nested_deeper_than_a_plan_is_refused_with_its_line(tmp_path):
    path = plan_file(tmp_path, PLAN + "parallelism: {layers_per_stage: " + "[" * 40 + "]" * 40 + "}\n")
    refused("eval", path, words=["nested more than 32 levels deep at line 5"])


def test_a_deep_value_no_longer_exhausts_the_recursion_of_a_validator(tmp_path):
    path = plan_file(tmp_path, PLAN.replace("{name: H100}", "{name: H100, fabric_bandwidth: " + "[" * 10_000
                                            + "]" * 10_000 + "}"))
    refused("eval", path, words=["nested more than"])


@pytest.mark.parametrize("command", [("eval", "Llama3_8B"), ("serve", "Llama3_8B"), ("fit", "Llama3_8B")])
def test_a_deeply_nested_device_file_is_refused_before_a_parser_sees_it(tmp_path, command):
    path = plan_file(tmp_path, "[" * 200_000 + "]" * 200_000, "gpu.yaml")   # once a segmentation fault
    refused(*command, path, words=["gpu.yaml", "nested more than 64 levels deep"])


def test_a_deeply_nested_model_config_is_refused(tmp_path):
    path = plan_file(tmp_path, '{"a": ' * 100_000 + "1" + "}" * 100_000, "config.json")
    refused("serve", path, "H100", words=["config.json", "nested more than 64 levels deep"])


def test_a_yaml_alias_inside_its_own_anchor_is_refused(tmp_path):
    path = plan_file(tmp_path, PLAN.replace("{name: Llama3_8B}", "&w {name: Llama3_8B, x: *w}"))
    refused("eval", path, words=["'workload.x' holds itself"])


def test_a_billion_laughs_plan_is_refused_quickly(tmp_path):
    lines = ["x-a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"x-{c}: &{c} [" + ", ".join([f"*{p}"] * 10) + "]" for p, c in zip("abcdefgh", "bcdefghi")]
    path = plan_file(tmp_path, "\n".join(lines) + "\n" + PLAN.replace("{name: H100}", "{name: H100, "
                                                                      "fabric_bandwidth: *i}"))
    refused("eval", path, words=["expands to more than 100,000 values"])


# --- 3. a file name too long for the file system --------------------------------------------------------
@pytest.mark.parametrize("args", [("eval", "a" * 5000 + ".yaml"), ("optimize", "placement", "a" * 5000 + ".yaml"),
                                  ("optimize", "parallelism", "a" * 5000 + ".yaml")])
def test_a_plan_file_name_too_long_is_one_short_sentence(args):
    line = refused(*args, words=["plan file name", "(5,005 characters)", "is too long for the file system"])
    assert len(line) < 200


@pytest.mark.parametrize("args", [("eval", "a" * 5000, "H100"), ("eval", "Llama3_8B", "H100", "--calibration",
                                                                   "c" * 5000 + ".yaml"),
                                  ("serve", "m" * 5000 + ".json", "H100"), ("fit", "Llama3_8B", "d" * 5000 + ".yaml")])
def test_other_file_names_too_long_are_one_sentence(args):
    refused(*args, words=["is too long for the file system"])


# --- 4. --plot into a folder that does not exist ------------------------------------------------------------
def test_plot_into_a_missing_folder():
    refused("eval", "ResNet50", "A100", "--plot", "/no/such/dir/x.png",
            words=["--plot: cannot write '/no/such/dir/x.png': there is no folder '/no/such/dir'"])


def test_plot_with_a_name_too_long(tmp_path):
    refused("eval", "ResNet50", "A100", "--plot", tmp_path / ("b" * 300 + ".png"),
            words=["--plot file name", "is too long for the file system"])


# --- 5. integers beyond 2^53 -------------------------------------------------------------------------------
HUGE = "99999999999999999999999"


@pytest.mark.parametrize("args, words", [
    (("eval", "ResNet50", "A100", "--batch-size", HUGE), ["workload.batch_size", "must be at most 2^53"]),
    (("eval", "Llama3_8B", "H100", "--accelerators", 10**30), ["hardware.accelerators", "must be at most 2^53"]),
    (("eval", "Llama3_8B", "H100", "--nodes", 10**30), ["hardware.node_count", "must be at most 2^53"]),
    (("eval", "Llama3_8B", "H100", "--accelerators", 8, "--tp", 10**30), ["parallelism.tp", "must be at most 2^53"]),
    (("eval", "Llama3_8B", "H100", "--seq-len", HUGE), ["workload.seq_len", "must be at most 2^53"]),
    (("serve", "Llama3_8B", "H100", "--tp", HUGE), ["tp must be at most 2^53"]),
    (("serve", "Llama3_8B", "H100", "--batch-size", HUGE), ["batch_size must be at most 2^53"]),
    (("fit", "Llama3_8B", "H100", "--tp", HUGE), ["tp must be at most 2^53"]),
    (("optimize", "parallelism", "Llama3_8B", "H100", "--accelerators", 10**30, "--global-batch", 8),
     ["'accelerators'", "must be at most 2^53"]),
])
def test_integers_that_would_overflow_are_one_sentence(args, words):
    refused(*args, words=words)


def test_a_huge_topology_in_a_plan_is_refused(tmp_path):
    path = plan_file(tmp_path, PLAN.replace("{name: H100}", "{name: H100, node_count: 9007199254740992, "
                                                            "accelerators_per_node: 8}"))
    refused("eval", path, words=["at most 2^53"])


@pytest.mark.parametrize("key, value", [("workload", "{name: Llama3_8B, host_speed: .nan}"),
                                        ("hardware", "{name: H100, efficiency: .nan}")])
def test_nan_in_a_plan_is_refused(tmp_path, key, value):
    path = plan_file(tmp_path, PLAN.replace(f"{key}: {{name: {'Llama3_8B' if key == 'workload' else 'H100'}}}",
                                            f"{key}: {value}"))
    refused("eval", path, words=["finite number"])


def test_a_nan_bound_no_longer_passes_every_assert(tmp_path):
    path = plan_file(tmp_path, PLAN + "constraints: {assert: [{metric: performance.latency_ms, max: .nan}]}\n")
    refused("eval", path, words=["constraints.assert.0.max", "finite number"])


# --- 6. pipeline stages beyond the model's layers --------------------------------------------------------
def test_serve_refuses_more_pipeline_stages_than_layers():
    refused("serve", "Llama3_8B", "H100", "--pp", "1000000000", words=["pp=1000000000 exceeds", "32 layers"])


# --- 7. a key given twice ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, words", [
    (PLAN + "workload: {name: ResNet50}\n", ["duplicate key 'workload' at line 5"]),
    ("version: '1.0'\nname: p\nworkload:\n  name: Llama3_8B\n  batch_size: 1\n  batch_size: 4\n"
     "hardware: {name: H100}\n", ["duplicate key 'batch_size' at line 6"]),
])
def test_a_key_given_twice_is_refused_with_its_line(tmp_path, text, words):
    refused("eval", plan_file(tmp_path, text), words=words + ["plan.yaml"])


def test_a_key_that_is_not_a_word_is_refused(tmp_path):
    path = plan_file(tmp_path, PLAN.replace("{name: Llama3_8B}", "{name: Llama3_8B, 3: 4}"))
    refused("eval", path, words=["key 3 in 'workload' is not a name"])


def test_a_plan_still_loads_with_the_strict_loader(tmp_path):
    out = cli("eval", plan_file(tmp_path, PLAN), "-o", "json")
    assert out.returncode == 0 and json.loads(out.stdout)["status"] == "ok"


# --- 8. --version ---------------------------------------------------------------------------------------
def test_version_prints_the_package_version():
    from importlib.metadata import version

    out = cli("--version")
    assert out.returncode == 0 and out.stdout == f"mlsysim {version('mlsysim')}\n" and out.stderr == ""
    data = json.loads(cli("-o", "json", "--version").stdout)
    assert data == {"status": "ok", "version": version("mlsysim")}


# --- and what the fuzzer found besides ----------------------------------------------------------------------
def test_a_nul_character_in_an_argument_is_one_sentence():
    refused("eval", "x\x00.json", "H100", words=["argument 2 holds a NUL character"])


def test_control_characters_of_a_name_stay_on_one_line():
    refused("eval", "Llama3\n8B\u2028", "H100", words=["unknown model 'Llama3 8B"])
    assert "\\x1b[31m" in refused("eval", "\x1b[31mred", "H100", words=["unknown model"])   # no terminal escapes


def test_cheapest_refuses_an_infinite_target():
    refused("cheapest", "Llama3_8B", "--qps", "1", "--p99", "inf", "--hardware", "H100",
            words=["--p99 must be a positive number of milliseconds"])


@pytest.mark.parametrize("args", [("zoo", "hardware"), ("zoo", "hardware", "H100"),
                                  ("explain", "Llama3_8B", "A100", "H100")])
def test_every_json_payload_has_a_status(args):
    out = cli(*args, "-o", "json")
    assert out.returncode == 0 and json.loads(out.stdout)["status"] == "ok"


def test_a_plan_too_big_to_be_one_is_refused(tmp_path):
    path = plan_file(tmp_path, PLAN + "# " + "x" * (2 << 20) + "\n")
    refused("eval", path, words=["bytes is no plan", "at most 1,048,576 bytes"])


def test_a_folder_named_like_a_plan_is_refused(tmp_path):
    (tmp_path / "plan.yaml").mkdir()
    refused("eval", tmp_path / "plan.yaml", words=["is not a file"])


@pytest.mark.parametrize("args, words", [
    (("zoo", "hardware", "--sort-by", "--template"), ["option '--sort-by' needs a value"]),
    (("eval", "Llama3_8B", "H100", "--stack", "--training"), ["option '--stack' needs a value"]),
])
def test_an_option_missing_its_value_is_not_fed_the_next_option(args, words):
    refused(*args, words=words)
    out = cli("zoo", "hardware", "H100", "--sort-by", "--output=json")      # once the entry, as text
    assert out.returncode == 1 and "'--sort-by' needs a value" in json.loads(out.stdout)["error"]


def test_the_json_asked_for_is_kept_when_a_later_output_names_no_format():
    out = cli("-o", "json", "eval", "--output", "examples/training_64_gpus.yaml")
    assert out.returncode == 1 and json.loads(out.stdout)["status"] == "error"


def test_a_sweep_beyond_any_memory_is_one_sentence():
    refused("optimize", "batching", "Llama3_8B", "H100", "--sla-ms", "100000", "--qps", "1", "--max-batch",
            str(2**53), words=[])


@pytest.mark.parametrize("args", [(), ("optimize",)])
def test_a_bare_command_prints_its_help_and_no_error(args):
    out = cli(*args)
    assert out.returncode == 0 and "Usage: mlsysim" in out.stdout and out.stderr == ""


def test_zoo_hardware_is_readable_with_units_in_the_header():
    """`mlsysim zoo hardware` once printed a 157-column table of mixed units: now a readable default with the
    unit of each column in its header, and --columns to choose."""
    out = cli("zoo", "hardware")
    header, rows = out.stdout.splitlines()[0], out.stdout.splitlines()[2:]
    assert "Peak 16-bit (TFLOP/s)" in header and "Memory (GiB)" in header and "Name" not in header
    assert max(len(line) for line in out.stdout.splitlines()) <= 110
    h100 = next(r for r in rows if r.startswith("H100 "))
    assert h100.split()[1:] == ["2022", "989", "80", "3,350", "700"]
    named = cli("zoo", "hardware", "--columns", "name,bandwidth").stdout.splitlines()[0]
    assert "Name" in named and "Bandwidth (GB/s)" in named and "Year" not in named
    refused("zoo", "hardware", "--columns", "colour", words=["unknown column 'colour'", "choose from name"])


def test_long_work_shows_progress_on_a_terminal_and_nothing_elsewhere():
    """A progress bar on a terminal's stderr for validation, cheapest-device and layout searches; none in JSON
    mode or when stderr is not a terminal (the payload alone)."""
    import io

    from mlsysim.cli.output import progress_bar
    from mlsysim.validation import run

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    tty = Terminal()
    run("training_memory", progress=progress_bar("text", "anchors", tty))
    assert tty.getvalue().endswith("4/4 anchors\n") and "[" in tty.getvalue()
    assert progress_bar("json", "anchors", Terminal()) is None
    assert progress_bar("text", "anchors", io.StringIO()) is None


#: a decimal number in running text (not part of a name such as 'Llama-3.1' or a path)
_DECIMAL = re.compile(r"(?<![\w.:/-])\d[\d,]*\.\d+(?![\w.])")


@pytest.mark.parametrize("args", [
    ("eval", "Llama3_8B", "H100", "--batch-size", "8"), ("eval", "ResNet50", "A100", "-o", "markdown"),
    ("serve", "Llama3_70B", "H100", "--tp", "8"), ("serve", "Llama3_8B", "H100", "-o", "markdown"),
    ("eval", "examples/training_64_gpus.yaml"), ("eval", "examples/edge_device.yaml"),
    ("optimize", "batching", "Llama3_8B", "H100", "--sla-ms", "20000", "--qps", "5"),
    ("optimize", "parallelism", "Llama3_8B", "H100", "--accelerators", "16", "--global-batch", "64"),
    ("explain", "Llama3_8B", "A100", "H100"), ("fit", "Llama3_8B", "H100", "--seq-len", "8192"),
    ("cheapest", "Llama3_8B", "--qps", "5", "--p99", "2", "-o", "markdown"), ("validate", "--category", "serving"),
])
def test_text_and_markdown_numbers_have_three_significant_figures(args):
    """One formatter for everything a person reads: no figure shows more than three significant digits after
    its decimal point is involved ('85.9 GB', '6.62 ms', '0.0839' scaled to '83.9 MB'); quoted sources aside."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    out = cli(*(str(root / a) if a.startswith("examples/") else a for a in args))
    assert out.returncode == 0, out.stderr
    text = "\n".join(line for line in out.stdout.splitlines() if "source:" not in line and "](http" not in line)
    digits = {m.group(): len(re.sub(r"^[0,.]*", "", m.group()).replace(",", "").replace(".", ""))
              for m in _DECIMAL.finditer(text)}
    assert not {n for n, d in digits.items() if d > 3}, f"numbers with more than 3 significant figures in {args}"


def test_a_group_alone_in_json_answers_with_one_object():
    """The long fuzz run found `mlsysim -o json optimize` printing the help (many lines) with exit 0."""
    out = cli("-o", "json", "optimize")
    assert out.returncode == 1 and out.stdout.count("\n") == 1
    assert json.loads(out.stdout)["error"] == "mlsysim optimize needs one of its commands: batching, parallelism, " \
                                              "placement"
    assert cli("optimize").returncode == 0                   # on a terminal the help is the answer


def test_training_a_state_space_model_at_scale_is_one_sentence(tmp_path):
    """The long fuzz run found a plan training Mamba on 8 accelerators ending in "internal error: 'SSMWorkload'
    object has no attribute 'heads'"."""
    out = cli("eval", plan_file(tmp_path, "version: '1.0'\nname: m\nworkload: {name: Mamba_130M, batch_size: 8, "
                                          "training: true}\nhardware: {name: H100, accelerators: 8}\n"))
    assert out.returncode == 1
    assert "training at scale is modelled for transformers and vision models; Mamba-130M is a ssm" in out.stderr
