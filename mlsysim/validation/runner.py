"""Predict every published measurement in ``validation/data/*.yaml`` and report the error.

Every anchor is reported, including the ones the model gets badly wrong and the ones it
cannot predict at all (with the reason). Error is (predicted - measured) / measured.

Each anchor goes to the solver its metric names: ``throughput`` and ``latency`` (one device,
one step) to :meth:`Engine.solve`; the serving metrics (``output_tokens_per_s``,
``prompt_tokens_per_s``, ``ttft``, ``itl``, ``request_latency``) to :class:`ServingModel`; the
operations metrics (``energy``, ``carbon``, ``water_onsite``, ``water_total``, ``interruptions``)
to :class:`SustainabilityModel`, the shared power model and :class:`ReliabilityModel`.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..units import format_number, format_si, parse, unit_factor

DATA_DIR = Path(__file__).parent / "data"
DATA = DATA_DIR / "anchors.yaml"                 # single-device anchors (Engine.solve)
SERVING_DATA = DATA_DIR / "serving_anchors.yaml"  # LLM-serving anchors (ServingModel)
OPERATIONS_DATA = DATA_DIR / "operations_anchors.yaml"  # energy, carbon, water, failures
TRAINING_DATA = DATA_DIR / "training_anchors.yaml"  # training throughput on fleets (DistributedModel)

#: metrics answered by ServingModel, and the config keys a serving anchor may carry
SERVING_METRICS = ("output_tokens_per_s", "prompt_tokens_per_s", "ttft", "itl", "request_latency")
_SERVING_KEYS = ("batch_size", "prompt_len", "output_len", "precision", "weight_precision", "kv_precision", "tp",
                 "pp", "stack", "throughput_kind", "throughput_per", "scenario", "concurrency")
#: metrics answered by DistributedModel, and the config keys a training anchor may carry: the fleet and the
#: published layout
TRAINING_METRICS = ("mfu", "hfu")
_TRAINING_KEYS = ("node", "nodes", "fabric", "batch_size", "seq_len", "precision", "stack", "tp", "cp", "pp", "dp",
                  "ep", "v_stages", "zero_stage", "recompute", "micro_batch", "schedule", "layers_per_stage",
                  "optimizer", "is_lora", "tp_overlap")
#: metrics answered by TrainingMemoryModel (bytes per device), and the config keys such an anchor may carry
MEMORY_METRICS = ("model_states",)
_MEMORY_KEYS = ("batch_size", "seq_len", "precision", "optimizer", "tp", "cp", "pp", "dp", "ep", "zero_stage")
#: metrics answered by the operations models, and the config keys an operations anchor may carry
OPERATIONS_METRICS = ("energy", "carbon", "water_onsite", "water_total", "interruptions")
_OPERATIONS_KEYS = ("scope", "accelerators", "accelerators_per_node", "node", "fabric", "days", "gpu_hours", "grid",
                    "pue", "carbon_intensity_g_kwh", "profile", "power")


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
        factor, dim = unit_factor(self.unit)
        if dim == "s":
            return format_si(si, "s")
        if dim.endswith("/s"):
            return f"{format_number(si)} /s"
        return format_number(si / factor) + ("" if self.unit == "count" else f" {self.unit}")


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
    if anchor["metric"] in OPERATIONS_METRICS:
        return predict_operations(anchor)
    if anchor["metric"] in TRAINING_METRICS or anchor.get("category") == "training":
        return predict_training(anchor)
    if anchor["metric"] in MEMORY_METRICS:
        return predict_training_memory(anchor)
    if anchor["metric"] not in ("throughput", "latency"):
        raise ValueError(f"unknown metric '{anchor['metric']}'")
    from ..engine.engine import Engine
    from ..run import resolve_model

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

    from ..run import Run
    from ..serving.serving import ServingModel

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
    concurrency = cfg.pop("concurrency", None)
    if concurrency is not None and (metric not in ("ttft", "itl") or output is None or "batch_size" in cfg):
        raise ValueError("config.concurrency applies to ttft and itl anchors with an output_len and no batch_size")
    batch = cfg.pop("batch_size", 1)
    tp, pp = cfg.pop("tp", 1), cfg.pop("pp", 1)        # the published parallelism; never chosen for it
    run = Run.build(anchor["model"], anchor["hardware"], purpose="serving", batch_size=batch, prompt_len=prompt,
                    output_len=output, precision=cfg.pop("precision", "fp16"),
                    weight_precision=cfg.pop("weight_precision", None), kv_precision=cfg.pop("kv_precision", None),
                    tp=tp, pp=pp, stack=cfg.pop("stack", "compiled"))
    if concurrency is not None:
        return _under_load(run, metric, int(concurrency))
    res = ServingModel().solve(run)
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


def _under_load(run, metric: str, users: int) -> tuple[float, str]:
    """TTFT or ITL of a benchmark at fixed concurrency (each client sends its next request when the last
    completes), from the serving capacity model's replica under continuous batching."""
    from ..serving.capacity import Replica
    from ..serving.serving import ServingOptions

    replica = Replica(run, max(256, users), ServingOptions())
    _, ttft, itl = replica.closed_loop(users)
    return (ttft if metric == "ttft" else itl), f"{users} concurrent requests on {replica.slots} slots"


