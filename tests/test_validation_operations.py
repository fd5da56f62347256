"""The operations categories of the validation suite (energy, carbon, water, failures): every published
figure is predicted by the package's own models, in the scope the source counts, and reported with its error."""
import json
import math

import pytest
import yaml
from conftest import cli

from mlsysim import Hardware, Infra, ReliabilityModel, Systems
from mlsysim.operations import power
from mlsysim.systems.types import Fleet
from mlsysim.units import parse
from mlsysim.validation import load_anchors, run, summarize
from mlsysim.validation.runner import _OPERATIONS_KEYS, OPERATIONS_DATA, OPERATIONS_METRICS

CATEGORIES = ("training_energy", "training_carbon", "training_energy_rated", "training_carbon_rated", "water",
              "failures")
KWH = 3.6e6


@pytest.fixture(scope="module")
def results():
    return {r.id: r for c in CATEGORIES for r in run(c)}


def _write(tmp_path, anchors):
    path = tmp_path / "anchors.yaml"
    path.write_text(yaml.safe_dump({"anchors": anchors}))
    return path


def _anchor(id, metric="energy", unit="MWh", hardware="A100", **config):
    return {"id": id, "category": "training_energy", "model": "synthetic", "hardware": hardware, "config": config,
            "metric": metric, "measured": {"value": 1.0, "unit": unit}, "source": "synthetic"}


def _predict(tmp_path, *anchors):
    got = {r.id: r for r in run(path=_write(tmp_path, list(anchors)))}
    assert all(r.failure is None for r in got.values()), {k: r.failure for k, r in got.items()}
    return got


# --- the data file ---------------------------------------------------------------------------------
def test_every_operations_anchor_is_a_sourced_figure_with_a_known_schema():
    anchors = yaml.safe_load(OPERATIONS_DATA.read_text())["anchors"]
    assert {a["category"] for a in anchors} == set(CATEGORIES)
    for a in anchors:
        assert a["metric"] in OPERATIONS_METRICS, a["id"]
        assert a["source"] and a["url"].startswith("https://") and a["notes"], a["id"]
        assert set(a["config"]) <= set(_OPERATIONS_KEYS), a["id"]
        assert parse(f"{a['measured']['value']} {a['measured']['unit']}", a["measured"]["unit"], a["id"]) > 0


def test_the_failures_anchor_uses_the_independent_profile():
    (llama,) = load_anchors("failures")
    assert llama["config"]["profile"] == "datasheet"          # "measured" is fitted to this very log
    assert "measured" in llama["notes"] and "construction" in llama["notes"]


# --- the real anchors ------------------------------------------------------------------------------
def test_every_operations_anchor_predicts_with_a_finite_error(results):
    assert set(results) == {a["id"] for c in CATEGORIES for a in load_anchors(c)}
    for r in results.values():
        assert r.failure is None, f"{r.id}: {r.failure}"
        assert r.predicted > 0 and math.isfinite(r.error), r.id
        assert r.error == pytest.approx((r.predicted - r.measured) / r.measured)
    summary = summarize(list(results.values()))
    assert set(summary) == set(CATEGORIES)
    assert all(s["predicted"] == s["anchors"] for s in summary.values())


def test_source_site_carbon_is_the_same_runs_energy_times_its_intensity(results):
    for name in ("t5", "meena", "gpt3"):
        energy, carbon = results[f"patterson2021_{name}_energy"], results[f"patterson2021_{name}_carbon"]
        intensity = carbon.config["carbon_intensity_g_kwh"] / 1000.0
        assert carbon.predicted == pytest.approx(energy.predicted / KWH * intensity)


def test_zoo_grid_carbon_follows_the_grid_as_it_is_now(results):
    """The Llama cards give no intensity: the prediction reads the zoo grid, whatever its figure today, on
    the card's own rule (rated power x PUE)."""
    r = results["llama2_7b_carbon"]
    kwh = float(Hardware.get("A100").tdp) * r.config["pue"] * r.config["gpu_hours"] / 1000.0
    assert r.predicted == pytest.approx(Infra.Grids.get("US_Avg").carbon_kg(kwh))


