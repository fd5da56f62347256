"""A Hugging Face ``config.json`` as a workload, read offline, with the parameter count derived from the shapes.

The config is mapped to the fact layout of ``zoo/data/models.yaml`` and built through ``workload_from_fact``, so
a loaded model is checked exactly as a zoo entry is. Supported ``model_type`` values are in ``SUPPORTED``.

- Parameters are counted from the shapes (``transformer_parameters``): embeddings, attention (GQA, MLA), dense
  or gated FFNs, routed and shared experts with their routers, norms, the biases each family has, and the LM
  head unless tied. A count the config (``num_parameters``) or the caller states is checked against it.
- Vision-language models (``llava``, ``qwen2_vl``, ``gemma3`` with a ``vision_config``) load as their language
  model: the workload's ``parameters`` are the language model's, since a workload holds the parameters its
  shapes lower to (``TransformerWorkload`` refuses a count 2% off them, and the vision tower is 5-9%). The
  vision tower and projector are counted in ``count_parameters(...).vision`` and ``.total`` (which a stated
  count is checked against) and named in the workload's source.
- DeepSeek-V3's multi-token-prediction layer (``num_nextn_predict_layers``) is not counted: the model card's
  671B leave it out as well.
- Gemma 3 alternates five sliding-window layers with one global layer, which the workload cannot express:
  it loads with global attention everywhere, so its KV cache is an upper bound.
- ``vit`` configs load as the layer-by-layer ViT-B/16 or ViT-L/16 of ``models/vision.py``; other ViT shapes
  are refused, as there is no generator for them.
- HF writes the fields of a nested config (``text_config``, ``vision_config``) only where they differ from the
  config class's defaults, so those classes' defaults fill the gaps (``_NESTED_DEFAULTS``); a top-level field
  the model needs must be present.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..errors import InputError

_JSON_NAMES = {str: "string", list: "list", dict: "object"}

#: transformers' config-class defaults for the nested configs its serializer writes sparsely
_NESTED_DEFAULTS = {
    "llama": dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                  num_attention_heads=32, max_position_embeddings=2048),
    "gemma3_text": dict(vocab_size=262208, hidden_size=2304, intermediate_size=9216, num_hidden_layers=26,
                        num_attention_heads=8, num_key_value_heads=4, head_dim=256, max_position_embeddings=131072,
                        hidden_activation="gelu_pytorch_tanh"),
    "clip_vision_model": dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_channels=3,
                              image_size=224, patch_size=32),
    "siglip_vision_model": dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_channels=3,
                                image_size=224, patch_size=16, vision_use_head=True),
    "qwen2_vl": dict(depth=32, embed_dim=1280, hidden_size=3584, mlp_ratio=4, in_channels=3, patch_size=14,
                     spatial_merge_size=2, temporal_patch_size=2),
}


@dataclass(frozen=True)
class _Decoder:
    """What a decoder family fixes in code rather than in its config."""

    tied: bool = False           # the config class's tie_word_embeddings, which HF omits when it equals True
    qkv_bias: bool = False       # q, k and v carry biases (Qwen2)
    qk_norm: bool = False        # RMSNorm over each head's q and k (Qwen3, Gemma 3)
    norms_per_layer: int = 2     # Gemma 2/3 norm before and after attention and MLP
    window: str | None = None    # sliding-window layers: "all", "every_other", or None
    window_flag: str | None = None  # the switch that turns the window on (Qwen)


_DECODERS = {
    "llama": _Decoder(), "mistral": _Decoder(window="all"), "mixtral": _Decoder(window="all"),
    "phi3": _Decoder(window="all"),
    "qwen2": _Decoder(qkv_bias=True, window="all", window_flag="use_sliding_window"),
    "qwen2_moe": _Decoder(qkv_bias=True, window="all", window_flag="use_sliding_window"),
    "qwen3": _Decoder(qk_norm=True, window="all", window_flag="use_sliding_window"),
    "qwen3_moe": _Decoder(qk_norm=True, window="all", window_flag="use_sliding_window"),
    "gemma2": _Decoder(tied=True, norms_per_layer=4, window="every_other"),
    "gemma3_text": _Decoder(tied=True, qk_norm=True, norms_per_layer=4),
    "deepseek_v2": _Decoder(), "deepseek_v3": _Decoder(),
}
SUPPORTED = tuple(sorted({*_DECODERS, "gemma3", "gpt2", "bert", "vit", "mamba", "llava", "qwen2_vl"}))


class ParameterCount(NamedTuple):
    """A checkpoint's parameters: all of them, those one token uses (MoE: the routed experts it skips left
    out; embeddings in, as Mixtral's and Qwen's model cards count), and a VLM's vision tower and projector."""

    total: int
    active: int
    vision: int = 0


