"""MLSys·im: first-principles, calibrated performance, cost and carbon models of ML systems.

``import mlsysim`` is cheap: every public name is loaded on first use.
"""
from __future__ import annotations

import importlib

__version__ = "0.2.0"

_EXPORTS = {
    "Engine": "engine.engine", "PerformanceProfile": "engine.profile",
    "Hardware": "hardware.registry", "Models": "models.registry", "Systems": "systems.registry",
    "Infra": "infra.registry", "Infrastructure": "infra.registry", "Tiers": "systems.registry",
    "HardwareNode": "hardware.types",
    "Workload": "models.types", "TransformerWorkload": "models.types", "CNNWorkload": "models.types",
    "SparseTransformerWorkload": "models.types", "SSMWorkload": "models.types", "DiffusionWorkload": "models.types",
    "Fleet": "systems.types", "Node": "systems.types", "NetworkFabric": "systems.types",
    "DeploymentTier": "systems.types", "GridProfile": "infra.types", "Datacenter": "infra.types",
    "Registry": "zoo.registry",
    "SystemEvaluator": "evaluation", "SystemEvaluation": "evaluation", "EvaluationLevel": "evaluation",
    "SustainabilityModel": "solvers.sustainability", "EconomicsModel": "solvers.economics",
    "DistributedModel": "solvers.distributed", "TopologyModel": "solvers.collectives",
    "ServingModel": "solvers.serving", "InferenceScalingModel": "solvers.reasoning",
    "WeightStreamingModel": "solvers.streaming", "TailLatencyModel": "solvers.queueing",
    "ContinuousBatchingModel": "solvers.batching", "ServingCapacityModel": "solvers.capacity",
    "BatchingOptimizer": "solvers.capacity", "PlacementOptimizer": "solvers.placement",
    "ReliabilityModel": "solvers.reliability", "CheckpointModel": "solvers.reliability",
    "TrainingJobModel": "solvers.reliability", "SensitivitySolver": "solvers.analysis",
    "SynthesisSolver": "solvers.analysis", "Pipeline": "pipeline",
    "DataModel": "solvers.data", "TransformationModel": "solvers.data", "CompressionModel": "solvers.compression",
    "OrchestrationModel": "solvers.operations", "ResponsibleEngineeringModel": "solvers.operations",
    "EfficiencyModel": "solvers.operations", "ScalingModel": "solvers.operations",
    "SingleNodeModel": "solvers.parallelism", "ParallelismOptimizer": "solvers.parallelism",
    "Scenario": "scenarios", "Scenarios": "scenarios", "Applications": "scenarios",
    "MlsysimError": "errors", "InputError": "errors", "OOMError": "errors", "UnknownNameError": "errors",
    "UnsupportedPrecisionError": "errors", "UnitError": "errors", "SLAViolation": "errors",
    "Q_": "units", "SIValue": "units",
}
_MODULES = {"show", "units", "errors", "core", "hardware", "models", "systems", "infra", "engine", "validation",
            "zoo", "evaluation", "scenarios", "solvers", "plan", "viz", "walls", "pipeline"}

__all__ = sorted(set(_EXPORTS) | _MODULES | {"ureg"})


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    elif name == "ureg":
        from . import units
        value = units.ureg
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'mlsysim' has no attribute '{name}'")
    globals()[name] = value
    return value


def __dir__():
    return __all__
