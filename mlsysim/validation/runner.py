"""Predict every published measurement in ``validation/data/anchors.yaml`` and report the error.

Every anchor is reported, including the ones the model gets badly wrong and the ones it
cannot predict at all (with the reason). Error is (predicted - measured) / measured.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..units import format_si, parse, unit_factor

DATA = Path(__file__).parent / "data" / "anchors.yaml"


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


def load_anchors(category: str | None = None, path: Path = DATA) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        anchors = yaml.safe_load(fh)["anchors"]
    return [a for a in anchors if category is None or a["category"] == category]


def predict(anchor: dict) -> tuple[float, str]:
    """The package's default prediction of one anchor, in SI, and the bound it found."""
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


def run(category: str | None = None, path: Path = DATA) -> list[AnchorResult]:
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
