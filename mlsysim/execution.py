"""Execution profiles: the software stacks a workload runs under (PyTorch eager, CUDA graphs,
torch.compile, vLLM, SGLang, TensorRT-LLM, llama.cpp, JAX/XLA), read from ``zoo/data/profiles.yaml``.

A profile is data: how the stack launches kernels, whether its host runs ahead of the GPU,
which operators it fuses, and how it stores the KV cache and activations by default. The engine
applies it; this module only names and validates it. ``Stacks`` is the registry
(``Stacks.vllm``, ``Stacks.get("compiled")``); every surface resolves a stack through
:func:`execution_profile`.
"""
from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from .core.types import Record
from .errors import InputError
from .ops import FUSIONS, normalize_precision
from .zoo.registry import Registry, load_data


class StackPrecisions(Record):
    """How a stack stores tensors when a run gives only its precision."""

    kv_cache: str = "precision"
    activations: str = "compute"

    @field_validator("kv_cache", "activations")
    @classmethod
    def _known(cls, value: str, info) -> str:
        rule = "precision" if info.field_name == "kv_cache" else "compute"
        return value if value == rule else normalize_precision(value)


class ExecutionProfile(Record):
    """One software stack: how it issues kernels and what it fuses."""

    key: str
    name: str
    aliases: tuple[str, ...] = ()
    launch: Literal["eager", "graph"]
    host_dispatch: bool
    host_ahead: bool
    fuses: frozenset[str] = frozenset()
    precisions: StackPrecisions = StackPrecisions()
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
        entries[key] = ExecutionProfile(key=key, **fact)
        aliases.update({alias: key for alias in fact.get("aliases") or ()})
    return Registry("Stacks", "stack", entries, aliases=aliases)


Stacks = _build()
_BY_NAME: dict = {}


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


__all__ = ["ExecutionProfile", "Stacks", "execution_profile"]
