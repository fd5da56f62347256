"""Bands on predictions: a 10th-90th percentile range from the validation suite's own errors, its coverage
measured leaving each anchor out, and the committed figures kept in step with the suite."""
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import cli, one_json

from mlsysim import Engine, ServingModel
from mlsysim.validation import run, summarize
from mlsysim.validation.bands import BANDS, category_stats, coverage, residual, spread
from mlsysim.zoo.bands import Z90, factors
from mlsysim.zoo.registry import load_data

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def results():
    return run()


def test_the_committed_band_figures_are_the_suites(results):
    """bands.yaml is written by scripts/fit_bands.py and never by hand: rerun it when a prediction changes."""
    spec = importlib.util.spec_from_file_location("fit_bands", ROOT / "scripts" / "fit_bands.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.bands_document() == BANDS.read_text(encoding="utf-8"), "run python scripts/fit_bands.py"


def test_a_band_is_the_median_and_percentile_spread_of_the_residuals_by_hand():
    rows = [("A", 0.1), ("A", 0.3), ("B", -0.2), ("B", 0.0), ("C", 0.5)]
    s = category_stats(rows)
    q10, q90 = np.percentile([0.1, 0.3, -0.2, 0.0, 0.5], [10, 90])
    assert s["centre"] == pytest.approx(0.1) and s["sigma"] == pytest.approx((q90 - q10) / (2 * Z90))
    medians = [0.2, -0.1, 0.5]
    assert s["between_devices"] == pytest.approx(np.std(medians))
    low, high = factors(s, "A")
    assert (low, high) == pytest.approx((math.exp(0.1 - Z90 * s["sigma"]), math.exp(0.1 + Z90 * s["sigma"])))
    wide = factors(s, "never measured")
    assert wide[0] < low and wide[1] > high            # an unmeasured device gets the wider band
    assert category_stats(rows[:2]) is None             # too few anchors: no band


def test_rates_read_as_time():
    assert residual("latency", 2.0, 1.0) == pytest.approx(math.log(2))       # the truth took twice as long
    assert residual("throughput", 1.0, 2.0) == pytest.approx(math.log(2))    # ... and ran at half the rate
    assert spread([0.0, 0.0, 0.0]) == (0.0, 0.0)


def test_coverage_is_counted_leaving_each_anchor_out(results):
    cov = coverage(results)
    summary = summarize(results)
    for cat, c in cov.items():
        assert summary[cat]["band_coverage"] == c["coverage"] and c["inside"] <= c["scored"]
    rs = [r for r in results if r.category == "training" and r.predicted]
    rows = [(r.hardware, residual(r.metric, r.measured, r.predicted)) for r in rs]
    from mlsysim.validation.bands import _device
    rows = [(_device(h), x) for h, x in rows]
    inside = sum(math.log(factors(category_stats(rows[:i] + rows[i + 1:]), d)[0]) <= x <=
                 math.log(factors(category_stats(rows[:i] + rows[i + 1:]), d)[1]) for i, (d, x) in enumerate(rows))
    assert cov["training"] == {"scored": len(rows), "inside": inside, "coverage": inside / len(rows)}


def test_every_prediction_carries_its_band():
    p = Engine.solve("Llama3_8B", "H100", batch_size=8)
    low, high = p.latency_range
    f = factors(load_data("bands")["categories"]["single_device_inference"], p.hardware_name)
    assert (low, high) == pytest.approx((p.latency_s * f[0], p.latency_s * f[1]))
    t_low, t_high = p.throughput_range
    assert t_low == pytest.approx(float(p.throughput) / f[1]) and t_high == pytest.approx(float(p.throughput) / f[0])
    s = ServingModel().solve("Llama3_8B", "H100", seq_len=2048, batch_size=8)
    assert s.ttft_range[0] < s.ttft_range[1] and s.itl_range[0] < s.itl_range[1]
    sweep = Engine.solve("Llama3_8B", "H100", batch_size=np.array([1, 8]))
    assert np.shape(sweep.latency_range[0]) == (2,)


def test_the_scorecard_shows_and_returns_the_band():
    out = one_json(cli("eval", "Llama3_8B", "H100", "-b", "8", "-o", "json"))
    assert out["p_latency_low_ms"] < out["p_latency_high_ms"]
    text = cli("eval", "Llama3_8B", "H100", "-b", "8").stdout
    assert "ms (" in text and "–" in text


def test_energy_and_memory_carry_bands_too():
    p = Engine.solve("Llama3_8B", "H100", batch_size=8)
    low, high = p.energy_range
    assert low / p.energy_j == pytest.approx(p.latency_range[0] / p.latency_s)     # energy = power x time
    from mlsysim.training.memory import TrainingMemoryModel
    r = TrainingMemoryModel().solve("Llama3_8B", "H100", batch_size=8)
    f = factors(load_data("bands")["categories"]["training_memory"], None)
    assert r.total_range == pytest.approx((r.total_b * f[0], r.total_b * f[1]))


def test_serve_shows_the_band_of_its_times():
    out = one_json(cli("serve", "Llama3_8B", "H100", "--prompt-len", "1024", "--output-len", "256", "-b", "16",
                       "-o", "json"))
    assert out["ttft_low_ms"] < out["ttft_high_ms"] and out["itl_low_ms"] < out["itl_high_ms"]


def test_the_macro_lens_bands_energy_carbon_and_cost_by_the_suites_energy_errors():
    out = one_json(cli("eval", "Llama3_8B", "H100", "--region", "Quebec", "--duration-days", "30", "-o", "json"))
    f = factors(load_data("bands")["categories"]["training_energy"], None)
    assert out["m_energy_low_kwh"] == pytest.approx(out["m_energy_kwh"] * f[0])
    assert out["m_energy_high_kwh"] == pytest.approx(out["m_energy_kwh"] * f[1])
    spent = out["m_energy_cost_high_usd"] - out["m_energy_cost_low_usd"]
    assert out["m_tco_high_usd"] - out["m_tco_low_usd"] == pytest.approx(spent)       # capex is not uncertain
    assert out["m_carbon_footprint_low"] < out["m_carbon_footprint_high"]
