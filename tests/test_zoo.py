"""The facts zoo: every entry loads, has a source, is physically sane, and is reachable by both path styles."""
import pytest

import mlsysim
from mlsysim import Hardware, Infra, Models, Systems
from mlsysim.errors import InputError, UnknownNameError
from mlsysim.hardware.types import HardwareNode
from mlsysim.models.types import SparseTransformerWorkload, TransformerWorkload

HARDWARE = Hardware.items()
MODELS = Models.items()


@pytest.mark.parametrize("key, hw", HARDWARE, ids=[k for k, _ in HARDWARE])
def test_every_accelerator_is_sane_and_sourced(key, hw):
    assert isinstance(hw, HardwareNode)
    assert hw.metadata.source, f"{key} has no source"
    assert float(hw.compute.peak_flops) > 0 and float(hw.memory.bandwidth) > 0 and float(hw.memory.capacity) > 0
    assert 0 < hw.ridge_point().m_as("FLOP/byte") < 5000 or hw.memory.sram_capacity
    if hw.tdp is not None:
        assert 0 < float(hw.tdp) <= 150_000
    assert 1970 < hw.release_year <= 2026


@pytest.mark.parametrize("key, model", MODELS, ids=[k for k, _ in MODELS])
def test_every_model_is_sourced_and_consistent(key, model):
    assert model.metadata.source, f"{key} has no source"
    if isinstance(model, TransformerWorkload):
        assert model.heads % model.n_kv_heads == 0
        assert 32 <= model.d_head <= 256
        if model.ffn_dim and model.vocab_size and not isinstance(model, SparseTransformerWorkload) \
                and not model.is_mla:
            embed = model.vocab_size * model.hidden_dim * (1 if model.tied_embeddings else 2)
            per_layer = model.attention_params() + model.ffn_matrices() * model.hidden_dim * model.ffn_dim
            derived = embed + model.layers * per_layer
            assert derived == pytest.approx(float(model.parameters), rel=0.08), \
                f"{key}: architecture gives {derived:.4g} parameters, the record says {float(model.parameters):.4g}"


def test_published_hardware_is_present():
    for name in ("V100", "A100", "H100", "H200", "B200", "GB200", "MI300X", "MI250X", "Gaudi2", "Gaudi3",
                 "Trainium2", "TPUv4", "TPUv5p", "TPUv6", "T4", "Cerebras_CS3", "DGX_Spark", "MacBookM3Max",
                 "iPhone15Pro", "Pixel8", "Snapdragon8Gen3", "JetsonOrinNX", "Coral", "NUC_Movidius",
                 "GenericServer", "ESP32_S3", "nRF52840", "HimaxWE1",
                 "L4", "L40S", "H100_PCIe", "A100_40GB", "MI325X"):
        assert name in Hardware, name


def test_both_path_styles_reach_the_same_object():
    assert Hardware.Cloud.H100 is Hardware.H100
    assert Models.Vision.ResNet50 is Models.ResNet50
    assert Models.Language.Llama3_8B is Models.Llama3_8B
    assert Infra.Grids.Quebec is Infra.Quebec
    assert mlsysim.Infrastructure is Infra
    assert Systems.Nodes.DGX_H100.accelerator is Hardware.H100


def test_datasheet_figures_of_the_h100():
    h = Hardware.H100
    assert float(h.compute.peak_flops) == pytest.approx(989.4e12, rel=0.01)
    assert float(h.memory.capacity) == 80 * 2**30
    assert float(h.memory.bandwidth) == pytest.approx(3.35e12)
    assert float(h.tdp) == 700
    assert float(h.nvlink.bandwidth) == pytest.approx(450e9)
    assert h.compute.rate("fp8") == pytest.approx(2 * h.compute.rate("fp16"), rel=0.01)


def test_unknown_names_suggest_the_closest():
    with pytest.raises(UnknownNameError, match="did you mean.*H100"):
        Hardware.H1000
    with pytest.raises(AttributeError):          # still an AttributeError for hasattr()
        Models.NoSuchModel


def test_lookup_is_case_insensitive():
    assert Hardware.get("h100") is Hardware.H100
    assert Models.get("llama3_8b") is Models.Llama3_8B


def test_list_walks_and_sorts():
    chips = Hardware.list(sort_by="memory.bandwidth")
    assert len(chips) == len({id(c) for c in chips}) == len(HARDWARE)
    bws = [float(c.memory.bandwidth) for c in chips]
    assert bws == sorted(bws)


def test_systems_reference_real_entries():
    for key, fleet in Systems.Clusters.items():
        assert fleet.total_accelerators == fleet.count * fleet.node.accelerators_per_node
        assert fleet.node.accelerator in Hardware.list()
    assert Systems.Clusters.Research_256.total_accelerators == 256


