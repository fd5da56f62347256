"""The three-lens scorecard: ``scorecard`` computes it, ``report`` formats it."""
from .report import envelope_schema, format_metric
from .scorecard import EvaluationLevel, SystemEvaluation, SystemEvaluator, evaluate_run

__all__ = ["EvaluationLevel", "SystemEvaluation", "SystemEvaluator", "evaluate_run", "envelope_schema",
           "format_metric"]
