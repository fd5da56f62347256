"""Where to run: the region that minimizes cost plus a price on carbon, and when that choice flips."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..operations.economics import EconomicsModel
from ..solver import Result, Solver


@dataclass(frozen=True)
class RegionCost:
    region: str
    name: str
    tco_usd: float
    carbon_t: float
    carbon_cost_usd: float
    total_usd: float


@dataclass(frozen=True)
class PlacementResult(Result):
    carbon_price_usd_per_t: float
    best_region: str
    regions: tuple[RegionCost, ...]       # cheapest first
    switch_price_usd_per_t: float | None  # the carbon price at which a cleaner region becomes cheapest
    switch_to: str | None
    envelope: tuple[tuple[float, str], ...]  # (from this carbon price, this region is cheapest), ascending

    @property
    def best(self) -> RegionCost:
        return self.regions[0]

    @property
    def objective_value(self) -> float:
        return self.best.total_usd

    @property
    def best_config(self) -> dict:
        return {"region": self.best_region}


class PlacementOptimizer(Solver):
    """Total cost = TCO in the region + carbon emitted there x a carbon price (wall 17/18 trade-off)."""

    walls = (17, 18)

    def solve(self, fleet, duration_days, regions=None, carbon_price=100.0, *, carbon_tax_per_ton=None,
              utilization=None, mfu=None, **economics_kw) -> PlacementResult:
        """Costs per region at ``carbon_price`` ($/tCO2e), and the lower envelope over all prices.

        ``mfu`` is 0.1.0's name for how busy the accelerators are (its power was idle plus a share of TDP in
        proportion to it): it sets ``utilization``, the activity power follows, and is passed on as the MFU
        of the useful FLOPs. Give one of the two.
        """
        from ..infra.registry import Grids

        if mfu is not None:
            if utilization is not None:
                raise InputError("give the accelerators' activity once: utilization (or 0.1.0's mfu)")
            utilization = mfu
            economics_kw["mfu"] = mfu
        price = carbon_tax_per_ton if carbon_tax_per_ton is not None else carbon_price
        if isinstance(price, bool) or not isinstance(price, (int, float)) or not price >= 0:
            raise InputError(f"carbon price must be a non-negative number of $/tCO2e, got {price!r}")
        keys = list(regions) if regions is not None else [k for k, g in Grids.items()
                                                          if g.electricity_usd_kwh is not None]
        if not keys:
            raise InputError("placement needs at least one region")
        eco = EconomicsModel()
        lines = []
        for key in keys:
            grid = Grids.get(key)
            r = eco.solve(fleet=fleet, duration_days=duration_days, grid=grid, utilization=utilization,
                          **economics_kw)
            lines.append((Grids.key_of(grid) or key, grid.name, r.tco_usd, r.carbon_footprint_kg / 1000.0))
        costs = sorted((RegionCost(k, n, tco, t, t * price, tco + t * price) for k, n, tco, t in lines),
                       key=lambda c: c.total_usd)
        envelope = _lower_envelope(lines)
        switch = next(((p, k) for p, k in envelope if p > price), (None, None))
        return PlacementResult(
            price, costs[0].region, tuple(costs), switch[0], switch[1], tuple(envelope),
            binding=f"{costs[0].name} is cheapest at ${price:g}/t" + (
                f"; above ${switch[0]:,.0f}/t {switch[1]} is" if switch[0] is not None else
                "; no carbon price changes that"),
            assumptions=("cost = TCO over the duration + carbon x price; the same fleet and utilization everywhere",
                         *((f"accelerators busy at mfu {mfu:g} of their peak; power follows that activity",)
                           if mfu is not None else ())))


def _lower_envelope(lines) -> list[tuple[float, str]]:
    """Which region is cheapest as the carbon price rises from 0: (start price, region key) pieces.

    Each region's cost is a line in the price p: tco + carbon x p. Walk right along the envelope,
    each time jumping to the line that crosses below the current one soonest; slopes (carbon) fall.
    """
    p = 0.0
    current = min(lines, key=lambda line: (line[2], line[3]))
    pieces = [(0.0, current[0])]
    while True:
        crossings = [((line[2] - current[2]) / (current[3] - line[3]), line) for line in lines
                     if line[3] < current[3] and line[2] > current[2]]
        crossings = [(q, line) for q, line in crossings if q > p]
        if not crossings:
            return pieces
        p, current = min(crossings, key=lambda c: (c[0], c[1][3]))
        pieces.append((p, current[0]))
