"""Schema of ``models.yaml``: ``<family>: <RegistryKey>: {...}``; an entry's ``type`` picks its keys.

The file's header says what each key means; ``ENTRY`` is also what ``workload_from_fact`` checks.
"""
from ..facts import (
    DataSize,
    block,
    choice,
    count,
    entries,
    flag,
    integer,
    kinds,
    positive,
    register,
    required,
    text,
)

FAMILIES = ("language", "vision", "tiny", "recommendation", "state_space", "generative_vision", "embodied")

TRAINING = block(tokens=positive, gpu_hours=positive, accelerators=count, days=positive, hardware=text,
                 energy_mwh=positive, co2_t=positive, flops=positive)
COMMON = dict(name=required(text), type=text, training=TRAINING, source=required(text), notes=text,
              checkpoint=text)
ATTENTION = dict(
    parameters=required(positive), layers=required(count), hidden=required(count), heads=required(count),
    kv_heads=count, head_dim=count, gated_ffn=flag, activation=text, norm=choice("layernorm", "rmsnorm"),
    positions=choice("rope", "learned"), linear_bias=flag,
    vocab=count, context=count, tied_embeddings=flag, attention=choice("causal", "bidirectional"),
    # multi-head latent attention (DeepSeek)
    q_lora_rank=count, kv_lora_rank=count, qk_rope_head_dim=count, qk_nope_head_dim=count, v_head_dim=count,
)
VISION = block(**COMMON, arch=required(text), resolution=count, width=positive, layers=count, parameters=positive,
               macs=positive)

ENTRY = kinds(
    "type", "opaque",
    transformer=block(**COMMON, **ATTENTION, ffn=count, sliding_window=count,
                      sliding_window_layers=choice("all", "every_other"), flops=positive, training_ops=positive),
    moe=block(**COMMON, **ATTENTION, experts=required(count), active_experts=count, expert_ffn=count,
              shared_experts=integer(ge=0), dense_layers=integer(ge=0), dense_ffn=count, active_parameters=positive),
    cnn=VISION, vit=VISION, mlp=VISION,
    ssm=block(**COMMON, parameters=required(positive), layers=required(count), hidden=required(count),
              state_size=count, expand=count, conv_kernel=count, vocab=count),
    diffusion=block(**COMMON, parameters=required(positive), denoising_steps=count, resolution=count,
                    flops_per_step=positive),
    opaque=block(**COMMON, parameters=positive, model_size=DataSize, flops=positive),
)

register("models", block(**dict.fromkeys(FAMILIES, entries(ENTRY))), entry_depth=2)
