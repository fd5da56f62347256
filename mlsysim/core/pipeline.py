"""0.1.0 path of solver composition (``mlsysim.analysis.pipeline``). A wrongly composed pipeline raises
this package's ``InputError``; ``CompositionError`` is 0.1.0's name for it, so ``except`` clauses catch it."""
from ..analysis.pipeline import Pipeline
from ..errors import InputError as CompositionError

__all__ = ["CompositionError", "Pipeline"]
