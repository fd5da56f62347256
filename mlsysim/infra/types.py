"""Where the power comes from: grids, datacenters, cooling."""
from __future__ import annotations

from pydantic import Field

from ..core.types import Metadata, Record


class GridProfile(Record):
    """An electricity grid and the typical datacenter on it."""

    name: str
    carbon_intensity_g_kwh: float = Field(ge=0)
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
