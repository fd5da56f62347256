"""Each execution profile lowers a transformer layer to the kernels its stack really launches (counted by
hand from the source files each profile's ``kernels.source`` names), with the bytes those kernels move."""
from __future__ import annotations

import pytest

from mlsysim import Hardware, Models
from mlsysim.execution import Stacks
from mlsysim.run import Run

#: the operators launched once per step rather than once per layer
STEP_OPS = {"embedding", "embedding_add", "embedding_norm", "final_norm", "lm_head", "rope_tables"}

#: Llama-3-8B decode, kernels per layer, counted from each stack's code:
#: transformers LlamaDecoderLayer: RMSNorm chain (8) + q, k, v (3) + rotate_half per q and k (2 x 5) +
#: DynamicCache cat of k and v (2) + sdpa (1) + o_proj (1) + residual (1) + RMSNorm chain (8) + gate, up
#: (2) + act, mul (2) + down (1) + residual (1)
HF = 8 + 3 + 10 + 2 + 1 + 1 + 1 + 8 + 2 + 2 + 1 + 1
LLAMA_DECODE_PER_LAYER = {
    "pytorch_eager": HF,
    "pytorch_cuda_graphs": HF,               # index_copy_ into the static cache: also 2 kernels
    # Inductor: norm+residual (1), q, k, v (3), rope (1), index_copy k, v (2), attention (1), o (1),
    # norm+residual (1), gate, up (2), silu*mul (1), down (1)
    "torch_compile": 1 + 3 + 1 + 2 + 1 + 1 + 1 + 2 + 1 + 1,
    "jax_xla": 1 + 3 + 1 + 2 + 1 + 1 + 1 + 2 + 1 + 1,
    # fused_add_rms_norm, qkv, rotary, reshape_and_cache, attention, o, fused_add_rms_norm, gate_up,
    # silu_and_mul, down
    "vllm": 10,
    "sglang": 10,
    # TensorRT engines and TFLite take the fused-engine pieces for a decoder (their sources describe
    # encoders and CNNs): the same 10
    "tensorrt": 10,
    "tflite": 10,
    # norm, qkv, attention (RoPE and the cache write inside), o, norm, gate_up, SwiGLU, down
    "tensorrt_llm": 8,
    # Megatron-Core + TE: norm (in LayerNormLinear), qkv, rope q, rope k, cache slice k, v, attention, proj,
    # bias-dropout-add, norm, fc1 (gate and up), SwiGLU, fc2, bias-dropout-add
    "megatron": 1 + 1 + 2 + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1,
    # rms_norm (fused with its weight), wq, wk, wv, rope q, rope k, cpy k, cpy v, attention, wo, add,
    # rms_norm, gate, up, swiglu, down, add
    "llama_cpp": 17,
}


def _table(model, stack, phase="decode", precision="fp16", batch_size=1, seq_len=1024):
    run = Run.build(model, Hardware.H100, purpose="inference", phase=phase, batch_size=batch_size,
                    seq_len=seq_len, precision=precision, stack=stack)
    return run.family.lower(run.workload, phase, float(batch_size), float(seq_len), run.precisions,
                            stack=run.profile)


def _per_layer(table, layers: int) -> float:
    counts = [c for name, c in zip(table.names, table.count.tolist()) if not name.startswith(tuple(STEP_OPS))]
    return sum(counts) / layers


@pytest.mark.parametrize("stack, kernels", sorted(LLAMA_DECODE_PER_LAYER.items()))
def test_kernels_per_layer_match_each_stacks_source(stack, kernels):
    assert _per_layer(_table("Llama3_8B", stack), Models.Llama3_8B.layers) == kernels


def test_every_profile_has_a_kernel_count_here():
    """A new profile timed kernel by kernel needs its own count in this file (read from its stack's source); a
    first-order one (``textbook``: one roofline per step) launches no kernels of its own."""
    assert {key for key, p in Stacks.items() if p.first_order is None} == set(LLAMA_DECODE_PER_LAYER)


