"""A device of one's own: a YAML file laid out as a hardware.yaml entry, from the template the CLI prints."""
import pytest
from conftest import cli, one_json

from mlsysim import Engine
from mlsysim.errors import InputError
from mlsysim.hardware.registry import TEMPLATE
from mlsysim.hardware.types import HardwareNode


def test_the_printed_template_loads_as_its_example_device(tmp_path):
    out = cli("zoo", "hardware", "--template")
    assert out.returncode == 0 and out.stdout == TEMPLATE.read_text(encoding="utf-8")
    path = tmp_path / "mine.yaml"
    path.write_text(out.stdout)
    hw = HardwareNode.from_yaml(path)
    assert hw.name == "Example accelerator" and float(hw.memory.capacity) == 48 * 2**30
    assert hw.peak_at("fp16") == 200e12 and hw.peak_at("fp8") == 400e12 and hw.compute.units == 64
    assert float(hw.memory.bandwidth) == 1e12 and float(hw.tdp) == 300
    assert hw.metadata.source.startswith("Example Corp datasheet")


def test_a_device_file_runs_wherever_a_device_name_does(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(TEMPLATE.read_text(encoding="utf-8"))
    direct = Engine.solve("Llama3_8B", HardwareNode.from_yaml(path), batch_size=1)
    by_path = Engine.solve("Llama3_8B", str(path), batch_size=1)
    assert by_path.latency_s == pytest.approx(direct.latency_s)
    flag = one_json(cli("eval", "Llama3_8B", path, "-o", "json"))
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"version: '1.0'\nname: t\nworkload: {{name: Llama3_8B}}\nhardware: {{name: '{path}'}}\n")
    planned = one_json(cli("eval", plan, "-o", "json"))
    assert flag["p_latency_ms"] == pytest.approx(planned["p_latency_ms"])
    assert flag["p_latency_ms"] == pytest.approx(direct.latency_s * 1e3)


def test_more_bandwidth_in_the_file_is_never_slower(tmp_path):
    text = TEMPLATE.read_text(encoding="utf-8")
    times = []
    for bw in ("1 TB/s", "2 TB/s"):
        path = tmp_path / f"bw{bw[0]}.yaml"
        path.write_text(text.replace("bandwidth: 1 TB/s", f"bandwidth: {bw}"))
        times.append(Engine.solve("Llama3_8B", HardwareNode.from_yaml(path), batch_size=1).latency_s)
    assert times[1] < times[0]


@pytest.mark.parametrize("edit, words", [
    (("bandwidth: 1 TB/s", "bandwith: 1 TB/s"), "did you mean 'memory.bandwidth'"),
    (("bandwidth: 1 TB/s", "bandwidth: 1 TB"), "memory.bandwidth"),
    (("release_year: 2024", "release_year: 2024\ncolor: red"), "unknown key 'color'"),
    (("name: \"Example accelerator\"", "name: a\nname: b"), "duplicate key 'name'"),
    (("peak_tflops: {", "peak_tflops: ["), "malformed YAML"),
])
def test_a_wrong_device_file_is_one_sentence_naming_the_field(tmp_path, edit, words):
    path = tmp_path / "bad.yaml"
    path.write_text(TEMPLATE.read_text(encoding="utf-8").replace(*edit, 1))
    with pytest.raises(InputError, match=words):
        HardwareNode.from_yaml(path)
    out = cli("eval", "Llama3_8B", path)
    assert out.returncode == 1 and "Traceback" not in out.stderr


def test_template_goes_alone():
    assert cli("zoo", "models", "--template").returncode == 1
    with pytest.raises(InputError, match="not found"):
        HardwareNode.from_yaml("no/such/device.yaml")
