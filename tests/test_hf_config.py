"""Hugging Face config.json files load as workloads whose parameter counts match the model cards."""
import json

import pytest

import mlsysim
from mlsysim import Models
from mlsysim.errors import InputError
from mlsysim.models.hf_config import SUPPORTED, count_parameters, from_hf_config
from mlsysim.models.types import CNNWorkload, SparseTransformerWorkload, SSMWorkload, TransformerWorkload
from mlsysim.run import resolve_model

# The released config.json files (keys that do not change the shapes left out).
LLAMA_3_1_8B = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "attention_bias": False, "mlp_bias": False,
    "hidden_act": "silu", "hidden_size": 4096, "intermediate_size": 14336, "max_position_embeddings": 131072,
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "rope_theta": 500000.0, "tie_word_embeddings": False, "vocab_size": 128256,
}
MISTRAL_7B = {
    "architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_act": "silu", "hidden_size": 4096,
    "intermediate_size": 14336, "max_position_embeddings": 32768, "num_attention_heads": 32,
    "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
    "sliding_window": 4096, "tie_word_embeddings": False, "vocab_size": 32000,
}
MIXTRAL_8X7B = {
    "architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_act": "silu", "hidden_size": 4096,
    "intermediate_size": 14336, "max_position_embeddings": 32768, "num_attention_heads": 32,
    "num_experts_per_tok": 2, "num_hidden_layers": 32, "num_key_value_heads": 8, "num_local_experts": 8,
    "rms_norm_eps": 1e-05, "rope_theta": 1e6, "sliding_window": None, "tie_word_embeddings": False,
    "vocab_size": 32000,
}
QWEN2_7B = {
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu", "hidden_size": 3584,
    "intermediate_size": 18944, "max_position_embeddings": 131072, "max_window_layers": 28,
    "num_attention_heads": 28, "num_hidden_layers": 28, "num_key_value_heads": 4, "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0, "sliding_window": 131072, "tie_word_embeddings": False, "use_sliding_window": False,
    "vocab_size": 152064,
}
QWEN3_8B = {
    "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "attention_bias": False, "head_dim": 128,
    "hidden_act": "silu", "hidden_size": 4096, "intermediate_size": 12288, "max_position_embeddings": 40960,
    "max_window_layers": 36, "num_attention_heads": 32, "num_hidden_layers": 36, "num_key_value_heads": 8,
    "rms_norm_eps": 1e-06, "rope_theta": 1000000, "sliding_window": None, "tie_word_embeddings": False,
    "use_sliding_window": False, "vocab_size": 151936,
}
QWEN3_30B_A3B = {
    "architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe", "attention_bias": False,
    "decoder_sparse_step": 1, "head_dim": 128, "hidden_act": "silu", "hidden_size": 2048,
    "intermediate_size": 6144, "max_position_embeddings": 40960, "max_window_layers": 48, "mlp_only_layers": [],
    "moe_intermediate_size": 768, "norm_topk_prob": True, "num_attention_heads": 32, "num_experts": 128,
    "num_experts_per_tok": 8, "num_hidden_layers": 48, "num_key_value_heads": 4, "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0, "sliding_window": None, "tie_word_embeddings": False, "use_sliding_window": False,
    "vocab_size": 151936,
}
QWEN1_5_MOE_A2_7B = {
    "architectures": ["Qwen2MoeForCausalLM"], "model_type": "qwen2_moe", "decoder_sparse_step": 1,
    "hidden_act": "silu", "hidden_size": 2048, "intermediate_size": 5632, "max_position_embeddings": 8192,
    "max_window_layers": 21, "moe_intermediate_size": 1408, "norm_topk_prob": False, "num_attention_heads": 16,
    "num_experts": 60, "num_experts_per_tok": 4, "num_hidden_layers": 24, "num_key_value_heads": 16,
    "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "shared_expert_intermediate_size": 5632,
    "sliding_window": 32768, "tie_word_embeddings": False, "use_sliding_window": False, "vocab_size": 151936,
}
GEMMA2_9B = {  # no tie_word_embeddings: Gemma2Config's default (True) is not written
    "architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "attn_logit_softcapping": 50.0,
    "final_logit_softcapping": 30.0, "head_dim": 256, "hidden_act": "gelu_pytorch_tanh",
    "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 3584, "intermediate_size": 14336,
    "max_position_embeddings": 8192, "num_attention_heads": 16, "num_hidden_layers": 42, "num_key_value_heads": 8,
    "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "sliding_window": 4096,
    "vocab_size": 256000,
}
GEMMA3_1B = {
    "architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "attention_bias": False, "head_dim": 256,
    "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 1152, "intermediate_size": 6912,
    "max_position_embeddings": 32768, "num_attention_heads": 4, "num_hidden_layers": 26, "num_key_value_heads": 1,
    "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_local_base_freq": 10000, "rope_theta": 1000000,
    "sliding_window": 512, "sliding_window_pattern": 6, "vocab_size": 262144,
}
GEMMA3_4B = {  # nested configs are written sparsely: the class defaults fill the rest
    "architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3", "boi_token_index": 255999,
    "eoi_token_index": 256000, "image_token_index": 262144, "mm_tokens_per_image": 256,
    "text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
                    "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
                    "sliding_window": 1024},
    "vision_config": {"hidden_size": 1152, "image_size": 896, "intermediate_size": 4304,
                      "model_type": "siglip_vision_model", "num_attention_heads": 16, "num_hidden_layers": 27,
                      "patch_size": 14, "vision_use_head": False},
}
PHI3_MINI = {
    "architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "attention_bias": False, "hidden_act": "silu",
    "hidden_size": 3072, "intermediate_size": 8192, "max_position_embeddings": 4096, "num_attention_heads": 32,
    "num_hidden_layers": 32, "num_key_value_heads": 32, "original_max_position_embeddings": 4096,
    "rms_norm_eps": 1e-05, "rope_scaling": None, "rope_theta": 10000.0, "sliding_window": 2047,
    "tie_word_embeddings": False, "vocab_size": 32064,
}
DEEPSEEK_V3 = {
    "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "attention_bias": False,
    "first_k_dense_replace": 3, "hidden_act": "silu", "hidden_size": 7168, "intermediate_size": 18432,
    "kv_lora_rank": 512, "max_position_embeddings": 163840, "moe_intermediate_size": 2048, "moe_layer_freq": 1,
    "n_group": 8, "n_routed_experts": 256, "n_shared_experts": 1, "norm_topk_prob": True,
    "num_attention_heads": 128, "num_experts_per_tok": 8, "num_hidden_layers": 61, "num_key_value_heads": 128,
    "num_nextn_predict_layers": 1, "q_lora_rank": 1536, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
    "rms_norm_eps": 1e-06, "routed_scaling_factor": 2.5, "scoring_func": "sigmoid", "tie_word_embeddings": False,
    "topk_group": 4, "topk_method": "noaux_tc", "v_head_dim": 128, "vocab_size": 129280,
}
DEEPSEEK_V2_LITE = {
    "architectures": ["DeepseekV2ForCausalLM"], "model_type": "deepseek_v2", "first_k_dense_replace": 1,
    "hidden_act": "silu", "hidden_size": 2048, "intermediate_size": 10944, "kv_lora_rank": 512,
    "max_position_embeddings": 163840, "moe_intermediate_size": 1408, "moe_layer_freq": 1, "n_group": 1,
    "n_routed_experts": 64, "n_shared_experts": 2, "norm_topk_prob": False, "num_attention_heads": 16,
    "num_experts_per_tok": 6, "num_hidden_layers": 27, "num_key_value_heads": 16, "q_lora_rank": None,
    "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "rms_norm_eps": 1e-06, "scoring_func": "softmax",
    "tie_word_embeddings": False, "topk_group": 1, "topk_method": "greedy", "v_head_dim": 128, "vocab_size": 102400,
}
GPT2 = {
    "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu_new",
    "layer_norm_epsilon": 1e-05, "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 1024,
    "vocab_size": 50257,
}
BERT_BASE = {
    "architectures": ["BertForMaskedLM"], "model_type": "bert", "hidden_act": "gelu", "hidden_size": 768,
    "intermediate_size": 3072, "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "num_attention_heads": 12,
    "num_hidden_layers": 12, "position_embedding_type": "absolute", "type_vocab_size": 2, "vocab_size": 30522,
}
VIT_B16 = {
    "_name_or_path": "google/vit-base-patch16-224", "architectures": ["ViTForImageClassification"],
    "model_type": "vit", "hidden_act": "gelu", "hidden_size": 768, "image_size": 224, "intermediate_size": 3072,
    "id2label": {str(i): f"class {i}" for i in range(1000)}, "layer_norm_eps": 1e-12, "num_attention_heads": 12,
    "num_channels": 3, "num_hidden_layers": 12, "patch_size": 16, "qkv_bias": True,
}
MAMBA_130M = {
    "architectures": ["MambaForCausalLM"], "model_type": "mamba", "conv_kernel": 4, "expand": 2,
    "hidden_act": "silu", "hidden_size": 768, "intermediate_size": 1536, "n_layer": 24, "num_hidden_layers": 24,
    "rms_norm": True, "state_size": 16, "time_step_rank": 48, "use_bias": False, "use_conv_bias": True,
    "vocab_size": 50280,
}
LLAVA_1_5_7B = {
    "architectures": ["LlavaForConditionalGeneration"], "model_type": "llava", "ignore_index": -100,
    "image_token_index": 32000, "pad_token_id": 32001, "projector_hidden_act": "gelu",
    "text_config": {"_name_or_path": "lmsys/vicuna-7b-v1.5", "architectures": ["LlamaForCausalLM"],
                    "max_position_embeddings": 4096, "model_type": "llama", "rms_norm_eps": 1e-05,
                    "vocab_size": 32064},
    "tie_word_embeddings": False,
    "vision_config": {"hidden_size": 1024, "image_size": 336, "intermediate_size": 4096,
                      "model_type": "clip_vision_model", "num_attention_heads": 16, "num_hidden_layers": 24,
                      "patch_size": 14, "projection_dim": 768, "vocab_size": 32000},
    "vision_feature_layer": -2, "vision_feature_select_strategy": "default", "vocab_size": 32064,
}
QWEN2_VL_7B = {
    "architectures": ["Qwen2VLForConditionalGeneration"], "model_type": "qwen2_vl", "hidden_act": "silu",
    "hidden_size": 3584, "intermediate_size": 18944, "max_position_embeddings": 32768, "max_window_layers": 28,
    "num_attention_heads": 28, "num_hidden_layers": 28, "num_key_value_heads": 4, "rms_norm_eps": 1e-06,
    "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]}, "rope_theta": 1000000.0,
    "sliding_window": 32768, "tie_word_embeddings": False, "use_sliding_window": False, "vocab_size": 152064,
    "vision_config": {"depth": 32, "embed_dim": 1280, "mlp_ratio": 4, "num_heads": 16, "in_chans": 3,
                      "hidden_size": 3584, "patch_size": 14, "spatial_merge_size": 2, "spatial_patch_size": 14,
                      "temporal_patch_size": 2},
}