def test_rated_anchors_are_the_sources_accounting_rule_and_kept_apart(results):
    """An anchor that is the source's TDP x hours estimate takes that rule and sits in a *_rated category,
    so the measured-draw categories hold only metered figures."""
    for r in results.values():
        assert (r.config.get("power") == "rated") == r.category.endswith("_rated"), r.id


def test_total_water_includes_the_on_site_water(results):
    assert results["li2023_gpt3_water_total"].predicted > results["li2023_gpt3_water_onsite"].predicted


def test_the_failures_anchor_is_reliability_model_on_the_published_fleet(results):
    fleet = Fleet(name="llama3", node=Systems.Nodes.DGX_H100, count=2048, fabric=Systems.Fabrics.Ethernet_400G)
    expected = ReliabilityModel().solve(fleet, 54, profile="datasheet").expected_failures
    assert results["llama3_405b_54day_interruptions"].predicted == pytest.approx(expected)


def test_measured_units_are_converted_to_si(results):
    assert results["patterson2021_gpt3_energy"].measured == pytest.approx(1287 * 1e3 * KWH)
    assert results["patterson2021_gpt3_carbon"].measured == pytest.approx(552.1e3)          # kg
    assert results["li2023_gpt3_water_total"].measured == pytest.approx(5.439e6)           # litres
    assert results["llama3_405b_54day_interruptions"].measured == 419
    assert results["patterson2021_gpt3_energy"].shown(1287 * 1e3 * KWH) == "1,287 MWh"


# --- properties of the predictions, not fitted numbers ----------------------------------------------
def test_accelerators_only_is_a_known_answer_from_the_power_model(tmp_path):
    got = _predict(tmp_path, _anchor("acc", scope="accelerators", gpu_hours=1000))
    tdp = float(Hardware.get("A100").tdp)
    expected_w = tdp * (power.IDLE_FRACTION + (1 - power.IDLE_FRACTION) * power.DEFAULT_UTILIZATION)
    assert got["acc"].predicted == pytest.approx(1000 * 3600 * expected_w)


def test_rated_power_is_tdp_times_the_sources_pue_and_never_below_the_modelled_draw(tmp_path):
    got = _predict(tmp_path, _anchor("rated", scope="accelerators", gpu_hours=1000, power="rated", pue=1.25),
                   _anchor("bare", scope="accelerators", gpu_hours=1000, power="rated"),
                   _anchor("model", scope="accelerators", gpu_hours=1000))
    tdp = float(Hardware.get("A100").tdp)
    assert got["rated"].predicted == pytest.approx(1000 * 3600 * tdp * 1.25)
    assert got["bare"].predicted == pytest.approx(1000 * 3600 * tdp)
    assert got["model"].predicted <= got["bare"].predicted


def test_the_accelerators_scope_is_smaller_than_the_facility_scope(tmp_path):
    run_ = dict(accelerators=64, days=10)
    got = _predict(tmp_path, _anchor("acc", scope="accelerators", **run_),
                   _anchor("fac", scope="facility", accelerators_per_node=8, grid="US_Avg", **run_),
                   _anchor("hrs", scope="accelerators", gpu_hours=64 * 10 * 24))
    assert got["acc"].predicted < got["fac"].predicted
    assert got["hrs"].predicted == pytest.approx(got["acc"].predicted)      # accelerators x days = gpu_hours


def test_doubling_the_days_doubles_energy_carbon_and_water(tmp_path):
    base = dict(scope="facility", accelerators=64, accelerators_per_node=8, grid="US_Avg")
    got = _predict(tmp_path, *[_anchor(f"{m}{d}", metric=m, unit=u, **base, days=d)
                               for m, u in (("energy", "MWh"), ("carbon", "t"), ("water_total", "L"))
                               for d in (10, 20)])
    for m in ("energy", "carbon", "water_total"):
        assert got[f"{m}20"].predicted == pytest.approx(2 * got[f"{m}10"].predicted)


