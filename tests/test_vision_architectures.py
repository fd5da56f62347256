"""Vision generators against published counts, and the model-zoo facts against themselves.

The generators in ``mlsysim.models.vision`` build each network block by block from its
definition; nothing is a table of totals. So the parameter counts below are a strong check:
torchvision's counts are reproduced exactly (weights + biases + BatchNorm affine pairs), and
MACs (multiply-accumulates per image; FLOPs = 2 x MACs) within 3% of the published figures.
The facts file is read directly with ``yaml.safe_load``.
"""
from math import ceil
from pathlib import Path

import pytest
import yaml

import mlsysim.models.vision as vision

MODELS_YAML = Path(__file__).resolve().parents[1] / "mlsysim" / "zoo" / "data" / "models.yaml"
ZOO = yaml.safe_load(MODELS_YAML.read_text(encoding="utf-8"))
ENTRIES = [(family, key, e) for family, entries in ZOO.items() for key, e in entries.items()]


# --- known answers ------------------------------------------------------------------------
# arch: (published parameters, exact?, published MACs, source)
PUBLISHED = {
    "resnet50": (25_557_032, True, 4.09e9, "torchvision"),
    "resnet18": (11_689_512, True, 1.81e9, "torchvision"),
    "mobilenet_v2": (3_504_872, True, 300e6, "torchvision; Sandler et al. 300M MAdds"),
    "vgg16": (138_357_544, True, 15.47e9, "torchvision"),
    "alexnet": (61_100_840, True, 0.714e9, "torchvision"),
    "efficientnet_b0": (5_288_548, True, 0.39e9, "torchvision; Tan & Le"),
    "efficientnet_b4": (19_341_616, True, 4.39e9, "torchvision (380 px)"),
    "mobilenet_v3_large": (5_483_032, True, 219e6, "torchvision; Howard et al. 2019 Table 3"),
    "mobilenet_v3_small": (2_542_856, True, 56e6, "torchvision; Howard et al. 2019 Table 3"),
    "mobilenet_v1": (4_231_976, True, 569e6, "Keras trainable params; Howard et al. 2017 Table 8"),
    "vit_b16": (86_567_656, True, 17.56e9, "torchvision vit_b_16"),
    "vit_l16": (304_326_632, True, 61.55e9, "torchvision vit_l_16"),
    "yolov8n": (3_157_200, True, 8.7e9 / 2, "Ultralytics: 3157200 params, 8.7 GFLOPs (2 x MACs)"),
    "lenet1": (9_760, True, 63_660, "LeCun et al. 1989: 9,760 parameters, 64,660 connections incl. 1,000 biases"),
    "lenet5": (60_000, False, 416_520, "LeCun et al. 1998: ~60,000 trainable parameters"),
    "anomaly_ae": (269_992, False, 264_192, "MLPerf Tiny AD (Keras count includes BN statistics)"),
    "ds_cnn_s": (None, False, 5.4e6 / 2, "Hello Edge Table 7: 5.4M ops"),
    "ds_cnn_m": (None, False, 19.8e6 / 2, "Hello Edge Table 7: 19.8M ops"),
    "ds_cnn_l": (None, False, 56.9e6 / 2, "Hello Edge Table 7: 56.9M ops"),
}


@pytest.mark.parametrize("arch", sorted(PUBLISHED))
def test_totals_match_published_figures(arch):
    params, exact, macs, source = PUBLISHED[arch]
    p, m = vision.totals(arch)
    if params is not None:
        if exact:
            assert p == params, f"{arch}: {p:,} parameters, {source} says {params:,}"
        else:
            assert p == pytest.approx(params, rel=0.03), source
    assert m == pytest.approx(macs, rel=0.03), f"{arch}: {m / 1e6:.1f}M MACs vs {macs / 1e6:.1f}M ({source})"


def test_width_multiplier_and_headless_variants_match_keras():
    """Keras MobileNetV2(alpha=0.5): 1,968,680 trainable parameters, 687,680 without the top;
    the TF-Slim table gives 97M MACs for mobilenet_v2_0.5_224."""
    p, m = vision.totals("mobilenet_v2", width=0.5)
    assert p == 1_968_680 and m == pytest.approx(97e6, rel=0.03)
    assert vision.totals("mobilenet_v2_features", width=0.5)[0] == 687_680
    assert vision.totals("mobilenet_v2", width=0.5, classes=0) == vision.totals("mobilenet_v2_features", width=0.5)