# (config, total parameters on the model card, active parameters on the card or None)
CARDS = {
    "Llama-3.1-8B": (LLAMA_3_1_8B, 8.03e9, None),
    "Mistral-7B-v0.1": (MISTRAL_7B, 7.24e9, None),
    "Mixtral-8x7B-v0.1": (MIXTRAL_8X7B, 46.7e9, 12.9e9),
    "Qwen2-7B": (QWEN2_7B, 7.62e9, None),
    "Qwen3-8B": (QWEN3_8B, 8.2e9, None),
    "Qwen3-30B-A3B": (QWEN3_30B_A3B, 30.5e9, None),
    "Qwen1.5-MoE-A2.7B": (QWEN1_5_MOE_A2_7B, 14.3e9, 2.7e9),
    "Gemma-2-9B": (GEMMA2_9B, 9.24e9, None),
    "Gemma-3-1B": (GEMMA3_1B, 1.0e9, None),
    "Gemma-3-4B": (GEMMA3_4B, 4.3e9, None),
    "Phi-3-mini-4k": (PHI3_MINI, 3.82e9, None),
    "DeepSeek-V3": (DEEPSEEK_V3, 671e9, None),
    "DeepSeek-V2-Lite": (DEEPSEEK_V2_LITE, 15.7e9, None),
    "GPT-2": (GPT2, 124e6, None),
    "BERT-base-uncased": (BERT_BASE, 110e6, None),
    "ViT-B/16": (VIT_B16, 86e6, None),
    "Mamba-130M": (MAMBA_130M, 130e6, None),
    "LLaVA-1.5-7B": (LLAVA_1_5_7B, 7.06e9, None),
    "Qwen2-VL-7B": (QWEN2_VL_7B, 8.29e9, None),
}
TRANSFORMERS = [k for k, (c, _, _) in CARDS.items() if c["model_type"] not in ("vit", "mamba")]


