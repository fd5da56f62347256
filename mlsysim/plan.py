"""Declarative plans (``mlsys.yaml``): a strict schema, a loader with precise errors, and the run.

Every key is checked (unknown keys are errors naming their path) and every field is used:
the region drives carbon and cost, the duration the macro lens, the asserts the exit code.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import ConfigDict, Field, ValidationError, model_validator

from .core.types import Bandwidth, Record
from .errors import InputError
from .evaluation.scorecard import SystemEvaluation, evaluate_run
from .run import DEFAULT_REGION, MAX_SIZE, Run, refuse_sequence, resolve_hardware
from .training.distributed import default_batch

PHASE = Literal["forward", "prefill", "decode", "train"]
#: the most bytes a plan file may have (plans are a few lines; this keeps a wrong file from being parsed for minutes)
MAX_PLAN_BYTES = 1 << 20
#: the deepest nesting of lists and mappings a plan may have (its own is four: constraints.assert[i].metric)
MAX_DEPTH = 32
#: the most values a plan may expand to (YAML aliases can repeat a list inside itself a billion times)
MAX_VALUES = 100_000


class _Spec(Record):
    model_config = ConfigDict(populate_by_name=True)

    def __init__(self, **data):          # plain pydantic errors here: the loader words them with their path
        super(Record, self).__init__(**data)


class WorkloadSpec(_Spec):
    name: str = Field(description="model registry name, e.g. Llama3_8B")
    batch_size: int | None = Field(None, gt=0, le=MAX_SIZE,
                                   description="samples (sequences) per step, across the whole system (default 1; a "
                                               "training layout's default: one sequence per replica per microbatch, "
                                               "pp microbatches)")
    seq_len: int | None = Field(None, gt=0, le=MAX_SIZE, description="sequence / context length for language models")
    training: bool = Field(False, description="time a training step instead of inference")
    phase: PHASE | None = Field(None, description="forward, prefill, decode or train (single device)")
    stack: str | None = Field(None, description="the software stack it runs under, e.g. vllm, pytorch_eager, "
                                                "torch_compile (see `mlsysim zoo stacks`)")
    host_speed: float | None = Field(None, gt=0, allow_inf_nan=False,
                                     description="how fast the host CPU issuing the kernels is, relative to the one "
                                                 "the launch costs were measured on")
    optimizer: str | None = Field(None, description="training optimizer: adam, adamw, sgd, adafactor, adam8bit, none")
    runtime_overhead: str | float | None = Field(
        None, description="device memory the stack's process holds before the model (CUDA context, framework), "
                          "e.g. '2 GiB' or bytes; default: the stack's published figure (`mlsysim zoo stacks`)")


class HardwareSpec(_Spec):
    name: str = Field(description="accelerator registry name, e.g. H100, or a device file (.yaml)")
    accelerators: int | None = Field(None, gt=0, le=MAX_SIZE, description="total accelerators")
    node_count: int | None = Field(None, gt=0, le=MAX_SIZE, description="nodes (needs accelerators_per_node)")
    accelerators_per_node: int | None = Field(None, gt=0, le=MAX_SIZE)
    fabric: str | None = Field(None, description="scale-out fabric registry name, e.g. InfiniBand_NDR")
    fabric_bandwidth: Bandwidth | None = Field(None, description="per-port fabric bandwidth, e.g. '400 Gbps'")
    intra_node_bw: Bandwidth | None = Field(None, description="per-accelerator scale-up bandwidth, per direction")
    precision: str = "fp16"
    efficiency: float | None = Field(None, gt=0, le=1, allow_inf_nan=False,
                                     description="override the calibrated compute efficiency")
    calibration: str | None = Field(None, description="a calibration file of one's own machine (`mlsysim audit` "
                                                      "--write-calibration) in place of the shipped constants")

    @model_validator(mode="after")
    def _topology_agrees(self):
        if self.node_count is not None and self.accelerators_per_node is None:
            raise ValueError("node_count needs accelerators_per_node")
        if self.node_count and self.node_count * self.accelerators_per_node > MAX_SIZE:
            raise ValueError(f"node_count x accelerators_per_node = {self.node_count * self.accelerators_per_node} "
                             f"accelerators; at most 2^53 ({MAX_SIZE:.3g})")
        if self.node_count and self.accelerators and self.node_count * self.accelerators_per_node != self.accelerators:
            raise ValueError(f"node_count x accelerators_per_node = {self.node_count * self.accelerators_per_node} "
                             f"but accelerators = {self.accelerators}")
        if self.accelerators and self.accelerators_per_node and self.accelerators % self.accelerators_per_node:
            raise ValueError(f"accelerators ({self.accelerators}) must be divisible by accelerators_per_node "
                             f"({self.accelerators_per_node})")
        if self.fabric and self.fabric_bandwidth is not None:
            raise ValueError("give either fabric (a registry name) or fabric_bandwidth, not both")
        return self

    @property
    def total(self) -> int:
        if self.node_count:
            return self.node_count * self.accelerators_per_node
        return self.accelerators or 1


class ParallelismSpec(_Spec):
    tp: int = Field(1, gt=0, le=MAX_SIZE, description="tensor-parallel degree")
    cp: int = Field(1, gt=0, le=MAX_SIZE, description="context-parallel degree (ring attention over each sequence)")
    pp: int = Field(1, gt=0, le=MAX_SIZE, description="pipeline-parallel degree")
    v_stages: int | None = Field(None, gt=0, le=MAX_SIZE, description="virtual pipeline stages per device "
                                                                      "(interleaved 1F1B; default 2 under it, "
                                                                      "TorchTitan's)")
    dp: int | None = Field(None, gt=0, le=MAX_SIZE, description="data-parallel degree (default: what the others leave)")
    ep: int = Field(1, gt=0, le=MAX_SIZE, description="expert-parallel degree")
    zero: int | Literal["fsdp"] = Field(0, description="ZeRO stage 0-3, or fsdp (= 3)")
    recompute: Literal["none", "selective", "full"] = Field("none", description="activation recomputation")
    micro_batch: int | None = Field(None, gt=0, le=MAX_SIZE,
                                    description="sequences per microbatch (default: one under PP)")
    schedule: Literal["1f1b", "interleaved", "zero_bubble", "dualpipe"] | None = Field(
        None, description="pipeline schedule (default 1f1b, interleaved with v_stages > 1)")
    layers_per_stage: list[int] | None = Field(None, description="an uneven pipeline split, one count per stage")

    @property
    def split(self) -> bool:
        return self.tp * self.cp * self.pp * self.ep > 1 or (self.dp or 1) > 1


class OpsSpec(_Spec):
    region: str = Field(DEFAULT_REGION, description="grid registry name: drives carbon, water and electricity price")
    duration_days: float = Field(30.0, gt=0, allow_inf_nan=False, description="how long the system runs")
    utilization: float | None = Field(None, ge=0, le=1, allow_inf_nan=False,
                                      description="average busy fraction (default: predicted)")


class Assertion(_Spec):
    metric: str = Field(description="dotted path: feasibility.<k>, performance.<k> or macro.<k>")
    max: float | None = Field(None, allow_inf_nan=False)
    min: float | None = Field(None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _bounded(self):
        if self.max is None and self.min is None:
            raise ValueError(f"assert on '{self.metric}' needs max or min")
        if self.metric.split(".")[0] not in ("feasibility", "performance", "macro") or "." not in self.metric:
            raise ValueError(f"metric '{self.metric}' must start with feasibility., performance. or macro.")
        return self


class Constraints(_Spec):
    asserts: list[Assertion] = Field(default_factory=list, alias="assert")


class Plan(_Spec):
    """A whole evaluation: what runs, on what, where and for how long, and what must hold."""

    version: str
    name: str
    workload: WorkloadSpec
    hardware: HardwareSpec
    parallelism: ParallelismSpec | None = None
    ops: OpsSpec | None = None
    constraints: Constraints | None = None


def plan_schema() -> dict:
    return Plan.model_json_schema(by_alias=True)


def load_plan(path) -> Plan:
    """Read and validate a plan file; every failure is one sentence with the file, line or key."""
    path = Path(path)
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: a plan must be a mapping of keys (version, name, workload, hardware, ...)")
    return parse_plan(data, str(path))


def _read_yaml(path: Path):
    """A plan file's YAML: safe, a key given twice refused; a missing or unreadable file, text that is not
    UTF-8, a control character, malformed or too deeply nested YAML are each one sentence naming the file."""
    from .zoo.registry import _StrictLoader

    try:
        if not path.is_file():
            raise InputError(f"plan file '{path}' not found" if not path.exists() else
                             f"plan file '{path}' is not a file")
        if path.stat().st_size > MAX_PLAN_BYTES:
            raise InputError(f"{path}: {path.stat().st_size:,} bytes is no plan (a plan is a few lines of YAML; "
                             f"at most {MAX_PLAN_BYTES:,} bytes)")
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(file_problem("plan file", path, exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at {_where(raw, exc.start)})") \
            from None
    if "\x00" in text:
        raise InputError(f"{path}: a NUL character at {_where(text, text.index(chr(0)))}; a plan is YAML text")
    loader = _StrictLoader(text)
    loader.name = str(path)
    try:
        _check_depth(text, path)
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise InputError(f"{path}: malformed YAML at line {mark.line + 1}, column {mark.column + 1}: "
                         f"{exc.problem}") from None
    except yaml.reader.ReaderError as exc:
        at = _where(text, len(raw[:exc.position].decode("utf-8", "ignore")))      # the offset counts bytes
        raise InputError(f"{path}: character U+{exc.character:04X} at {at} is not allowed in YAML") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not readable as YAML ({' '.join(str(exc).split())})") from None
    except RecursionError:
        raise InputError(f"{path}: YAML nested too deeply; a plan is a few levels deep") from None
    finally:
        loader.dispose()


def _check_depth(text: str, path: Path) -> None:
    """Refuse lists and mappings nested beyond ``MAX_DEPTH`` before they are built (the C parser builds
    them recursively: a file of a hundred thousand brackets would crash the process)."""
    def too_deep(mark):
        return InputError(f"{path}: lists or mappings nested more than {MAX_DEPTH} levels deep at line "
                          f"{mark.line + 1}, column {mark.column + 1}; a plan is a few levels deep")

    depth = 0
    events = yaml.parse(text, Loader=yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader)
    try:
        for event in events:
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise too_deep(event.start_mark)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as exc:          # PyYAML >= 6.0.4 stops at its own depth limit before we count
        if "nesting depth" in str(exc.problem):
            raise too_deep(exc.problem_mark) from None
        raise


def _where(text, index: int) -> str:
    """``line L, column C`` of the character (or byte) at ``index``."""
    newline = "\n" if isinstance(text, str) else b"\n"
    line = text.count(newline, 0, index) + 1
    return f"line {line}, column {index - (text.rfind(newline, 0, index) + 1) + 1}"


def file_problem(what: str, path, exc: OSError) -> str:
    """One sentence for a file that cannot be opened or written (the name shortened when it is very long)."""
    import errno

    name = str(path)
    shown = name if len(name) <= 80 else f"{name[:40]}...{name[-20:]} ({len(name):,} characters)"
    if exc.errno == errno.ENAMETOOLONG:
        return f"{what} name '{shown}' is too long for the file system"
    reason = exc.strerror or type(exc).__name__
    return f"cannot use {what} '{shown}': {reason[0].lower() + reason[1:]}"


def parse_plan(data: dict, where: str = "plan") -> Plan:
    _check_keys(data, where)
    return build_spec(Plan, where, data)


def build_spec(cls, where: str, data: dict):
    """A plan or one of its sections from ``data``; a bad key or value is one sentence naming its path."""
    try:
        return cls(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            raise InputError(f"{where}: unknown key '{key}'") from None
        if err["type"] == "missing":
            raise InputError(f"{where}: missing required key '{key}'") from None
        if err["type"] == "less_than_equal" and err.get("ctx", {}).get("le") == MAX_SIZE:
            raise InputError(f"{where}: '{key}' must be at most 2^53 ({MAX_SIZE:.3g}), got {err['input']!r}") \
                from None
        raise InputError(f"{where}: '{key}' {err['msg'].removeprefix('Value error, ')}") from None


def _check_keys(data: dict, where: str) -> None:
    """Every key of the plan's mappings is a word (YAML also allows numbers, dates, null, lists as keys), and
    no value is nested beyond ``MAX_DEPTH``, holds itself or expands (YAML aliases repeat what they name) to
    more than ``MAX_VALUES`` values: the checks downstream then never recurse or repeat without end."""
    sizes: dict[int, int] = {}                     # expanded size of each list or mapping, each counted once
    open_: set[int] = set()

    def walk(node, path: str, depth: int) -> int:
        top = ".".join(path.split(".")[:3]) or "plan"
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_:
            raise InputError(f"{where}: '{top}' holds itself (a YAML alias inside its own anchor)")
        if depth > MAX_DEPTH:
            raise InputError(f"{where}: '{top}' holds lists or mappings nested more than {MAX_DEPTH} levels deep; "
                             f"a plan is a few levels deep")
        open_.add(id(node))
        total = 1
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(node, dict) and not isinstance(key, str):
                raise InputError(f"{where}: key {key!r}{f' in {path!r}' if path else ''} is not a name; "
                                 f"keys are words such as 'workload'")
            total += walk(value, f"{path}.{key}" if path else str(key), depth + 1) \
                if isinstance(value, (dict, list)) else 1
            if total > MAX_VALUES:
                raise InputError(f"{where}: '{top}' expands to more than {MAX_VALUES:,} values (YAML aliases "
                                 f"repeat what they name); a plan holds a few dozen")
        open_.discard(id(node))
        sizes[id(node)] = total
        return total

    walk(data, "", 1)


def plan_run(plan: Plan) -> Run:
    """The run a plan describes (its fleet built from the hardware section when it has several accelerators)."""
    hw = resolve_hardware(plan.hardware.name)
    fleet = plan_fleet(plan.hardware, hw) if plan.hardware.total > 1 else None
    par = plan.parallelism or ParallelismSpec()
    if fleet is None and par.split:
        raise InputError("parallelism needs more than one accelerator in hardware")
    w, ops = plan.workload, plan.ops
    batch = w.batch_size
    training_fleet = fleet is not None and (w.training or w.phase == "train")
    if batch is None:
        batch = default_batch(fleet, par.tp, par.cp, par.pp, par.dp, par.ep) if training_fleet else 1
    training = {}
    if training_fleet:
        training = dict(cp=par.cp, dp=par.dp, ep=par.ep, v_stages=par.v_stages, zero_stage=_zero(par.zero),
                        recompute=par.recompute, schedule=par.schedule, layers_per_stage=par.layers_per_stage,
                        microbatches=_microbatches(batch, fleet, par), optimizer=w.optimizer)
    elif w.optimizer is not None or _set_beyond_tp_pp(par):
        raise InputError("optimizer, and parallelism beyond tp and pp, describe training on a fleet: set "
                         "workload.training and more than one accelerator")
    run = Run.build(w.name, hw, fleet=fleet, phase=w.phase, training=w.training, batch_size=batch,
                    seq_len=w.seq_len, precision=plan.hardware.precision, efficiency=plan.hardware.efficiency,
                    calibration=plan.hardware.calibration,
                    stack=w.stack, host_speed=w.host_speed, runtime_overhead=w.runtime_overhead, tp=par.tp,
                    pp=par.pp, region=ops.region if ops else None,
                    duration_days=ops.duration_days if ops else None, utilization=ops.utilization if ops else None,
                    **training)
    refuse_sequence(run, w.seq_len)
    return run


def _zero(value) -> int:
    return 3 if value == "fsdp" else value


def _set_beyond_tp_pp(par: ParallelismSpec) -> bool:
    default = ParallelismSpec()
    return any(getattr(par, k) != getattr(default, k) for k in ParallelismSpec.model_fields if k not in ("tp", "pp"))


def _microbatches(batch: int, fleet, par: ParallelismSpec) -> int | None:
    """Microbatches per replica for ``micro_batch`` sequences each (None: the schedule's default)."""
    if par.micro_batch is None:
        return None
    model_parallel = par.tp * par.cp * par.pp * par.ep
    replicas = (par.dp or max(fleet.total_accelerators // model_parallel, 1)) * par.ep
    local = batch / replicas
    if local % par.micro_batch:
        raise InputError(f"parallelism.micro_batch ({par.micro_batch}) must divide the per-replica batch "
                         f"({local:g} = batch_size {batch} / {replicas} replicas)")
    return int(local // par.micro_batch)


def run_plan(plan: Plan) -> tuple[SystemEvaluation, list[str]]:
    """Evaluate the plan and check its asserts; returns the scorecard and the violations, in words."""
    evaluation = evaluate_run(plan.name, plan_run(plan))
    return evaluation, check_asserts(evaluation, plan.constraints.asserts if plan.constraints else [])


def check_asserts(evaluation: SystemEvaluation, asserts: list[Assertion]) -> list[str]:
    violations = []
    for a in asserts:
        value = evaluation.metric(a.metric)
        if value is None or isinstance(value, (str, bool)):
            violations.append(f"{a.metric} is not available for this plan")
        elif a.max is not None and value > a.max:
            violations.append(f"{a.metric} ({value:.4g}) exceeds max ({a.max:g})")
        elif a.min is not None and value < a.min:
            violations.append(f"{a.metric} ({value:.4g}) is below min ({a.min:g})")
    return violations


def plan_fleet(spec: HardwareSpec, hw):
    """The fleet a plan's hardware section describes (node size from the plan, the chip or the zoo)."""
    from .systems.registry import Systems
    from .systems.types import Fleet, NetworkFabric, Node

    zoo_node = next((n for _, n in Systems.Nodes.items() if n.accelerator is hw), None)
    per_node = spec.accelerators_per_node or hw.accelerator_count or (zoo_node and zoo_node.accelerators_per_node)
    if not per_node:
        raise InputError(f"no node of {hw.name} in the zoo says how many share a server; "
                         f"set hardware.accelerators_per_node")
    if spec.total % per_node:
        raise InputError(f"hardware.accelerators ({spec.total}) must be divisible by accelerators per node "
                         f"({per_node}); set hardware.accelerators_per_node")
    link = spec.intra_node_bw or (hw.nvlink.bandwidth if hw.nvlink else None) or \
        (hw.interconnect.bandwidth if hw.interconnect else None)
    if link is None:
        raise InputError(f"{hw.name} has no scale-up link in the zoo; set hardware.intra_node_bw")
    if spec.fabric_bandwidth is not None:
        fabric = NetworkFabric(name="Plan fabric", bandwidth=spec.fabric_bandwidth)
    else:
        fabric = Systems.Fabrics.get(spec.fabric or "InfiniBand_NDR")
    if zoo_node is not None and zoo_node.accelerators_per_node == per_node and spec.intra_node_bw is None:
        node = zoo_node
    else:
        node = Node(name=f"{per_node}x {hw.name}", accelerator=hw, accelerators_per_node=per_node,
                    intra_node_bw=link)
    return Fleet(name=f"{spec.total}x {hw.name}", node=node, count=spec.total // per_node, fabric=fabric)
