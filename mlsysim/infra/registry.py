"""Grids, datacenters, cooling classes and prices, built from ``zoo/data/infra.yaml``."""
from __future__ import annotations

from ..core.types import Metadata
from ..zoo.registry import Registry, load_data
from .types import CoolingProfile, Datacenter, GridProfile

_GRID_KEYS = {"wue_l_kwh": "wue"}


def _meta(fact: dict) -> Metadata:
    return Metadata(source=fact["source"])


def _grid(fact: dict) -> GridProfile:
    fields = {_GRID_KEYS.get(k, k): v for k, v in fact.items() if k != "source"}
    return GridProfile(**fields, metadata=_meta(fact))


def _build():
    data = load_data("infra")
    grids = {k: _grid(f) for k, f in (data.get("grids") or {}).items()}
    datacenters = {k: Datacenter(name=f["name"], grid=grids[f["grid"]], pue_override=f.get("pue_override"),
                                 metadata=_meta(f))
                   for k, f in (data.get("datacenters") or {}).items()}
    cooling = {k: CoolingProfile(name=f["name"], pue=f["pue"], wue=f.get("wue_l_kwh", 0.0), metadata=_meta(f))
               for k, f in (data.get("cooling") or {}).items()}
    grid_ns = Registry("Grids", "grid", grids)
    infra = Registry("Infra", "infrastructure", children={
        "Grids": grid_ns, "Datacenters": Registry("Datacenters", "datacenter", datacenters),
        "FacilityCooling": Registry("FacilityCooling", "cooling class", cooling)})
    infra._entries["Pricing"] = dict(data.get("pricing") or {})
    return infra, grid_ns


Infra, Grids = _build()
Infrastructure = Infra


def __getattr__(name: str):
    """0.1.0 kept the rack profiles here; they live with the systems now (``Systems.Racks``)."""
    if name == "Racks":
        from ..systems.registry import Racks
        return Racks
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