@pytest.mark.parametrize("model", CARDS)
def test_the_derived_count_is_the_model_cards(model, tmp_path):
    config, card, card_active = CARDS[model]
    counted = count_parameters(config)
    assert counted.total == pytest.approx(card, rel=0.01)
    if card_active:
        assert counted.active == pytest.approx(card_active, rel=0.01)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    from_dict, from_file = from_hf_config(config, name=model), from_hf_config(path, name=model)
    assert from_dict == from_file
    assert float(from_file.parameters) == counted.total - counted.vision


def test_exact_counts_equal_the_zoo_entries():
    """The zoo's exact counts were taken from the same checkpoints."""
    for config, entry in ((LLAMA_3_1_8B, Models.Llama3_8B), (MISTRAL_7B, Models.Mistral_7B),
                          (MIXTRAL_8X7B, Models.Mixtral_8x7B), (GEMMA2_9B, Models.Gemma2_9B),
                          (GPT2, Models.GPT2_Small), (BERT_BASE, Models.BERT_Base), (VIT_B16, Models.ViT_B16)):
        assert count_parameters(config).total == entry.parameters


def test_families_map_to_the_zoo_layout():
    llama = from_hf_config(LLAMA_3_1_8B)
    zoo = Models.Llama3_8B
    for field in ("layers", "hidden_dim", "heads", "kv_heads", "head_dim", "ffn_dim", "vocab_size", "context_length",
                  "tied_embeddings", "gated_ffn", "norm", "positions", "attention"):
        assert getattr(llama, field) == getattr(zoo, field), field
    v3 = from_hf_config(DEEPSEEK_V3)
    assert isinstance(v3, SparseTransformerWorkload) and v3.is_mla
    assert (v3.experts, v3.active_experts, v3.shared_experts, v3.dense_layers, v3.ffn_dim, v3.expert_ffn_dim,
            v3.q_lora_rank) == (256, 8, 1, 3, 18432, 2048, 1536)
    qwen_moe = from_hf_config(QWEN1_5_MOE_A2_7B)
    assert (qwen_moe.shared_experts, qwen_moe.dense_layers) == (4, 0)
    gemma = from_hf_config(GEMMA2_9B)
    assert gemma.tied_embeddings and (gemma.sliding_window, gemma.sliding_window_layers) == (4096, "every_other")
    assert from_hf_config(MISTRAL_7B).sliding_window == 4096 and from_hf_config(QWEN2_7B).sliding_window is None
    gpt2, bert = from_hf_config(GPT2), from_hf_config(BERT_BASE)
    assert (gpt2.positions, gpt2.norm, gpt2.linear_bias, gpt2.gated_ffn) == ("learned", "layernorm", True, False)
    assert bert.attention == "bidirectional"
    vit = from_hf_config(VIT_B16)
    assert isinstance(vit, CNNWorkload) and vit.arch == "vit_b16" and vit.name == "google/vit-base-patch16-224"
    mamba = from_hf_config(MAMBA_130M)
    assert isinstance(mamba, SSMWorkload) and (mamba.state_size, mamba.expand, mamba.vocab_size) == (16, 2, 50280)