@dataclass(frozen=True)
class Shapes:
    """A transformer's shapes: what ``transformer_parameters`` counts and the workload is built from."""

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    tied: bool
    context: int | None = None
    ffn: int = 0                 # dense FFN width (0: every layer is an MoE layer)
    gated: bool = True
    activation: str = "silu"
    norm: str = "rmsnorm"
    positions: str = "rope"
    attention: str = "causal"
    attn_bias: bool = False      # q, k, v and o carry biases
    qkv_bias: bool = False
    mlp_bias: bool = False
    qk_norm: bool = False
    norms_per_layer: int = 2
    final_norm: bool = True
    extra: int = 0               # what no other field holds: BERT's token types, embedding norm and pooler
    sliding_window: int | None = None
    sliding_window_layers: str = "all"
    # multi-head latent attention (DeepSeek); kv_lora_rank 0 = standard attention
    q_lora_rank: int = 0
    kv_lora_rank: int = 0
    qk_rope_head_dim: int = 0
    qk_nope_head_dim: int = 0
    v_head_dim: int = 0
    # mixture of experts
    moe_layers: int = 0
    experts: int = 0
    active_experts: int = 0
    expert_ffn: int = 0
    shared_experts: int = 0
    shared_ffn: int = 0          # the shared experts' summed width
    shared_gate: bool = False    # Qwen2-MoE's sigmoid gate on the shared expert
    router_bias: bool = False    # DeepSeek-V3's e_score_correction_bias


def transformer_parameters(s: Shapes) -> tuple[int, int]:
    """(total, active) parameters of a transformer from its shapes; active leaves out the routed experts a
    token skips."""
    h = s.hidden
    norm = 2 * h if s.norm == "layernorm" else h
    embed = s.vocab * h * (1 if s.tied else 2) + (s.context * h if s.positions == "learned" else 0)
    layer = _attention_parameters(s) + s.norms_per_layer * norm

    def ffn(width: int) -> int:
        matrices = 3 if s.gated else 2
        return matrices * h * width + ((matrices - 1) * width + h if s.mlp_bias else 0) if width else 0

    moe = s.experts * ffn(s.expert_ffn) + ffn(s.shared_ffn) + s.experts * h + \
        (s.experts if s.router_bias else 0) + (h if s.shared_gate else 0)
    total = embed + s.extra + s.layers * layer + (s.layers - s.moe_layers) * ffn(s.ffn) + s.moe_layers * moe + \
        (norm if s.final_norm else 0)
    return total, total - s.moe_layers * (s.experts - s.active_experts) * ffn(s.expert_ffn)


def _attention_parameters(s: Shapes) -> int:
    h, H = s.hidden, s.heads
    if s.kv_lora_rank:
        qk = s.qk_nope_head_dim + s.qk_rope_head_dim
        q = h * s.q_lora_rank + s.q_lora_rank + s.q_lora_rank * H * qk if s.q_lora_rank else h * H * qk
        kv = h * (s.kv_lora_rank + s.qk_rope_head_dim) + s.kv_lora_rank + \
            s.kv_lora_rank * H * (s.qk_nope_head_dim + s.v_head_dim)
        return q + kv + H * s.v_head_dim * h
    q, kv = H * s.head_dim, s.kv_heads * s.head_dim
    bias = q + 2 * kv + h if s.attn_bias else q + 2 * kv if s.qkv_bias else 0
    return h * (q + 2 * kv) + q * h + bias + (2 * s.head_dim if s.qk_norm else 0)


