"""The real ``mlsysim`` process: outputs, exit codes, and one sentence on bad input."""
import json
import subprocess
import sys

import pytest


def mlsysim(*args):
    return subprocess.run([sys.executable, "-m", "mlsysim", *args], capture_output=True, text=True, timeout=60)


def test_eval_text_fits_80_columns():
    out = mlsysim("eval", "Llama3_8B", "H100", "--batch-size", "8")
    assert out.returncode == 0, out.stderr
    assert "Latency" in out.stdout and "Memory" in out.stdout
    assert max(len(line) for line in out.stdout.splitlines()) <= 80


def test_eval_json_is_one_object():
    out = mlsysim("eval", "ResNet50", "A100", "-b", "32", "-o", "json")
    data = json.loads(out.stdout)
    assert data["status"] == "ok" and data["latency_s"] > 0 and data["bottleneck"] in ("Compute", "Memory", "Overhead")


@pytest.mark.parametrize("args, code, words", [
    (("eval", "Llama3_8B", "H10O"), 1, "did you mean"),
    (("eval", "Llama3_8B", "H100", "--batch-size", "0"), 1, "batch_size"),
    (("eval", "Llama3_8B", "A100", "--precision", "fp8"), 1, "supports"),
    (("eval", "GPT3", "H100"), 2, "H100"),
    (("eval", "Llama3_8B", "H100", "-o", "yaml"), 1, "output"),
    (("eval", "Llama3_8B", "H100", "--batch-sise", "3"), 1, "no such option"),
    (("eval",), 1, "missing argument"),
])
def test_bad_input_exits_with_one_sentence(args, code, words):
    out = mlsysim(*args)
    assert out.returncode == code
    assert "Traceback" not in out.stderr and words in out.stderr
    assert len(out.stderr.strip().splitlines()) <= 2


def test_validate_prints_every_anchor_and_a_summary():
    out = mlsysim("validate", "-o", "json")
    data = json.loads(out.stdout)
    assert out.returncode == 0 and len(data["anchors"]) >= 20
    assert "single_device_inference" in data["summary"]


def test_help_exits_zero_with_an_example():
    out = mlsysim("eval", "--help")
    assert out.returncode == 0 and "Example" in out.stdout
