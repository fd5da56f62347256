"""Execution profiles: the software stacks a workload runs under (PyTorch eager, CUDA graphs,
torch.compile, vLLM, SGLang, TensorRT, TensorRT-LLM, llama.cpp, JAX/XLA, TFLite), read from
``zoo/data/profiles.yaml``.

A profile is data: how the stack launches kernels, whether its host runs ahead of the GPU,
which operators it fuses, which kernels it launches for each piece of a transformer layer, and
how it stores the KV cache and activations by default. The engine and the workload families
apply it; this module only names and validates it. ``Stacks`` is the registry
(``Stacks.vllm``, ``Stacks.get("compiled")``); every surface resolves a stack through
:func:`execution_profile`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .core.types import Bytes, Record
from .errors import InputError
from .ops import FUSIONS, TRANSFORMER_KERNELS, normalize_precision
from .units import parse
from .zoo.registry import Registry, load_data


class StackPrecisions(Record):
    """How a stack stores tensors when a run gives only its precision: the KV cache at the run's
    ``precision`` and activations at the matmuls' (``compute``) even when narrower than 16 bits, or
    ``wide``: at that precision when 16 bits or wider, else in 16 bits; or a named precision."""

    kv_cache: str = "wide"
    activations: str = "wide"

    @field_validator("kv_cache", "activations")
    @classmethod
    def _known(cls, value: str, info) -> str:
        rule = "precision" if info.field_name == "kv_cache" else "compute"
        return value if value in (rule, "wide") else normalize_precision(value)


class TransformerKernels(Record):
    """The kernels a stack launches for each piece of a transformer layer (choices and their meaning:
    ``mlsysim.ops.TRANSFORMER_KERNELS``), read from the stack's source code; the defaults are a fused
    serving engine's."""

    embedding: str = "fused"
    norm: str = "fused"
    residual: str = "in_norm"
    qkv: str = "merged"
    rope: str = "fused"
    kv_write: str = "paged"
    gate_up: str = "merged"
    activation: str = "fused"
    moe: str = "grouped"
    low_bit_input_quant: int = Field(default=1, ge=0)
    weight_only_input_quant: int = Field(default=0, ge=0)
    source: str = ""

    @model_validator(mode="after")
    def _known(self):
        for piece, options in TRANSFORMER_KERNELS.items():
            if getattr(self, piece) not in options:
                raise ValueError(f"kernels.{piece} must be one of {', '.join(options)}, got {getattr(self, piece)!r}")
        return self


@dataclass(frozen=True)
class FirstOrderSite:
    """0.1.0's fleet footprint and cost rules (its ``SustainabilityModel`` and ``EconomicsModel``): the
    accelerators alone at ``TDP x (idle + (1 - idle) x utilization)``, facility energy = IT x PUE, water =
    facility energy x WUE, and capex written off over ``amortization_years`` plus yearly maintenance."""

    #: accelerator activity when none is given (0.1.0's mfu default: at TDP)
    utilization: float
    kwh_price_usd: float
    amortization_years: float
    maintenance_per_year: float
    #: the price of an accelerator that gives none
    unit_cost_usd: float
    #: 0.1.0's grid table: (zoo key, PUE, gCO2/kWh, WUE in L per facility kWh); a grid not listed keeps this zoo's
    grids: tuple[tuple[str, float, float, float], ...]
    source: str

    def grid(self, key: str | None) -> tuple[float, float, float] | None:
        """(PUE, gCO2/kWh, WUE) of a grid in 0.1.0's table, or None."""
        return next((row[1:] for row in self.grids if row[0] == key), None)


