"""TrainingMemoryModel: known answers from the papers its formulas come from, properties over many layouts,
and one clear sentence for every layout it cannot take."""
from __future__ import annotations

import random

import pytest

from mlsysim import Hardware, Models, TrainingMemoryModel
from mlsysim.errors import InputError
from mlsysim.training.memory import FRAMEWORK_BYTES, NF4_BYTES

M = TrainingMemoryModel()


def _state_per_param(r, model) -> float:
    return (r.weights_b + r.gradients_b + r.optimizer_b) / Models.get(model).parameter_count()


# --- known answers ----------------------------------------------------------------------------------
def test_mixed_precision_adam_keeps_16_bytes_per_parameter_before_sharding():
    """ZeRO (Rajbhandari et al. 2020, 3.1): 2 (fp16 weights) + 2 (gradients) + 12 (fp32 master, momentum,
    variance) = 16 bytes per parameter."""
    r = M.solve("Llama2_7B", "H100", precision="bf16")
    assert _state_per_param(r, "Llama2_7B") == pytest.approx(16.0)
    assert r.optimizer_b / Models.Llama2_7B.parameter_count() == pytest.approx(12.0)


def test_fp32_training_has_no_separate_master_copy():
    """The weights are the fp32 master: 4 + 4 + 8 = 16 bytes, not 4 + 4 + 12."""
    r = M.solve("Llama2_7B", "H100", precision="fp32")
    assert _state_per_param(r, "Llama2_7B") == pytest.approx(16.0)


@pytest.mark.parametrize("optimizer, moments", [("adam", 8.0), ("adamw", 8.0), ("sgd", 4.0),
                                                ("adam8bit", 2.0 + 2 * 4.0 / 2048), ("none", 0.0)])
def test_optimizer_state_per_parameter_follows_its_paper(optimizer, moments):
    r = M.solve("Llama2_7B", "H100", optimizer=optimizer)
    master = 4.0 if optimizer != "none" else 0.0
    assert r.optimizer_b / Models.Llama2_7B.parameter_count() == pytest.approx(moments + master)


def test_adafactor_keeps_row_and_column_sums_only():
    """Factored second moments: n + m values per n x m matrix, far below Adam's 2 x n x m."""
    ada = M.solve("Llama2_7B", "H100", optimizer="adafactor")
    master = 4.0 * Models.Llama2_7B.parameter_count()
    assert 0 < ada.optimizer_b - master < 0.01 * master


@pytest.mark.parametrize("zero, divided", [(0, ()), (1, ("optimizer",)), (2, ("optimizer", "gradients")),
                                           (3, ("optimizer", "gradients", "weights")), ("fsdp", (
                                               "optimizer", "gradients", "weights"))])
def test_each_zero_stage_shards_its_parts_over_the_data_parallel_group(zero, divided):
    one = M.solve("Llama3_8B", "H100", batch_size=8, dp=1)
    eight = M.solve("Llama3_8B", "H100", batch_size=64, dp=8, zero_stage=zero)
    for part in ("weights", "gradients", "optimizer"):
        ratio = getattr(eight, f"{part}_b") / getattr(one, f"{part}_b")
        assert ratio == pytest.approx(1 / 8 if part in divided else 1.0), part


def test_activations_per_layer_are_korthikanti_et_al():
    """Korthikanti et al. 2022, Table 2, for GPT-3 175B (s = 2048, b = 1, h = 12288, a = 96, t = 8, with
    dropout, without FlashAttention): sbh(34/t + 5as/(ht)) per layer with sequence parallelism, 34 sbh/t
    when the attention core is recomputed, sbh(10 + 24/t + 5as/(ht)) without sequence parallelism; full
    recomputation keeps 2sbh/t per layer."""
    s, b, h, a, t = 2048, 1, 12288, 96, 8
    split = [8] * 12

    def per_layer(**kw):        # a middle stage (no embedding, no logits) holds the one microbatch of batch 1
        r = M.solve("GPT3", "H100", batch_size=1, seq_len=s, tp=t, pp=12, layers_per_stage=split, dropout=True,
                    flash_attention=False, **kw)
        return r.stages[1].activations_b / split[1]

    sbh = s * b * h
    assert per_layer(recompute="none") == pytest.approx(sbh * (34 / t + 5 * a * s / (h * t)))
    assert per_layer(recompute="selective") == pytest.approx(sbh * 34 / t)
    assert per_layer(recompute="none", sequence_parallel=False) == pytest.approx(
        sbh * (10 + 24 / t + 5 * a * s / (h * t)))
    full = per_layer(recompute="full") * split[1]
    working = sbh * (34 / t + 5 * a * s / (h * t))           # the layer being recomputed, once
    assert full == pytest.approx(2 * sbh / t * split[1] + working)


