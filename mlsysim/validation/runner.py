"""Predict every published measurement in ``validation/data/*.yaml`` and report the error.

Every anchor is reported, including the ones the model gets badly wrong and the ones it
cannot predict at all (with the reason). Error is (predicted - measured) / measured.

Each anchor goes to the solver its metric names: ``throughput`` and ``latency`` (one device,
one step) to :meth:`Engine.solve`; the serving metrics (``output_tokens_per_s``,
``prompt_tokens_per_s``, ``ttft``, ``itl``, ``request_latency``) to :class:`ServingModel`.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..units import format_si, parse, unit_factor

DATA_DIR = Path(__file__).parent / "data"
DATA = DATA_DIR / "anchors.yaml"                 # single-device anchors (Engine.solve)
SERVING_DATA = DATA_DIR / "serving_anchors.yaml"  # LLM-serving anchors (ServingModel)

#: metrics answered by ServingModel, and the config keys a serving anchor may carry
SERVING_METRICS = ("output_tokens_per_s", "prompt_tokens_per_s", "ttft", "itl", "request_latency")
_SERVING_KEYS = ("batch_size", "prompt_len", "output_len", "precision", "weight_precision", "kv_precision", "tp",
                 "pp", "stack", "throughput_kind", "throughput_per", "scenario")


@dataclass(frozen=True)
class AnchorResult:
    id: str
    category: str
    model: str
    hardware: str
    metric: str
    config: dict
    unit: str
    measured: float               # SI
    predicted: float | None       # SI; None when the model could not predict it
    source: str
    url: str | None = None
    failure: str | None = None
    bound: str | None = None
    notes: dict = field(default_factory=dict)

    @property
    def error(self) -> float | None:
        if self.predicted is None:
            return None
        return (self.predicted - self.measured) / self.measured

    def shown(self, si: float | None) -> str:
        if si is None:
            return "-"
        return format_si(si, "s") if unit_factor(self.unit)[1] == "s" else f"{si:,.1f} /s"


def _files(path: Path | None) -> list[Path]:
    if path is None:
        path = DATA_DIR
    path = Path(path)
    return sorted(path.glob("*.yaml")) if path.is_dir() else [path]


def load_anchors(category: str | None = None, path: Path | None = None) -> list[dict]:
    """Anchors of every YAML file in the data folder (or of ``path``: one file or a folder)."""
    anchors, seen = [], {}
    for file in _files(path):
        with open(file, encoding="utf-8") as fh:
            for a in yaml.safe_load(fh)["anchors"]:
                if a["id"] in seen:
                    raise ValueError(f"anchor id '{a['id']}' appears in both {seen[a['id']]} and {file.name}")
                seen[a["id"]] = file.name
                anchors.append(a)
    return [a for a in anchors if category is None or a["category"] == category]


def predict(anchor: dict) -> tuple[float, str]:
    """The package's default prediction of one anchor, in SI, and the bound it found."""
    if anchor["metric"] in SERVING_METRICS:
        return predict_serving(anchor)
    if anchor["metric"] not in ("throughput", "latency"):
        raise ValueError(f"unknown metric '{anchor['metric']}'")
    from ..engine.engine import Engine, resolve_model

    cfg = dict(anchor.get("config") or {})
    if cfg.pop("accelerators", 1) != 1:
        raise ValueError("multi-accelerator anchors belong to the distributed categories")
    if cfg.pop("scenario", "offline") != "offline":
        raise ValueError("a Server-scenario rate depends on dynamic batching under a latency bound, which the "
                         "single-step engine does not model")
    model = resolve_model(anchor["model"])
    if "image_size" in cfg:
        model = model.model_copy(update={"resolution": cfg.pop("image_size")})
    kwargs = {k: cfg.pop(k) for k in ("batch_size", "precision", "seq_len", "stack", "phase") if k in cfg}
    if cfg:
        raise ValueError(f"anchor configuration keys the runner does not understand: {', '.join(cfg)}")
    prof = Engine.solve(model, anchor["hardware"], **kwargs)
    if anchor["metric"] == "throughput":
        return float(prof.throughput), prof.bottleneck
    if anchor["metric"] == "latency":
        return prof.latency_s, prof.bottleneck
    raise ValueError(f"unknown metric '{anchor['metric']}'")


