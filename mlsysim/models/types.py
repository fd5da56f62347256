"""Workloads: what a model is, in enough architectural detail to lower it to operators."""
from __future__ import annotations

from functools import cached_property
from typing import Literal, NamedTuple

from pydantic import Field, model_validator

from ..core.types import Bandwidth, Bytes, Count, Flops, Metadata, Record
from ..errors import InputError
from ..ops import PRECISION_BYTES, normalize_precision
from ..units import SIValue
from .families import CNN, DECODER, DIFFUSION, ENCODER, GENERIC, MLA, MLA_MOE, MOE, SSM, Family

#: how far a transformer's stated parameter count may sit from what its shapes hold (biases, which the
#: count from shapes leaves out, are under 1% of every zoo model)
PARAMETER_TOLERANCE = 0.02


class ComputationGraph(NamedTuple):
    """The 0.1.0 summary of a lowered workload (totals only)."""

    name: str
    total_ops: SIValue
    parameter_count: SIValue
    weight_bytes: SIValue
    arithmetic_intensity: float
    layers: int | None = None


class TrainingRecord(Record):
    """How a model was trained, as its authors report it."""

    tokens: float | None = None
    gpu_hours: float | None = None
    accelerators: int | None = None
    days: float | None = None
    hardware: str | None = None
    energy_mwh: float | None = None
    co2_t: float | None = None
    flops: float | None = None


def bytes_per(precision) -> float:
    return PRECISION_BYTES[normalize_precision(precision)]


class Workload(Record):
    """A model known by totals: parameters and/or size, FLOPs per inference."""

    name: str
    architecture: str = "opaque"
    parameters: Count | None = None
    model_size: Bytes | None = None
    inference_flops: Flops | None = None
    data_rate: Bandwidth | None = None
    training: TrainingRecord | None = None
    training_ops: Flops | None = None
    metadata: Metadata = Metadata()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"

    __str__ = __repr__

    @cached_property
    def family(self) -> Family:
        """How this workload lowers to operators, keeps memory and shards."""
        return GENERIC

    def parameter_count(self) -> float:
        return float(self.parameters or 0.0)

    def weight_bytes(self, precision="fp16") -> float:
        """Bytes of the weights at ``precision`` (the stated model size when there is no count)."""
        if self.parameters is None:
            if self.model_size is None:
                raise InputError(f"workload '{self.name}' has neither parameters nor model_size")
            return float(self.model_size)
        return float(self.parameters) * bytes_per(precision)

    def size_in_bytes(self, precision="fp16") -> SIValue:
        return SIValue(self.weight_bytes(precision), "GB")

    def forward_flops(self) -> float:
        """FLOPs of one inference (per token for language models, per sample otherwise)."""
        if self.inference_flops is not None:
            return float(self.inference_flops)
        return 2.0 * self.parameter_count()

    def lower(self, precision_bytes=2) -> ComputationGraph:
        """Totals of the workload at ``precision_bytes`` per parameter (0.1.0 interface)."""
        bpp = float(getattr(precision_bytes, "magnitude", precision_bytes))
        if isinstance(precision_bytes, str):
            bpp = bytes_per(precision_bytes)
        weights = self.model_size if self.parameters is None else self.parameter_count() * bpp
        if weights is None:
            raise InputError(f"workload '{self.name}' has neither parameters nor model_size")
        ops = self.forward_flops()
        return ComputationGraph(self.name, SIValue(ops, "GFLOP"), SIValue(self.parameter_count(), "param"),
                                SIValue(float(weights), "GB"), ops / float(weights) if weights else 0.0,
                                getattr(self, "layers", None))