def test_flash_attention_stores_no_quadratic_scores():
    kw = dict(batch_size=1, seq_len=8192, recompute="none")
    flash, eager = M.solve("Llama3_8B", "H100", **kw), M.solve("Llama3_8B", "H100", flash_attention=False, **kw)
    m = Models.Llama3_8B
    assert eager.activations_b - flash.activations_b == pytest.approx(
        m.layers * (m.heads * 8192 * 8192 * 2 - 4 * m.heads * 8192))


def test_lora_on_the_attention_projections_is_the_engines_lora():
    """A training run's ``lora`` flag (rank 16 on q, k, v, o) and TrainingMemoryModel's attention-only adapters
    count the same trainable parameters: GQA's narrow k and v projections carry narrower adapters."""
    m = Models.Llama3_8B
    attention = M.solve(m, "H100", finetune="lora", lora_rank=16, lora_targets="attention")
    every = M.solve(m, "H100", finetune="lora", lora_rank=16)
    assert attention.trainable_parameters == pytest.approx(m.family.trainable_params(m, True))
    assert attention.trainable_parameters == 16 * (2 * (4096 + 4096) + 2 * (4096 + 1024)) * 32
    assert attention.trainable_parameters < every.trainable_parameters
    with pytest.raises(InputError, match="lora_targets"):
        M.solve(m, "H100", finetune="lora", lora_targets="mlp")


def test_qlora_finetunes_a_65b_model_on_one_48gb_gpu():
    """QLoRA (Dettmers et al. 2023): 'finetune a 65B parameter model on a single 48GB GPU' with NF4 + double
    quantization, rank-64 adapters on all linear layers (scripts/finetune_guanaco_65b.sh), gradient
    checkpointing; plain LoRA on 16-bit weights does not come close."""
    kw = dict(batch_size=1, seq_len=512, recompute="full", lora_rank=64)
    q = M.solve("Llama_65B", "L40S", finetune="qlora", **kw)
    assert q.feasible and q.total_b < 48e9
    linear_base = Models.Llama_65B.parameter_count() - 2 * 32000 * 8192
    assert q.weights_b > linear_base * NF4_BYTES
    lora = M.solve("Llama_65B", "L40S", finetune="lora", **kw)
    assert not lora.feasible and lora.weights_b > 2 * linear_base
    # every linear of every block: q, k, v, o (8192 -> 8192) and gate, up, down (8192 <-> 22016)
    per_layer = 64 * (4 * (8192 + 8192) + 3 * (8192 + 22016))
    assert q.trainable_parameters == pytest.approx(80 * per_layer)


def test_the_published_uneven_405b_split_fits_and_an_even_split_is_refused():
    """Llama 3 405B on 16,384 H100 (Dubey et al. 2024, 3.3.2): TP 8, PP 16, DP 128, one layer fewer on the
    first and the last stage (126 layers = 7 + 14 x 8 + 7)."""
    kw = dict(batch_size=2048, seq_len=8192, tp=8, pp=16, dp=128, zero_stage=1)
    r = M.solve("Llama3_405B", "H100", layers_per_stage=[7] + [8] * 14 + [7], **kw)
    assert r.feasible and r.parallelism["layers_per_stage"][0] == 7
    with pytest.raises(InputError, match="126 layers"):
        M.solve("Llama3_405B", "H100", **kw)


def test_interleaving_multiplies_the_first_stages_microbatches_in_flight():
    kw = dict(batch_size=64, seq_len=4096, tp=8, pp=4, dp=1)
    plain, inter = (M.solve("Llama3_70B", "H100", v_stages=v, **kw).stages[0].activations_b for v in (1, 5))
    assert inter / plain == pytest.approx(1 + 3 / (4 * 5))


def test_the_framework_footprint_is_part_of_the_total():
    r = M.solve("Llama3_8B", "H100")
    s = r.stages[r.stage]
    assert r.total_b == pytest.approx(s.total_b + FRAMEWORK_BYTES)
    assert r.memory_utilization == pytest.approx(r.total_b / float(Hardware.H100.memory.capacity))


# --- properties ---------------------------------------------------------------------------------------
def _random_layouts(n, seed=7):
    rng = random.Random(seed)
    for _ in range(n):
        yield dict(tp=rng.choice([1, 2, 4, 8]), pp=rng.choice([1, 2, 4, 8]), zero_stage=rng.choice([1, 2, 3]),
                   recompute=rng.choice(["none", "selective", "full"]), optimizer=rng.choice(["adam", "sgd"]),
                   seq_len=rng.choice([1024, 4096]), micro=rng.choice([1, 2]))