def predict_serving(anchor: dict) -> tuple[float, str]:
    """A serving anchor's prediction from :class:`ServingModel`, in SI, and its binding constraint.

    ``output_tokens_per_s`` with ``throughput_kind: end_to_end`` is batch x output_len over the
    request latency (TTFT of the batch's prompts plus every decode step); with ``steady_decode``
    it is batch / ITL at the generation's mean context. Per GPU unless ``throughput_per: group``.
    """
    import numpy as np

    from ..solvers.serving import ServingModel

    metric = anchor["metric"]
    cfg = dict(anchor.get("config") or {})
    unknown = [k for k in cfg if k not in _SERVING_KEYS]
    if unknown:
        raise ValueError(f"anchor configuration keys the runner does not understand: {', '.join(unknown)}")
    if cfg.pop("scenario", "offline") != "offline":
        raise ValueError("a Server-scenario rate depends on request arrivals under latency bounds, which the "
                         "serving model does not simulate")
    kind = cfg.pop("throughput_kind", None)
    per = cfg.pop("throughput_per", "gpu")
    if metric == "output_tokens_per_s":
        if kind not in ("end_to_end", "steady_decode"):
            raise ValueError("output_tokens_per_s needs config.throughput_kind: end_to_end or steady_decode")
        if per not in ("gpu", "group"):
            raise ValueError(f"throughput_per must be 'gpu' or 'group', got {per!r}")
    elif kind is not None or "throughput_per" in (anchor.get("config") or {}):
        raise ValueError(f"throughput_kind / throughput_per apply to output_tokens_per_s, not to {metric}")
    prompt, output = cfg.pop("prompt_len", None), cfg.pop("output_len", None)
    if prompt is None:
        raise ValueError(f"a {metric} anchor needs config.prompt_len")
    if output is None and metric in ("output_tokens_per_s", "request_latency"):
        raise ValueError(f"a {metric} anchor needs config.output_len")
    batch = cfg.pop("batch_size", 1)
    tp, pp = cfg.pop("tp", 1), cfg.pop("pp", 1)        # the published parallelism; never chosen for it
    res = ServingModel().solve(anchor["model"], anchor["hardware"], batch_size=batch,
                               precision=cfg.pop("precision", "fp16"), prompt_len=prompt, output_len=output,
                               weight_precision=cfg.pop("weight_precision", None),
                               kv_precision=cfg.pop("kv_precision", None), tp=tp, pp=pp,
                               stack=cfg.pop("stack", "compiled"))
    if not np.all(res.feasible):
        raise ValueError(f"predicted not to fit: {format_si(float(np.max(res.memory_bytes)), 'B')} per device "
                         f"against {format_si(res.memory_capacity_bytes, 'B')}, yet the configuration was measured")
    if metric == "output_tokens_per_s":
        group = batch * output / res.request_latency_s if kind == "end_to_end" else res.tokens_per_s
        value = group / (tp * pp) if per == "gpu" else group
    elif metric == "prompt_tokens_per_s":
        value = batch * prompt / res.ttft_s
    else:
        value = {"ttft": res.ttft_s, "itl": res.itl_s, "request_latency": res.request_latency_s}[metric]
    return float(value), res.binding


def run(category: str | None = None, path: Path | None = None) -> list[AnchorResult]:
    from ..errors import MlsysimError

    results = []
    for a in load_anchors(category, path):
        unit = a["measured"]["unit"]
        measured = parse(f"{a['measured']['value']} {unit}", unit, a["id"])
        predicted, failure, bound = None, None, None
        try:
            predicted, bound = predict(a)
        except (MlsysimError, ValueError) as exc:
            failure = str(exc)
        results.append(AnchorResult(a["id"], a["category"], a["model"], a["hardware"], a["metric"],
                                    dict(a.get("config") or {}), unit, measured, predicted, a.get("source", ""),
                                    a.get("url"), failure, bound))
    return results


def summarize(results: list[AnchorResult]) -> dict[str, dict]:
    """Per category: anchors, how many predicted, median / mean / worst absolute error, share within 25%."""
    out = {}
    for cat in sorted({r.category for r in results}):
        rs = [r for r in results if r.category == cat]
        errs = [abs(r.error) for r in rs if r.error is not None]
        out[cat] = {"anchors": len(rs), "predicted": len(errs),
                    "median_abs_error": statistics.median(errs) if errs else None,
                    "mean_abs_error": statistics.fmean(errs) if errs else None,
                    "max_abs_error": max(errs) if errs else None,
                    "within_25pct": sum(e <= 0.25 for e in errs) / len(errs) if errs else None}
    return out
