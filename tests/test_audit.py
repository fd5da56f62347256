"""mlsysim audit on this (CPU-only) machine, the calibration file round trip, and predictions that use it."""
import copy

import pytest
import yaml
from conftest import cli, one_json

import mlsysim.analysis.audit as A
from mlsysim import Engine
from mlsysim.engine.timing import load_calibration
from mlsysim.errors import InputError
from mlsysim.zoo.registry import load_data


@pytest.fixture(scope="module")
def measured():
    return A.audit("numpy", quick=True)


def test_numpy_measures_this_cpu(measured):
    assert measured.backend == "numpy" and measured.zoo_key is None      # no zoo entry is this CPU
    for prec in ("fp32", "fp64"):
        sizes = measured.matmul_by_size[prec]
        assert set(sizes) == set(A.SHAPES[:2]) and measured.matmul_flops[prec] == max(sizes.values()) > 1e8
    assert 1e8 < measured.memory_bandwidth < 1e13 and 0 < measured.launch_s < 1e-3


def test_the_gpu_path_is_taken_when_the_device_query_finds_one(monkeypatch):
    """The device query is the one boundary faked: a found H100 is measured with PyTorch (faked here, as this
    machine has no GPU) and set beside the zoo's H100, whose datasheet turns the rates into fractions."""
    monkeypatch.setattr(A, "cuda_device", lambda: "NVIDIA H100 80GB HBM3")
    monkeypatch.setattr(A, "measure_torch", lambda quick: {"matmul": {"fp16": {4096: 700e12}, "fp32": {4096: 50e12}},
                                                           "memory_bandwidth": 2.8e12, "launch_s": 4e-6})
    r = A.audit()
    assert r.backend == "torch" and r.zoo_key == "H100"
    assert r.fractions()["matmul fp16"] == pytest.approx(700 / 989.4)
    assert r.fractions()["memory bandwidth"] == pytest.approx(2.8e12 / 3.35e12)
    cal = A.calibration_from(r)
    assert cal.max_fraction[2] == pytest.approx(700 / 989.4) and cal.launch_eager_s == 4e-6
    monkeypatch.setattr(A, "cuda_device", lambda: None)
    with pytest.raises(InputError, match="CUDA GPU"):
        A.audit("torch")


def test_a_written_calibration_round_trips_and_drives_predictions(tmp_path):
    """The shipped constants with every compute fraction halved: the file loads back equal, and a
    compute-bound step takes about twice as long with it."""
    d = copy.deepcopy(load_data("calibration"))
    d["compute"]["max_fraction"] = {k: v / 2 for k, v in d["compute"]["max_fraction"].items()}
    path = tmp_path / "slow.yaml"
    path.write_text(yaml.safe_dump(d))
    cal = load_calibration(str(path))
    assert cal.to_dict() == d
    base = Engine.solve("Llama3_8B", "H100", batch_size=32, seq_len=2048, phase="prefill")
    slow = Engine.solve("Llama3_8B", "H100", batch_size=32, seq_len=2048, phase="prefill", calibration=str(path))
    assert 1.6 < slow.latency_s / base.latency_s < 2.1
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"version: '1.0'\nname: t\nworkload: {{name: Llama3_8B, batch_size: 32, seq_len: 2048, "
                    f"phase: prefill}}\nhardware: {{name: H100, calibration: '{path}'}}\n")
    assert one_json(cli("eval", plan, "-o", "json"))["p_latency_ms"] == pytest.approx(slow.latency_s * 1e3)


def test_the_cli_writes_files_that_load(tmp_path):
    cal, dev = tmp_path / "mine.yaml", tmp_path / "dev.yaml"
    out = one_json(cli("audit", "--quick", "--backend", "numpy", "--write-calibration", cal, "--write-device", dev,
                       "-o", "json"))
    assert out["status"] == "ok" and out["matmul_flops"]["fp32"] > 0
    r = one_json(cli("eval", "ResNet50", dev, "-b", "8", "-p", "fp32", "--calibration", cal, "-o", "json"))
    assert r["status"] == "ok" and r["p_latency_ms"] > 0


@pytest.mark.parametrize("args, words", [
    (("eval", "Llama3_8B", "H100", "--calibration", "no/such.yaml"), "not found"),
    (("audit", "--backend", "cuda"), "unknown audit backend"),
])
def test_bad_audit_and_calibration_inputs_are_one_sentence(args, words):
    out = cli(*args)
    assert out.returncode == 1 and words in out.stderr


def test_a_broken_calibration_file_names_the_key(tmp_path):
    d = copy.deepcopy(load_data("calibration"))
    del d["memory"]["fraction"]["gemm"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d))
    with pytest.raises(InputError, match="gemm"):
        Engine.solve("Llama3_8B", "H100", calibration=str(path))


def test_the_h200_defaults_to_its_own_measured_profile():
    """The H200's shipped profile (its host's launch and dispatch costs fitted on calibration/h200_micro.json,
    the device constants as fitted on the H100) is its default; other devices keep the H100-fitted one."""
    from mlsysim.engine.engine import calibration_of
    from mlsysim.run import Run

    h200 = calibration_of(Run.build("Llama3_8B", "H200"))
    h100 = calibration_of(Run.build("Llama3_8B", "H100"))
    assert h200.source.endswith("calibration_h200.yaml") and h100.source.endswith("calibration.yaml")
    assert h200.max_fraction == h100.max_fraction and h200.launch_eager_s != h100.launch_eager_s
    eager = Engine.solve("Llama3_8B", "H200", batch_size=1, stack="pytorch_eager")
    as_h100 = Engine.solve("Llama3_8B", "H200", batch_size=1, stack="pytorch_eager", calibration=load_calibration())
    assert eager.latency_s != as_h100.latency_s