@dataclass(frozen=True)
class FirstOrder:
    """The first-order model of MLSys·im 0.1.0 (the textbook's): each step one roofline,
    ``max(FLOPs / (peak x efficiency), bytes / bandwidth)`` plus a fixed dispatch overhead, with 0.1.0's
    counting rules, memory-footprint rules and energy rule. A profile that carries one is timed by it
    (:mod:`mlsysim.engine.first_order`) instead of operator by operator. Seconds and bytes per second in SI;
    the ranges are checked by the schema of ``profiles.yaml``."""

    #: compute efficiency when the run gives none (fraction of the datasheet peak)
    efficiency: float
    #: per-chip dispatch overhead: (zoo key, seconds) pairs, and the overhead of a chip not listed
    dispatch_s: tuple[tuple[str, float], ...]
    default_dispatch_s: float
    #: framework overhead per layer, paid once per launch pass (forward: 1; a training step: ``training_passes``)
    layer_overhead_s: float
    training_passes: int
    #: activation traffic per sample as a fraction of the weights' bytes
    activation_traffic: float
    #: a training step's FLOPs as a multiple of the forward pass's, without and with recomputation
    training_flops: float
    recompute_training_flops: float
    #: training footprint of a workload without a transformer's memory rule, as a multiple of its weights
    training_state: float
    lora_training_state: float
    #: a CNN's FLOPs counted as its multiply-accumulates (one per MAC), as the book's zoo lists them
    cnn_flops_per_mac: float
    #: the host link a model that does not fit streams over, where the device names none (bytes/s)
    offload_bandwidth: float
    #: HFU as a multiple of MFU
    hfu_ratio: float
    #: idle power as a fraction of TDP; the rest scales with MFU (energy = TDP (idle + (1 - idle) MFU) x latency)
    idle_power_fraction: float
    #: the fleet lens (energy, carbon, water, cost over a period) as 0.1.0 computed it
    site: FirstOrderSite | None
    source: str

    def dispatch(self, hardware_key: str | None) -> float:
        """The dispatch overhead of the chip a zoo key names (the default for a chip of one's own)."""
        return dict(self.dispatch_s).get(hardware_key, self.default_dispatch_s)

    @classmethod
    def from_facts(cls, fact: dict) -> FirstOrder:
        """From the ``first_order`` block of ``profiles.yaml`` (already checked against its schema)."""
        site = fact.get("site")
        if site is not None:
            site = FirstOrderSite(**{**site, "grids": tuple(
                (key, float(g["pue"]), float(g["carbon_g_kwh"]), float(g["wue_l_kwh"]))
                for key, g in site["grids"].items())})
        seconds = ("default_dispatch_s", "layer_overhead_s")
        return cls(**{**fact, "site": site, "offload_bandwidth": parse(fact["offload_bandwidth"], "B/s", "bandwidth"),
                      **{k: parse(fact[k], "s", k) for k in seconds},
                      "dispatch_s": tuple((k, parse(v, "s", k)) for k, v in fact["dispatch_s"].items())})


class ExecutionProfile(Record):
    """One software stack: how it issues kernels and what it fuses."""

    key: str
    name: str
    aliases: tuple[str, ...] = ()
    launch: Literal["eager", "graph"]
    host_dispatch: bool
    host_ahead: bool
    fuses: frozenset[str] = frozenset()
    kernels: TransformerKernels = TransformerKernels()
    precisions: StackPrecisions = StackPrecisions()
    #: how fast the host CPU that issues the kernels is, relative to the one the launch and dispatch costs
    #: were measured on (calibration/README.md): an eager stack's per-kernel host costs divide by it; a
    #: graph replayed on the GPU does not depend on it
    host_speed: float = Field(default=1.0, gt=0)
    #: an LLM engine (vLLM, SGLang, TensorRT-LLM, llama.cpp) that runs language models only
    language_models_only: bool = False
    #: what the stack's process holds on the device before any model tensor (CUDA context, framework
    #: kernels, workspaces), in every memory fit; ``runtime_source`` says where the figure comes from
    runtime_bytes: Bytes = 0.0
    runtime_source: str = ""
    #: a ``FirstOrder`` for a first-order profile (``textbook``): the step is one roofline with its constants, not
    #: the calibrated operator model (typed loosely: a plain record, not validated again)
    first_order: object = None
    source: str

    @field_validator("fuses")
    @classmethod
    def _fusions(cls, value: frozenset) -> frozenset:
        unknown = sorted(set(value) - set(FUSIONS))
        if unknown:
            raise ValueError(f"unknown fusion {unknown[0]!r}; known: {', '.join(FUSIONS)}")
        return value

    def __str__(self) -> str:
        return self.key

    def __repr__(self) -> str:
        return f"ExecutionProfile({self.key})"