def test_a_vlm_loads_as_its_language_model():
    llava = from_hf_config(LLAVA_1_5_7B)
    assert isinstance(llava, TransformerWorkload) and (llava.hidden_dim, llava.vocab_size) == (4096, 32064)
    assert "vision tower" in llava.metadata.source
    assert count_parameters(LLAVA_1_5_7B).vision == 303_507_456 + 20_979_712   # CLIP ViT-L/14-336 + projector
    assert count_parameters(QWEN2_VL_7B).vision == 675_759_104


def test_moe_active_parameters_leave_out_the_input_embedding():
    mixtral = from_hf_config(MIXTRAL_8X7B)
    assert float(mixtral.active_parameters) == count_parameters(MIXTRAL_8X7B).active - 32000 * 4096


@pytest.mark.parametrize("model", TRANSFORMERS)
def test_transformers_run_through_the_engine(model):
    # 512 tokens: the default 2,048 exceed GPT-2's and BERT's context
    profile = mlsysim.Engine.solve(from_hf_config(CARDS[model][0]), "H100", batch_size=1, seq_len=512)
    assert profile.latency_s > 0


def test_paths_load_and_solvers_take_them(tmp_path):
    folder = tmp_path / "Llama-3.1-8B"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(LLAMA_3_1_8B))
    by_file, by_folder = resolve_model(str(folder / "config.json")), resolve_model(str(folder))
    assert by_file == by_folder and by_file.name == "Llama-3.1-8B"
    assert Models.from_hf_config(folder).parameters == Models.Llama3_8B.parameters
    assert resolve_model("Llama3_8B") is Models.Llama3_8B


