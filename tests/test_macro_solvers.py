"""Power, sustainability and economics: hand-computed answers, physical properties, user errors."""
import itertools

import numpy as np
import pytest

import mlsysim
from mlsysim import Engine, Hardware, Infra, Models, Systems
from mlsysim.errors import InputError, UnknownNameError
from mlsysim.infra.types import Datacenter, GridProfile
from mlsysim.operations import power
from mlsysim.operations.economics import EconomicsModel
from mlsysim.operations.sustainability import SustainabilityModel
from mlsysim.systems.types import Fleet

H100 = Hardware.H100
DGX = Systems.Nodes.DGX_H100
FLEET = Fleet(name="256 H100", node=DGX, count=32, fabric=Systems.Fabrics.InfiniBand_NDR)
TEST_GRID = GridProfile(name="Test grid", carbon_intensity_g_kwh=100, pue=1.5, wue=0.5, grid_water_l_kwh=2.0,
                        electricity_usd_kwh=0.10)
SUS, ECON = SustainabilityModel(), EconomicsModel()
GRIDS = [g for _, g in Infra.Grids.items()]


# --- the power model ---------------------------------------------------------------------------
def test_accelerator_power_spans_idle_to_tdp():
    """700 W TDP, 30% idle: 210 W idle, 700 W flat out, 455 W half way; arrays work unchanged."""
    assert power.accelerator_power(700.0, 0.0) == pytest.approx(210.0)
    assert power.accelerator_power(700.0, 1.0) == pytest.approx(700.0)
    u = np.array([0.0, 0.5, 1.0])
    np.testing.assert_allclose(power.accelerator_power(700.0, u), [210.0, 455.0, 700.0])


def test_host_power_is_node_maximum_less_accelerators():
    """DGX H100: 10.2 kW max - 8 x 700 W = 4.6 kW; without a maximum, 0.82 W per accelerator W."""
    assert float(power.host_rated_power(10_200.0, 700.0, 8)) == pytest.approx(4600.0)
    assert float(power.host_rated_power(float("nan"), 700.0, 8)) == pytest.approx(0.82 * 5600.0)
    np.testing.assert_allclose(power.host_rated_power(np.array([10_200.0, np.nan]), 700.0, 8),
                               [4600.0, 0.82 * 5600.0])


def test_default_utilization_reproduces_measured_training_power():
    """A DGX H100 at the default activity draws 76% of its 10.2 kW rating (Brookhaven measurements)."""
    assert power.fleet_power(DGX).it_w == pytest.approx(0.76 * 10_200.0)


@pytest.mark.parametrize("endpoints, tiers", [(8, 1), (64, 1), (65, 2), (256, 2), (2048, 2), (2049, 3),
                                              (65_536, 3), (65_537, 4)])
def test_fat_tree_tiers_of_64_port_switches(endpoints, tiers):
    """One 64-port switch serves 64 ports; t tiers serve 2 x 32^t (2,048, then 65,536)."""
    assert power.fabric_tiers(endpoints) == tiers


def test_fabric_power_per_endpoint():
    """Two tiers: 3 switch ports per NIC port at 1,720/64 W; 2:1 oversubscription halves the upper 2."""
    assert power.network_power(256) == pytest.approx(256 * 3 * 1720 / 64)
    assert power.network_power(256, oversubscription=2.0) == pytest.approx(256 * 2 * 1720 / 64)
    assert power.network_power(8) == pytest.approx(8 * 1720 / 64)


def test_fleet_power_adds_up():
    """32 DGX H100 at full activity: 32 x 10.2 kW plus 256 NDR ports x 3 switch ports x 26.875 W."""
    p = power.fleet_power(FLEET, 1.0)
    assert p.accelerators_w == pytest.approx(256 * 700.0)
    assert p.host_w == pytest.approx(32 * 4600.0)
    assert p.network_w == pytest.approx(256 * 3 * 26.875)
    assert p.it_w == pytest.approx(32 * 10_200.0 + 20_640.0)
    assert sum(p.shares().values()) == pytest.approx(1.0)