def test_more_data_parallelism_never_raises_per_device_memory_with_zero():
    for lay in _random_layouts(40):
        micro = lay.pop("micro")
        totals = []
        for dp in (1, 2, 4, 8, 16):
            totals.append(M.solve("Llama3_70B", "H100", batch_size=dp * micro * lay["pp"] * 2, dp=dp,
                                  microbatches=lay["pp"] * 2, **lay).total_b)
        assert all(b <= a * (1 + 1e-12) for a, b in zip(totals, totals[1:])), lay


def test_more_tensor_parallelism_never_raises_per_device_memory():
    for lay in _random_layouts(40, seed=11):
        lay.pop("micro")
        tp = lay.pop("tp")
        base = M.solve("Llama3_70B", "H100", batch_size=8, tp=tp, **lay).total_b
        wider = M.solve("Llama3_70B", "H100", batch_size=8, tp=min(2 * tp, 64), **lay).total_b
        assert wider <= base * (1 + 1e-12), (tp, lay)


def test_recomputing_more_never_stores_more():
    for seq in (1024, 8192):
        parts = [M.solve("Llama3_8B", "H100", batch_size=4, seq_len=seq, recompute=mode, flash_attention=False)
                 for mode in ("none", "selective", "full")]
        assert parts[0].activations_b >= parts[1].activations_b >= parts[2].activations_b


# --- layouts that cannot be taken: one sentence each ------------------------------------------------------
@pytest.mark.parametrize("kw, words", [
    (dict(pp=3), "does not split"),
    (dict(pp=2, layers_per_stage=[16, 15]), "sums to 31"),
    (dict(pp=2, layers_per_stage=[16]), "2 whole layer counts"),
    (dict(pp=2, v_stages=17, layers_per_stage=[16, 16]), "at least 17 layers"),
    (dict(tp=3), "attention heads"),
    (dict(cp=3, seq_len=4096), "multiple of 6"),
    (dict(dp=3, batch_size=8), "multiple of 3"),
    (dict(dp=2, batch_size=8, microbatches=3), "divisor of 4"),
    (dict(optimizer="lion"), "unknown optimizer"),
    (dict(recompute="some"), "recomputation must be"),
    (dict(zero_stage=4), "zero_stage must be"),
    (dict(finetune="prefix"), "finetune must be"),
    (dict(ep=2), "mixture-of-experts"),
    (dict(tp_sizes=2), "unknown argument"),
])
def test_a_layout_it_cannot_take_is_one_clear_sentence(kw, words):
    with pytest.raises(InputError, match=words):
        M.solve("Llama3_8B", "H100", **kw)


def test_the_string_none_means_no_recomputation():
    assert M.solve("Llama3_8B", "H100", recompute="none").recompute == "none"
    assert M.solve("Llama3_8B", "H100", activation_checkpointing="none").activations_b == \
        M.solve("Llama3_8B", "H100", recompute="none").activations_b
    assert M.solve("Llama3_8B", "H100", recompute=True).recompute == "selective"


def test_a_fleet_must_hold_the_layout_exactly():
    from mlsysim import Systems

    fleet = Systems.Clusters.Lab_64_H100
    r = M.solve("Llama3_70B", fleet=fleet, batch_size=64, tp=8, pp=2, dp=4)
    assert r.parallelism["dp"] == 4
    with pytest.raises(InputError, match="must equal the 64 accelerators"):
        M.solve("Llama3_70B", fleet=fleet, batch_size=64, tp=8, pp=2, dp=2)


@pytest.mark.parametrize("zero, per_device_gb", [(0, 120.0), (1, 31.4), (2, 16.6), (3, 1.9)])
def test_the_zero_papers_model_state_figures(zero, per_device_gb):
    """Rajbhandari et al. 2020 (ZeRO), Figure 1: a 7.5B-parameter model, 64-way data parallelism, mixed-precision
    Adam (K = 12): 120 GB of model states per device; 31.4 GB with P_os, 16.6 GB with P_os+g, 1.9 GB with
    P_os+g+p (their decimal GB, one decimal). Megatron's 7.5B GPT shape (Narayanan et al. 2021, Table 1)."""
    from mlsysim.models.types import TransformerWorkload

    m = TransformerWorkload(name="GPT 7.5B", parameters=7.5e9, layers=36, hidden_dim=4096, heads=32,
                            ffn_dim=16384, vocab_size=51200, norm="layernorm", gated_ffn=False, tied_embeddings=True)
    r = M.solve(m, "H100", batch_size=64, dp=64, zero_stage=zero)
    states = (r.weights_b + r.gradients_b + r.optimizer_b) * 7.5e9 / m.shape_parameters()   # per 7.5B exactly
    assert states / 1e9 == pytest.approx(per_device_gb, abs=0.05)