def test_the_eager_rmsnorm_moves_its_fp32_intermediates():
    """transformers' RMSNorm chain: cast to fp32 (2+4 bytes per element), square and scale (8 each),
    mean (4), cast back (4+2), weight (3 x 2): 38 bytes per element, against 8 for a fused kernel that
    also adds the residual (reads the input and the residual, writes both, in 16 bits)."""
    h, L = Models.Llama3_8B.hidden_dim, Models.Llama3_8B.layers
    eager, fused = _table("Llama3_8B", "pytorch_eager"), _table("Llama3_8B", "vllm", batch_size=1)

    def norm_bytes(table, prefix):
        return sum(b * c for name, b, c in zip(table.names, table.bytes.tolist(), table.count.tolist())
                   if name.startswith(prefix) and not name.endswith("_rsqrt"))

    assert norm_bytes(eager, "attn_norm") / L == pytest.approx(38 * h)
    assert norm_bytes(fused, "attn_norm") / L == pytest.approx(8 * h)


def test_a_concatenated_cache_copies_the_whole_cache_each_step():
    """DynamicCache grows by torch.cat: the bytes its write moves grow with the context; a static or
    paged cache writes the new token only."""
    for stack, grows in (("pytorch_eager", True), ("pytorch_cuda_graphs", False), ("vllm", False)):
        short, long = (_table("Llama3_8B", stack, seq_len=s) for s in (512, 4096))
        write = [n for n in short.names if n.startswith(("kv_write", "kv_concat"))]
        assert len(write) == 1
        i = short.names.index(write[0])
        assert (long.bytes[i] > 4 * short.bytes[i]) == grows


@pytest.mark.parametrize("model", ["BERT_Base", "GPT2"])
def test_learned_positions_have_no_rotary_kernels(model):
    for stack in ("pytorch_eager", "vllm"):
        names = _table(model, stack, phase="forward" if model == "BERT_Base" else "decode").names
        assert not [n for n in names if n.startswith("rope")]


def test_an_encoder_writes_no_cache_and_embeds_with_token_types():
    eager = _table("BERT_Base", "pytorch_eager", phase="forward", seq_len=128)
    assert not [n for n in eager.names if n.startswith(("kv_write", "kv_concat"))]
    i = eager.names.index("embedding")
    assert eager.count[i] == 3                     # word, position and token-type lookups
    assert "embedding_norm" in eager.names
    fused = _table("BERT_Base", "tensorrt", phase="forward", seq_len=128)
    assert fused.count[fused.names.index("embedding")] == 1 and "embedding_norm" not in fused.names


def test_tensorrt_applies_an_encoders_gelu_in_the_up_projections_epilogue():
    """demo/BERT's "FC1 + GELU" is one fused GEMM in the engine: the [tokens, ffn] activation is written once
    and read once by FC2, not read and written again by a kernel of its own; a gated MLP keeps its kernel."""
    T, ffn = 4 * 128, Models.BERT_Base.ffn_dim
    trt, eager = (_table("BERT_Base", stack, phase="forward", batch_size=4, seq_len=128)
                  for stack in ("tensorrt", "pytorch_eager"))
    assert "mlp_act" not in trt.names
    i = eager.names.index("mlp_act")
    assert eager.bytes[i] == pytest.approx(2 * T * ffn * 2)          # read and write, 16-bit
    assert eager.bytes_total - trt.bytes_total >= eager.bytes[i] * Models.BERT_Base.layers
    assert "mlp_act" in _table("Llama3_8B", "tensorrt").names


