"""The model zoo, built from ``zoo/data/models.yaml``."""
from __future__ import annotations

from ..core.types import Metadata
from ..errors import InputError
from ..zoo.registry import Registry, load_data
from .types import (
    CNNWorkload,
    DiffusionWorkload,
    SparseTransformerWorkload,
    SSMWorkload,
    TrainingRecord,
    TransformerWorkload,
    Workload,
)

FAMILIES = {"language": "Language", "vision": "Vision", "tiny": "Tiny", "recommendation": "Recommendation",
            "state_space": "StateSpace", "generative_vision": "GenerativeVision", "embodied": "Embodied"}
#: facts-file key -> workload field
_RENAME = {"hidden": "hidden_dim", "ffn": "ffn_dim", "vocab": "vocab_size", "context": "context_length",
           "flops": "inference_flops", "expert_ffn": "expert_ffn_dim", "dense_ffn": "ffn_dim"}
_CLASSES = {"transformer": TransformerWorkload, "moe": SparseTransformerWorkload, "cnn": CNNWorkload,
            "vit": CNNWorkload, "mlp": CNNWorkload, "ssm": SSMWorkload, "diffusion": DiffusionWorkload,
            "opaque": Workload}
_META = ("source", "sources", "url", "type", "aliases", "macs", "notes", "description")


def workload_from_fact(fact: dict) -> Workload:
    """A model entry of models.yaml as a validated workload."""
    kind = fact.get("type", "opaque")
    cls = _CLASSES.get(kind)
    if cls is None:
        raise InputError(f"model '{fact.get('name')}' has unknown type '{kind}'")
    fields = {_RENAME.get(k, k): v for k, v in fact.items() if k not in _META}
    if "training" in fields:
        fields["training"] = TrainingRecord(**fields["training"])
    if kind == "diffusion" and "flops_per_step" in fields:
        fields["inference_flops"] = fields.pop("flops_per_step")
    fields["metadata"] = Metadata(source=fact.get("source", ""), sources=fact.get("sources") or {},
                                  url=fact.get("url"), description=fact.get("description"))
    return cls(**fields)


def _build() -> Registry:
    families, aliases = {}, {}
    for family, entries in load_data("models").items():
        built = {key: workload_from_fact(fact) for key, fact in entries.items()}
        for key, fact in entries.items():
            for alias in fact.get("aliases") or ():
                aliases[alias] = key
        families[FAMILIES.get(family, family.title())] = Registry(FAMILIES.get(family, family), "model", built)
    return Registry("Models", "model", children=families, aliases=aliases)


Models = _build()