class TransformerWorkload(Workload):
    """A dense transformer (decoder LM, or encoder when ``attention='bidirectional'``)."""

    architecture: str = "transformer"
    parameters: Count
    layers: int = Field(gt=0)
    hidden_dim: int = Field(default=4096, gt=0)
    heads: int = Field(default=32, gt=0)
    kv_heads: int | None = None
    head_dim: int | None = None
    ffn_dim: int | None = None
    gated_ffn: bool | None = None
    vocab_size: int = 0
    context_length: int | None = None
    tied_embeddings: bool = False
    attention: Literal["causal", "bidirectional"] = "causal"
    norm: Literal["rmsnorm", "layernorm"] = "rmsnorm"
    #: how positions enter: rotary embeddings in every layer, or learned absolute embeddings added once
    positions: Literal["rope", "learned"] = "rope"
    #: whether the attention and MLP projections have biases (GPT-2/3, BERT), whose gradients training
    #: reduces over the tokens
    linear_bias: bool = False
    activation: str = "silu"
    sliding_window: int | None = None
    sliding_window_layers: Literal["all", "every_other"] = "all"
    # multi-head latent attention (DeepSeek)
    q_lora_rank: int | None = None
    kv_lora_rank: int | None = None
    qk_rope_head_dim: int | None = None
    qk_nope_head_dim: int | None = None
    v_head_dim: int | None = None

    @model_validator(mode="after")
    def _check_heads(self):
        kv = self.kv_heads or self.heads
        if self.heads % kv:
            raise InputError(f"{self.name}: kv_heads ({kv}) must divide heads ({self.heads})")
        shapes = self.shape_parameters()
        if shapes is not None and abs(shapes / float(self.parameters) - 1.0) > PARAMETER_TOLERANCE:
            raise InputError(f"{self.name}: parameters ({float(self.parameters):.4g}) disagree with the shapes, "
                             f"which hold {shapes:.4g} ({shapes / float(self.parameters) - 1.0:+.1%}); "
                             f"correct one of them")
        return self

    def shape_parameters(self) -> float | None:
        """The parameters the shapes hold (embeddings, attention, FFN, norms), or None when the FFN width
        is not given (it is then derived from ``parameters``)."""
        if not self.ffn_dim:
            return None
        return self._common_parameters() + self.layers * self.ffn_matrices() * self.hidden_dim * self.ffn_dim

    def _common_parameters(self) -> float:
        """Embeddings (and learned positions), attention and norm weights: everything but the FFNs."""
        h, L = self.hidden_dim, self.layers
        embed = self.vocab_size * h * (1 if self.tied_embeddings else 2)
        positions = (self.context_length or 0) * h if self.positions == "learned" else 0
        return embed + positions + L * self.attention_params() + (2 * L + 1) * h

    @cached_property
    def family(self) -> Family:
        if self.is_mla:
            return MLA
        return DECODER if self.is_decoder else ENCODER

    @property
    def hidden(self) -> int:
        return self.hidden_dim

    @property
    def n_kv_heads(self) -> int:
        return self.kv_heads or self.heads

    @property
    def d_head(self) -> int:
        return self.head_dim or self.hidden_dim // self.heads

    @property
    def is_mla(self) -> bool:
        return bool(self.kv_lora_rank)

    @property
    def is_decoder(self) -> bool:
        return self.attention == "causal"

    @property
    def is_gated(self) -> bool:
        return self.gated_ffn if self.gated_ffn is not None else self.norm == "rmsnorm"

    def attention_params(self) -> float:
        """Weights of one layer's attention projections."""
        h, d = self.hidden_dim, self.d_head
        if self.is_mla:
            q_in = self.q_lora_rank or h
            qk = (self.qk_nope_head_dim or 0) + (self.qk_rope_head_dim or 0)
            q = (h * self.q_lora_rank if self.q_lora_rank else 0) + q_in * self.heads * qk
            kv = h * (self.kv_lora_rank + (self.qk_rope_head_dim or 0)) + \
                self.kv_lora_rank * self.heads * ((self.qk_nope_head_dim or 0) + (self.v_head_dim or d))
            return q + kv + self.heads * (self.v_head_dim or d) * h
        return h * d * (2 * self.heads + 2 * self.n_kv_heads)

    def attention_matrices(self) -> tuple:
        """One layer's attention projections as (inputs, outputs): q, k, v and o (MLA's as four equal-sized
        stand-ins for its published attention weights)."""
        h, d, H, KV = self.hidden_dim, self.d_head, self.heads, self.n_kv_heads
        if self.is_mla:
            side = self.attention_params() / (4 * h)
            return ((h, side),) * 4
        return ((h, H * d), (h, KV * d), (h, KV * d), (H * d, h))

    def ffn_matrices(self) -> int:
        return 3 if self.is_gated else 2

    def dense_ffn_dim(self) -> int:
        """The FFN width; when a record gives none, the width that makes the weights add up."""
        if self.ffn_dim:
            return self.ffn_dim
        return self._fitted_ffn(1)

    def _fitted_ffn(self, ffns_per_layer: float) -> int:
        """The FFN width at which ``ffns_per_layer`` FFNs per layer make the parameters add up."""
        rest = self.parameter_count() - self._common_parameters()
        return max(1, int(rest / (self.layers * ffns_per_layer * self.ffn_matrices() * self.hidden_dim)))

    def kv_bytes_per_token(self, precision="fp16") -> float:
        """KV-cache bytes one token adds across all layers (MLA: the compressed latent)."""
        return self.layers * self.family.kv_bytes_per_layer_token(self, bytes_per(precision))

    def kv_cache_bytes(self, seq_len, batch_size=1, precision="fp16"):
        """KV-cache bytes for ``batch_size`` sequences of ``seq_len`` tokens (sliding windows capped)."""
        return self.family.kv_cache_bytes(self, seq_len, batch_size, bytes_per(precision))

    def get_kv_cache_size(self, seq_len, batch_size=1, precision=2):
        """0.1.0 interface: KV cache as a quantity (``precision`` a name or bytes per element)."""
        prec = precision if isinstance(precision, str) else {4: "fp32", 2: "fp16", 1: "int8", 0.5: "int4"}.get(
            float(getattr(precision, "magnitude", precision)), "fp16")
        return SIValue(float(self.kv_cache_bytes(seq_len, batch_size, prec)), "GB")


