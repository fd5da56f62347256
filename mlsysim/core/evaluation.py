"""0.1.0 path of the three-lens scorecard (``mlsysim.evaluation.scorecard``)."""
from ..evaluation.scorecard import EvaluationLevel, SystemEvaluation, SystemEvaluator

__all__ = ["EvaluationLevel", "SystemEvaluation", "SystemEvaluator"]