def test_fp8_linears_quantize_their_input_as_the_stack_does():
    """An fp8 GEMM takes an fp8 input: PyTorch eager computes a dynamic scale and casts (2 kernels per
    linear), vLLM runs one quant kernel, TensorRT-LLM fuses it into the producer."""
    L = Models.Llama3_8B.layers
    for stack, per_linear, linears in (("pytorch_eager", 2, 7), ("vllm", 1, 4), ("tensorrt_llm", 0, 4)):
        table = _table("Llama3_8B", stack, precision="fp8")
        quant = sum(c for n, c in zip(table.names, table.count.tolist()) if n.endswith("_input_quant"))
        assert quant == per_linear * linears * L


def test_a_mixture_of_experts_loops_in_eager_and_groups_in_engines():
    eager = _table("Mixtral_8x7B", "pytorch_eager", batch_size=8)
    engine = _table("Mixtral_8x7B", "vllm", batch_size=8)
    assert "expert_gather" in eager.names and "expert_gather" not in engine.names
    up_eager = eager.names.index("experts_gate_up")
    up_engine = engine.names.index("experts_up")
    # the same expert FLOPs, launched one expert at a time or as one grouped GEMM
    assert eager.flops[up_eager] * eager.count[up_eager] == pytest.approx(
        engine.flops[up_engine] * engine.count[up_engine])
    assert engine.G[up_engine] > 1 and eager.G[up_eager] == 1


@pytest.mark.parametrize("stack", ["vllm", "tensorrt_llm", "pytorch_eager"])
def test_fp8_keeps_activations_and_kv_cache_in_16_bits_unless_asked(stack):
    run = Run.build("Llama3_8B", "H100", purpose="serving", precision="fp8", stack=stack)
    p = run.precisions
    assert (p.weights, p.compute, p.activations, p.kv) == ("fp8", "fp8", "fp16", "fp16")
    asked = Run.build("Llama3_8B", "H100", purpose="serving", precision="fp8", kv_precision="fp8", stack=stack)
    assert asked.precisions.kv == "fp8"


def test_an_int8_tensorrt_engine_keeps_int8_tensors_between_layers():
    p = Run.build("ResNet50", "H100", purpose="inference", precision="int8", stack="tensorrt").precisions
    assert (p.weights, p.compute, p.activations) == ("int8", "int8", "int8")


def test_training_takes_the_loss_over_fp32_logits_and_serving_does_not():
    """Every position's logits are upcast to fp32 and a cross-entropy reads them (forward and backward):
    bytes in proportion to tokens x vocabulary. A serving step computes the last position's logits only."""
    V, T = Models.Llama3_8B.vocab_size, 4 * 1024
    train = _table("Llama3_8B", "pytorch_eager", phase="train", batch_size=4, seq_len=1024)
    moved = dict(zip(train.names, (train.bytes * train.count).tolist()))
    assert moved["logits_fp32"] == pytest.approx(T * V * (2 + 4))
    assert moved["cross_entropy"] == pytest.approx(8 * T * V)
    assert moved["cross_entropy_bwd"] == pytest.approx(2 * moved["cross_entropy"])
    assert train.M[train.names.index("lm_head")] == T
    assert "cross_entropy" not in _table("Llama3_8B", "vllm").names


def test_every_result_names_the_stack_it_assumed():
    """Serving defaults to vLLM, single-device inference to torch.compile, training to eager PyTorch; each
    result says which, and a stack given is the one named."""
    import mlsysim
    from mlsysim.serving.serving import ServingModel

    assert ServingModel().solve("Llama3_8B", "H100").execution_profile == "vllm"
    assert mlsysim.Engine.solve("Llama3_8B", "H100").execution_profile.key == "torch_compile"
    train = mlsysim.DistributedModel().solve("Llama3_8B", mlsysim.Systems.Clusters.Research_256, batch_size=256)
    assert train.execution_profile == "pytorch_eager"
    assert ServingModel().solve("Llama3_8B", "H100", stack="tensorrt_llm").execution_profile == "tensorrt_llm"


