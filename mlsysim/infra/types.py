"""Where the power comes from: grids, datacenters, cooling."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..core.types import Metadata, Record
from ..errors import InputError

#: The two ways of counting a grid's carbon: what is generated in the zone, or what its
#: consumers draw once imports and exports are traced.
INTENSITY_BASES = ("generation", "consumption")


class GridProfile(Record):
    """An electricity grid and the typical datacenter on it.

    ``carbon_intensity_g_kwh`` is life-cycle gCO2e per kWh on ``intensity_basis``; the zoo's
    default is generation-based (see ``zoo/data/infra.yaml``). ``consumption_intensity_g_kwh``,
    where known, is the flow-traced figure of what the zone's consumers draw.
    """

    name: str
    carbon_intensity_g_kwh: float = Field(ge=0)
    intensity_basis: Literal["generation", "consumption"] = "generation"
    consumption_intensity_g_kwh: float | None = Field(default=None, ge=0)
    pue: float = Field(default=1.12, ge=1.0)
    wue: float = Field(default=0.0, ge=0)
    grid_water_l_kwh: float | None = Field(default=None, ge=0)
    electricity_usd_kwh: float | None = Field(default=None, ge=0)
    primary_source: str = "mixed"
    renewable_pct: float | None = None
    lat: float | None = None
    lon: float | None = None
    metadata: Metadata = Metadata()

    @property
    def carbon_intensity_kg_kwh(self) -> float:
        return self.carbon_intensity_g_kwh / 1000.0

    def carbon_kg(self, facility_kwh: float) -> float:
        """Carbon of ``facility_kwh`` drawn from this grid (PUE already applied)."""
        return float(facility_kwh) * self.carbon_intensity_kg_kwh

    def on_basis(self, basis: str) -> "GridProfile":
        """This grid with its carbon counted on ``basis`` ("generation" or "consumption").

        Consumption-based (location-based Scope 2 reporting) charges imports to the importer;
        generation-based charges the zone for what its own plants emit.
        """
        if basis not in INTENSITY_BASES:
            raise InputError(f"intensity basis must be one of {', '.join(INTENSITY_BASES)}, got {basis!r}")
        if basis == self.intensity_basis:
            return self
        if basis == "consumption" and self.consumption_intensity_g_kwh is not None:
            return self.model_copy(update={"carbon_intensity_g_kwh": self.consumption_intensity_g_kwh,
                                           "intensity_basis": "consumption",
                                           "name": f"{self.name}, consumption-based"})
        raise InputError(f"{self.name} has no {basis}-based carbon intensity in the zoo; "
                         f"give one with GridProfile(..., carbon_intensity_g_kwh=..., intensity_basis={basis!r})")


class Datacenter(Record):
    name: str
    grid: GridProfile
    pue_override: float | None = Field(default=None, ge=1.0)
    metadata: Metadata = Metadata()

    @property
    def pue(self) -> float:
        return self.pue_override or self.grid.pue


class CoolingProfile(Record):
    name: str
    pue: float = Field(ge=1.0)
    wue: float = Field(default=0.0, ge=0)
    metadata: Metadata = Metadata()


def __getattr__(name: str):
    """0.1.0 kept ``RackProfile`` here; it is a system type now (``mlsysim.systems.types``)."""
    if name == "RackProfile":
        from ..systems.types import RackProfile
        return RackProfile
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
