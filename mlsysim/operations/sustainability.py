"""Energy, carbon and water of running a fleet for a period, from the shared power model.

IT energy = average IT power x time; facility energy = IT energy x PUE; operational carbon =
facility energy x the grid's life-cycle intensity; water = on-site WUE x IT energy plus the
grid's off-site water x facility energy where the grid states it. Embodied carbon of the
accelerators is amortized over a stated hardware life and reported beside, not inside, the
operational figure.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InputError
from ..infra.types import Datacenter, GridProfile
from ..run import DEFAULT_REGION
from ..solver import Result, Solver
from ..units import SIValue, format_number, parse
from . import power

#: Service life over which hardware (and its embodied carbon) is written off.
HARDWARE_LIFE_YEARS = 5.0
LIFE_SOURCE = ("hardware life 5 years: hyperscaler server depreciation schedules run 5-6 years (Microsoft "
               "and Alphabet 6 since 2022-23, Meta 5.5 from 2025, Amazon 5 for part of its fleet from 2025)")
YEAR_S = 365.0 * 86400.0
KWH_J = 3.6e6


#: zoo tiers whose devices run where they are (a camera, a phone, a sensor), not in a datacenter: without a
#: datacenter named they pay no facility overhead (PUE 1) and no cooling water
UNHOUSED_TIERS = ("Edge", "Mobile", "Tiny")


@dataclass(frozen=True)
class Site:
    """Where the fleet runs: the grid it draws from, the facility's PUE and its on-site water per IT kWh
    (None: the grid's typical facility, ``grid.wue``)."""

    grid: GridProfile
    pue: float
    how: str
    onsite_wue: float | None = None

    @property
    def wue(self) -> float:
        return self.grid.wue if self.onsite_wue is None else self.onsite_wue

    @property
    def region_name(self) -> str:
        return self.grid.name


def resolve_site(datacenter=None, grid=None, region=None, fleet=None) -> Site:
    """A Site from any of the 0.1.0 spellings: a GridProfile, a Datacenter, or a grid name.

    Falls back to the fleet's own datacenter or region, then to the US average grid.
    """
    given = [v for v in (datacenter, grid, region) if v is not None]
    if len({id(v) for v in given}) > 1:
        raise InputError("give the site once: datacenter=, grid= and region= are synonyms")
    place, how = (given[0], "as given") if given else (None, "")
    if place is None and fleet is not None:
        place = getattr(fleet, "datacenter", None) or getattr(fleet, "region", None)
        how = "the fleet's own site"
    unhoused = _unhoused_tier(fleet) if datacenter is None else None
    if place is None:
        place, how = DEFAULT_REGION, "no site given: US average grid assumed"
    if isinstance(place, str):
        from ..infra.registry import Infra

        if place not in Infra.Grids and place in Infra.Datacenters:
            place = Infra.Datacenters.get(place)
        else:
            place = Infra.Grids.get(place)
    if isinstance(place, Datacenter):
        return Site(place.grid, float(place.pue), f"{place.name} ({how})")
    if isinstance(place, GridProfile):
        if unhoused:
            article = "an" if unhoused[0] in "AEIOU" else "a"
            return Site(place, 1.0, f"{how}; {article} {unhoused.lower()} device outside any datacenter: PUE 1 and "
                                    f"no cooling water (name a datacenter to house it)", onsite_wue=0.0)
        return Site(place, float(place.pue), how)
    raise InputError(f"datacenter must be a GridProfile, a Datacenter or a grid name, got {type(place).__name__}")


def _unhoused_tier(fleet) -> str | None:
    """The zoo tier of a lone edge, mobile or tiny device (None for anything a datacenter houses)."""
    from ..hardware.types import HardwareNode

    if not isinstance(fleet, HardwareNode):
        return None
    from ..hardware.registry import Hardware

    tier = Hardware.tier_of(fleet)
    return tier if tier in UNHOUSED_TIERS else None


def check_fraction(value, what: str, allow_zero: bool = True) -> float:
    """A number in [0, 1] (or (0, 1]), or one clear sentence."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number between 0 and 1, got {value!r}") from None
    if not math.isfinite(x) or x < 0 or x > 1 or (x == 0 and not allow_zero):
        raise InputError(f"{what} must be between {'0' if allow_zero else 'above 0'} and 1, got {value!r}")
    return x


#: the longest period a footprint is computed over (a million years: beyond it energies stop being numbers)
MAX_DURATION_S = 1e6 * YEAR_S


def duration_seconds(duration_days) -> float:
    """A positive duration, read as days when a bare number, of at most a million years."""
    seconds = parse(duration_days, "day", "duration_days", positive=True)
    if seconds > MAX_DURATION_S:
        raise InputError(f"duration_days must be at most a million years, got {duration_days!r}")
    return seconds


@dataclass(frozen=True)
class SustainabilityResult(Result):
    """Energy, carbon and water of one fleet over one period (SI floats; named units on read)."""

    region_name: str
    pue: float
    carbon_intensity_g_kwh: float
    duration_s: float
    utilization: float
    accelerators: int
    power: power.PowerBreakdown
    it_energy_j: float
    facility_energy_j: float
    carbon_footprint_kg: float
    embodied_carbon_kg: float
    water_onsite_liters: float
    water_offsite_liters: float
    useful_flop: float | None = None

    @property
    def it_energy_kwh(self) -> SIValue:
        return SIValue(self.it_energy_j, "kWh")

    @property
    def total_energy_kwh(self) -> SIValue:
        """Facility energy (IT x PUE); ``.magnitude`` is in kWh."""
        return SIValue(self.facility_energy_j, "kWh")

    @property
    def water_usage_liters(self) -> float:
        return self.water_onsite_liters + self.water_offsite_liters

    @property
    def total_carbon_kg(self) -> float:
        """Operational plus amortized embodied carbon."""
        return self.carbon_footprint_kg + self.embodied_carbon_kg

    @property
    def duration_days(self) -> float:
        return self.duration_s / 86400.0

    @property
    def it_power(self) -> SIValue:
        return SIValue(self.power.it_w, "kW")

    @property
    def facility_power(self) -> SIValue:
        return SIValue(self.power.it_w * self.pue, "kW")


@dataclass(frozen=True)
class TokenFootprint(Result):
    """Energy, carbon and water per million tokens of one device serving or training."""

    region_name: str
    pue: float
    tokens_per_s: float
    it_power_w: float
    energy_per_million_tokens_kwh: float
    carbon_per_million_tokens_kg: float
    water_per_million_tokens_liters: float


class SustainabilityModel(Solver):
    """Energy, carbon and water of a fleet run for a period on a grid (wall 18)."""

    walls = (18,)

    def solve(self, fleet, duration_days, datacenter=None, utilization=None, mfu=None, *, grid=None, region=None,
              hardware_life_years=HARDWARE_LIFE_YEARS, embodied_carbon_per_device=None,
              storage_w_per_node=0.0) -> SustainabilityResult:
        """Footprint of ``fleet`` (Fleet, Node or one HardwareNode) run for ``duration_days``.

        ``utilization`` is the accelerators' average activity (0 idle, 1 at TDP); the default is
        a measured training run. ``mfu``, when given, only reports the useful FLOPs delivered:
        power follows activity, not model FLOPs (a busy accelerator at 40% MFU draws near TDP).
        """
        seconds = duration_seconds(duration_days)
        u = power.DEFAULT_UTILIZATION if utilization is None else check_fraction(utilization, "utilization")
        life = parse(hardware_life_years, "year", "hardware_life_years", positive=True) / YEAR_S
        storage = parse(storage_w_per_node, "W", "storage_w_per_node")
        site = resolve_site(datacenter, grid, region, fleet)
        acc, n_acc, _, _, _ = power.fleet_shape(fleet)
        watts = power.fleet_power(fleet, u, storage)

        it_j = watts.it_w * seconds
        facility_j = it_j * site.pue
        carbon = site.grid.carbon_kg(facility_j / KWH_J)
        onsite = site.wue * it_j / KWH_J
        offsite = (site.grid.grid_water_l_kwh or 0.0) * facility_j / KWH_J

        per_device = acc.embodied_carbon_kg if embodied_carbon_per_device is None else \
            parse(embodied_carbon_per_device, "kg", "embodied_carbon_per_device")
        embodied = (per_device or 0.0) * n_acc * seconds / (life * YEAR_S)
        m = None if mfu is None else check_fraction(mfu, "mfu", allow_zero=False)
        useful = None if m is None else float(acc.compute.peak_flops) * m * n_acc * seconds

        notes = [f"site: {site.region_name}, {site.how}; PUE {site.pue:g}, "
                 f"{site.grid.carbon_intensity_g_kwh:g} gCO2e/kWh (life-cycle), on-site WUE {site.wue:g} L/kWh",
                 power.SOURCES["utilization"] if utilization is None
                 else f"activity {u:g} of the idle-to-TDP range",
                 *power.power_assumptions(fleet, storage)]
        if site.grid.grid_water_l_kwh is None:
            notes.append(f"{site.region_name} states no off-site (generation) water: on-site water only")
        notes.append(f"embodied carbon: {format_number(per_device)} kg per {acc.name} over {life:g} years"
                     + ("; " + LIFE_SOURCE if life == HARDWARE_LIFE_YEARS else "") if per_device
                     else f"{acc.name} has no embodied-carbon figure: none counted")
        if m is not None:
            notes.append(f"mfu {m:g} of the dense fp16 peak sets useful FLOPs only; power follows activity")
        share = carbon / (carbon + embodied) if carbon + embodied else 1.0
        binding = (f"operational carbon ({site.grid.carbon_intensity_g_kwh:g} gCO2e/kWh x PUE {site.pue:g}) is "
                   f"{share:.0%} of the footprint" if share >= 0.5 else
                   f"embodied carbon of the accelerators is {1 - share:.0%} of the footprint")
        return SustainabilityResult(
            region_name=site.region_name, pue=site.pue, carbon_intensity_g_kwh=site.grid.carbon_intensity_g_kwh,
            duration_s=seconds, utilization=u, accelerators=n_acc, power=watts, it_energy_j=it_j,
            facility_energy_j=facility_j, carbon_footprint_kg=carbon, embodied_carbon_kg=embodied,
            water_onsite_liters=onsite, water_offsite_liters=offsite, useful_flop=useful,
            assumptions=tuple(notes), binding=binding)

    def training_run(self, profile, fleet, steps=None, tokens=None, datacenter=None, *, grid=None, region=None,
                     **options) -> SustainabilityResult:
        """Footprint of a whole training run whose per-device step is ``profile`` (from ``Engine.solve``).

        Every accelerator of the fleet runs the profiled step in parallel (data parallelism), so the
        run lasts ``steps`` x step time; ``tokens`` (or samples) gives the steps instead. Activity is
        the step's busy fraction (compute- or memory-bound time over total step time).
        """
        _, n_acc, _, _, _ = power.fleet_shape(fleet)
        if (steps is None) == (tokens is None):
            raise InputError("give either steps or tokens for a training run")
        if steps is None:
            steps = parse(tokens, "tokens", "tokens", positive=True) / (float(profile.samples_per_step) * n_acc)
        steps = parse(steps, "count", "steps", positive=True)
        days = steps * float(profile.latency_s) / 86400.0
        return self.solve(fleet, days, datacenter, utilization=_busy_fraction(profile), grid=grid, region=region,
                          **options)

    def per_million_tokens(self, profile, datacenter=None, node=None, *, grid=None,
                           region=None) -> TokenFootprint:
        """Energy, carbon and water per million tokens of the device step ``profile`` describes.

        The device draws what ``Engine.solve`` charged for the step (the same idle/active split as
        ``power``); with ``node``, it also carries its share of the node's host power.
        """
        tokens_per_step = float(profile.samples_per_step)
        if profile.throughput_unit == "sequences/s":
            tokens_per_step *= float(profile.seq_len)
        elif profile.throughput_unit != "tokens/s":
            raise InputError(f"per-token figures need a language-model profile; {profile.model_name} "
                             f"counts {profile.throughput_unit.split('/')[0]}")
        if not float(profile.energy_j) > 0:
            raise InputError(f"{profile.hardware_name} has no published power figure, so its energy per token "
                             f"cannot be estimated")
        site = resolve_site(datacenter, grid, region)
        u = _busy_fraction(profile)
        device_w = float(profile.energy_j) / float(profile.latency_s)
        notes = [f"site: {site.region_name}; PUE {site.pue:g}, {site.grid.carbon_intensity_g_kwh:g} gCO2e/kWh",
                 f"device power {device_w:,.0f} W from the step's energy (busy fraction {u:.2f})"]
        host_w = 0.0
        if node is not None:
            host_w = power.fleet_power(node, u).host_w / node.accelerators_per_node
            notes += power.power_assumptions(node)[1:2]
        else:
            notes.append("device only: no host, fabric or storage power counted (pass node= to add the host)")
        tokens_per_s = tokens_per_step / float(profile.latency_s)
        it_kwh = (device_w + host_w) / tokens_per_s * 1e6 / KWH_J
        facility_kwh = it_kwh * site.pue
        water = site.wue * it_kwh + (site.grid.grid_water_l_kwh or 0.0) * facility_kwh
        return TokenFootprint(
            region_name=site.region_name, pue=site.pue, tokens_per_s=tokens_per_s, it_power_w=device_w + host_w,
            energy_per_million_tokens_kwh=facility_kwh,
            carbon_per_million_tokens_kg=site.grid.carbon_kg(facility_kwh),
            water_per_million_tokens_liters=water, assumptions=tuple(notes),
            binding=f"{str(profile.bottleneck).lower()}-bound step at {tokens_per_s:,.0f} tokens/s per device")


def _busy_fraction(profile) -> float:
    """The part of a step the device spends computing or moving memory (the rest is launch overhead)."""
    busy = float(profile.latency_compute_s) + float(profile.latency_memory_s)
    return min(max(busy / float(profile.latency_s), 0.0), 1.0)
