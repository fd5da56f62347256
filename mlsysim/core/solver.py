"""0.1.0 path of every solver (``from mlsysim.core.solver import ServingModel``). Each lives in its lens
package; 0.1.0's base classes are this package's one solver contract, ``mlsysim.solver.Solver``."""
from ..analysis.efficiency import EfficiencyModel
from ..analysis.sensitivity import SensitivitySolver
from ..analysis.synthesis import SynthesisSolver
from ..engine.engine import SingleNodeModel
from ..operations.compression import CompressionModel
from ..operations.data import DataModel, TransformationModel
from ..operations.economics import EconomicsModel
from ..operations.orchestration import OrchestrationModel
from ..operations.reliability import CheckpointModel, ReliabilityModel
from ..operations.responsible import ResponsibleEngineeringModel
from ..operations.sustainability import SustainabilityModel
from ..optimize.batching import BatchingOptimizer
from ..optimize.parallelism import ParallelismOptimizer
from ..optimize.placement import PlacementOptimizer
from ..serving.batching import ContinuousBatchingModel
from ..serving.queueing import TailLatencyModel
from ..serving.reasoning import InferenceScalingModel
from ..serving.serving import ServingModel
from ..serving.streaming import WeightStreamingModel
from ..solver import Solver
from ..training.distributed import DistributedModel
from ..training.network_roofline import NetworkRooflineModel
from ..training.scaling import ScalingModel
from ..training.topology import TopologyModel

#: 0.1.0 split its base into resolvers, forward models, solvers and optimizers; here they share one contract
BaseResolver = ForwardModel = BaseModel = BaseSolver = BaseOptimizer = Solver

__all__ = [
    "BaseModel", "BaseOptimizer", "BaseResolver", "BaseSolver", "BatchingOptimizer", "CheckpointModel",
    "CompressionModel", "ContinuousBatchingModel", "DataModel", "DistributedModel", "EconomicsModel",
    "EfficiencyModel", "ForwardModel", "InferenceScalingModel", "NetworkRooflineModel", "OrchestrationModel",
    "ParallelismOptimizer", "PlacementOptimizer", "ReliabilityModel", "ResponsibleEngineeringModel", "ScalingModel",
    "SensitivitySolver", "ServingModel", "SingleNodeModel", "SustainabilityModel", "SynthesisSolver",
    "TailLatencyModel", "TopologyModel", "TransformationModel", "WeightStreamingModel",
]