def test_a_named_fabric_adds_switch_power(tmp_path):
    base = dict(scope="facility", accelerators=64, accelerators_per_node=8, days=10, grid="US_Avg")
    got = _predict(tmp_path, _anchor("bare", **base), _anchor("fabric", **base, fabric="InfiniBand_NDR"))
    assert got["fabric"].predicted > got["bare"].predicted
    assert "fabric 0%" in got["bare"].bound


def test_a_higher_pue_raises_facility_energy_in_proportion(tmp_path):
    base = dict(scope="facility", accelerators=64, accelerators_per_node=8, days=10, carbon_intensity_g_kwh=400)
    got = _predict(tmp_path, _anchor("low", **base, pue=1.1), _anchor("high", **base, pue=1.65))
    assert got["high"].predicted == pytest.approx(1.5 * got["low"].predicted)


# --- unpredictable anchors are reported with the reason ----------------------------------------------
@pytest.mark.parametrize("anchor, reason", [
    (_anchor("k", scope="accelerators", gpu_hours=10, warp_drive=9), "warp_drive"),
    (_anchor("u", scope="accelerators", gpu_hours=10, grid="US_Avg"), "grid"),
    (_anchor("p", "carbon", "t", scope="accelerators", gpu_hours=10, carbon_intensity_g_kwh=50, pue=1.2), "PUE"),
    (_anchor("s", gpu_hours=10), "scope"),
    (_anchor("h", scope="facility", gpu_hours=10, grid="US_Avg"), "gpu_hours"),
    (_anchor("g", scope="facility", accelerators=16, accelerators_per_node=8, days=1), "grid"),
    (_anchor("e", scope="facility", accelerators=12, accelerators_per_node=8, days=1, grid="US_Avg"), "whole"),
    (_anchor("d", scope="facility", accelerators=16, accelerators_per_node=8, grid="US_Avg"), "days"),
    (_anchor("w", "water_total", "L", scope="facility", accelerators=16, accelerators_per_node=8, days=1, pue=1.2,
             carbon_intensity_g_kwh=50), "grid"),
    (_anchor("f", "interruptions", "count", hardware="H100", accelerators=16, node="DGX_H100", days=1), "fabric"),
    (_anchor("n", "interruptions", "count", accelerators=16, node="DGX_H100", days=1, fabric="InfiniBand_NDR"),
     "A100"),
    (_anchor("r", "interruptions", "count", hardware="H100", accelerators=16, node="DGX_H100", days=1,
             fabric="InfiniBand_NDR", profile="folklore"), "folklore"),
    (_anchor("z", scope="accelerators", gpu_hours=10, hardware="NoSuchChip"), "NoSuchChip"),
    (_anchor("q", scope="accelerators", gpu_hours=10, power="nameplate"), "rated"),
    (_anchor("v", scope="accelerators", gpu_hours=10, power="rated", pue=0.9), "pue"),
])
def test_an_unpredictable_operations_anchor_is_reported_with_its_reason(tmp_path, anchor, reason):
    (res,) = run(path=_write(tmp_path, [anchor]))
    assert res.predicted is None and res.error is None
    assert reason in res.failure


# --- the command line --------------------------------------------------------------------------------
def test_validate_training_energy_json_end_to_end():
    out = cli("validate", "--category", "training_energy", "-o", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["status"] == "ok" and set(data["summary"]) == {"training_energy"}
    assert {a["id"] for a in data["anchors"]} == {a["id"] for a in load_anchors("training_energy")}
    for a in data["anchors"]:
        assert a["failure"] is None and a["source"] and a["url"]
        assert a["error"] == pytest.approx((a["predicted_si"] - a["measured_si"]) / a["measured_si"])
