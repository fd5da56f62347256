"""The model zoo, built from ``zoo/data/models.yaml``."""
from __future__ import annotations

from ..core.types import Metadata
from ..zoo.facts import check_entry
from ..zoo.registry import Registry, load_data
from ..zoo.schemas.models import ENTRY
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
           "flops": "inference_flops", "flops_per_step": "inference_flops", "expert_ffn": "expert_ffn_dim",
           "dense_ffn": "ffn_dim"}
_CLASSES = {"transformer": TransformerWorkload, "moe": SparseTransformerWorkload, "cnn": CNNWorkload,
            "vit": CNNWorkload, "mlp": CNNWorkload, "ssm": SSMWorkload, "diffusion": DiffusionWorkload,
            "opaque": Workload}
#: facts-file keys that are not workload fields
_META = ("source", "type", "macs", "notes", "checkpoint")


def workload_from_fact(fact: dict) -> Workload:
    """A model entry laid out as in models.yaml, checked against the file's schema, as a workload."""
    check_entry(fact, ENTRY, "model")
    return _workload(fact)


def _workload(fact: dict) -> Workload:
    fields = {_RENAME.get(k, k): v for k, v in fact.items() if k not in _META}
    if "training" in fields:
        fields["training"] = TrainingRecord(**fields["training"])
    return _CLASSES[fact.get("type", "opaque")](**fields, metadata=Metadata(source=fact["source"],
                                                                             checkpoint=fact.get("checkpoint")))


def _build() -> Registry:
    families = {FAMILIES[family]: Registry(FAMILIES[family], "model", entries, build=_workload)
                for family, entries in load_data("models").items()}
    return Registry("Models", "model", children=families)


Models = _build()


def _from_hf_config(source, name=None, parameters=None) -> Workload:
    """A Hugging Face config.json as a workload (``mlsysim.models.hf_config``; imported when first used)."""
    from .hf_config import from_hf_config
    return from_hf_config(source, name=name, parameters=parameters)


def _from_layers(layers, name=None, input_shape=None, **kw) -> Workload:
    """A CNN given layer by layer (``mlsysim.models.layers``; imported when first used)."""
    from .layers import cnn_from_layers
    return cnn_from_layers(layers, name=name, input_shape=input_shape, **kw)


Models.from_hf_config = _from_hf_config      # Models.from_hf_config(path): a model the zoo does not hold
Models.from_layers = _from_layers            # Models.from_layers(list or path.yaml): a CNN given layer by layer

#: 0.1.0's family registries: views of the families above (``VisionModels.ResNet50`` is ``Models.ResNet50``)
(LanguageModels, VisionModels, TinyModels, RecommendationModels, StateSpaceModels,
 GenerativeVisionModels) = (Models._children[f] for f in ("Language", "Vision", "Tiny", "Recommendation",
                                                           "StateSpace", "GenerativeVision"))
