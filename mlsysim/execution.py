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

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .core.types import Bytes, Record
from .errors import InputError
from .ops import FUSIONS, TRANSFORMER_KERNELS, normalize_precision
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
        entries[key] = ExecutionProfile(key=key, runtime_bytes=runtime.get("bytes", 0.0),
                                        runtime_source=runtime.get("source", ""),
                                        **{k: v for k, v in fact.items() if k != "runtime"})
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


#: the operators alone, as a fused engine launches them: what a lowering assumes when no stack is named
BARE = ExecutionProfile(key="bare", name="operators of a fused engine", launch="graph", host_dispatch=False,
                        host_ahead=False, source="the operator list itself (no stack named)")

__all__ = ["BARE", "ExecutionProfile", "Stacks", "TransformerKernels", "execution_profile", "on_host"]
