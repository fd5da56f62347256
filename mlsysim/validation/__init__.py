"""The validation suite: published measurements against the package's default predictions."""
from .runner import AnchorResult, load_anchors, run, summarize

__all__ = ["AnchorResult", "load_anchors", "run", "summarize"]
