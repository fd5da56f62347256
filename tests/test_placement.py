"""PlacementOptimizer: cost plus a carbon price, and the price at which the choice flips."""
import pytest

from mlsysim import Infra, Systems
from mlsysim.errors import InputError
from mlsysim.optimize.placement import PlacementOptimizer

FLEET = Systems.Clusters.Research_256
REGIONS = ["Quebec", "US_Avg", "Poland", "France", "Texas"]


def carbon_of(result, region):
    return next(c.carbon_t for c in result.regions if c.region == region)


def test_total_is_tco_plus_priced_carbon():
    r = PlacementOptimizer().solve(FLEET, 30, regions=REGIONS, carbon_price=80)
    for c in r.regions:
        assert c.total_usd == pytest.approx(c.tco_usd + 80 * c.carbon_t)
    assert [c.total_usd for c in r.regions] == sorted(c.total_usd for c in r.regions)


def test_a_higher_carbon_price_never_moves_to_a_dirtier_grid():
    chosen = [PlacementOptimizer().solve(FLEET, 30, regions=REGIONS, carbon_price=p).best_region
              for p in (0, 10, 50, 100, 300, 1000, 10_000)]
    intensity = [Infra.Grids.get(k).carbon_intensity_g_kwh * Infra.Grids.get(k).pue for k in chosen]
    assert all(a >= b for a, b in zip(intensity, intensity[1:]))


def test_the_switch_price_is_where_the_costs_meet():
    r = PlacementOptimizer().solve(FLEET, 30, regions=["Texas", "France"], carbon_price=0)
    assert r.best_region == "Texas" and r.switch_to == "France" and r.switch_price_usd_per_t > 0
    at = PlacementOptimizer().solve(FLEET, 30, regions=["Texas", "France"],
                                    carbon_price=r.switch_price_usd_per_t)
    a = next(c for c in at.regions if c.region == r.best_region)
    b = next(c for c in at.regions if c.region == r.switch_to)
    assert a.total_usd == pytest.approx(b.total_usd, rel=1e-9)
    assert carbon_of(at, r.switch_to) < carbon_of(at, r.best_region)


def test_bad_price_and_unknown_region():
    with pytest.raises(InputError, match="carbon price"):
        PlacementOptimizer().solve(FLEET, 30, regions=REGIONS, carbon_price=-5)
    with pytest.raises(InputError, match="did you mean"):
        PlacementOptimizer().solve(FLEET, 30, regions=["Quebek"])
