"""The ``textbook`` profile reproduces MLSys·im 0.1.0's answers, and configuration selects it.

0.1.0's answers are recorded in ``tests/data/textbook_0_1_0.json`` (produced by
``scripts/textbook_comparison.py --record`` under ``mlsysim==0.1.0``: CI has no 0.1.0 installed).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import mlsysim
from mlsysim import Engine
from mlsysim.core.config import ENV_VAR, SimulationConfig, load_config
from mlsysim.errors import InputError
from mlsysim.models.registry import Models
from mlsysim.run import Run

RECORDED = json.loads((Path(__file__).parent / "data" / "textbook_0_1_0.json").read_text())
CASES = {case["id"]: case for case in RECORDED["engine"]}


@pytest.fixture(autouse=True)
def _no_configuration(monkeypatch):
    """Each test starts and ends with nothing configured."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    load_config(None)
    yield
    load_config(None)


def _close(ours, book, rel=0.01):
    return ours == pytest.approx(book, rel=rel)


def _solve(case, model=None, stack="textbook"):
    return Engine.solve(model or case["model"], case["hardware"], stack=stack, **case["args"])


def _with_010_inputs(case):
    """This zoo's workload with the parameter and FLOP counts 0.1.0 held for it."""
    held = case["inputs_0_1_0"]
    return Models.get(case["model"]).model_copy(update={"parameters": held["parameters"],
                                                        "inference_flops": held["inference_flops"]})


def _check(prof, case):
    assert _close(float(prof.latency_s) * 1e3, case["latency_ms"])
    assert _close(float(prof.batch_size) / float(prof.latency_s), case["throughput_per_s"])
    assert prof.bottleneck == case["bottleneck"]
    assert prof.feasible == case["feasible"]
    assert _close(float(prof.latency_overhead_s) * 1e3, case["overhead_ms"])
    assert _close(float(np.sum(list(prof.memory_parts.values()))), case["memory_footprint_b"])
    assert _close(prof.mfu, case["mfu"]) and _close(prof.hfu, case["hfu"])
    assert _close(float(prof.energy_j), case["energy_j"])


@pytest.mark.parametrize("cid", sorted(CASES))
def test_the_formula_reproduces_each_recorded_answer(cid):
    """With 0.1.0's own parameter and FLOP counts, every figure of 0.1.0's answer within 1%."""
    case = CASES[cid]
    _check(_solve(case, _with_010_inputs(case)), case)


@pytest.mark.parametrize("cid", sorted(c for c in CASES if c != "gpt2_t4_b8"))
def test_this_zoo_reproduces_the_book_where_its_inputs_agree(cid):
    """With this zoo's records as they are (their counts within 0.3% of 0.1.0's; GPT-2 XL's differ by 4%)."""
    _check(_solve(CASES[cid]), CASES[cid])


def test_the_hero_example_prints_the_books_numbers():
    p = Engine.solve(mlsysim.Models.ResNet50, mlsysim.Hardware.Cloud.A100, batch_size=1, precision="fp16",
                     stack="textbook")
    assert (p.bottleneck, f"{p.latency.to('ms').magnitude:.2f} ms", f"{p.throughput.magnitude:,.0f}") == \
        ("Memory", "0.54 ms", "1,843")
    assert p.latency_range is None              # the validation bands are the calibrated model's


def test_a_sweep_is_the_scalar_solves():
    batches = np.array([1.0, 8.0, 256.0])
    swept = Engine.solve("ResNet50", "A100", batch_size=batches, stack="textbook")
    for i, b in enumerate(batches):
        one = Engine.solve("ResNet50", "A100", batch_size=int(b), stack="textbook")
        assert swept.latency_s[i] == pytest.approx(one.latency_s) and swept.bottleneck[i] == one.bottleneck


def test_aliases_and_the_surfaces_that_take_a_stack():
    assert Engine.solve("ResNet50", "A100", stack="book").stack == "textbook"
    p = mlsysim.SystemEvaluator.evaluate("book", "Llama3_8B", "H100", batch_size=32, efficiency=0.45, stack="textbook")
    assert _close(p.performance.metrics["latency_ms"], CASES["llama31_8b_h100_b32_eff045"]["latency_ms"])


def test_the_default_is_the_calibrated_model():
    default = Engine.solve("ResNet50", "A100")
    assert default.stack == "torch_compile"
    assert default.latency_s == Engine.solve("ResNet50", "A100", stack="torch_compile").latency_s
    assert Run.build("Llama3_8B", "H100", purpose="serving").profile.key == "vllm"


def test_the_environment_variable_selects_it_and_nothing_else(monkeypatch):
    before = Engine.solve("ResNet50", "A100", batch_size=4, precision="fp32")
    monkeypatch.setenv(ENV_VAR, "textbook")
    p = Engine.solve("ResNet50", "A100", batch_size=4, precision="fp32")
    assert p.stack == "textbook" and (p.batch_size, p.precision) == (4, "fp32")
    assert p.latency_s == Engine.solve("ResNet50", "A100", batch_size=4, precision="fp32", stack="textbook").latency_s
    assert Engine.solve("ResNet50", "A100", stack="torch_compile").stack == "torch_compile"   # explicit wins
    monkeypatch.delenv(ENV_VAR)
    assert Engine.solve("ResNet50", "A100", batch_size=4, precision="fp32").latency_s == before.latency_s