# --- sustainability: known answers ---------------------------------------------------------------
def test_one_h100_for_ten_days_in_quebec():
    """700 W x 240 h = 168 kWh IT; x PUE 1.2 = 201.6 kWh; x 20 g/kWh (generation) = 4.032 kg, or x 35 g/kWh
    (consumption) = 7.056 kg; WUE 0 -> no water. Embodied: 164 kg x 10 days / (5 x 365 days) = 0.8986 kg."""
    r = SUS.solve(fleet=H100, duration_days=10, datacenter=Infra.Grids.Quebec, utilization=1.0)
    assert r.it_energy_kwh.magnitude == pytest.approx(168.0)
    assert r.total_energy_kwh.magnitude == pytest.approx(201.6)
    assert r.carbon_footprint_kg == pytest.approx(4.032)
    consumed = SUS.solve(fleet=H100, duration_days=10, datacenter=Infra.Grids.Quebec.on_basis("consumption"),
                         utilization=1.0)
    assert consumed.carbon_footprint_kg == pytest.approx(7.056)
    assert r.water_usage_liters == 0.0
    assert r.embodied_carbon_kg == pytest.approx(164 * 10 / (5 * 365))
    assert r.total_carbon_kg == pytest.approx(r.carbon_footprint_kg + r.embodied_carbon_kg)
    assert r.region_name == "Quebec (Hydro)" and r.pue == 1.2


def test_water_counts_onsite_and_offsite():
    """US average: on-site 0.56 L per IT kWh (168 kWh) + off-site 4.5 L per facility kWh (258.72 kWh)
    = 94.08 + 1,164.24 = 1,258.32 L; carbon 258.72 x 0.386 = 99.86592 kg."""
    r = SUS.solve(fleet=H100, duration_days=10, datacenter=Infra.Grids.US_Avg, utilization=1.0)
    assert r.water_onsite_liters == pytest.approx(94.08)
    assert r.water_offsite_liters == pytest.approx(1164.24)
    assert r.water_usage_liters == pytest.approx(1258.32)
    assert r.carbon_footprint_kg == pytest.approx(99.86592)


def test_fleet_energy_is_power_times_time_times_pue():
    """32 DGX H100 + NDR fabric at full activity for one day: 347.04 kW x 24 h = 8,328.96 kWh;
    x PUE 1.5 = 12,493.44 kWh; x 100 g/kWh = 1,249.344 kg."""
    r = SUS.solve(FLEET, 1, TEST_GRID, utilization=1.0)
    assert r.it_energy_kwh.magnitude == pytest.approx(8328.96)
    assert r.total_energy_kwh.magnitude == pytest.approx(12_493.44)
    assert r.carbon_footprint_kg == pytest.approx(1249.344)
    assert r.water_usage_liters == pytest.approx(0.5 * 8328.96 + 2.0 * 12_493.44)


def test_datacenter_pue_override_and_grid_names():
    """A Datacenter's own PUE replaces the grid's; a grid given by name is the zoo entry."""
    dc = Datacenter(name="Efficient", grid=Infra.Grids.US_Avg, pue_override=1.1)
    assert SUS.solve(H100, 1, dc).pue == 1.1
    by_name = SUS.solve(H100, 1, region="Quebec")
    assert by_name.carbon_footprint_kg == SUS.solve(H100, 1, Infra.Grids.Quebec).carbon_footprint_kg
    assert "US Hyperscale Datacenter" in SUS.solve(H100, 1, grid="US_Hyperscale").assumptions[0]


def test_embodied_carbon_per_device_and_life():
    """10 kg per device over a 2-year life, 73 days: 10 x 73 / 730 = 1 kg; it adds to the total only."""
    r = SUS.solve(H100, 73, TEST_GRID, embodied_carbon_per_device=10, hardware_life_years=2)
    assert r.embodied_carbon_kg == pytest.approx(1.0)
    assert r.total_carbon_kg == pytest.approx(r.carbon_footprint_kg + 1.0)


def test_mfu_reports_useful_flops_without_changing_power():
    a = SUS.solve(H100, 1, TEST_GRID, mfu=0.4)
    b = SUS.solve(H100, 1, TEST_GRID)
    assert a.total_energy_kwh == b.total_energy_kwh
    assert a.useful_flop == pytest.approx(0.4 * 989.4e12 * 86400)