def test_mixed_precision_training_casts_each_weight_once_per_step():
    """fp32 master weights are cast to 16 bits for the matmuls once per step: every parameter read in
    fp32 and written in bf16, one cast kernel per forward linear; none when training in fp32."""
    P = Models.Llama3_8B.parameter_count()
    train = _table("Llama3_8B", "pytorch_eager", phase="train", batch_size=2, seq_len=512)
    i = train.names.index("amp_weight_cast")
    forward_linears = sum(c for n, c, cls in zip(train.names, train.count.tolist(), train.classes)
                          if cls == "gemm" and not n.endswith(("_dgrad", "_wgrad")))
    assert train.count[i] == forward_linears
    assert train.bytes[i] * train.count[i] == pytest.approx(P * (4 + 2))
    fp32 = _table("Llama3_8B", "pytorch_eager", phase="train", precision="fp32", batch_size=2, seq_len=512)
    assert "amp_weight_cast" not in fp32.names


def test_biased_projections_reduce_their_gradients_in_training():
    """GPT-2's projections carry biases: training adds one reduction of the output gradient per biased
    linear (tokens x outputs, read once); Llama's carry none."""
    gpt2 = _table("GPT2", "pytorch_eager", phase="train", batch_size=2, seq_len=512)
    grads = {n: (b, c) for n, b, c in zip(gpt2.names, gpt2.bytes.tolist(), gpt2.count.tolist())
             if n.endswith("_bias_grad")}
    # eager PyTorch: separate q, k and v projections (k and v in one operator of twice the count)
    assert set(grads) == {"q_proj_bias_grad", "kv_proj_bias_grad", "o_proj_bias_grad", "mlp_up_bias_grad",
                          "mlp_down_bias_grad"}
    h, ffn, T, L = Models.GPT2.hidden_dim, Models.GPT2.ffn_dim, 2 * 512, Models.GPT2.layers
    assert grads["kv_proj_bias_grad"][1] == 2 * L and grads["q_proj_bias_grad"][1] == L
    assert grads["mlp_down_bias_grad"][0] == pytest.approx(T * h * 2)
    assert grads["mlp_up_bias_grad"][0] == pytest.approx(T * ffn * 2)
    llama = _table("Llama3_8B", "pytorch_eager", phase="train", batch_size=2, seq_len=512)
    assert not [n for n in llama.names if n.endswith("_bias_grad")]


def test_eager_training_runs_layernorm_in_fp32_under_autocast():
    """torch.autocast runs layer_norm in fp32: a cast in, the norm in fp32, a cast back (20 bytes per
    element at bf16 against 4); inference keeps it one 16-bit kernel, and a compiled stack fuses the casts."""
    h, L, T = Models.GPT2.hidden_dim, Models.GPT2.layers, 2 * 512
    train = _table("GPT2", "pytorch_eager", phase="train", batch_size=2, seq_len=512)
    moved = dict(zip(train.names, (train.bytes * train.count).tolist()))
    assert moved["attn_norm"] + moved["attn_norm_cast"] == pytest.approx(20 * T * h * L)
    assert "attn_norm_cast" not in _table("GPT2", "pytorch_eager", phase="prefill", seq_len=512).names
    assert "attn_norm_cast" not in _table("GPT2", "torch_compile", phase="train", batch_size=2, seq_len=512).names


@pytest.mark.parametrize("model", ["Llama3_8B", "DeepSeek_V2_Lite"])
def test_a_training_step_writes_no_kv_cache(model):
    """transformers trains with use_cache=False and Megatron keeps no inference cache: the forward pass of a
    training step writes no keys and values for later steps."""
    run = Run.build(model, Hardware.H100, training=True, batch_size=2, seq_len=512, precision="bf16")
    table = run.family.lower(run.workload, "train", 2.0, 512.0, run.precisions, stack=run.profile)
    assert not [n for n in table.names if n.startswith(("kv_write", "kv_concat"))]