def test_load_config_and_simulation_config_select_it():
    config = load_config({"model": "ResNet50", "hardware": "A100", "stack": "textbook"})
    assert isinstance(config, mlsysim.SimulationConfig) and config.stack == "textbook"
    assert Engine.solve("ResNet50", "A100").stack == "textbook"
    assert Engine.solve("ResNet50", "A100", stack="tensorrt").stack == "tensorrt"
    load_config(None)
    assert Engine.solve("ResNet50", "A100").stack == "torch_compile"
    with SimulationConfig(stack="first_order"):
        assert Engine.solve("ResNet50", "A100").stack == "textbook"
        with SimulationConfig(stack="pytorch_eager"):
            assert Engine.solve("ResNet50", "A100").stack == "pytorch_eager"
        assert Engine.solve("ResNet50", "A100").stack == "textbook"
    assert Engine.solve("ResNet50", "A100").stack == "torch_compile"
    assert load_config({"stack": "textbook"}, activate=False).stack == "textbook"
    assert Engine.solve("ResNet50", "A100").stack == "torch_compile"


def test_the_configuration_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "pytorch_eager")
    assert Engine.solve("ResNet50", "A100").stack == "pytorch_eager"
    with SimulationConfig(stack="textbook"):
        assert Engine.solve("ResNet50", "A100").stack == "textbook"


def test_the_010_fields_keep_their_names_and_defaults():
    c = SimulationConfig(model="ResNet50", hardware="A100")
    assert (c.batch_size, c.precision, c.fleet_size, c.fabric, c.region, c.duration_days) == \
        (1, "fp16", 1, "100GbE", "US_Avg", 30.0)
    assert mlsysim.load_config is load_config


@pytest.mark.parametrize("where", ["env", "config", "constructor"])
def test_an_unknown_stack_is_one_sentence(monkeypatch, where):
    with pytest.raises(InputError) as err:
        if where == "env":
            monkeypatch.setenv(ENV_VAR, "textbok")
            Engine.solve("ResNet50", "A100")
        elif where == "config":
            load_config({"stack": "textbok"})
        else:
            SimulationConfig(stack="textbok")
    message = str(err.value)
    assert "textbok" in message and "textbook" in message and "\n" not in message
    assert (ENV_VAR in message) == (where == "env")


def test_a_bad_configuration_field_is_one_sentence():
    for bad in ({"batch_size": "many"}, {"stak": "textbook"}, {"model": "GPT3", "hardware": "T4"}):
        with pytest.raises(InputError) as err:
            load_config(bad)
        assert "\n" not in str(err.value)


def test_the_docs_table_is_current():
    """docs/how-it-works/textbook.md holds the table scripts/textbook_comparison.py writes."""
    import importlib.util

    path = Path(__file__).parents[1] / "scripts" / "textbook_comparison.py"
    spec = importlib.util.spec_from_file_location("textbook_comparison", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    text = script.PAGE.read_text()
    assert script.page_with(text, script.table()) == text, "run python scripts/textbook_comparison.py"


@pytest.mark.parametrize("row", RECORDED["tutorial"], ids=lambda r: f"{r['grid']}-{r['duration_days']}d")
def test_the_fleet_lens_reproduces_the_seed_tutorial(row):
    """The seed tutorial's 256-GPU cluster: 0.1.0's energy, carbon, water, PUE and TCO within 1%."""
    from mlsysim.engine.first_order import fleet_footprint
    from mlsysim.systems.types import Fleet

    fleet = Fleet(name="256-GPU Training Cluster", node=mlsysim.Systems.Nodes.DGX_H100, count=32,
                  fabric=mlsysim.Systems.Fabrics.InfiniBand_NDR)
    r = fleet_footprint(fleet, row["duration_days"], getattr(mlsysim.Infra.Grids, row["grid"]))
    assert r.region_name == row["region_name"] and r.pue == row["pue"]
    assert _close(r.total_energy_kwh / 1000, row["energy_mwh"])
    assert _close(r.carbon_footprint_kg / 1000, row["carbon_t"])
    assert r.water_usage_liters / 1000 == pytest.approx(row["water_kl"], rel=0.01, abs=1e-9)
    assert _close(r.tco_usd, row["tco_usd"])


def test_the_fleet_lens_needs_a_first_order_stack():
    from mlsysim.engine.first_order import fleet_footprint

    with pytest.raises(InputError, match="no first-order site rules"):
        fleet_footprint(mlsysim.Hardware.H100, 1, stack="vllm")


@pytest.mark.parametrize("row", json.loads((Path(__file__).parent / "data" / "textbook_0_1_0.json").read_text(
    encoding="utf-8"))["tutorial"], ids=lambda r: r["grid"])
def test_a_plan_on_the_textbook_stack_prices_the_fleet_as_0_1_0(row, tmp_path):
    """The scorecard's macro lens under `stack: textbook` is 0.1.0's: the seed tutorial's 32 DGX H100 for 30 days
    cost, draw and emit what 0.1.0 printed for each region."""
    from conftest import cli, one_json

    plan = tmp_path / "plan.yaml"
    plan.write_text("version: '1.0'\nname: tutorial\nworkload: {name: Llama3_70B, batch_size: 256, seq_len: 4096, "
                    "training: true, stack: textbook}\nhardware: {name: H100, accelerators: 256, "
                    f"accelerators_per_node: 8}}\nparallelism: {{tp: 8, pp: 4}}\nops: {{region: {row['grid']}, "
                    f"duration_days: {row['duration_days']}}}\n", encoding="utf-8")
    data = one_json(cli("eval", str(plan), "-o", "json"))
    assert data["m_energy_kwh"] == pytest.approx(row["energy_mwh"] * 1e3, rel=1e-9)
    assert data["m_carbon_footprint"] == pytest.approx(row["carbon_t"], rel=1e-9)
    assert data["m_water_liters"] == pytest.approx(row["water_kl"] * 1e3, rel=1e-9, abs=1e-9)
    assert data["m_tco_usd"] == pytest.approx(row["tco_usd"], rel=1e-9)
