"""The three-lens scorecard and the scenarios zoo."""
import pytest

from mlsysim import Hardware, Models, Scenarios, SystemEvaluator


def test_scorecard_lenses_and_flat_dict():
    ev = SystemEvaluator.evaluate("r50", Models.ResNet50, Hardware.A100)
    assert ev.feasibility.status == "PASS" and ev.macro.status == "SKIPPED" and ev.passed_all
    flat = ev.to_dict()
    assert flat["scenario"] == "r50" and flat["f_status"] == "PASS" and "p_latency_ms" in flat
    assert not any(isinstance(v, dict) for v in flat.values())
    assert max(len(line) for line in ev.scorecard().splitlines()) <= 80


def test_an_impossible_system_fails_feasibility_and_performance():
    ev = SystemEvaluator.evaluate("gpt4 on a microcontroller", Models.GPT4, Hardware.ESP32_S3, precision="int8")
    assert ev.feasibility.status == "FAIL" and ev.performance.status == "FAIL" and not ev.passed_all


def test_sla_is_a_performance_verdict():
    fast = SystemEvaluator.evaluate("ok", Models.Llama3_8B, Hardware.H100, sla_latency_s=1.0)
    slow = SystemEvaluator.evaluate("tight", Models.Llama3_8B, Hardware.H100, sla_latency_s=1e-6)
    assert fast.performance.status == "PASS" and slow.performance.status == "FAIL"


def test_macro_lens_follows_the_region():
    q = SystemEvaluator.evaluate("q", Models.Llama3_8B, Hardware.H100, duration_days=30, region="Quebec")
    p = SystemEvaluator.evaluate("p", Models.Llama3_8B, Hardware.H100, duration_days=30, region="Poland")
    assert q.macro.metrics["carbon_footprint"] < p.macro.metrics["carbon_footprint"]
    assert q.macro.metrics["tco_usd"] > 0


@pytest.mark.parametrize("key", [k for k, _ in Scenarios.items()])
def test_every_scenario_evaluates(key):
    """Each scenario's feasibility verdict agrees with its own memory figures, and its macro lens prices
    a positive footprint."""
    ev = Scenarios.get(key).evaluate()
    f = ev.feasibility.metrics
    fits = f["memory_used_gb"] <= f["memory_capacity_gb"]
    assert ev.feasibility.status == ("PASS" if fits else "FAIL")
    assert f["memory_utilization"] == pytest.approx(f["memory_used_gb"] / f["memory_capacity_gb"])
    assert ev.macro.status == "PASS" and ev.macro.metrics["energy_kwh"] > 0 and ev.macro.metrics["tco_usd"] > 0


def test_chatbot_scenario_passes_and_aliases_work():
    assert Scenarios.Chatbot is Scenarios.ChatbotServing
    assert Scenarios.ChatbotServing.evaluate().passed_all