# --- reading ------------------------------------------------------------------------------------------------
class _Fields:
    """One (sub-)config's keys, filled from its class defaults where given, with one sentence per problem."""

    def __init__(self, data, where: str, defaults: dict | None = None):
        if not isinstance(data, dict):
            raise InputError(f"{where} must be a JSON object, got {type(data).__name__}")
        self.data, self.where, self.defaults = data, where, defaults or {}

    def get(self, key: str, default=None):
        value = self.data.get(key)
        return self.defaults.get(key, default) if value is None else value

    def count(self, *keys: str, default: int | None = None, minimum: int = 1) -> int | None:
        """The first of ``keys`` present (a name and its aliases) as a whole number, else ``default``; with
        neither, the config lacks the first key."""
        key = next((k for k in keys if self.get(k) is not None), None)
        if key is None:
            if default is None:
                raise InputError(f"{self.where} has no {keys[0]!r}")
            return default
        value = self.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise InputError(f"{self.where} {key!r} must be a whole number >= {minimum}, got {value!r}")
        return value

    def number(self, key: str) -> float:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise InputError(f"{self.where} {key!r} must be a positive number, got {value!r}")
        return float(value)

    def typed(self, key: str, kind: type, default):
        """A string, list or object (``kind``), else ``default``."""
        value = self.get(key, default)
        if not isinstance(value, kind):
            raise InputError(f"{self.where} {key!r} must be a JSON {_JSON_NAMES[kind]}, got {value!r}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise InputError(f"{self.where} {key!r} must be true or false, got {value!r}")
        return value

    def sub(self, key: str, default_type: str) -> _Fields:
        """A nested config, its class defaults filling what HF left out."""
        sub = _Fields(self.data.get(key) or {}, f"{self.where} {key}")
        sub.defaults = _NESTED_DEFAULTS.get(sub.typed("model_type", str, default_type), {})
        return sub


def _load(source) -> tuple[dict, str, str | None]:
    """The parsed config, what to call it in errors, and the name it gives the model."""
    if isinstance(source, dict):
        return source, "config.json", source.get("_name_or_path")
    if not isinstance(source, (str, Path)):
        raise InputError(f"a Hugging Face config is a path or a dict, got {type(source).__name__}")
    path = Path(source)
    if path.is_dir():
        path = path / "config.json"
    config = read_config(path)
    folder = path.resolve().parent.name if path.name == "config.json" else path.stem
    return config, path.name, config.get("_name_or_path") or folder


def read_config(path: Path) -> dict:
    """A ``config.json`` as a mapping; an unreadable file, bad JSON or anything but an object is one sentence."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise InputError(f"{path} must hold a JSON object, got {type(config).__name__}")
    return config


def _model_type(f: _Fields) -> str:
    """``model_type``, or the family its first architecture names (``Qwen2MoeForCausalLM``: qwen2_moe)."""
    model_type = f.get("model_type")
    if model_type is None:
        arch = (f.typed("architectures", list, []) or [None])[0]
        if not isinstance(arch, str):
            raise InputError(f"{f.where} has no 'model_type' (nor 'architectures')")
        stem = re.split(r"For|LMHead|Model", arch)[0].lower()
        model_type = next((t for t in SUPPORTED if t.replace("_", "") == stem), arch)
    if model_type not in SUPPORTED:
        raise InputError(f"{f.where} has model_type {model_type!r}, which mlsysim cannot read; "
                         f"supported: {', '.join(SUPPORTED)}")
    return model_type


def _activation(name) -> str:
    name = str(name)
    return "gelu" if "gelu" in name else "silu" if name == "swish" else name


def _decoder(f: _Fields, family: str) -> Shapes:
    """A decoder LM of one of ``_DECODERS``' families (dense, MoE or MLA)."""
    traits = _DECODERS[family]
    hidden, heads = f.count("hidden_size"), f.count("num_attention_heads")
    layers = f.count("num_hidden_layers")
    window = f.count("sliding_window", default=0) if traits.window and \
        (traits.window_flag is None or f.flag(traits.window_flag, False)) else 0
    return Shapes(
        layers=layers, hidden=hidden, heads=heads, kv_heads=f.count("num_key_value_heads", default=heads),
        head_dim=f.count("head_dim", default=hidden // heads), vocab=f.count("vocab_size"),
        tied=f.flag("tie_word_embeddings", traits.tied), context=f.count("max_position_embeddings", default=0) or None,
        activation=_activation(f.get("hidden_activation") or f.get("hidden_act", "silu")),
        attn_bias=f.flag("attention_bias", False), qkv_bias=traits.qkv_bias, mlp_bias=f.flag("mlp_bias", False),
        qk_norm=traits.qk_norm, norms_per_layer=traits.norms_per_layer, sliding_window=window or None,
        sliding_window_layers=traits.window or "all", **_moe(f, family, layers), **_mla(f, family))


def _moe(f: _Fields, family: str, layers: int) -> dict:
    """The expert fields of an MoE family, and the dense width of its other layers."""
    if family == "mixtral":
        return dict(moe_layers=layers, experts=f.count("num_local_experts"),
                    active_experts=f.count("num_experts_per_tok"), expert_ffn=f.count("intermediate_size"))
    if family in ("qwen2_moe", "qwen3_moe"):
        step, dense = f.count("decoder_sparse_step", default=1), f.typed("mlp_only_layers", list, [])
        moe_layers = sum(i not in dense and (i + 1) % step == 0 for i in range(layers))
        expert, shared = f.count("moe_intermediate_size"), f.count("shared_expert_intermediate_size", default=0,
                                                                    minimum=0)
        return dict(moe_layers=moe_layers, experts=f.count("num_experts"), active_experts=f.count(
            "num_experts_per_tok"), expert_ffn=expert, shared_ffn=shared, shared_experts=round(shared / expert),
            shared_gate=bool(shared), ffn=f.count("intermediate_size") if moe_layers < layers else 0)
    if family.startswith("deepseek"):
        first, every = f.count("first_k_dense_replace", default=0, minimum=0), f.count("moe_layer_freq", default=1)
        moe_layers = sum(i >= first and i % every == 0 for i in range(layers))
        expert, shared = f.count("moe_intermediate_size"), f.count("n_shared_experts", default=0, minimum=0)
        return dict(moe_layers=moe_layers, experts=f.count("n_routed_experts"),
                    active_experts=f.count("num_experts_per_tok"), expert_ffn=expert, shared_experts=shared,
                    shared_ffn=shared * expert, router_bias=f.get("topk_method") == "noaux_tc",
                    ffn=f.count("intermediate_size") if moe_layers < layers else 0)
    return dict(ffn=f.count("intermediate_size"))


def _mla(f: _Fields, family: str) -> dict:
    if not family.startswith("deepseek"):
        return {}
    return dict(q_lora_rank=f.count("q_lora_rank", default=0, minimum=0), kv_lora_rank=f.count("kv_lora_rank"),
                qk_rope_head_dim=f.count("qk_rope_head_dim"), qk_nope_head_dim=f.count("qk_nope_head_dim"),
                v_head_dim=f.count("v_head_dim"))


def _gpt2(f: _Fields) -> Shapes:
    """GPT-2 (``GPT2Config`` spells the usual keys n_embd, n_layer, n_head, n_positions)."""
    hidden, heads = f.count("n_embd", "hidden_size"), f.count("n_head", "num_attention_heads")
    return Shapes(layers=f.count("n_layer", "num_hidden_layers"), hidden=hidden, heads=heads, kv_heads=heads,
                  head_dim=hidden // heads, vocab=f.count("vocab_size"),
                  tied=f.flag("tie_word_embeddings", True), context=f.count("n_positions", "max_position_embeddings"),
                  ffn=f.count("n_inner", default=4 * hidden), gated=False,
                  activation=_activation(f.get("activation_function", "gelu_new")), norm="layernorm",
                  positions="learned", attn_bias=True, mlp_bias=True)


def _bert(f: _Fields) -> Shapes:
    """BertModel with its pooler, as the zoo's BERT entries count it."""
    hidden, heads = f.count("hidden_size"), f.count("num_attention_heads")
    token_types = f.count("type_vocab_size", default=2, minimum=0) * hidden
    return Shapes(layers=f.count("num_hidden_layers"), hidden=hidden, heads=heads, kv_heads=heads,
                  head_dim=hidden // heads, vocab=f.count("vocab_size"), tied=True,
                  context=f.count("max_position_embeddings"), ffn=f.count("intermediate_size"), gated=False,
                  activation=_activation(f.get("hidden_act", "gelu")), norm="layernorm", positions="learned",
                  attention="bidirectional", attn_bias=True, mlp_bias=True, final_norm=False,
                  extra=token_types + 2 * hidden + hidden * hidden + hidden)   # + embedding LayerNorm, pooler


# --- vision towers ------------------------------------------------------------------------------------------
#: ViT-style encoders: (patch projection has a bias, class token, LayerNorm before the encoder)
_VIT_KINDS = {"clip_vision_model": (False, True, True), "siglip_vision_model": (True, False, False),
              "vit": (True, True, False)}


def _encoder_layer(d: int, ff: int) -> int:
    """One ViT layer: q, k, v, o and a 2-matrix MLP, all with biases, and two LayerNorms."""
    return 4 * (d * d + d) + 2 * d * ff + ff + d + 4 * d


def _vit_encoder(f: _Fields, kind: str) -> int:
    """A CLIP, SigLIP or ViT image encoder: patch embedding, positions, layers, final LayerNorm (and SigLIP's
    attention-pooling head when it has one)."""
    if kind not in _VIT_KINDS:
        raise InputError(f"{f.where} has model_type {kind!r}; mlsysim reads {', '.join(_VIT_KINDS)} vision towers")
    d, ff, layers = f.count("hidden_size"), f.count("intermediate_size"), f.count("num_hidden_layers")
    patch, channels = f.count("patch_size"), f.count("num_channels", default=3)
    bias, cls, pre_norm = _VIT_KINDS[kind]
    tokens = (f.count("image_size") // patch) ** 2 + cls
    head = d + 4 * (d * d + d) + 2 * d + 2 * d * ff + ff + d \
        if kind == "siglip_vision_model" and f.flag("vision_use_head", True) else 0
    return channels * patch * patch * d + bias * d + cls * d + tokens * d + (1 + pre_norm) * 2 * d + \
        layers * _encoder_layer(d, ff) + head


def _qwen2_vl_vision(f: _Fields) -> int:
    """Qwen2-VL's encoder: a bias-free 3-D patch convolution, ViT layers (rotary positions, no table) and the
    merger (LayerNorm and a 2-layer MLP over each 2x2 patch group into the LM's width)."""
    d = f.count("embed_dim")
    ff = round(d * f.number("mlp_ratio"))
    patch = f.count("patch_size", "spatial_patch_size")
    merged = f.count("spatial_merge_size") ** 2 * d
    out = f.count("hidden_size")
    return f.count("in_channels", "in_chans") * f.count("temporal_patch_size") * patch * patch * d + \
        f.count("depth") * _encoder_layer(d, ff) + 2 * d + merged * merged + merged + merged * out + out


# --- families -----------------------------------------------------------------------------------------------
def _read(config: dict, where: str) -> tuple[str, dict, ParameterCount]:
    """(model_type, the fact without name and source, the parameter count)."""
    f = _Fields(config, where)
    model_type = _model_type(f)
    if model_type in ("llava", "qwen2_vl", "gemma3"):
        return model_type, *_vision_language(f, model_type)
    if model_type == "vit":
        return model_type, *_vit(f)
    if model_type == "mamba":
        return model_type, *_mamba(f)
    shapes = _gpt2(f) if model_type == "gpt2" else _bert(f) if model_type == "bert" else _decoder(f, model_type)
    return model_type, *_language(shapes)


def _language(s: Shapes, vision: int = 0) -> tuple[dict, ParameterCount]:
    """The fact of a language model (zoo layout) and its count, a VLM's vision tower added to the count."""
    total, active = transformer_parameters(s)
    fact = dict(type="moe" if s.experts else "transformer", parameters=total, layers=s.layers, hidden=s.hidden,
                heads=s.heads, kv_heads=s.kv_heads, gated_ffn=s.gated, activation=s.activation, norm=s.norm,
                positions=s.positions, linear_bias=s.attn_bias and s.mlp_bias, vocab=s.vocab,
                tied_embeddings=s.tied, attention=s.attention)
    if s.context:
        fact["context"] = s.context
    if s.kv_lora_rank:
        fact.update(kv_lora_rank=s.kv_lora_rank, qk_rope_head_dim=s.qk_rope_head_dim,
                    qk_nope_head_dim=s.qk_nope_head_dim, v_head_dim=s.v_head_dim)
        if s.q_lora_rank:
            fact["q_lora_rank"] = s.q_lora_rank
    else:
        fact["head_dim"] = s.head_dim
    if s.sliding_window:
        fact.update(sliding_window=s.sliding_window, sliding_window_layers=s.sliding_window_layers)
    if not s.experts:
        fact["ffn"] = s.ffn
    else:
        dense = s.layers - s.moe_layers
        # the zoo's active_parameters leave out the input embedding (a lookup, no FLOPs)
        fact.update(experts=s.experts, active_experts=s.active_experts, expert_ffn=s.expert_ffn,
                    shared_experts=s.shared_experts, dense_layers=dense,
                    active_parameters=active - (0 if s.tied else s.vocab * s.hidden))
        if dense:
            fact["dense_ffn"] = s.ffn
    return fact, ParameterCount(total + vision, active + vision, vision)


def _vision_language(f: _Fields, model_type: str) -> tuple[dict, ParameterCount]:
    """The language model of a VLM; its vision tower and projector counted on the side."""
    if model_type == "qwen2_vl":
        text = f.sub("text_config", "qwen2") if "text_config" in f.data else f
        shapes = _decoder(text, "qwen2")
        return _language(shapes, _qwen2_vl_vision(f.sub("vision_config", "qwen2_vl")))
    text_type = "llama" if model_type == "llava" else "gemma3_text"
    if "text_config" in f.data or model_type == "llava":
        text = f.sub("text_config", text_type)
        family = text.typed("model_type", str, text_type)
    else:                       # a Gemma 3 config that is its text config
        text, family = f, text_type
    if family not in _DECODERS:
        raise InputError(f"{text.where} has model_type {family!r}; mlsysim reads {', '.join(_DECODERS)} "
                         f"language models")
    shapes = _decoder(text, family)
    if model_type == "gemma3" and "vision_config" not in f.data:
        return _language(shapes)
    vision_cfg = f.sub("vision_config", "clip_vision_model" if model_type == "llava" else "siglip_vision_model")
    kind = vision_cfg.typed("model_type", str, "clip_vision_model" if model_type == "llava" else "siglip_vision_model")
    d, h = vision_cfg.count("hidden_size"), shapes.hidden
    if model_type == "llava":   # two linear layers with biases into the LM's width
        projector = d * h + h + h * h + h if f.flag("multimodal_projector_bias", True) else d * h + h * h
    else:                       # Gemma 3: RMSNorm and one bias-free projection
        projector = d + d * h
    return _language(shapes, _vit_encoder(vision_cfg, kind) + projector)


#: (hidden, layers, heads, MLP width, patch) -> the vision generator that builds that ViT layer by layer
_VIT_ARCHS = {(768, 12, 12, 3072, 16): "vit_b16", (1024, 24, 16, 4096, 16): "vit_l16"}


def _vit(f: _Fields) -> tuple[dict, ParameterCount]:
    """A ViT image classifier (the head over ``id2label``'s classes; none without labels), as a ``vit`` entry
    whose layers ``models/vision.py`` generates at the config's resolution."""
    d, layers, heads = f.count("hidden_size"), f.count("num_hidden_layers"), f.count("num_attention_heads")
    shape = (d, layers, heads, f.count("intermediate_size"), f.count("patch_size"))
    image = f.count("image_size")
    if shape not in _VIT_ARCHS or image % 16:
        raise InputError(f"{f.where} describes a ViT (hidden, layers, heads, MLP, patch = {shape}, image {image}) "
                         f"that mlsysim cannot generate; it generates ViT-B/16 and ViT-L/16 at multiples of 16 pixels")
    classes = len(f.typed("id2label", dict, {}))
    total = _vit_encoder(f, "vit") + (d * classes + classes if classes else 0)
    fact = dict(type="vit", arch=_VIT_ARCHS[shape], resolution=image, layers=layers, parameters=total)
    return fact, ParameterCount(total, total)


def _mamba(f: _Fields) -> tuple[dict, ParameterCount]:
    """A Mamba LM (HF ``MambaConfig``): per layer the input projection, depthwise convolution, the selective
    scan's x/dt projections, A and D, the output projection and an RMSNorm."""
    h, layers, vocab = f.count("hidden_size", "d_model"), f.count("num_hidden_layers", "n_layer"), f.count("vocab_size")
    state, kernel = f.count("state_size", default=16), f.count("conv_kernel", default=4)
    inner = f.count("intermediate_size", default=f.count("expand", default=2) * h)
    rank = f.get("time_step_rank", "auto")
    rank = math.ceil(h / 16) if rank == "auto" else f.count("time_step_rank")
    bias, conv_bias = f.flag("use_bias", False), f.flag("use_conv_bias", True)
    layer = h * 2 * inner + bias * 2 * inner + inner * kernel + conv_bias * inner + inner * (rank + 2 * state) + \
        rank * inner + inner + inner * state + inner + inner * h + bias * h + h
    total = vocab * h * (1 if f.flag("tie_word_embeddings", True) else 2) + layers * layer + h
    return dict(type="ssm", parameters=total, layers=layers, hidden=h, state_size=state, expand=max(1, inner // h),
                conv_kernel=kernel, vocab=vocab), ParameterCount(total, total)


# --- public -------------------------------------------------------------------------------------------------
def count_parameters(source) -> ParameterCount:
    """The parameters of the model a ``config.json`` (path, its directory, or parsed dict) describes."""
    config, where, _ = _load(source)
    return _read(config, where)[2]


def from_hf_config(source, name: str | None = None, parameters: float | None = None):
    """The workload a Hugging Face ``config.json`` describes (a path, its directory, or the parsed dict).

    ``name`` defaults to the config's ``_name_or_path``, else its directory's name (a dict's: its model_type).
    A stated parameter count (``parameters``, else the config's ``num_parameters``) must agree with the one
    derived from the shapes within 2%. Vision-language models load as their language model (see the module
    docstring).
    """
    config, where, default_name = _load(source)
    model_type, fact, counted = _read(config, where)
    name = name or default_name or model_type
    stated = parameters if parameters is not None else config.get("num_parameters")
    if stated is not None:
        if isinstance(stated, bool) or not isinstance(stated, (int, float)) or not stated > 0:
            raise InputError(f"{name}: a stated parameter count must be a positive number, got {stated!r}")
        if abs(counted.total / stated - 1.0) > 0.02:
            raise InputError(f"{name}: the stated {stated:,.0f} parameters differ from the {counted.total:,} its "
                             f"config's shapes hold ({counted.total / stated - 1.0:+.1%}).")
    source_text = f"Hugging Face config.json ({model_type}) of {name}; parameters counted from its shapes"
    if counted.vision:
        source_text += f"; the vision tower and projector ({counted.vision:,} parameters) are not in parameters"
    # imported here: registry.py attaches from_hf_config to Models, so it imports this module
    from .registry import workload_from_fact

    return workload_from_fact({"name": str(name), **fact, "source": source_text})


__all__ = ["SUPPORTED", "ParameterCount", "Shapes", "count_parameters", "from_hf_config", "transformer_parameters"]
