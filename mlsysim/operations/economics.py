"""Total cost of owning and running a fleet for a period, beside the cost of renting it.

CapEx is the purchase price written off linearly over the hardware's life, charged for the
period; OpEx is the facility's electricity at the grid's price, maintenance as a yearly
fraction of the purchase price, and any storage and egress at list prices. Energy comes from
``SustainabilityModel``, so cost and carbon share one power model.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..solver import Result, Solver
from ..units import format_number, parse
from . import power
from .sustainability import (
    HARDWARE_LIFE_YEARS,
    KWH_J,
    LIFE_SOURCE,
    YEAR_S,
    SustainabilityModel,
    SustainabilityResult,
    resolve_site,
)


def _price(section: str, key: str) -> tuple[float, str] | None:
    """(value, source) of one entry of the pricing zoo, or None."""
    from ..infra.registry import Infra

    entry = (Infra.Pricing.get(section) or {}).get(key)
    return (float(entry["value"]), entry.get("source", "")) if entry and "value" in entry else None


def cloud_rate(accelerator) -> tuple[float, str] | None:
    """The pricing zoo's on-demand training rate per accelerator-hour for this chip, if it lists one."""
    from ..hardware.registry import Hardware

    key = Hardware.key_of(accelerator)
    if key is None:
        return None
    return _price("Cloud", f"GPUTrainingHour{key}") or _price("Cloud", f"{key}ChipHour")


@dataclass(frozen=True)
class EconomicsResult(Result):
    """Costs of one fleet over one period, in US dollars, with its energy and carbon."""

    footprint: SustainabilityResult
    duration_s: float
    life_years: float
    hardware_cost_usd: float
    capex_usd: float
    energy_cost_usd: float
    maintenance_usd: float
    storage_usd: float
    network_usd: float
    opex_usd: float
    tco_usd: float
    kwh_price_usd: float
    cloud_rate_usd_hr: float | None = None
    cloud_cost_usd: float | None = None
    tokens: float | None = None

    # -- the footprint the costs were computed from ----------------------------------------------
    @property
    def region_name(self) -> str: return self.footprint.region_name
    @property
    def pue(self) -> float: return self.footprint.pue
    @property
    def carbon_footprint_kg(self) -> float: return self.footprint.carbon_footprint_kg
    @property
    def water_usage_liters(self) -> float: return self.footprint.water_usage_liters
    @property
    def it_energy_kwh(self): return self.footprint.it_energy_kwh
    @property
    def total_energy_kwh(self): return self.footprint.total_energy_kwh

    # -- 0.1.0 names -------------------------------------------------------------------------------
    @property
    def opex_energy_usd(self) -> float: return self.energy_cost_usd
    @property
    def opex_maintenance_usd(self) -> float: return self.maintenance_usd
    @property
    def total_opex_usd(self) -> float: return self.opex_usd

    # -- rates -------------------------------------------------------------------------------------
    @property
    def tco_per_year_usd(self) -> float:
        return self.tco_usd * YEAR_S / self.duration_s

    @property
    def usd_per_million_tokens(self) -> float | None:
        return None if not self.tokens else self.tco_usd / self.tokens * 1e6

    @property
    def cloud_usd_per_million_tokens(self) -> float | None:
        return None if not self.tokens or self.cloud_cost_usd is None else self.cloud_cost_usd / self.tokens * 1e6


