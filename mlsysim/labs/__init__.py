"""Interactive labs: marimo notebooks over the public API (the ``labs`` extra: ``pip install 'mlsysim[labs]'``).

Open one in marimo's editor with ``marimo edit`` on its file (``python -m mlsysim.labs`` prints each command),
run it as a script (``python -m mlsysim.labs.roofline``), or in-process (``from mlsysim.labs import roofline;
roofline.app.run()``). Listing the labs needs no marimo; running one does.
"""

#: each lab (a module of this package) and what it shows
LABS = {
    "geography": "the tutorial 'Geography is a Systems Variable': one training run's carbon, water and cost by region",
    "roofline": "where a model's operators sit on a device's roofline, what binds the step and what would move it",
    "serving": "LLM serving: TTFT, ITL and KV cache against batch and context, and the largest batch an SLO allows",
    "training": "training scale-out: the best parallel layout on N GPUs and where its step time and memory go",
    "sustainability": "one training job's energy, carbon and water across GPU generations (A100 to B200) and regions",
}

#: 0.1.0's lab toolkit, re-exported from this package as 0.1.0 did: each name -> the module that defines it, imported
#: on first access (so listing the labs imports neither these modules nor marimo; ``LAB_CSS`` needs marimo)
_TOOLKIT = {
    **dict.fromkeys(("DesignLedger", "LedgerState"), "state"),
    **dict.fromkeys(("COLORS", "LAB_CSS", "apply_plotly_theme", "progress_bar", "concept_section_header",
                     "confidence_widget"), "style"),
    **dict.fromkeys(("Card", "MetricRow", "ComparisonRow", "PredictionLock", "StakeholderMessage", "RooflineVisualizer",
                     "LatencyWaterfall", "MathPeek", "DecisionLog", "FailureBanner"), "components"),
}

__all__ = ["LABS", *_TOOLKIT]


def __getattr__(name: str):
    if name not in _TOOLKIT:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{_TOOLKIT[name]}"), name)
    if name != "LAB_CSS":           # style builds a fresh mo.Html per access; keep that
        globals()[name] = value
    return value