# --- training on fleets ----------------------------------------------------------------------------------
def predict_training(anchor: dict) -> tuple[float, str]:
    """A training anchor's MFU, HFU or throughput (samples/s) from :class:`DistributedModel` on the published
    fleet and layout."""
    import numpy as np

    from ..hardware.registry import Hardware
    from ..systems.registry import Systems
    from ..systems.types import Fleet
    from ..training.distributed import DistributedModel

    cfg = dict(anchor.get("config") or {})
    unknown = [k for k in cfg if k not in _TRAINING_KEYS]
    if unknown:
        raise ValueError(f"anchor configuration keys the runner does not understand: {', '.join(unknown)}")
    missing = [k for k in ("node", "nodes", "fabric", "batch_size", "seq_len") if k not in cfg]
    if missing:
        raise ValueError(f"a training anchor needs config.{', config.'.join(missing)}")
    node = Systems.Nodes.get(cfg.pop("node"))
    if node.accelerator is not Hardware.get(anchor["hardware"]):
        raise ValueError(f"{node.name} carries {node.accelerator.name}, not the anchor's {anchor['hardware']}")
    fleet = Fleet(name=f"{anchor['id']} fleet", node=node, count=cfg.pop("nodes"),
                  fabric=Systems.Fabrics.get(cfg.pop("fabric")))
    B = cfg.pop("batch_size")
    micro = cfg.pop("micro_batch", None)
    if micro is not None:
        replicas = cfg.get("dp", 1) * cfg.get("ep", 1)
        cfg["microbatches"] = B // replicas // micro
    r = DistributedModel().solve(anchor["model"], fleet, batch_size=B, **cfg)
    metric = anchor["metric"]
    if metric not in (*TRAINING_METRICS, "throughput"):
        raise ValueError(f"a training anchor measures mfu, hfu or throughput, not '{metric}'")
    value = float({"mfu": r.mfu, "hfu": r.hfu, "throughput": r.samples_per_s}[metric])
    if not np.all(r.feasible):       # the step is still timed: the memory model's disagreement is reported
        return value, (f"memory model disagrees: {format_si(float(r.memory_per_device_b), 'B')} per device "
                       f"predicted against {format_si(r.memory_capacity_b, 'B')}, yet the run was measured; "
                       f"{r.binding}")
    return value, r.binding


