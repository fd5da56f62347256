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