class EconomicsModel(Solver):
    """Total cost of ownership of a fleet for a period, and the cloud rental alternative (wall 17)."""

    walls = (17,)

    def solve(self, fleet, duration_days, *, grid=None, datacenter=None, region=None, utilization=None, mfu=None,
              life_years=None, amortization_years=None, cloud_rate_usd_hr=None, kwh_price=None,
              infrastructure_multiplier=1.0, maintenance_fraction=None, storage_tb=0.0, egress_gb=0.0,
              tokens=None, tokens_per_s=None, **footprint_options) -> EconomicsResult:
        """TCO of ``fleet`` run for ``duration_days`` on a grid, and what renting it would cost.

        ``life_years`` (0.1.0: ``amortization_years``) is the write-off period; ``tokens`` (or a
        fleet-wide ``tokens_per_s``) adds per-million-token figures. ``infrastructure_multiplier``
        scales the purchase price for what the hardware price leaves out (buildings, fabric).
        """
        if life_years is not None and amortization_years is not None and life_years != amortization_years:
            raise InputError("give the hardware life once: life_years and amortization_years are synonyms")
        life_in = life_years if life_years is not None else amortization_years
        life = parse(HARDWARE_LIFE_YEARS if life_in is None else life_in, "year", "life_years", positive=True)
        multiplier = parse(infrastructure_multiplier, "1", "infrastructure_multiplier", positive=True)
        site = resolve_site(datacenter, grid, region, fleet)
        footprint = SustainabilityModel().solve(fleet, duration_days, datacenter, utilization, mfu, grid=grid,
                                                region=region, hardware_life_years=life / YEAR_S,
                                                **footprint_options)
        seconds, years = footprint.duration_s, footprint.duration_s / YEAR_S
        acc, n_acc, nodes, node, _ = power.fleet_shape(fleet)
        notes = list(footprint.assumptions)

        # purchase price: the node's when it has one, else its accelerators', else nothing
        if node is not None and node.unit_cost:
            price = nodes * float(node.unit_cost)
            notes.append(f"capex: {nodes} x {node.name} at ${format_number(float(node.unit_cost))}")
        elif acc.unit_cost:
            price = n_acc * float(acc.unit_cost)
            what = f"{node.name} has no price: accelerators only (host, chassis, NICs and fabric not priced), " \
                if node is not None else ""
            notes.append(f"capex: {what}{n_acc} x {acc.name} at ${format_number(float(acc.unit_cost))}")
        else:
            price = 0.0
            notes.append(f"capex 0: {acc.name} has no price in the zoo; give the node or device a unit_cost")
        price *= multiplier
        if multiplier != 1.0:
            notes.append(f"purchase price x {multiplier:g} for infrastructure the hardware price leaves out")
        capex = price / (life / YEAR_S) * years
        notes.append(f"capex written off linearly over {life / YEAR_S:g} years"
                     + ("; " + LIFE_SOURCE if life_in is None and not any(LIFE_SOURCE in n for n in notes) else ""))

        if maintenance_fraction is None:
            maintenance_fraction, source = _price("Capital", "AnnualMaintenanceFraction")
            notes.append(f"maintenance {maintenance_fraction:.0%} of the purchase price a year: {source}")
        maintenance = price * parse(maintenance_fraction, "1", "maintenance_fraction") * years

        if kwh_price is not None:
            kwh = parse(kwh_price, "USD/kWh", "kwh_price") * KWH_J
            notes.append(f"electricity ${kwh:g}/kWh as given")
        elif site.grid.electricity_usd_kwh is not None:
            kwh = site.grid.electricity_usd_kwh
            notes.append(f"electricity ${kwh:g}/kWh: {site.region_name} industrial price")
        else:
            kwh, source = _price("Cloud", "ElectricityPerKwh")
            notes.append(f"{site.region_name} has no sourced electricity price: ${kwh:g}/kWh assumed ({source})")
        energy = footprint.facility_energy_j / KWH_J * kwh

        storage_tb = parse(storage_tb, "1", "storage_tb")
        egress_gb = parse(egress_gb, "1", "egress_gb")
        storage = network = 0.0
        if storage_tb:
            rate, source = _price("Storage", "S3StandardPerTBMonth")
            storage = storage_tb * rate * years * 12.0
            notes.append(f"storage {storage_tb:g} TB at ${rate:g}/TB-month: {source}")
        if egress_gb:
            rate, source = _price("Cloud", "EgressPerGB")
            network = egress_gb * rate
            notes.append(f"egress {egress_gb:g} GB at ${rate:g}/GB: {source}")

        opex = energy + maintenance + storage + network
        tco = capex + opex

        rate = None
        if cloud_rate_usd_hr is not None:
            rate = parse(cloud_rate_usd_hr, "1", "cloud_rate_usd_hr")
        else:
            listed = cloud_rate(acc)
            if listed:
                rate = listed[0]
                notes.append(f"cloud: ${rate:g} per {acc.name}-hour: {listed[1]}")
            else:
                notes.append(f"no cloud rate for {acc.name} in the pricing zoo; give cloud_rate_usd_hr")
        cloud = None if rate is None else rate * n_acc * seconds / 3600.0

        if tokens is not None and tokens_per_s is not None:
            raise InputError("give tokens or tokens_per_s, not both")
        count = parse(tokens, "tokens", "tokens", positive=True) if tokens is not None else (
            parse(tokens_per_s, "1", "tokens_per_s", positive=True) * seconds if tokens_per_s is not None else None)

        terms = {"capex": capex, "electricity": energy, "maintenance": maintenance, "storage": storage,
                 "egress": network}
        top = max(terms, key=terms.get)
        binding = f"{top} is {terms[top] / tco:.0%} of TCO" if tco > 0 else "nothing to pay for"
        if cloud:
            binding += f"; owning costs {tco / cloud:.0%} of renting"
        return EconomicsResult(
            footprint=footprint, duration_s=seconds, life_years=life / YEAR_S, hardware_cost_usd=price,
            capex_usd=capex, energy_cost_usd=energy, maintenance_usd=maintenance, storage_usd=storage,
            network_usd=network, opex_usd=opex, tco_usd=tco, kwh_price_usd=kwh, cloud_rate_usd_hr=rate,
            cloud_cost_usd=cloud, tokens=count, assumptions=tuple(notes), binding=binding)