def test_model_type_comes_from_architectures_when_absent():
    config = {k: v for k, v in QWEN1_5_MOE_A2_7B.items() if k != "model_type"}
    assert isinstance(from_hf_config(config), SparseTransformerWorkload)


@pytest.mark.parametrize("config, match", [
    ({**LLAMA_3_1_8B, "model_type": "falcon"}, "'falcon'.*supported: .*llama"),
    ({k: v for k, v in LLAMA_3_1_8B.items() if k != "num_hidden_layers"}, "config.json has no 'num_hidden_layers'"),
    ({k: v for k, v in GPT2.items() if k != "n_layer"}, "has no 'n_layer'"),
    ({**LLAMA_3_1_8B, "num_hidden_layers": "32"}, "'num_hidden_layers' must be a whole number"),
    ({**LLAMA_3_1_8B, "tie_word_embeddings": "no"}, "'tie_word_embeddings' must be true or false"),
    ({**LLAMA_3_1_8B, "num_parameters": 8.85e9}, "stated 8,850,000,000 parameters differ from the 8,030,261,248"),
    ({**LLAVA_1_5_7B, "vision_config": {**LLAVA_1_5_7B["vision_config"], "model_type": "pixtral"}}, "pixtral"),
    ({"architectures": []}, "has no 'model_type'"),
    ({**VIT_B16, "hidden_size": 384, "num_attention_heads": 6, "intermediate_size": 1536}, "cannot generate"),
])
def test_bad_configs_raise_one_sentence(config, match):
    with pytest.raises(InputError, match=match):
        from_hf_config(config)


def test_any_wrong_value_is_an_input_error():
    """No value of the wrong type or size escapes as a bare TypeError, KeyError or ZeroDivisionError."""
    for config in (LLAMA_3_1_8B, DEEPSEEK_V3, QWEN3_30B_A3B, GEMMA3_4B, LLAVA_1_5_7B, QWEN2_VL_7B, VIT_B16,
                   MAMBA_130M, GPT2, BERT_BASE):
        places = [(config, key) for key in config] + \
            [(config[outer], key) for outer in config if isinstance(config[outer], dict) for key in config[outer]]
        for where, key in places:
            kept = where[key]
            for wrong in ("x", [1], {"a": 1}, -1, 0):
                where[key] = wrong
                try:
                    from_hf_config(config)
                except InputError:
                    pass
                finally:
                    where[key] = kept


def test_a_stated_count_is_checked(tmp_path):
    assert from_hf_config(LLAMA_3_1_8B, parameters=8.03e9).parameters == 8030261248
    with pytest.raises(InputError, match="stated 7,227,000,000 parameters"):
        from_hf_config(LLAMA_3_1_8B, parameters=8.03e9 * 0.9)
    assert from_hf_config(LLAVA_1_5_7B, parameters=7.06e9)      # a VLM's stated count is the whole checkpoint's


def test_bad_files_raise_input_errors(tmp_path):
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        from_hf_config(bad)
    with pytest.raises(InputError, match="cannot read"):
        from_hf_config(tmp_path / "missing.json")
    bad.write_text("[1, 2]")
    with pytest.raises(InputError, match="JSON object"):
        from_hf_config(tmp_path)
    with pytest.raises(InputError, match="path or a dict"):
        from_hf_config(42)


def test_every_supported_type_is_exercised():
    tested = {c["model_type"] for c, _, _ in CARDS.values()}
    assert tested == set(SUPPORTED)


def test_the_cli_takes_a_config_json_where_it_takes_a_model_name(tmp_path):
    """`mlsysim eval path/config.json H100` is the model, not a plan file; `mlsysim fit` takes it too."""
    from conftest import cli, one_json

    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA_3_1_8B))
    out = one_json(cli("eval", path, "H100", "-b", "8", "-o", "json"))
    zoo = one_json(cli("eval", "Llama3_8B", "H100", "-b", "8", "-o", "json"))
    assert out["status"] == "ok" and out["p_latency_ms"] == pytest.approx(zoo["p_latency_ms"], rel=0.01)
    assert one_json(cli("fit", tmp_path, "H100", "-o", "json"))["max_context"] == 131_072
