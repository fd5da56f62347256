"""Schema of ``infra.yaml``: grids, datacenters and cooling classes (``<section>: <RegistryKey>: {...}``) and
prices (``pricing: <group>: <Name>: {...}``); the file's header gives the basis of every figure."""
from ..facts import block, choice, entries, number, refers, register, required, text

NON_NEGATIVE = number(ge=0)
PUE = number(ge=1)


def _datacenter_grids_resolve(infra: dict) -> None:
    refers(infra, "datacenters", "grid", "grids")


def _value_or_range(price: dict) -> None:
    single = "value" in price and "low" not in price and "high" not in price
    ranged = "value" not in price and "low" in price and "high" in price and price["low"] <= price["high"]
    if not (single or ranged):
        raise ValueError("must give either 'value' or 'low' and 'high' (low <= high)")


GRID = block(
    name=required(text),
    carbon_intensity_g_kwh=required(NON_NEGATIVE),
    intensity_basis=required(choice("generation", "consumption")),
    consumption_intensity_g_kwh=NON_NEGATIVE,
    pue=required(PUE),
    wue_l_kwh=required(NON_NEGATIVE),
    grid_water_l_kwh=NON_NEGATIVE,
    electricity_usd_kwh=NON_NEGATIVE,
    primary_source=text,
    renewable_pct=number(ge=0, le=100),
    lat=number(ge=-90, le=90),
    lon=number(ge=-180, le=180),
    source=required(text),
)
DATACENTER = block(name=required(text), grid=required(text), pue_override=PUE, source=required(text))
COOLING = block(name=required(text), pue=required(PUE), wue_l_kwh=NON_NEGATIVE, source=required(text))
PRICE = block(check=_value_or_range, value=NON_NEGATIVE, low=NON_NEGATIVE, high=NON_NEGATIVE, unit=required(text),
              source=required(text))

register("infra", block(check=_datacenter_grids_resolve, grids=entries(GRID), datacenters=entries(DATACENTER),
                        cooling=entries(COOLING), pricing=entries(entries(PRICE))),
         entry_depth=2)