def _build() -> Registry:
    entries, aliases = {}, {}
    for key, fact in load_data("profiles").items():
        runtime = fact.get("runtime") or {}
        first = fact.get("first_order")
        first = None if first is None else FirstOrder.from_facts(first)
        entries[key] = ExecutionProfile(key=key, runtime_bytes=runtime.get("bytes", 0.0),
                                        runtime_source=runtime.get("source", ""), first_order=first,
                                        **{k: v for k, v in fact.items() if k not in ("runtime", "first_order")})
        aliases.update({alias: key for alias in fact.get("aliases") or ()})
    return Registry("Stacks", "stack", entries, aliases=aliases)


Stacks = _build()
_BY_NAME: dict = {}


@lru_cache(maxsize=64)
def on_host(profile: ExecutionProfile, host_speed: float) -> ExecutionProfile:
    """``profile`` issued from a host ``host_speed`` times as fast as the measuring one (the same object
    for the same arguments, so caches keyed by a profile's identity keep working)."""
    if host_speed == profile.host_speed:
        return profile
    return profile.model_copy(update={"host_speed": float(host_speed)})


def with_runtime(profile: ExecutionProfile, runtime_bytes: float) -> ExecutionProfile:
    """``profile`` with the runtime's own footprint set by the user (their measurement of their process)."""
    if runtime_bytes == profile.runtime_bytes:
        return profile
    return profile.model_copy(update={"runtime_bytes": float(runtime_bytes),
                                      "runtime_source": "given by the run (runtime_overhead)"})


def execution_profile(stack) -> ExecutionProfile:
    """The profile a stack name (or alias, any case) names; a profile passes through."""
    if isinstance(stack, ExecutionProfile):
        return stack
    hit = _BY_NAME.get(stack)
    if hit is None:
        if not isinstance(stack, str):
            raise InputError(f"stack must be a stack name such as 'vllm', got {stack!r}")
        hit = _BY_NAME[stack] = Stacks.get(stack)
    return hit


#: the environment variable that names the stack runs take when they name none (``MLSYSIM_STACK=textbook``)
ENV_VAR = "MLSYSIM_STACK"
#: the stack an active configuration names (``mlsysim.core.config``); None: none does
_CONFIGURED: list = [None]
#: os.environ's own mapping and the variable's key in it: every run that names no stack reads the variable, and
#: ``os.environ.get`` (which encodes the key on each call) would cost a twentieth of a solve
_ENVIRON = getattr(os.environ, "_data", None)
try:
    _ENV_KEY = os.environ.encodekey(ENV_VAR) if _ENVIRON is not None else None
except AttributeError:
    _ENVIRON = _ENV_KEY = None


def configured_stack() -> str | None:
    """The stack runs take when they name none, by configuration: an active ``SimulationConfig``'s, then the
    ``MLSYSIM_STACK`` environment variable's; None for the calibrated defaults (``mlsysim.run.DEFAULT_STACK``)."""
    configured = _CONFIGURED[0]
    if configured is not None:
        return configured
    if _ENVIRON is not None:
        raw = _ENVIRON.get(_ENV_KEY)
        if not raw:
            return None
        name = os.environ.decodevalue(raw)
    else:
        name = os.environ.get(ENV_VAR)
        if not name:
            return None
    return stack_key(name, ENV_VAR)


def stack_key(name, what: str) -> str:
    """The key of the stack ``name`` names, or one sentence saying where the unknown name came from."""
    try:
        return execution_profile(name).key
    except InputError:
        keys = ", ".join(key for key, _ in Stacks.items())
        raise InputError(f"{what} '{name}' is no known stack; use one of {keys}") from None


#: the operators alone, as a fused engine launches them: what a lowering assumes when no stack is named
BARE = ExecutionProfile(key="bare", name="operators of a fused engine", launch="graph", host_dispatch=False,
                        host_ahead=False, source="the operator list itself (no stack named)")

__all__ = ["BARE", "ENV_VAR", "ExecutionProfile", "FirstOrder", "FirstOrderSite", "Stacks", "TransformerKernels",
           "configured_stack", "execution_profile", "on_host", "stack_key"]