def predict_training_memory(anchor: dict) -> tuple[float, str]:
    """A memory anchor's bytes per device from :class:`TrainingMemoryModel` on the published layout: the model
    states (weights, gradients and optimizer state) as the ZeRO paper counts them."""
    from ..training.memory import TrainingMemoryModel

    cfg = dict(anchor.get("config") or {})
    unknown = [k for k in cfg if k not in _MEMORY_KEYS]
    if unknown:
        raise ValueError(f"anchor configuration keys the runner does not understand: {', '.join(unknown)}")
    r = TrainingMemoryModel().solve(anchor["model"], anchor["hardware"], **cfg)
    states = float(r.weights_b + r.gradients_b + r.optimizer_b)
    return states, (f"weights {format_si(float(r.weights_b), 'B')}, gradients {format_si(float(r.gradients_b), 'B')}, "
                    f"optimizer state {format_si(float(r.optimizer_b), 'B')} per device")


# --- operations: energy, carbon, water, failures ----------------------------------------------------
def predict_operations(anchor: dict) -> tuple[float, str]:
    """An operations anchor's prediction in SI (J, kg, L or a count) and what set it."""
    cfg = dict(anchor.get("config") or {})
    unknown = [k for k in cfg if k not in _OPERATIONS_KEYS]
    if unknown:
        raise ValueError(f"anchor configuration keys the runner does not understand: {', '.join(unknown)}")
    metric = anchor["metric"]
    if metric == "interruptions":
        value, bound = _interruptions(anchor, cfg)
    elif metric in ("water_onsite", "water_total"):
        value, bound = _water(anchor, cfg, metric)
    else:
        value, bound = _energy_or_carbon(anchor, cfg, metric)
    if cfg:
        raise ValueError(f"configuration keys this {metric} anchor does not use: {', '.join(cfg)}")
    return value, bound


def _energy_or_carbon(anchor: dict, cfg: dict, metric: str) -> tuple[float, str]:
    """Energy (J) of the anchor's scope, or its carbon (kg): that energy x the grid's intensity."""
    from ..operations.sustainability import KWH_J

    scope = cfg.pop("scope", None)
    if scope == "accelerators":
        joules, bound = _accelerator_energy(anchor, cfg)
        if metric == "energy":
            return joules, bound
        grid = _grid(anchor, cfg, need_pue=False)
        return grid.carbon_kg(joules / KWH_J), f"{bound}; {grid.carbon_intensity_g_kwh:g} gCO2e/kWh"
    if scope != "facility":
        raise ValueError(f"config.scope must be 'facility' or 'accelerators', got {scope!r}")
    res, nodes, bound = _facility(anchor, cfg)
    if metric == "energy":
        return res.facility_energy_j * nodes, bound
    return res.carbon_footprint_kg * nodes, f"{bound}; {res.carbon_intensity_g_kwh:g} gCO2e/kWh"


def _water(anchor: dict, cfg: dict, metric: str) -> tuple[float, str]:
    """On-site (cooling) or total (plus the grid's generation) water of the facility, in litres."""
    if cfg.pop("scope", "facility") != "facility":
        raise ValueError("water is predicted for the facility scope only (on-site WUE x IT energy)")
    if "grid" not in cfg:
        raise ValueError("a water anchor needs config.grid, a zoo grid with on-site and off-site water figures")
    res, nodes, bound = _facility(anchor, cfg)
    litres = res.water_onsite_liters if metric == "water_onsite" else res.water_usage_liters
    return litres * nodes, f"{bound}; on-site {res.water_onsite_liters * nodes:,.0f} L"


def _interruptions(anchor: dict, cfg: dict) -> tuple[float, str]:
    """Failures ReliabilityModel expects over the run (fleet of ``config.node`` on ``config.fabric``)."""
    from ..operations.reliability import ReliabilityModel
    from ..systems.registry import Systems
    from ..systems.types import Fleet

    node, nodes = _node(anchor, cfg)
    if "fabric" not in cfg:
        raise ValueError("a failures anchor needs config.fabric: ReliabilityModel takes a Fleet (the fabric's "
                         "switches do not enter the failure rates)")
    fleet = Fleet(name=f"{anchor['id']} fleet", node=node, count=nodes, fabric=Systems.Fabrics.get(cfg.pop("fabric")))
    kwargs = {"profile": cfg.pop("profile")} if "profile" in cfg else {}
    res = ReliabilityModel().solve(fleet, _days(cfg), **kwargs)
    return float(res.expected_failures), res.binding