class SparseTransformerWorkload(TransformerWorkload):
    """A mixture-of-experts transformer: all experts held in memory, a few computed per token."""

    architecture: str = "moe"
    experts: int = Field(gt=0)
    active_experts: int = Field(default=1, gt=0, alias="active_experts_per_token")
    expert_ffn_dim: int | None = None
    shared_experts: int = 0
    dense_layers: int = 0
    active_parameters: Count | None = None

    model_config = {"populate_by_name": True}

    @model_validator(mode="after")
    def _check_experts(self):
        if self.active_experts > self.experts:
            raise InputError(f"{self.name}: active_experts ({self.active_experts}) exceeds experts ({self.experts})")
        return self

    def shape_parameters(self) -> float | None:
        """Dense layers' FFNs, every routed and shared expert, and the routers, besides the rest."""
        if not self.expert_ffn_dim or (self.dense_layers and not self.ffn_dim):
            return None
        h, moe_layers = self.hidden_dim, self.layers - self.dense_layers
        per_matrix = self.ffn_matrices() * h
        return self._common_parameters() + self.dense_layers * per_matrix * (self.ffn_dim or 0) + \
            moe_layers * ((self.experts + self.shared_experts) * per_matrix * self.expert_ffn_dim + h * self.experts)

    def dense_ffn_dim(self) -> int:
        """The FFN width; when a record gives none, the expert width that makes the weights add up."""
        if self.ffn_dim:
            return self.ffn_dim
        return self._fitted_ffn(self.experts + self.shared_experts)

    @cached_property
    def family(self) -> Family:
        return MLA_MOE if self.is_mla else MOE

    @property
    def active_experts_per_token(self) -> int:
        return self.active_experts

    def forward_flops(self) -> float:
        if self.inference_flops is not None:
            return float(self.inference_flops)
        return 2.0 * float(self.active_parameters or self.parameters)


class CNNWorkload(Workload):
    """A vision network generated layer by layer from its architecture (``arch``)."""

    architecture: str = "cnn"
    arch: str | None = None
    resolution: int | None = None
    width: float = 1.0
    layers: int | None = None

    @cached_property
    def family(self) -> Family:
        return CNN if self.arch else GENERIC

    def layer_list(self):
        from .vision import layers

        return layers(self.arch, self.resolution, self.width)

    def parameter_count(self) -> float:
        if self.parameters is not None:
            return float(self.parameters)
        return float(sum(layer.params for layer in self.layer_list())) if self.arch else 0.0

    def forward_flops(self) -> float:
        if self.arch:
            return 2.0 * sum(layer.macs for layer in self.layer_list())
        return super().forward_flops()


class SSMWorkload(Workload):
    """A state-space language model (Mamba): a fixed-size state instead of a KV cache."""

    architecture: str = "ssm"
    parameters: Count
    layers: int = Field(gt=0)
    hidden_dim: int = Field(gt=0)
    state_size: int = 16
    expand: int = 2
    conv_kernel: int = 4
    vocab_size: int = 0

    @cached_property
    def family(self) -> Family:
        return SSM

    def get_state_cache_size(self, batch_size=1, precision=2):
        b = precision if not isinstance(precision, str) else bytes_per(precision)
        return SIValue(self.layers * batch_size * self.hidden_dim * self.expand * self.state_size * float(b), "MB")


class DiffusionWorkload(Workload):
    """An iterative denoiser: ``inference_flops`` is one step; a generation runs all steps."""

    architecture: str = "diffusion"
    parameters: Count
    denoising_steps: int = Field(default=50, gt=0)
    resolution: int = 512

    @cached_property
    def family(self) -> Family:
        return DIFFUSION

    def forward_flops(self) -> float:
        return super().forward_flops() * self.denoising_steps