def test_resolution_scales_macs_not_parameters():
    p224, m224 = vision.totals("resnet50")
    p448, m448 = vision.totals("resnet50", 448)
    assert p448 == p224 and m448 == pytest.approx(4 * m224, rel=0.02)
    vit = vision.layers("vit_b16", 384)
    assert {x.tokens for x in vit if x.kind == "attention"} == {577}      # (384/16)^2 + 1


def test_vit_block_is_qkv_attention_proj_mlp_with_197_tokens():
    ls = vision.layers("vit_b16")
    attn = [x for x in ls if x.kind == "attention"]
    assert len(attn) == 12 and all((x.tokens, x.heads, x.head_dim) == (197, 12, 64) for x in attn)
    block = [x.name.split(".")[-1] for x in ls if x.name.startswith("encoder.layer0.")]
    assert block == ["ln_1", "qkv", "attention", "out_proj", "add1", "ln_2", "fc1", "gelu", "fc2", "add2"]
    qkv = next(x for x in ls if x.name == "encoder.layer0.qkv")
    assert (qkv.tokens, qkv.cin, qkv.cout, qkv.macs) == (197, 768, 2304, 197 * 768 * 2304)
    assert ls[0].kind == "conv" and (ls[0].k, ls[0].stride, ls[0].h_out) == (16, 16, 14)


def test_mobilenet_v3_has_squeeze_excite_as_pool_and_linears():
    ls = vision.layers("mobilenet_v3_large")
    se = [x for x in ls if ".se." in x.name]
    assert {x.kind for x in se} == {"pool", "linear", "act", "add"}
    fc1 = next(x for x in ls if x.name == "features.4.se.fc1")     # first SE: 72 -> 24 channels
    assert (fc1.cin, fc1.cout, fc1.tokens) == (72, 24, 1)


# --- structure ----------------------------------------------------------------------------
SEQUENTIAL = ("vgg16", "alexnet", "mobilenet_v1", "lenet5", "ds_cnn_s", "ds_cnn_m", "ds_cnn_l")
INPUTS = {"ds_cnn_s": (1, 49, 10), "ds_cnn_m": (1, 49, 10), "ds_cnn_l": (1, 49, 10)}


def _input_shape(arch):
    if arch in INPUTS:
        return INPUTS[arch]
    r = vision.default_resolution(arch)
    return (1 if arch.startswith("lenet") else 3, r, r)


@pytest.mark.parametrize("arch", [a for a in vision.ARCHS if a != "anomaly_ae"])
def test_shapes_chain(arch):
    """Every conv reads a tensor some earlier layer (or the input) produced, or an equal
    channel split of one (YOLO's C2f chunk); in plain sequential networks, exactly the
    previous spatial layer's output."""
    produced = {_input_shape(arch)}
    previous = _input_shape(arch)
    for x in vision.layers(arch):
        if x.kind == "conv" and not x.name.endswith("dfl.conv"):
            src = (x.cin, x.h_in, x.w_in)
            split = any(c > x.cin and c % x.cin == 0 and (h, w) == src[1:] for c, h, w in produced)
            assert src in produced or split, f"{arch}.{x.name} reads {src}, which no earlier layer produced"
            if arch in SEQUENTIAL:
                assert src == previous, f"{arch}.{x.name}: h_in/w_in/cin {src} != previous output {previous}"
            kw, sw = x.kw or x.k, x.sw or x.stride
            assert (x.h_in - x.k) // x.stride + 1 <= x.h_out <= ceil(x.h_in / x.stride)
            assert (x.w_in - kw) // sw + 1 <= x.w_out <= ceil(x.w_in / sw)
        if x.kind in ("conv", "pool"):
            previous = (x.cout, x.h_out, x.w_out)
        if x.kind in ("conv", "pool", "norm", "act", "add") and x.h_out:
            produced.add((x.cout, x.h_out, x.w_out))


