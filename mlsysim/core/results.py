"""0.1.0 path of the solver results. Each is the result its solver returns here; where 0.1.0 named one
differently the old name is the same class (``ParallelismOptimizerResult`` is ``ParallelismResult``)."""
from ..analysis.efficiency import EfficiencyResult
from ..analysis.sensitivity import SensitivityResult
from ..analysis.synthesis import SynthesisResult
from ..operations.compression import CompressionResult
from ..operations.data import DataResult, TransformationResult
from ..operations.economics import EconomicsResult
from ..operations.orchestration import OrchestrationResult
from ..operations.reliability import CheckpointResult, ReliabilityResult
from ..operations.responsible import ResponsibleResult as ResponsibleEngineeringResult
from ..operations.sustainability import SustainabilityResult
from ..optimize.batching import BatchingOptimizerResult
from ..optimize.parallelism import ParallelismResult as ParallelismOptimizerResult
from ..optimize.placement import PlacementResult as PlacementOptimizerResult
from ..serving.batching import ContinuousBatchingResult
from ..serving.queueing import TailLatencyResult
from ..serving.reasoning import InferenceScalingResult
from ..serving.serving import ServingResult
from ..serving.streaming import WeightStreamingResult
from ..solver import Result
from ..training.distributed import DistributedResult
from ..training.scaling import ScalingResult
from ..training.topology import TopologyResult

#: 0.1.0's bases of solver and optimizer results: one base here
SolverResult = OptimizerResult = Result
#: 0.1.0 kept this name after folding offload analysis into weight streaming
OffloadResult = WeightStreamingResult

__all__ = [
    "BatchingOptimizerResult", "CheckpointResult", "CompressionResult", "ContinuousBatchingResult", "DataResult",
    "DistributedResult", "EconomicsResult", "EfficiencyResult", "InferenceScalingResult", "OffloadResult",
    "OptimizerResult", "OrchestrationResult", "ParallelismOptimizerResult", "PlacementOptimizerResult",
    "ReliabilityResult", "ResponsibleEngineeringResult", "ScalingResult", "SensitivityResult", "ServingResult",
    "SolverResult", "SustainabilityResult", "SynthesisResult", "TailLatencyResult", "TopologyResult",
    "TransformationResult", "WeightStreamingResult",
]
