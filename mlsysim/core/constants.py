"""0.1.0 path of the unit registry and of its named constants (``from mlsysim.core.constants import
A100_MEM_BW, ureg``).

Facts do not live here; they live in ``mlsysim/zoo/data``. A 0.1.0 figure of a chip or a model
(``H100_MEM_BW``, ``LLAMA3_8B_LAYERS``) is read from the zoo entry on first access, as a pint Quantity
(counts of layers, heads and dimensions as ints); unit aliases and counting conventions come from
``mlsysim.core.units``. Being the zoo's figures, a few differ from 0.1.0's typed-in ones: a CNN's
``*_FLOPs`` counts 2 FLOPs per multiply-accumulate (0.1.0 counted one), NVLink figures are both
directions summed as 0.1.0 gave them, and prices and rates carry the zoo's sources.

0.1.0 figures that no zoo entry holds (energies per operation, dataset sizes, labeling and storage prices,
reference envelopes) are textbook facts, each with its value, unit and source in ``zoo/data/textbook.yaml``,
read (and checked) on first access: a Quantity of that unit, or a plain number or text where 0.1.0 gave
one. As in 0.1.0, the defaults of ``mlsysim.core.defaults`` are served here too.
"""
from __future__ import annotations

from functools import lru_cache

from .. import units as _units
from ..units import Q_

__all__ = ["Q_"]  # and ureg, the unit aliases and the zoo figures, each created on first access

#: counting conventions 0.1.0 named: bits per element, the ring all-reduce's 2 (reduce-scatter, all-gather),
#: and an 8-bit RGB pixel
FP32_BITS, INT8_BITS = 32, 8
ALLREDUCE_FACTOR = 2
IMAGE_CHANNELS_RGB, COLOR_DEPTH_8BIT = 3, 2**8

#: 0.1.0 chip prefix -> hardware zoo key
_CHIPS = {"V100": "V100", "A100": "A100", "H100": "H100", "H200": "H200", "B200": "B200", "MI300X": "MI300X",
          "MI250X": "MI250X", "GAUDI2": "Gaudi2", "GAUDI3": "Gaudi3", "TRAINIUM2": "Trainium2", "T4": "T4",
          "TPUV1": "TPUv1", "TPUV2": "TPUv2", "TPUV3": "TPUv3", "TPUV4": "TPUv4", "TPUV5P": "TPUv5p",
          "TPUV6": "TPUv6", "CEREBRAS_CS3": "Cerebras_CS3", "WSE3": "Cerebras_CS3"}
#: 0.1.0 chip suffix -> (precision whose peak rate it is, or a record path) and the unit it is given in
_CHIP_FIELDS = {
    "FLOPS_FP16_TENSOR": ("fp16", "TFLOP/s"), "FLOPS_FP16": ("fp16", "TFLOP/s"), "FLOPS_BF16": ("bf16", "TFLOP/s"),
    "FLOPS_TF32": ("tf32", "TFLOP/s"), "FLOPS_FP32": ("fp32", "TFLOP/s"), "FLOPS_FP8_TENSOR": ("fp8", "TFLOP/s"),
    "FLOPS_FP8": ("fp8", "TFLOP/s"), "FLOPS_INT8": ("int8", "TFLOP/s"), "FLOPS_INT4": ("int4", "TFLOP/s"),
    "MEM_BW": ("memory.bandwidth", "GB/s"), "MEM_CAPACITY": ("memory.capacity", "GiB"), "TDP": ("tdp", "W"),
    "UNIT_COST": ("unit_cost", "USD"), "CORES": ("compute.units", "count"),
}
#: 0.1.0 model prefix -> model zoo key
_MODELS = {"GPT2": "GPT2", "GPT3": "GPT3", "GPT4": "GPT4", "LLAMA2_70B": "Llama2_70B", "LLAMA3_8B": "Llama3_8B",
           "LLAMA3_70B": "Llama3_70B", "LLAMA3_405B": "Llama3_405B", "BERT_BASE": "BERT_Base",
           "BERT_LARGE": "BERT_Large", "ALEXNET": "AlexNet", "YOLOV8_NANO": "YOLOv8_Nano", "WAKEVISION": "WakeVision",
           "MAMBA_130M": "Mamba_130M", "MAMBA_2_8B": "Mamba_2_8B", "STABLE_DIFFUSION_V1_5": "StableDiffusion_v1_5",
           "RESNET50": "ResNet50", "MOBILENETV2": "MobileNetV2", "MOBILENET_V1": "MobileNetV1",
           "KWS_DSCNN": "DS_CNN", "ANOMALY_MODEL": "AnomalyDetector"}
#: 0.1.0 model suffix -> (workload field, unit; None: a plain int)
_MODEL_FIELDS = {"PARAMS": ("parameters", "param"), "EST_PARAMS": ("parameters", "param"),
                 "FLOPs": ("inference_flops", "GFLOP"), "FLOPs_PER_STEP": ("inference_flops", "GFLOP"),
                 "LAYERS": ("layers", None), "HIDDEN_DIM": ("hidden_dim", None), "HEADS": ("heads", None),
                 "KV_HEADS": ("kv_heads", None), "STATE_SIZE": ("state_size", None),
                 "RESOLUTION": ("resolution", None), "STEPS": ("denoising_steps", None)}


