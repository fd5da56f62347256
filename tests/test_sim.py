"""0.1.0's simulator (``mlsysim.sim``): personas, ResourceSimulation and its ledger, on this package's models."""
import math

import pytest

import mlsysim.sim as sim
from mlsysim import DistributedModel, EconomicsModel, Engine, ReliabilityModel, Scenarios
from mlsysim.errors import InputError
from mlsysim.sim import BaseSimulation, Persona, Personas, ResourceSimulation, SimulationResult, SystemLedger


def test_the_four_personas_and_their_keys():
    assert [p.name for _, p in Personas.items()] == ["Cloud Titan", "Edge Guardian", "Mobile Nomad", "Tiny Pioneer"]
    assert Personas.get("EDGE") is Personas.EdgeGuardian and Personas.get("TinyPioneer") is Personas.TinyPioneer
    assert Personas.MobileNomad.scale_factor == 1e8 and isinstance(Personas.CloudTitan, Persona)
    with pytest.raises(InputError, match="unknown persona"):
        Personas.get("galactic")
    with pytest.raises(NotImplementedError):
        BaseSimulation(Scenarios.Chatbot, "cloud").evaluate({})
    assert {"SystemLedger", "ResourceSimulation", "Personas"} <= set(sim.__all__)


def test_a_single_device_scenario_scaled_by_the_persona_is_the_models_own_answer():
    ledger = ResourceSimulation(Scenarios.AutoDrive, Personas.EdgeGuardian).evaluate(
        {"region": "Quebec", "duration_days": 30})
    assert isinstance(ledger, SystemLedger) and ledger.track_name == "Edge Guardian"
    hw = Scenarios.AutoDrive.system
    p = Engine.solve(Scenarios.AutoDrive.workload, hw, precision="fp16")
    assert float(ledger.performance.latency.m_as("s")) == pytest.approx(p.latency_s)
    assert float(ledger.performance.throughput.m_as("1/s")) == pytest.approx(
        float(p.throughput.m_as("1/s")) * 10_000)
    sim_ = ResourceSimulation(Scenarios.AutoDrive, Personas.EdgeGuardian)
    fleet, synchronous = sim_._deployment()
    assert fleet.total_accelerators == 10_000 and not synchronous
    eco = EconomicsModel().solve(fleet, 30, grid="Quebec", mfu=p.mfu)
    assert ledger.economics.tco == pytest.approx(eco.tco_usd) and ledger.economics.capex == pytest.approx(eco.capex_usd)
    assert ledger.sustainability.carbon_kg == pytest.approx(eco.carbon_footprint_kg)
    rel = ReliabilityModel().solve(fleet, job_hours=30 * 24)
    assert float(ledger.reliability.mttf.m_as("hour")) == pytest.approx(rel.fleet_mtbf_hours)
    # independent devices: each failure idles only its own device for the restart
    restart = float(ledger.reliability.recovery_time.m_as("s"))
    assert ledger.reliability.goodput == pytest.approx(1 - rel.expected_failures * restart / (30 * 86400 * 10_000))
    seconds_done = float(ledger.performance.throughput.m_as("1/s")) * 30 * 86400 * ledger.reliability.goodput
    assert ledger.economics.cost_per_million == pytest.approx(ledger.economics.opex / seconds_done * 1e6)
    d = ledger.to_dict()
    assert d["tco_usd"] == ledger.economics.tco and d["latency_ms"] == pytest.approx(p.latency_s * 1e3)


def test_a_training_scenario_runs_through_the_distributed_model_as_one_job():
    s = Scenarios.FrontierTraining
    ledger = ResourceSimulation(s, "cloud").evaluate({"region": "US_Avg", "duration_days": 10})
    r = DistributedModel().solve(s.workload, s.system, tp=s.tp, pp=s.pp)
    assert float(ledger.performance.latency.m_as("s")) == pytest.approx(r.step_time_s)
    assert ledger.performance.mfu == pytest.approx(r.mfu)
    rel = ReliabilityModel().solve(s.system, job_hours=240)
    restart = float(ledger.reliability.recovery_time.m_as("s"))
    assert ledger.reliability.goodput == pytest.approx(1 - rel.expected_failures * restart / (10 * 86400))
    assert ledger.reliability.goodput < 0.999          # a synchronous job pays every restart in full


def test_choices_change_the_ledger_and_bad_ones_are_refused():
    chat = ResourceSimulation("Chatbot", "cloud")
    clean, dirty = chat.evaluate({"region": "Quebec"}), chat.evaluate({"region": "Poland"})
    assert clean.sustainability.carbon_kg < dirty.sustainability.carbon_kg / 10
    short = chat.evaluate({"region": "Quebec", "duration_days": 30})
    assert short.economics.tco < clean.economics.tco
    busier = chat.evaluate({"region": "Quebec", "batch_size": 32})
    assert busier.performance.throughput.m_as("1/s") > 10 * clean.performance.throughput.m_as("1/s")
    for bad in ({"region": "Atlantis"}, {"duration_days": -1}, {"colour": "red"}):
        with pytest.raises(InputError):
            chat.evaluate(bad)
    result = chat.run({"duration_days": 30})
    assert isinstance(result, SimulationResult) and len(result.plots["region"]) == len(result.plots["tco_usd"]) > 3
    i = result.plots["region"].index("Quebec")
    assert result.plots["carbon_kg"][i] == pytest.approx(short.sustainability.carbon_kg)


def test_a_step_that_does_not_fit_is_timed_and_flagged():
    ledger = ResourceSimulation(Scenarios.Doorbell, "tiny").evaluate({})
    assert ledger.performance.feasible is False and "does not fit" in ledger.choice_summary
    assert ledger.to_dict()["feasible"] is False and math.isfinite(ledger.economics.tco)


def test_the_ledger_flattens_and_nests():
    ledger = ResourceSimulation("Chatbot", "cloud").evaluate({"duration_days": 7})
    nested = ledger.as_nested()
    assert set(nested) == {"mission", "track", "choice", "performance", "sustainability", "economics", "reliability"}
    assert nested["economics"]["tco"] == ledger.economics.tco
    pd = pytest.importorskip("pandas", reason="to_df needs pandas")
    df = ledger.to_df()
    assert isinstance(df, pd.DataFrame) and df.shape[0] == 1 and df["tco_usd"][0] == ledger.economics.tco