def test_per_million_tokens_from_a_profile():
    """Device energy per token is the step's energy over its tokens; facility adds PUE."""
    prof = Engine.solve(Models.Llama3_8B, H100, batch_size=32)
    r = SUS.per_million_tokens(prof, datacenter=TEST_GRID)
    per_token_j = float(prof.energy_j) / float(prof.samples_per_step)
    assert r.energy_per_million_tokens_kwh == pytest.approx(per_token_j * 1e6 / 3.6e6 * 1.5)
    assert r.carbon_per_million_tokens_kg == pytest.approx(r.energy_per_million_tokens_kwh * 0.1)
    with_host = SUS.per_million_tokens(prof, datacenter=TEST_GRID, node=DGX)
    assert with_host.energy_per_million_tokens_kwh > r.energy_per_million_tokens_kwh


def test_training_run_lasts_steps_times_step_time():
    prof = Engine.solve(Models.Llama3_8B, H100, batch_size=1, seq_len=4096, is_training=True)
    r = SUS.training_run(prof, FLEET, steps=10_000, datacenter=TEST_GRID)
    assert r.duration_s == pytest.approx(10_000 * float(prof.latency_s))
    tokens = SUS.training_run(prof, FLEET, tokens=10_000 * 256 * 4096, datacenter=TEST_GRID)
    assert tokens.duration_s == pytest.approx(r.duration_s)


# --- sustainability: properties ------------------------------------------------------------------
def test_carbon_follows_intensity_times_pue_across_the_zoo():
    """Same fleet and time: a grid with lower intensity x PUE never emits more."""
    results = [(g.carbon_intensity_g_kwh * g.pue, SUS.solve(FLEET, 30, g).carbon_footprint_kg) for g in GRIDS]
    for (k1, c1), (k2, c2) in itertools.combinations(results, 2):
        if k1 <= k2:
            assert c1 <= c2 * (1 + 1e-12)


def test_cleaner_grid_same_facility_never_more_carbon():
    dirty = SUS.solve(FLEET, 30, TEST_GRID).carbon_footprint_kg
    clean = SUS.solve(FLEET, 30, TEST_GRID.model_copy(update={"carbon_intensity_g_kwh": 20})).carbon_footprint_kg
    assert clean < dirty


def test_longer_duration_never_less_energy():
    energies = [SUS.solve(FLEET, d, TEST_GRID).total_energy_kwh for d in (0.5, 1, 7, 30, 365)]
    assert all(a <= b for a, b in zip(energies, energies[1:]))


def test_higher_utilization_never_less_energy():
    energies = [SUS.solve(FLEET, 30, TEST_GRID, utilization=u).total_energy_kwh for u in np.linspace(0, 1, 11)]
    assert all(a <= b for a, b in zip(energies, energies[1:]))


@pytest.mark.parametrize("site", GRIDS + [d for _, d in Infra.Datacenters.items()], ids=lambda s: s.name)
def test_facility_energy_at_least_it_energy(site):
    r = SUS.solve(FLEET, 30, site)
    assert r.pue >= 1.0
    assert r.total_energy_kwh >= r.it_energy_kwh
    assert r.total_energy_kwh.magnitude == pytest.approx(r.it_energy_kwh.magnitude * r.pue)


def test_poland_emits_more_than_quebec_even_in_a_third_of_the_time():
    quebec = SUS.solve(FLEET, 30, Infra.Grids.Quebec).carbon_footprint_kg
    poland = SUS.solve(FLEET, 10, Infra.Grids.Poland).carbon_footprint_kg
    assert poland > quebec


# --- economics -----------------------------------------------------------------------------------
def test_one_h100_for_a_year():
    """IT 700 W x 8,760 h = 6,132 kWh; facility x 1.5 = 9,198 kWh at $0.10 = $919.80. CapEx $30,000
    over 5 years = $6,000 a year; maintenance 5% = $1,500. TCO $8,419.80. Cloud: 8,760 h x $4.916."""
    r = ECON.solve(fleet=H100, duration_days=365, grid=TEST_GRID, utilization=1.0)
    assert r.energy_cost_usd == pytest.approx(919.8)
    assert r.capex_usd == pytest.approx(6000.0)
    assert r.maintenance_usd == pytest.approx(1500.0)
    assert r.tco_usd == pytest.approx(8419.8)
    assert r.tco_usd == pytest.approx(r.capex_usd + r.opex_usd)
    assert r.opex_usd == pytest.approx(r.energy_cost_usd + r.maintenance_usd + r.storage_usd + r.network_usd)
    assert r.cloud_cost_usd == pytest.approx(8760 * 4.916)
    assert r.tco_per_year_usd == pytest.approx(r.tco_usd)
    assert r.region_name == "Test grid" and r.carbon_footprint_kg == pytest.approx(9198 * 0.1)