def _price(key: str, unit: str):
    from ..zoo.registry import load_data

    return Q_(float(load_data("infra")["pricing"]["Cloud"][key]["value"]), unit)


def _fabric(key: str):
    from ..systems.registry import Fabrics

    return _as_quantity(Fabrics.get(key).bandwidth, "Gbit/s")


def _nvlink(key: str):
    """Both directions of every NVLink of the chip (0.1.0's figure; the zoo keeps one direction)."""
    from ..hardware.registry import Hardware

    return _as_quantity(2 * float(Hardware.get(key).nvlink.bandwidth), "GB/s")


def _pod(field: str, unit: str | None):
    from ..systems.registry import Systems

    value = getattr(Systems.Pods.TPUv4_4096, field)
    return int(value) if unit is None else _as_quantity(value, unit)


def _precision_map() -> dict:
    from ..ops import PRECISION_BYTES

    return {p: Q_(PRECISION_BYTES[p], "byte") for p in ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4")}


def _model(key: str):
    from ..models.registry import Models

    return Models.get(key)


#: other 0.1.0 figures that the zoo holds, and where
_OTHER = {
    "CLOUD_EGRESS_PER_GB": lambda: _price("EgressPerGB", "USD/GB"),
    "CLOUD_ELECTRICITY_PER_KWH": lambda: _price("ElectricityPerKwh", "USD/kWh"),
    **{f"INFINIBAND_{g}_BW": (lambda g=g: _fabric(f"InfiniBand_{g}")) for g in ("HDR", "NDR", "XDR", "GXDR")},
    "NETWORK_10G_BW": lambda: _fabric("Ethernet_10G"), "NETWORK_100G_BW": lambda: _fabric("Ethernet_100G"),
    **{f"NVLINK_{chip}_BW": (lambda chip=chip: _nvlink(chip)) for chip in ("V100", "A100", "H100", "B200")},
    "TPU_POD_CHIPS": lambda: _pod("chips", None), "TPU_POD_MEM": lambda: _pod("memory", "TiB"),
    "TPU_POD_POWER": lambda: _pod("power", "MW"),
    "PRECISION_MAP": _precision_map,
    "IMAGE_DIM_RESNET": lambda: _model("ResNet50").resolution,
}


@lru_cache(maxsize=None)
def _textbook(section: str) -> dict:
    """``section`` (``constants`` or ``defaults``) of ``zoo/data/textbook.yaml``, read and checked once."""
    from ..zoo.registry import load_data

    return load_data("textbook")[section]


def _textbook_figure(section: str, name: str):
    """0.1.0's ``name`` as the textbook facts give it: a Quantity of its ``unit``, else the plain number or text
    (``traceable``: a TraceableConstant carrying its source); None when the facts do not hold it."""
    fact = _textbook(section).get(name)
    if fact is None:
        return None
    value, unit = fact["value"], fact.get("unit")
    if fact.get("traceable"):
        from .provenance import TraceableConstant

        return TraceableConstant(value, name=name, citation=fact["source"],
                                 description=f"MLSys·im 0.1.0's {name}" + (f", in {unit}" if unit else ""))
    return Q_(value, unit) if unit is not None and not fact.get("as_number") else value


def _split(name: str, prefixes: dict, suffixes: dict):
    """(zoo key, suffix spec) when ``name`` is a known prefix, ``_`` and a known suffix."""
    for prefix in sorted(prefixes, key=len, reverse=True):
        rest = name[len(prefix) + 1:]
        if name.startswith(prefix + "_") and rest in suffixes:
            return prefixes[prefix], suffixes[rest]
    return None


def _as_quantity(si: float, unit: str):
    return Q_(_units.from_si(float(si), unit), unit)


def _zoo_figure(name: str):
    if name in _OTHER:
        return _OTHER[name]()
    chip = _split(name, _CHIPS, _CHIP_FIELDS)
    if chip:
        from ..hardware.registry import Hardware

        (key, (where, unit)) = chip
        hw = Hardware.get(key)
        if "." not in where and where in hw.compute.precision_flops:
            return _as_quantity(hw.compute.precision_flops[where], unit)
        value = hw
        for part in where.split("."):
            value = getattr(value, part, None)
        return None if value is None else _as_quantity(value, unit)
    model = _split(name, _MODELS, _MODEL_FIELDS)
    if model:
        (key, (field, unit)) = model
        workload = _model(key)
        value = getattr(workload, field, None)
        if value is None and field == "inference_flops" and hasattr(workload, "forward_flops"):
            value = workload.forward_flops()      # a CNN's, counted from its layers (2 FLOPs per MAC)
        if value is None:
            return None
        return int(value) if unit is None else _as_quantity(value, unit)
    return None


def __getattr__(name: str):
    from . import units

    if name == "ureg":
        return _units.ureg
    if name in units.__all__:
        return getattr(units, name)
    if name == "VIDEO_BYTES_PER_PIXEL_RGB":
        return IMAGE_CHANNELS_RGB * units.BYTES_INT8
    if name.startswith("_"):
        raise AttributeError(f"module 'mlsysim.core.constants' has no attribute '{name}'")
    value = _zoo_figure(name)
    if value is None:
        value = _textbook_figure("constants", name)
    if value is None:
        from . import defaults

        if name not in defaults.names():
            raise AttributeError(f"module 'mlsysim.core.constants' has no attribute '{name}'")
        value = getattr(defaults, name)
    globals()[name] = value
    return value
