"""0.1.0's default assumptions (``from mlsysim.core.defaults import PUE_TYPICAL``), each served from where
this package keeps the fact: the zoo (grids, cooling classes, fabrics, clusters, prices, the datasheet
reliability profile) or the solver that uses it. Values are this package's, with its sources, so some
differ from 0.1.0's (PUE_BEST_AIR is 1.2 here, 1.12 there); each is read on first access.

0.1.0 defaults with no counterpart here (the per-wall overhead shares, quantization accuracy deltas,
rack-power bands and the like) are textbook assumptions, each with its value, unit and source in
``zoo/data/textbook.yaml`` (``defaults``), served as 0.1.0 gave them: a plain number, text, or a
``TraceableConstant`` that carries its source. No solver here reads them; code that relied on one gets 0.1.0's.
"""
from __future__ import annotations

import importlib


def _zoo(kind: str, *path):
    from ..zoo.registry import load_data

    value = load_data(kind)
    for key in path:
        value = value[key]
    return value


def _mttf(part: str) -> float:
    """Hours per failure of one ``part`` in the datasheet reliability profile."""
    profile = _zoo("reliability", "profiles", "datasheet")
    return float(profile["exposure"][part]) / float(profile["components"][part]["count"])


def _registry(name: str, key: str):
    module, attr = {"Grids": ("infra.registry", "Grids"), "FacilityCooling": ("infra.registry", "Infra"),
                    "Fabrics": ("systems.registry", "Fabrics"), "Clusters": ("systems.registry", "Clusters"),
                    "Hardware": ("hardware.registry", "Hardware")}[name]
    registry = getattr(importlib.import_module(f"mlsysim.{module}"), attr)
    return (registry.FacilityCooling if name == "FacilityCooling" else registry).get(key)


def _constant(module: str, name: str):
    return getattr(importlib.import_module(f"mlsysim.{module}"), name)


def _usd(key: str):
    from ..units import Q_

    return Q_(float(_registry("Hardware", key).unit_cost), "USD")


#: 0.1.0 name -> how to read it here
_DEFAULTS = {
    "GPU_MTTF_HOURS": lambda: _mttf("gpu"), "NIC_MTTF_HOURS": lambda: _mttf("nic"),
    "PSU_MTTF_HOURS": lambda: _mttf("psu"),
    **{f"CLUSTER_{size}_GPUS": (lambda key=key: _registry("Clusters", key).total_accelerators)
       for size, key in (("SMALL", "Research_256"), ("MEDIUM", "Production_2K"), ("LARGE", "Frontier_8K"),
                         ("MEGA", "Mega_100K"))},
    **{f"{name}_BW_GBS": (lambda key=key: _registry("Fabrics", key).bandwidth.m_as("GB/s"))
       for name, key in (("INFINIBAND_HDR", "InfiniBand_HDR"), ("INFINIBAND_NDR", "InfiniBand_NDR"),
                         ("INFINIBAND_XDR", "InfiniBand_XDR"), ("ETHERNET_400G", "Ethernet_400G"),
                         ("ETHERNET_800G", "Ethernet_800G"), ("ROCE_100G", "RoCE_100G"))},
    **{f"{name}_LATENCY_US": (lambda key=key: _registry("Fabrics", key).latency.m_as("us"))
       for name, key in (("IB_HDR", "InfiniBand_HDR"), ("IB_NDR", "InfiniBand_NDR"), ("ROCE", "RoCE_100G"))},
    **{f"PUE_{name}": (lambda key=key: _registry("FacilityCooling", key).pue)
       for name, key in (("LIQUID_COOLED", "LiquidCooled"), ("BEST_AIR", "BestAir"), ("TYPICAL", "Typical"),
                         ("LEGACY", "Legacy"))},
    "WUE_LIQUID": lambda: _registry("FacilityCooling", "LiquidCooled").wue,
    "WUE_AIR_COOLED": lambda: _registry("FacilityCooling", "BestAir").wue,
    **{f"CARBON_{name}_GCO2_KWH": (lambda key=key: _registry("Grids", key).carbon_intensity_g_kwh)
       for name, key in (("US_AVG", "US_Avg"), ("EU_AVG", "EU_Avg"), ("QUEBEC", "Quebec"), ("FRANCE", "France"),
                         ("POLAND", "Poland"), ("NORWAY", "Norway"))},
    **{f"GPU_UNIT_COST_{key}": (lambda key=key: _usd(key)) for key in ("H100", "A100", "B200")},
    "DEFAULT_KWH_PRICE": lambda: float(_zoo("infra", "pricing", "Cloud", "ElectricityPerKwh", "value")),
    "CHINCHILLA_TOKENS_PER_PARAM": lambda: _constant("training.scaling", "CHINCHILLA_TOKENS_PER_PARAM"),
    "CHINCHILLA_COMPUTE_CONSTANT": lambda: _constant("formulas.training", "TRAIN_FLOPS_PER_PARAM_TOKEN"),
    "REFERENCE_MFU_SUSTAINED": lambda: _constant("training.scaling", "REFERENCE_MFU"),
    "DEFAULT_OVERLAP_EFFICIENCY": lambda: _constant("training.distributed", "DEFAULT_OVERLAP"),
}



def _textbook(name: str):
    from .constants import _textbook_figure

    return _textbook_figure("defaults", name)


def names() -> list[str]:
    """Every 0.1.0 default served here (reads the textbook facts)."""
    from .constants import _textbook

    return sorted({*_DEFAULTS, *_textbook("defaults")})


def __getattr__(name: str):
    if name == "__all__":                  # ``from mlsysim.core.defaults import *``: listed on demand
        return names()
    if name in _DEFAULTS:
        value = _DEFAULTS[name]()
    elif name.startswith("_") or (value := _textbook(name)) is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value