def _accelerator_energy(anchor: dict, cfg: dict) -> tuple[float, str]:
    """Accelerator draw only (no host, no PUE): the power model's default activity x accelerator-hours; or,
    with ``power: rated``, the source's own rule: each accelerator-hour at rated power (TDP), times the PUE
    the source applied (``pue``), so that the error checks the hours, the rating, the PUE and the grid."""
    from ..hardware import power
    from ..hardware.registry import Hardware

    rule = cfg.pop("power", "modelled")
    if rule not in ("modelled", "rated"):
        raise ValueError(f"config.power must be 'modelled' or 'rated', got {rule!r}")
    pue = cfg.pop("pue", 1.0) if rule == "rated" else 1.0
    if isinstance(pue, bool) or not isinstance(pue, (int, float)) or not pue >= 1.0:
        raise ValueError(f"config.pue must be a number of at least 1, got {pue!r}")

    acc = Hardware.get(anchor["hardware"])
    if not acc.tdp:
        raise ValueError(f"{acc.name} has no published power figure")
    if "gpu_hours" in cfg:
        if "accelerators" in cfg or "days" in cfg:
            raise ValueError("give accelerator-hours once: gpu_hours, or accelerators and days")
        hours = parse(cfg.pop("gpu_hours"), "h", "gpu_hours", positive=True) / 3600.0
    else:
        hours = _count(cfg, "accelerators") * _days(cfg) * 24.0
    if rule == "rated":
        watts = float(acc.tdp) * pue
        return watts * hours * 3600.0, f"accelerators at rated power: {float(acc.tdp):,.0f} W each x PUE {pue:g}"
    watts = power.accelerator_power(float(acc.tdp), power.DEFAULT_UTILIZATION)
    return watts * hours * 3600.0, f"accelerators only: {watts:,.0f} W each at activity {power.DEFAULT_UTILIZATION:.2f}"


def _facility(anchor: dict, cfg: dict):
    """SustainabilityModel of the run's nodes (and fabric, if named); (result, node multiplier, bound).

    Without a fabric the nodes are independent, so one node is solved and the caller multiplies.
    """
    from ..operations.sustainability import SustainabilityModel
    from ..systems.registry import Systems
    from ..systems.types import Fleet

    if "gpu_hours" in cfg:
        raise ValueError("gpu_hours gives accelerator-hours only; the facility scope needs accelerators, "
                         "accelerators_per_node (or node) and days")
    node, nodes = _node(anchor, cfg)
    fabric = cfg.pop("fabric", None)
    system = node if fabric is None else Fleet(name=f"{anchor['id']} fleet", node=node, count=nodes,
                                               fabric=Systems.Fabrics.get(fabric))
    grid = _grid(anchor, cfg, need_pue=True)
    res = SustainabilityModel().solve(system, _days(cfg), datacenter=grid)
    shares = res.power.shares()
    bound = (f"facility: IT x PUE {res.pue:g}; accelerators {shares['accelerators']:.0%}, host {shares['host']:.0%}, "
             f"fabric {shares['network']:.0%} of IT power")
    return res, (1 if fabric is not None else nodes), bound