def test_capex_amortization_over_the_chosen_life():
    """$30,000 over 3 years, charged for 30 days: 30,000 / 3 x 30 / 365."""
    r = ECON.solve(H100, 30, grid=TEST_GRID, life_years=3)
    assert r.capex_usd == pytest.approx(30_000 / 3 * 30 / 365)
    assert ECON.solve(H100, 30, grid=TEST_GRID, amortization_years=3).capex_usd == r.capex_usd


def test_storage_egress_and_tokens():
    """10 TB of S3 for a year at $23/TB-month = $2,760; 1,000 GB egress at $0.09 = $90."""
    r = ECON.solve(H100, 365, grid=TEST_GRID, storage_tb=10, egress_gb=1000, tokens=1e9)
    assert r.storage_usd == pytest.approx(2760.0)
    assert r.network_usd == pytest.approx(90.0)
    assert r.usd_per_million_tokens == pytest.approx(r.tco_usd / 1e3)
    rate = ECON.solve(H100, 365, grid=TEST_GRID, tokens_per_s=1e9 / (365 * 86400))
    assert rate.tokens == pytest.approx(1e9)


def test_grid_without_price_uses_the_default_and_says_so():
    grid = TEST_GRID.model_copy(update={"electricity_usd_kwh": None})
    r = ECON.solve(H100, 30, grid=grid)
    assert r.kwh_price_usd == 0.12
    assert any("no sourced electricity price" in a for a in r.assumptions)


def test_unpriced_hardware_costs_nothing_up_front_and_says_so():
    r = ECON.solve(Hardware.TPUv4, 365, grid=TEST_GRID)
    assert r.capex_usd == 0.0 and r.maintenance_usd == 0.0
    assert r.tco_usd == pytest.approx(r.energy_cost_usd)
    assert any("no price" in a for a in r.assumptions)


def test_economics_properties():
    short, long = ECON.solve(FLEET, 1, grid=TEST_GRID), ECON.solve(FLEET, 30, grid=TEST_GRID)
    assert long.capex_usd > short.capex_usd and long.tco_usd > short.tco_usd
    assert short.capex_usd > short.energy_cost_usd            # a day's write-off outweighs a day's power
    more = ECON.solve(FLEET, 30, grid=TEST_GRID, infrastructure_multiplier=2.0)
    assert more.tco_usd > long.tco_usd
    assert long.to_dict()["footprint"]["region_name"] == "Test grid"


def test_walls():
    assert SustainabilityModel.walls == (18,) and EconomicsModel.walls == (17,)


# --- errors a user sees --------------------------------------------------------------------------
@pytest.mark.parametrize("days", [-5, 0, float("nan"), float("inf"), "ten days"])
def test_bad_duration(days):
    for solver in (SUS, ECON):
        with pytest.raises(InputError, match="duration_days"):
            solver.solve(fleet=FLEET, duration_days=days, grid=TEST_GRID)


def test_unknown_grid_suggests_the_closest():
    with pytest.raises(UnknownNameError, match="Quebec"):
        SUS.solve(FLEET, 30, "Quebek")
    with pytest.raises(InputError):
        ECON.solve(FLEET, 30, grid="Atlantis")


@pytest.mark.parametrize("u", [-0.1, 1.5, float("nan"), "high"])
def test_bad_utilization(u):
    with pytest.raises(InputError, match="utilization"):
        SUS.solve(FLEET, 30, TEST_GRID, utilization=u)


def test_other_bad_inputs():
    with pytest.raises(InputError, match="fleet must be"):
        SUS.solve("a lot of GPUs", 30, TEST_GRID)
    with pytest.raises(InputError, match="no published power"):
        SUS.solve(Hardware.Trainium2, 30, TEST_GRID)
    with pytest.raises(InputError, match="synonyms"):
        SUS.solve(FLEET, 30, datacenter=Infra.Grids.Quebec, grid=Infra.Grids.Poland)
    with pytest.raises(InputError, match="life"):
        ECON.solve(FLEET, 30, grid=TEST_GRID, life_years=-1)
    with pytest.raises(InputError, match="per-token"):
        SUS.per_million_tokens(Engine.solve(Models.ResNet50, H100), TEST_GRID)
    assert isinstance(mlsysim.errors.InputError("x"), ValueError)