@pytest.mark.parametrize("grid", ["Quebec", "Norway", "France", "US_Avg", "Poland"])
def test_required_grids(grid):
    g = Infra.Grids.get(grid)
    assert g.carbon_intensity_g_kwh > 0 and g.pue >= 1.0 and g.metadata.source
    assert g.primary_source and g.electricity_usd_kwh is not None


def test_cleanest_and_dirtiest_grid_order():
    assert Infra.Grids.Quebec.carbon_intensity_g_kwh < Infra.Grids.US_Avg.carbon_intensity_g_kwh \
        < Infra.Grids.Poland.carbon_intensity_g_kwh


def test_grid_carbon_basis_switches_and_refuses_what_it_lacks():
    quebec = Infra.Grids.Quebec
    assert quebec.intensity_basis == "generation"
    consumed = quebec.on_basis("consumption")
    assert consumed.carbon_intensity_g_kwh == quebec.consumption_intensity_g_kwh
    assert consumed.intensity_basis == "consumption" and consumed.pue == quebec.pue
    assert quebec.on_basis("generation") is quebec
    with pytest.raises(InputError, match="intensity basis must be one of"):
        quebec.on_basis("market")
    with pytest.raises(InputError, match="no consumption-based"):
        Infra.Grids.EU_Avg.on_basis("consumption")
    with pytest.raises(InputError, match="no generation-based"):
        Infra.Grids.Texas.on_basis("generation")


def test_every_generation_based_grid_states_its_basis_in_the_source():
    for name, grid in Infra.Grids.items():
        basis = "Electricity Maps" if grid.intensity_basis == "consumption" else ("Ember", "Hydro-Québec")
        assert any(b in grid.metadata.source for b in ((basis,) if isinstance(basis, str) else basis)), name


SYSTEMS = [(f"{ns}.{k}", v) for ns in ("Nodes", "Fabrics", "Clusters", "Racks", "Pods", "Tiers", "Limits")
           for k, v in getattr(Systems, ns).items()]
INFRA = [(f"{ns}.{k}", v) for ns in ("Grids", "Datacenters", "FacilityCooling") for k, v in getattr(Infra, ns).items()]


@pytest.mark.parametrize("key, entry", SYSTEMS + INFRA, ids=[k for k, _ in SYSTEMS + INFRA])
def test_every_system_and_infrastructure_entry_has_a_source(key, entry):
    assert entry.metadata.source, f"{key} has no source"


def test_fabric_rates_are_per_direction_bytes():
    assert float(Systems.Fabrics.InfiniBand_NDR.bandwidth) == pytest.approx(50e9)     # 400 Gb/s
    assert float(Systems.Fabrics.Ethernet_100G.bandwidth) == pytest.approx(12.5e9)


def test_a_transformer_whose_parameters_disagree_with_its_shapes_is_refused():
    """Llama-3-8B's shapes hold 8.03e9 parameters; a record claiming 7e9 with those shapes names both."""
    shapes = Models.Llama3_8B.model_dump(include={"layers", "hidden_dim", "heads", "kv_heads", "head_dim", "ffn_dim",
                                                 "vocab_size", "gated_ffn"})
    with pytest.raises(InputError, match=r"parameters \(7e\+09\).*8\.03e\+09"):
        TransformerWorkload(name="mine", parameters=7e9, **shapes)
    assert TransformerWorkload(name="mine", parameters=8.03e9, **shapes).shape_parameters() == pytest.approx(
        Models.Llama3_8B.parameter_count())


def test_a_custom_transformer_lowers_exactly_its_shapes():
    """Given ffn_dim, vocab_size, norm and gating, the lowering uses them: an LM head over the vocabulary,
    the FFN at its width (a 2-matrix GELU MLP here), LayerNorm as one kernel even in eager PyTorch."""
    from mlsysim.execution import execution_profile
    from mlsysim.ops import Precisions

    h, ffn, vocab, layers = 1024, 3000, 50000, 4
    params = vocab * h * 2 + layers * (4 * h * h + 2 * h * ffn + 2 * h) + h
    m = TransformerWorkload(name="mine", parameters=params, layers=layers, hidden_dim=h, heads=16, ffn_dim=ffn,
                            vocab_size=vocab, norm="layernorm", activation="gelu", gated_ffn=False)
    table = m.family.lower(m, "decode", 1.0, 256.0, Precisions("fp16", "fp16", "fp16", "fp16"),
                           stack=execution_profile("pytorch_eager"))
    shape = {name: (n, k) for name, n, k in zip(table.names, table.N.tolist(), table.K.tolist())}
    assert shape["lm_head"] == (vocab, h)
    assert shape["mlp_up"] == (ffn, h) and shape["mlp_down"] == (h, ffn)
    assert table.count[table.names.index("attn_norm")] == layers
