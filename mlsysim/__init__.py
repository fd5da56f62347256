"""MLSys·im: first-principles, calibrated performance, cost and carbon models of ML systems.

``import mlsysim`` is cheap: every public name is loaded on first use.
"""
from __future__ import annotations

import importlib

__version__ = "0.2.0"

_EXPORTS = {
    # the run, the engine and its vocabulary
    "Run": "run", "Layout": "run", "Site": "run", "Stacks": "execution", "ExecutionProfile": "execution",
    "Engine": "engine.engine", "SingleNodeModel": "engine.engine", "PerformanceProfile": "engine.profile",
    # facts and types
    "Hardware": "hardware.registry", "Models": "models.registry", "Systems": "systems.registry",
    "Infra": "infra.registry", "Infrastructure": "infra.registry", "Tiers": "systems.registry",
    "HardwareNode": "hardware.types",
    "Workload": "models.types", "TransformerWorkload": "models.types", "CNNWorkload": "models.types",
    "SparseTransformerWorkload": "models.types", "SSMWorkload": "models.types", "DiffusionWorkload": "models.types",
    "Fleet": "systems.types", "Node": "systems.types", "NetworkFabric": "systems.types",
    "DeploymentTier": "systems.types", "GridProfile": "infra.types", "Datacenter": "infra.types",
    "Registry": "zoo.registry",
    # serving
    "ServingModel": "serving.serving", "ServingOptions": "serving.serving",
    "ContinuousBatchingModel": "serving.batching", "TailLatencyModel": "serving.queueing",
    "ServingCapacityModel": "serving.capacity", "InferenceScalingModel": "serving.reasoning",
    "WeightStreamingModel": "serving.streaming",
    # training
    "DistributedModel": "training.distributed", "TopologyModel": "training.topology",
    "TrainingMemoryModel": "training.memory", "MoERoutingModel": "training.moe",
    "NetworkRooflineModel": "training.network_roofline",
    "ScalingModel": "training.scaling",
    # operations
    "ReliabilityModel": "operations.reliability", "CheckpointModel": "operations.reliability",
    "TrainingJobModel": "operations.reliability", "SustainabilityModel": "operations.sustainability",
    "EconomicsModel": "operations.economics", "DataModel": "operations.data", "TransformationModel": "operations.data",
    "CompressionModel": "operations.compression", "OrchestrationModel": "operations.orchestration",
    "ResponsibleEngineeringModel": "operations.responsible",
    # analysis and search
    "SensitivitySolver": "analysis.sensitivity", "SynthesisSolver": "analysis.synthesis",
    "EfficiencyModel": "analysis.efficiency", "Pipeline": "analysis.pipeline",
    "BatchingOptimizer": "optimize.batching", "PlacementOptimizer": "optimize.placement",
    "ParallelismOptimizer": "optimize.parallelism",
    # composition
    "SystemEvaluator": "evaluation.scorecard", "SystemEvaluation": "evaluation.scorecard",
    "EvaluationLevel": "evaluation.scorecard",
    "Scenario": "scenarios", "Scenarios": "scenarios", "Applications": "scenarios",
    # errors and units
    "MlsysimError": "errors", "InputError": "errors", "OOMError": "errors", "UnknownNameError": "errors",
    "UnsupportedPrecisionError": "errors", "UnitError": "errors", "SLAViolation": "errors",
    "Q_": "units", "SIValue": "units",
    # 0.1.0 names kept at the top level
    "Archetypes": "core.scenarios", "SimulationConfig": "core.config", "load_config": "core.config",
    "plot_roofline": "viz.roofline", "plot_evaluation_scorecard": "viz.scorecard",
}
_MODULES = {"show", "units", "errors", "core", "hardware", "models", "systems", "infra", "engine", "validation",
            "zoo", "evaluation", "scenarios", "solvers", "plan", "viz", "run", "ops", "execution", "serving",
            "training", "operations", "analysis", "optimize", "sim", "fmt"}

__all__ = sorted(set(_EXPORTS) | _MODULES | {"ureg", "constants"})


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    elif name == "ureg":
        from . import units
        value = units.ureg
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    elif name == "constants":                # 0.1.0 kept its constants at the top level
        value = importlib.import_module(".core.constants", __name__)
    else:
        raise AttributeError(f"module 'mlsysim' has no attribute '{name}'")
    globals()[name] = value
    return value


def __dir__():
    return __all__
