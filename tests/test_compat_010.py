"""Code written for MLSys·im 0.1.0 runs here: every public module and name of 0.1.0 (listed, as data, in
``tests/data/v010_api.json`` by ``scripts/list_v010_api.py``) imports from the same path, and each 0.1.0
solver answers a call written with 0.1.0's keywords with figures of the kind 0.1.0 gave (pint Quantities
of the same dimension)."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

import mlsysim
from mlsysim import Hardware, Models, Systems

API = json.loads((Path(__file__).parent / "data" / "v010_api.json").read_text(encoding="utf-8"))["modules"]



def _serves(module, name: str) -> bool:
    """Whether ``module`` serves ``name``. A name served lazily that needs an optional extra it lacks
    (``mlsysim.labs.LAB_CSS`` is a marimo ``Html``) raises ImportError, not AttributeError: it is served."""
    try:
        return hasattr(module, name)
    except ImportError:
        return True


@pytest.mark.parametrize("module", sorted(API))
def test_every_010_name_imports_from_its_010_path(module):
    mod = importlib.import_module(module)
    missing = sorted(n for n in API[module]["names"] if not _serves(mod, n))
    assert missing == [], f"{module} lacks 0.1.0 names: {missing}"


def test_a_010_conftest_gets_past_its_imports():
    from mlsysim.core.solver import DistributedModel, ServingModel, SingleNodeModel  # noqa: F401


def _is_quantity(value, unit: str) -> bool:
    """A pint Quantity convertible to ``unit``, or this package's SIValue (a float that converts ``.to`` one)."""
    from mlsysim.units import SIValue, ureg

    if isinstance(value, SIValue):
        value = value.to(value.unit)
    return isinstance(value, ureg.Quantity) and value.is_compatible_with(unit)


def _calls():
    """(solver, 0.1.0 keywords, {figure: a unit of its dimension}) per 0.1.0 solver, on a small realistic input."""
    llama, resnet, a100, h100 = Models.Llama3_8B, Models.ResNet50, Hardware.A100, Hardware.H100
    cluster = Systems.Clusters.Research_256
    return [
        ("SingleNodeModel", dict(model=resnet, hardware=a100, batch_size=32, precision="fp16", efficiency=0.5),
         {"latency": "s", "memory_footprint": "byte"}),
        ("ServingModel", dict(model=llama, hardware=h100, seq_len=2048, batch_size=4, precision="fp16"),
         {"ttft": "s", "itl": "s", "kv_cache_size": "byte", "model_weights_size": "byte"}),
        ("ContinuousBatchingModel", dict(model=llama, hardware=h100, seq_len=2048, max_batch_size=16, page_size=16),
         {"ttft": "s", "itl": "s", "paged_kv_cache_size": "byte"}),
        ("DistributedModel", dict(model=llama, fleet=cluster, batch_size=256, tp_size=2, pp_size=1),
         {"step_latency_total": "s", "dp_communication_latency": "s"}),
        ("TailLatencyModel", dict(arrival_rate_qps=50, service_latency_ms=20, num_replicas=2),
         {"p50_latency": "s", "p99_latency": "s"}),
        ("EconomicsModel", dict(fleet=cluster, duration_days=30), {"total_energy_kwh": "J"}),
        ("SustainabilityModel", dict(fleet=cluster, duration_days=30, datacenter=mlsysim.Infra.Grids.Quebec),
         {"it_energy_kwh": "J", "total_energy_kwh": "J"}),
        ("ScalingModel", dict(compute_budget=mlsysim.Q_(1e21, "FLOP")), {}),
        ("OrchestrationModel", dict(fleet=cluster, arrival_rate_jobs_per_day=10, avg_job_duration_days=0.5), {}),
        ("TopologyModel", dict(fabric=Systems.Fabrics.InfiniBand_NDR, topology="fat_tree", num_nodes=32), {}),
        ("InferenceScalingModel", dict(model=llama, hardware=h100, reasoning_steps=8, context_length=2048), {}),
        ("WeightStreamingModel", dict(model=llama, hardware=Hardware.Cerebras_CS3, seq_len=2048, batch_size=8), {}),
        ("CompressionModel", dict(model=llama, hardware=h100, method="quantization", target_bitwidth=8), {}),
        ("EfficiencyModel", dict(model=llama, hardware=h100, workload_type="ffn"), {}),
        ("DataModel", dict(workload_data_rate=mlsysim.Q_(2, "GB/s"), hardware=h100), {}),
        ("TransformationModel", dict(batch_size=256, sample_size_bytes=mlsysim.Q_(150, "kB"),
                                     cpu_throughput=mlsysim.Q_(1, "GB/s"), accelerator_step_time=mlsysim.Q_(50, "ms")),
         {}),
        ("SynthesisSolver", dict(model=llama, target_latency=mlsysim.Q_(20, "ms")), {}),
        ("ResponsibleEngineeringModel", dict(base_training_time=mlsysim.Q_(10, "hour"), epsilon=1.0), {}),
        ("BatchingOptimizer", dict(model=llama, hardware=h100, seq_len=1024, sla_latency_ms=200,
                                   arrival_rate_qps=20), {}),
        ("NetworkRooflineModel", dict(model=llama, fleet=cluster), {}),
    ]


