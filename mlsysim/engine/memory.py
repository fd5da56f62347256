"""What a step keeps resident: weights, KV cache, activations, gradients, optimizer state."""
from __future__ import annotations

from functools import lru_cache

from ..models.types import CNNWorkload, SSMWorkload, TransformerWorkload

#: Adam keeps an fp32 master copy and two fp32 moments; SGD with momentum, master + one
OPTIMIZER_STATE_BYTES = {"adam": 12.0, "sgd": 8.0}
#: activation bytes per token per hidden unit per layer, in 16-bit (Korthikanti et al. 2022, Table 2)
ACTIVATION_FACTOR = {"none": 34.0, "selective": 34.0, "full": 2.0}


def footprint(model, phase: str, B, S, p, *, recompute=False, optimizer="adam", zero_stage=0, dp_size=1,
              is_lora=False, lora_rank=16) -> dict:
    """Resident bytes by part; arrays when B or S are arrays."""
    params = model.parameter_count()
    weights = params * p.w if model.parameters is not None or isinstance(model, CNNWorkload) and model.arch \
        else float(model.model_size or 0.0)
    parts = {"weights": weights, "kv_cache": 0.0, "activations": 0.0, "gradients": 0.0, "optimizer": 0.0}
    if phase in ("prefill", "decode") and isinstance(model, TransformerWorkload):
        parts["kv_cache"] = model.kv_cache_bytes(S, B, p.names[2])
    if phase in ("prefill", "decode") and isinstance(model, SSMWorkload):
        parts["kv_cache"] = B * model.layers * model.expand * model.hidden_dim * model.state_size * 4.0
    parts["activations"] = _activations(model, phase, B, S, p, recompute)
    if phase == "train":
        trainable = params
        if is_lora and isinstance(model, TransformerWorkload):
            trainable = min(2 * lora_rank * model.hidden_dim * 4 * model.layers, params)
        shard = float(dp_size)
        parts["gradients"] = trainable * p.w / (shard if zero_stage >= 2 else 1.0)
        parts["optimizer"] = trainable * OPTIMIZER_STATE_BYTES[optimizer] / (shard if zero_stage >= 1 else 1.0)
        if zero_stage >= 3:
            parts["weights"] = weights / shard
    return parts


def _activations(model, phase, B, S, p, recompute) -> float:
    a = p.a / 2.0                                  # the factors below are for 16-bit activations
    if isinstance(model, TransformerWorkload):
        h, L = model.hidden_dim, model.layers
        if phase == "train":
            # flash attention keeps no score matrix, so the 5·a·s² term of the paper is absent
            factor = ACTIVATION_FACTOR["full" if recompute else "none"]
            return L * factor * S * B * h * a
        tokens = B * (1 if phase == "decode" else S)
        ffn = model.ffn_dim or model.dense_ffn_dim()
        return tokens * (4 * h + 3 * ffn) * p.a + B * model.vocab_size * 4.0   # live buffers + fp32 logits
    if isinstance(model, CNNWorkload) and model.arch:
        total, widest = _output_elements(model)
        if phase == "train":
            return B * total * p.a * 2.0               # outputs and pre-activations kept for backward
        return B * 2 * widest * p.a                    # input and output of the widest layer
    return 0.0


@lru_cache(maxsize=256)
def _output_elements(model: CNNWorkload) -> tuple[int, int]:
    """(sum, max) over layers of the elements each layer outputs per image."""
    sizes = [layer.cout * layer.h_out * layer.w_out if layer.kind == "conv" else layer.elements
             for layer in model.layer_list()]
    return sum(sizes), max(sizes)