@pytest.mark.parametrize("arch", vision.ARCHS)
def test_layer_records_are_self_consistent(arch):
    kinds = {"conv", "linear", "attention", "pool", "norm", "act", "add"}
    for x in vision.layers(arch):
        assert x.kind in kinds and x.params >= 0 and x.macs >= 0
        if x.kind == "conv":
            assert x.cin % x.groups == 0 and x.cout % x.groups == 0
            if arch == "lenet1":            # sparse H2 connectivity and untied biases: see test above
                continue
            per_out = (x.cin // x.groups) * x.k * (x.kw or x.k)
            assert x.macs == x.h_out * x.w_out * x.cout * per_out, x.name
            assert x.params in (x.cout * per_out, x.cout * per_out + x.cout), x.name
        elif x.kind == "linear":
            assert x.macs == max(x.tokens, 1) * x.cin * x.cout
            assert x.params in (x.cin * x.cout, x.cin * x.cout + x.cout)
        elif x.kind == "attention":
            assert x.macs == 2 * x.tokens ** 2 * x.heads * x.head_dim
        else:
            assert x.macs == 0 and x.elements > 0


def test_depthwise_convs_are_grouped_per_channel():
    dws = [x for x in vision.layers("mobilenet_v2") if x.name.endswith(".dw")]
    assert len(dws) == 17 and all(x.groups == x.cin == x.cout for x in dws)


def test_non_square_ds_cnn_first_conv():
    first = vision.layers("ds_cnn_m")[0]
    assert (first.k, first.kw, first.stride, first.sw) == (10, 4, 2, 1)
    assert (first.h_out, first.w_out) == (25, 10)      # TF 'same': ceil(49/2), ceil(10/1)


def test_results_are_cached_and_immutable():
    assert vision.layers("resnet50") is vision.layers("resnet50")
    assert isinstance(vision.layers("resnet50"), tuple)


def test_bad_requests_say_what_is_wrong():
    with pytest.raises(ValueError, match="did you mean.*resnet50"):
        vision.layers("resnet5O")
    with pytest.raises(ValueError, match="width"):
        vision.layers("resnet50", width=0.5)
    with pytest.raises(ValueError, match="resolution"):
        vision.layers("yolov8n", 650)
    with pytest.raises(ValueError, match="fixed input"):
        vision.layers("lenet5", 64)


# --- the facts file -----------------------------------------------------------------------
PUBLISHED_KEYS = {
    "language": ["GPT2", "GPT2_Small", "GPT3", "GPT4", "BERT_Base", "BERT_Large", "Llama2_7B", "Llama2_70B",
                 "Llama3_8B", "Llama3_70B", "Llama3_405B", "Mixtral_8x7B", "DeepSeek_V3",
                 "Llama3_1B", "Llama3_3B", "Qwen2_5_7B", "Mistral_7B", "Gemma2_9B", "DeepSeek_V2_Lite"],
    "vision": ["ResNet50", "ResNet18", "MobileNetV2", "MobileNetV2_Alpha0_5", "MobileNetV2_Alpha0_5FeatureExtractor",
               "EfficientNetB0", "AlexNet", "LeNet1", "YOLOv8_Nano", "MobileNetV1", "MobileNetV3_Large",
               "MobileNetV3_Small", "EfficientNetB4", "VGG16", "LeNet5", "ViT_B16", "ViT_L16"],
    "tiny": ["DS_CNN", "WakeVision", "AnomalyDetector"],
    "recommendation": ["DLRM"],
    "state_space": ["Mamba_130M", "Mamba_2_8B"],
    "generative_vision": ["StableDiffusion_v1_5"],
}
TYPES = {"transformer", "moe", "cnn", "vit", "ssm", "diffusion", "mlp", "opaque"}


def test_published_registry_keys_are_present():
    for family, keys in PUBLISHED_KEYS.items():
        missing = [k for k in keys if k not in ZOO.get(family, {})]
        assert not missing, f"{family} lacks {missing}"


def _numbers_are_numbers(value, where):
    """PyYAML reads 8.03e9 (no dot / unsigned exponent) as a string: catch that."""
    if isinstance(value, dict):
        for k, v in value.items():
            _numbers_are_numbers(v, f"{where}.{k}")
    elif isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return
        raise AssertionError(f"{where} = {value!r} is a string that looks like a number")


@pytest.mark.parametrize("family, key, e", ENTRIES, ids=[k for _, k, _ in ENTRIES])
def test_every_entry_is_sourced_typed_and_numeric(family, key, e):
    assert isinstance(e.get("source"), str) and len(e["source"]) > 10, f"{key} has no source"
    assert e.get("name") and e.get("type") in TYPES
    assert e.get("parameters") or e.get("model_size"), key
    _numbers_are_numbers(e, key)


VISION = [(k, e) for _, k, e in ENTRIES if e["type"] in ("cnn", "vit", "mlp")]


@pytest.mark.parametrize("key, e", VISION, ids=[k for k, _ in VISION])
def test_vision_records_agree_with_their_generator(key, e):
    assert e["arch"] in vision.ARCHS
    p, m = vision.totals(e["arch"], e.get("resolution"), e.get("width", 1.0))
    assert p == pytest.approx(e["parameters"], rel=0.03), f"{key}: generator {p:,} vs record {e['parameters']:,}"
    assert m == pytest.approx(e["macs"], rel=0.03), f"{key}: generator {m:.4g} MACs vs record {e['macs']:.4g}"


TRANSFORMERS = [(k, e) for _, k, e in ENTRIES if e["type"] in ("transformer", "moe")]


def _transformer_parameters(e):
    """Total and active (less the input embedding) parameters from the architecture fields."""
    h, L, nh = e["hidden"], e["layers"], e["heads"]
    kv, hd = e.get("kv_heads", nh), e.get("head_dim", h // nh)
    biased = e.get("norm") == "layernorm"                       # GPT-2/3, BERT: biased linears
    if e.get("kv_lora_rank"):                                   # multi-head latent attention
        qk, ql, kl, rope = e["qk_nope_head_dim"] + e["qk_rope_head_dim"], e.get("q_lora_rank"), \
            e["kv_lora_rank"], e["qk_rope_head_dim"]
        attn = (h * ql + ql + ql * nh * qk if ql else h * nh * qk) + h * (kl + rope) + kl + \
            kl * nh * (e["qk_nope_head_dim"] + e["v_head_dim"]) + nh * e["v_head_dim"] * h
    else:
        attn = 2 * h * nh * hd + 2 * h * kv * hd + (3 * nh * hd + h if biased else 0)
    mats = 3 if e.get("gated_ffn") else 2
    mlp = lambda f: mats * h * f + (f + h if biased else 0)     # noqa: E731
    embed = e["vocab"] * h
    head = 0 if e.get("tied_embeddings") else embed
    if e["type"] == "moe":
        dense = e.get("dense_layers", 0)
        routed, shared = e["experts"], e.get("shared_experts", 0)
        moe_layer = lambda n: n * mlp(e["expert_ffn"]) + h * routed   # noqa: E731
        body = dense * mlp(e.get("dense_ffn", 0)) + (L - dense) * moe_layer(routed + shared) + L * attn
        active = dense * mlp(e.get("dense_ffn", 0)) + (L - dense) * moe_layer(e["active_experts"] + shared) + L * attn
    else:
        body = active = L * (attn + mlp(e["ffn"]))
    return body + embed + head, active + head


@pytest.mark.parametrize("key, e", TRANSFORMERS, ids=[k for k, _ in TRANSFORMERS])
def test_transformer_shapes_add_up(key, e):
    nh, kv = e["heads"], e.get("kv_heads", e["heads"])
    assert nh % kv == 0, f"{key}: kv_heads {kv} must divide heads {nh}"
    assert e["hidden"] == nh * e.get("head_dim", e["hidden"] // nh) or "head_dim" in e
    assert e["hidden"] % nh == 0 or "head_dim" in e
    if "ESTIMATE" in e.get("notes", ""):
        pytest.skip("architecture not public")
    total, active = _transformer_parameters(e)
    assert total == pytest.approx(e["parameters"], rel=0.03), f"{key}: fields give {total:.4g} parameters"
    if "active_parameters" in e:
        assert active == pytest.approx(e["active_parameters"], rel=0.03), f"{key}: fields give {active:.4g} active"


def test_sliding_windows_and_mla_are_recorded():
    lang = ZOO["language"]
    assert lang["Mistral_7B"]["sliding_window"] == 4096 and lang["Mistral_7B"]["sliding_window_layers"] == "all"
    assert lang["Gemma2_9B"]["sliding_window_layers"] == "every_other"
    ds = lang["DeepSeek_V3"]
    assert ds["heads"] == 128 and ds["kv_lora_rank"] + ds["qk_rope_head_dim"] == 576


SSMS = [(k, e) for _, k, e in ENTRIES if e["type"] == "ssm"]


@pytest.mark.parametrize("key, e", SSMS, ids=[k for k, _ in SSMS])
def test_mamba_shapes_add_up(key, e):
    h, n, k = e["hidden"], e["state_size"], e["conv_kernel"]
    inner, dt = e["expand"] * h, -(-h // 16)
    layer = 2 * inner * h + inner * (k + 1) + inner * (dt + 2 * n) + dt * inner + inner + inner * n + inner \
        + inner * h + h
    total = e["layers"] * layer + e["vocab"] * h + h             # tied embeddings
    assert total == pytest.approx(e["parameters"], rel=0.03)