@pytest.mark.parametrize("name, kwargs, figures", _calls(), ids=[c[0] for c in _calls()])
def test_each_010_solver_answers_010_keywords(name, kwargs, figures):
    from mlsysim.core import solver

    signature = API["mlsysim.core.solver"]["signatures"][f"{name}.solve"]
    assert set(kwargs) <= set(signature), "the call must use 0.1.0's keyword names"
    result = getattr(solver, name)().solve(**kwargs)
    for figure, unit in figures.items():
        assert _is_quantity(getattr(result, figure), unit), f"{name}.{figure}: {getattr(result, figure)!r}"


def test_ridge_point_is_a_quantity_in_flop_per_byte():
    ridge = Hardware.A100.ridge_point()
    assert _is_quantity(ridge, "FLOP/byte")
    assert ridge.m_as("FLOP/byte") == pytest.approx(312e12 / 2039e9)


def test_010_constants_and_defaults_are_zoo_figures():
    from mlsysim.core import constants, defaults

    assert _is_quantity(constants.A100_MEM_BW, "GB/s")
    assert constants.A100_MEM_BW.m_as("B/s") == pytest.approx(float(Hardware.A100.memory.bandwidth))
    assert constants.H100_FLOPS_FP16_TENSOR.m_as("FLOP/s") == pytest.approx(Hardware.H100.compute.rate("fp16"))
    assert constants.LLAMA3_8B_LAYERS == Models.Llama3_8B.layers
    assert constants.Gbps == constants.ureg.parse_units("Gbit/s") and (5 * constants.MS).m_as("s") == 0.005
    assert defaults.PUE_TYPICAL == mlsysim.Infra.FacilityCooling.Typical.pue
    assert defaults.CLUSTER_MEGA_GPUS == Systems.Clusters.Mega_100K.total_accelerators


def test_010_tier_registries_are_views_of_the_zoo():
    from mlsysim.hardware.registry import CloudHardware
    from mlsysim.infra.registry import Racks
    from mlsysim.models.registry import VisionModels
    from mlsysim.systems.registry import Clusters

    assert CloudHardware.A100 is Hardware.A100 and VisionModels.ResNet50 is Models.ResNet50
    assert Clusters.Research_256 is Systems.Clusters.Research_256 and Racks is Systems.Racks


def test_010_fmt_and_validation_guards():
    from mlsysim import fmt
    from mlsysim.core._validation import validate_positive
    from mlsysim.core.constants import A100_MEM_BW

    assert fmt.fmt_full(A100_MEM_BW, precision=0) == "2,039 GB/s" and fmt.sci(4.1e9) == "4.10 × 10⁹"
    with pytest.raises(ValueError):
        fmt.fmt(1e-4)                    # a figure that would print as 0.0
    with pytest.raises(ValueError):
        validate_positive(0, "bandwidth")


def test_010_design_ledger_round_trips(tmp_path):
    from mlsysim.labs.state import DesignLedger

    DesignLedger(tmp_path / "ledger.json").save(track="cloud", chapter=2, design={"batch": 8})
    ledger = DesignLedger(tmp_path / "ledger.json")
    assert ledger.get_design(2) == {"batch": 8} and ledger.get_track() == "cloud"


def test_010_textbook_figures_are_the_facts_file_with_units_and_sources():
    """Figures no zoo entry holds come from ``zoo/data/textbook.yaml``: 0.1.0's value and unit, and a source."""
    from mlsysim.core import constants, defaults
    from mlsysim.core.provenance import TraceableConstant
    from mlsysim.zoo.registry import load_data

    facts = load_data("textbook")
    assert set(facts["constants"]) <= set(API["mlsysim.core.constants"]["names"])
    assert set(facts["defaults"]) <= set(API["mlsysim.core.defaults"]["names"])
    assert all(fact["source"].strip() for section in facts.values() for fact in section.values())
    assert constants.ENERGY_FLOP_FP32_PJ.m_as("pJ/FLOP") == pytest.approx(3.7)
    assert "Horowitz" in facts["constants"]["ENERGY_FLOP_FP32_PJ"]["source"]
    assert constants.IMAGENET_IMAGES.m_as("count") == 1_281_167
    assert constants.STORAGE_COST_S3_STD.m_as("USD/GB/month") == pytest.approx(0.023)
    assert constants.BATTERY_ENERGY_J.m_as("J") == pytest.approx(
        (constants.BATTERY_CAPACITY_MAH * constants.BATTERY_VOLTAGE_V).m_as("J"))
    assert constants.MOBILE_TDP_RANGE_W == "3-5" and constants.LEAD_TIME_GPU_MONTHS == 6
    assert defaults.QUANT_ACCURACY_DELTA_INT8 == -0.005 and defaults.QUEUE_DISCIPLINE == "FIFO"
    assert defaults.RACK_POWER_AI_TYPICAL_KW == 70 and defaults.OVERHEAD_PIPELINE_BUBBLE == 0.05
    assert isinstance(defaults.MFU_TRAINING_LOW, TraceableConstant) and defaults.MFU_TRAINING_LOW == 0.30
    assert "PaLM" in defaults.MFU_TRAINING_LOW.citation
    assert constants.PUE_TYPICAL == defaults.PUE_TYPICAL          # 0.1.0's constants re-exported its defaults
    with pytest.raises(AttributeError):
        constants.NO_SUCH_FIGURE