def _node(anchor: dict, cfg: dict):
    """(server, how many): a zoo node (config.node), or one built around the zoo accelerator."""
    from ..hardware.registry import Hardware
    from ..systems.registry import Systems
    from ..systems.types import Node

    acc = Hardware.get(anchor["hardware"])
    if "node" in cfg:
        if "accelerators_per_node" in cfg:
            raise ValueError("give the server once: node, or accelerators_per_node")
        node = Systems.Nodes.get(cfg.pop("node"))
        if node.accelerator.name != acc.name:
            raise ValueError(f"{node.name} carries {node.accelerator.name}, not the anchor's {acc.name}")
    else:
        per = _count(cfg, "accelerators_per_node")
        link = acc.nvlink or acc.interconnect          # does not enter the power or failure models
        node = Node(name=f"{per}x {acc.name} server (no datasheet maximum)", accelerator=acc,
                    accelerators_per_node=per, intra_node_bw=link.bandwidth if link else 0)
    total = _count(cfg, "accelerators")
    if total % node.accelerators_per_node:
        raise ValueError(f"{total} accelerators do not fill whole servers of {node.accelerators_per_node}")
    return node, total // node.accelerators_per_node


def _grid(anchor: dict, cfg: dict, need_pue: bool):
    """The zoo grid the anchor names, or a GridProfile of the source's own site figures."""
    from ..infra.registry import Infra
    from ..infra.types import GridProfile

    name, pue, intensity = cfg.pop("grid", None), cfg.pop("pue", None), cfg.pop("carbon_intensity_g_kwh", None)
    if name is not None:
        if pue is not None or intensity is not None:
            raise ValueError("give the site once: grid, or the source's own pue and carbon_intensity_g_kwh")
        return Infra.Grids.get(name)
    if intensity is None or (need_pue and pue is None):
        raise ValueError("an operations anchor needs config.grid (a zoo grid) or the source's own "
                         "carbon_intensity_g_kwh" + (" and pue" if need_pue else ""))
    if pue is not None and not need_pue:
        raise ValueError("the accelerators scope applies no PUE; drop config.pue")
    site = anchor.get("source", "").split(",")[0] or anchor["id"]
    return GridProfile(name=f"{site} site", carbon_intensity_g_kwh=intensity, **({"pue": pue} if need_pue else {}))


def _count(cfg: dict, key: str) -> int:
    from ..run import whole

    return whole(f"config.{key}", cfg.pop(key, None))


def _days(cfg: dict) -> float:
    if "days" not in cfg:
        raise ValueError("an operations anchor needs config.days (or gpu_hours for the accelerators scope)")
    return parse(cfg.pop("days"), "day", "days", positive=True) / 86400.0


def run(category: str | None = None, path: Path | None = None, progress=None) -> list[AnchorResult]:
    """Every anchor predicted (``progress(done, total)`` is told after each)."""
    from ..errors import MlsysimError

    results = []
    anchors = load_anchors(category, path)
    for i, a in enumerate(anchors, 1):
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
        if progress is not None:
            progress(i, len(anchors))
    return results


def summarize(results: list[AnchorResult]) -> dict[str, dict]:
    """Per category: anchors, how many predicted, median / mean / worst absolute error, share within 25%, how
    often the measured value falls inside the 10th-90th percentile band fitted without it (``band_coverage``
    of ``band_scored`` anchors), and the errors per device (``by_hardware``), so that no device's errors hide
    in a category's median."""
    from .bands import coverage

    covered = coverage(results)
    out = {}
    for cat in sorted({r.category for r in results}):
        rs = [r for r in results if r.category == cat]
        out[cat] = _errors(rs) | {"band_coverage": covered[cat]["coverage"] if cat in covered else None,
                                  "band_scored": covered[cat]["scored"] if cat in covered else 0}
        out[cat]["by_hardware"] = {hw: _errors([r for r in rs if r.hardware == hw])
                                   for hw in sorted({r.hardware for r in rs})}
    return out


def _errors(rs: list[AnchorResult]) -> dict:
    errs = [abs(r.error) for r in rs if r.error is not None]
    return {"anchors": len(rs), "predicted": len(errs),
            "median_abs_error": statistics.median(errs) if errs else None,
            "mean_abs_error": statistics.fmean(errs) if errs else None,
            "max_abs_error": max(errs) if errs else None,
            "within_25pct": sum(e <= 0.25 for e in errs) / len(errs) if errs else None}
