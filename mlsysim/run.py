"""The run description: what is being asked, validated once, with one set of defaults.

A :class:`Run` names the workload, the device (or fleet), the phase, the batch and sequence
lengths, the precision of weights, activations and KV cache, the execution profile (software
stack), the parallel layout and where it runs. The Python API, the command line and plans all
build it through :meth:`Run.build`; every solver takes it and reads what it needs, so no input
is forwarded by hand, and a solver refuses a field it cannot honour instead of dropping it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .errors import InputError, UnknownNameError, UnsupportedPrecisionError
from .execution import ExecutionProfile, configured_stack, execution_profile, on_host, with_runtime
from .hardware.types import HardwareNode
from .models.families import TrainingState
from .models.families.base import OPTIMIZERS as _OPTIMIZER_FACTS
from .models.families.base import recompute_mode
from .models.types import Workload
from .ops import GGUF_BYTES, PHASES, PRECISION_BYTES, QUANTIZED_MATMUL, WEIGHT_ONLY, Precisions, normalize_precision
from .units import parse

#: the stack a step runs under when none is given or configured (``mlsysim.core.config``: a SimulationConfig's
#: stack, then MLSYSIM_STACK): training in PyTorch eager, one inference step compiled, LLM serving in a serving engine
DEFAULT_STACK = {"train": "pytorch_eager", "inference": "torch_compile", "serving": "vllm"}
#: generated tokens per request when a serving question needs one and none is given
DEFAULT_OUTPUT_LEN = 128
#: the largest size or count a run takes: 2^53, the last integer a float holds exactly (beyond it sizes stop
#: being whole numbers and products overflow)
MAX_SIZE = 2**53
#: the smallest compute efficiency a run may give: below it a step's time is not a number worth printing (and
#: subnormal values overflow to infinity)
MIN_EFFICIENCY = 1e-9
#: the grid a run draws from when no region is given
DEFAULT_REGION = "US_Avg"
#: the precision a run computes at when none is given
DEFAULT_PRECISION = "fp16"
#: optimizers whose state the training memory model knows
OPTIMIZERS = tuple(_OPTIMIZER_FACTS)
#: pipeline schedules: 1F1B (Narayanan et al. 2021), interleaved 1F1B (virtual stages), zero-bubble ZB-H1
#: (Qi et al. 2023), DeepSeek's DualPipe (DeepSeek-V3 technical report, 2024)
SCHEDULES = ("1f1b", "interleaved", "zero_bubble", "dualpipe")
#: virtual stages per device of an interleaved schedule given without a count: TorchTitan's default (two
#: stages per pipeline rank for multi-stage schedules, torchtitan/distributed/pipeline_parallel.py)
DEFAULT_VIRTUAL_STAGES = 2
#: the keywords that describe a run, in every solver's 0.1.0 spelling (the rest are a solver's own options)
RUN_KEYWORDS = frozenset({
    "hardware", "fleet", "phase", "is_training", "training", "batch_size", "seq_len", "past_len", "prompt_len",
    "output_len", "output_tokens", "context_length", "max_seq_len", "precision", "weight_precision",
    "activation_precision", "kv_precision", "stack", "efficiency", "tp", "pp", "dp", "ep", "tp_size", "pp_size",
    "dp_size", "ep_size", "microbatches", "microbatch_count", "v_stages", "zero_stage", "activation_recomputation",
    "recompute", "optimizer", "is_lora", "lora", "region", "grid", "datacenter", "duration_days", "utilization",
    "cp", "layers_per_stage", "schedule", "runtime_overhead", "calibration"})
#: KV-cache formats any device can store; 8- and 4-bit ones need the chip's support
_KV_ALWAYS = ("fp32", "fp16", "bf16")


# --- resolving names --------------------------------------------------------------------------
def resolve_model(model) -> Workload:
    """A workload, a zoo name, a Hugging Face config.json (its path, or the directory holding it), or a YAML file
    listing a CNN's layers (``models/layers.py``)."""
    if isinstance(model, Workload):
        return model
    if isinstance(model, str):
        from .models.registry import Models

        if model.endswith(".json"):
            return _read_once(model, Models.from_hf_config)
        if model.endswith((".yaml", ".yml")):
            return _read_once(model, Models.from_layers)
        try:
            return Models.get(model)
        except UnknownNameError:            # a folder holding a config.json (checked after the zoo: no disk per name)
            from pathlib import Path

            if (Path(model) / "config.json").is_file():
                return _read_once(model, Models.from_hf_config)
            raise
    raise InputError(f"model must be a Workload or a model name, got {type(model).__name__}")


def resolve_hardware(hardware) -> HardwareNode:
    if isinstance(hardware, HardwareNode):
        return hardware
    if isinstance(hardware, str):
        from .hardware.registry import Hardware, hardware_from_yaml

        if hardware.endswith((".yaml", ".yml")):
            return _read_once(hardware, hardware_from_yaml)
        return Hardware.get(hardware)
    accel = getattr(hardware, "accelerator", None) or getattr(getattr(hardware, "node", None), "accelerator", None)
    if isinstance(accel, HardwareNode):
        return accel
    raise InputError(f"hardware must be a HardwareNode or a hardware name, got {type(hardware).__name__}")


@lru_cache(maxsize=64)
def _read_once(path: str, load):
    """A model or device file read once per process (the engine caches a step by its records' identity)."""
    return load(path)


def _calibration(given):
    """The run's timing constants as given: None (the shipped ones), a Calibration, or the path of a file of
    one's own (the engine reads it, once)."""
    if given is None or hasattr(given, "_kt"):          # a Calibration record
        return given
    if isinstance(given, str) or hasattr(given, "__fspath__"):
        from pathlib import Path

        if not Path(given).is_file():
            raise InputError(f"calibration file '{given}' not found")
        return str(given)
    raise InputError(f"calibration must be a calibration file's path or a Calibration, got {type(given).__name__}")


def resolve_fleet(fleet):
    """A Fleet (or a cluster name from the zoo)."""
    if isinstance(fleet, str):
        from .systems.registry import Systems

        return Systems.Clusters.get(fleet)
    if not hasattr(fleet, "total_accelerators"):
        raise InputError(f"fleet must be a Fleet or a cluster name, got {type(fleet).__name__}")
    return fleet


# --- checking numbers ---------------------------------------------------------------------------
def check_sizes(name: str, value, minimum: float = 1.0):
    """A finite size >= ``minimum`` and at most ``MAX_SIZE`` (scalar or array); arrays come back as float arrays."""
    if type(value) is int or type(value) is float:
        if minimum <= value <= MAX_SIZE:                  # false for nan; inf is beyond MAX_SIZE
            return value
        if value > MAX_SIZE and value - value == 0:
            raise InputError(f"{name} must be at most 2^53 ({MAX_SIZE:.3g}), got {value!r}")
        raise InputError(f"{name} must be a finite number >= {minimum:g}, got {value!r}")
    if isinstance(value, bool) or value is None:
        raise InputError(f"{name} must be a number >= {minimum:g}, got {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number (or an array of numbers), got {value!r}") from None
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < minimum) or np.any(arr > MAX_SIZE):
        raise InputError(f"{name} must be finite, >= {minimum:g} and at most 2^53" + (" everywhere" if arr.ndim else
                                                                                       f", got {value!r}"))
    return arr if arr.ndim else float(arr)


def whole(name: str, value) -> int:
    """A count the user gives (degrees, workers, job sizes): a whole number from 1 to 2^53, or one clear error."""
    if type(value) is int and 1 <= value <= MAX_SIZE:
        return value
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating)) and \
        math.isfinite(value) and value >= 1 and value == int(value)
    if not ok:
        raise InputError(f"{name} must be a whole number >= 1, got {value!r}")
    if value > MAX_SIZE:
        raise InputError(f"{name} must be at most 2^53 ({MAX_SIZE:.3g}), got {value!r}")
    return int(value)


def virtual_stages(v_stages, schedule) -> int:
    """Virtual pipeline stages per device: as given, TorchTitan's default for an interleaved schedule given
    without a count, one otherwise."""
    if v_stages is None:
        return DEFAULT_VIRTUAL_STAGES if schedule == "interleaved" else 1
    return whole("v_stages", v_stages)


def positive(name, value) -> float:
    """A positive, finite number the user gives, or one clear sentence."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def fraction(name: str, value, low: float = 0.0, high: float = 1.0, *, open_low: bool = False) -> float:
    """A number in [low, high] ((low, high] when ``open_low``; no upper bound when ``high`` is inf),
    or one clear sentence."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and not math.isnan(value) and \
        (value > low if open_low else value >= low) and value <= high and (math.isfinite(value) or high == math.inf)
    if not ok:
        if high == math.inf:
            raise InputError(f"{name} must be a number {'>' if open_low else '>='} {low:g}, got {value!r}")
        raise InputError(f"{name} must be a number in {'(' if open_low else '['}{low:g}, {high:g}], got {value!r}")
    return float(value)


# --- the parts of a run ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Layout(TrainingState):
    """How a run is spread over devices, and (what the families read) how a training step keeps its state.

    ``pp=None`` lets a serving solver pick the fewest pipeline stages that fit; ``microbatches=None``
    lets the training solver pick its schedule's default.
    """

    tp: int = 1
    pp: int | None = 1
    ep: int = 1
    microbatches: int | None = None
    v_stages: int = 1
    #: context parallelism: ranks that split each sequence (ring attention)
    cp: int = 1
    #: an uneven pipeline split, one layer count per stage (None: even)
    layers_per_stage: tuple | None = None
    #: the pipeline schedule (None: 1F1B, interleaved when v_stages > 1; interleaved alone: 2 virtual stages)
    schedule: str | None = None

    @property
    def single_device(self) -> bool:
        return self.tp == 1 and self.pp in (1, None) and self.ep == 1 and self.cp == 1 and \
            self.layers_per_stage is None and self.schedule is None


@dataclass(frozen=True, slots=True)
class Site:
    """Where and for how long a system runs: the grid's name (or record), days, average activity."""

    region: object = DEFAULT_REGION
    duration_days: float | None = None
    utilization: float | None = None


@dataclass(frozen=True)
class Run:
    """What is asked, resolved: records instead of names, precisions per tensor, the stack's profile.

    Sizes (``batch_size``, ``seq_len``, ``past_len``) may be NumPy arrays: a sweep. ``seq_len`` is the
    context of a step (``None`` until a solver applies the family's default); ``prompt_len`` and
    ``output_len`` describe serving requests.
    """

    workload: Workload
    hardware: HardwareNode
    phase: str | None
    batch_size: object
    seq_len: object
    past_len: object
    precision: str
    precisions: Precisions
    profile: ExecutionProfile
    #: the per-tensor precisions as asked (weights, activations, KV cache; None where not given), so
    #: the run can be moved to another device and resolved there
    asked: tuple = (None, None, None)
    efficiency: float | None = None
    layout: Layout = Layout()
    fleet: object = None
    prompt_len: object = None
    output_len: object = None
    site: Site | None = None
    #: the timing model's constants (a ``Calibration``): None for the shipped ones, or one's own machine's
    #: (``mlsysim audit`` writes them)
    calibration: object = None

    @classmethod
    def build(cls, model, hardware=None, *, phase=None, training=False, batch_size=1, seq_len=None, past_len=0,
              prompt_len=None, output_len=None, precision=DEFAULT_PRECISION, weight_precision=None,
              activation_precision=None, kv_precision=None, stack=None, host_speed=None, runtime_overhead=None,
              efficiency=None, fleet=None, calibration=None,
              tp=1, pp=1, dp=None, ep=1, microbatches=None, v_stages=None, zero_stage=0, recompute="none",
              optimizer=None, lora=False, cp=1, layers_per_stage=None, schedule=None, region=None, duration_days=None,
              utilization=None, purpose="inference") -> Run:
        """Resolve names, check every input once, apply the defaults.

        ``purpose`` (``inference``, ``serving`` or ``train``) picks the default stack when none is
        given; ``host_speed`` is how fast the host issuing its kernels is, relative to the measuring
        one; ``runtime_overhead`` (bytes, or a string such as ``"2 GiB"``) replaces the stack's own device
        footprint (CUDA context, framework kernels) in every memory fit; ``calibration`` (a file in
        calibration.yaml's layout, such as ``mlsysim audit`` writes, or a ``Calibration``) replaces the
        timing model's shipped constants; ``training`` makes the phase
        ``train``. On a ``fleet``, ``dp`` defaults to what the other degrees leave of its accelerators.
        """
        w = resolve_model(model)
        if fleet is not None:
            fleet = resolve_fleet(fleet)
            hw = resolve_hardware(fleet.node.accelerator if hardware is None else hardware)
        elif hardware is None:
            raise InputError("give the hardware (a device name such as 'H100', or a HardwareNode)")
        else:
            hw = resolve_hardware(hardware)
        family = w.family
        if phase is None and training:
            phase = "train"
        elif phase is not None:
            if phase not in PHASES:
                raise InputError(f"unknown phase '{phase}'; use one of {', '.join(PHASES)}")
            if training and phase != "train":
                raise InputError(f"a training run has phase 'train', not '{phase}'")
            family.check_phase(w, phase)
        B = check_sizes("batch_size", batch_size)
        S = None if seq_len is None else check_sizes("seq_len", seq_len)
        if phase != "train":
            _refuse_training_inputs(zero_stage, optimizer, lora, recompute, dp if fleet is None else None)
        elif fleet is None and zero_stage not in (0, None) and dp in (None, 1):
            raise InputError(f"zero_stage={zero_stage} shards the training state over the data-parallel ranks, and "
                             f"this run has one: give dp_size (e.g. dp_size=8), or time a fleet with DistributedModel")
        if kv_precision is not None and not family.decoder:
            raise InputError(f"kv_precision sets the precision of a decoder's KV cache; {w.name} keeps none "
                             f"(drop kv_precision)")
        past = check_sizes("past_len", past_len, minimum=0.0)
        if phase not in (None, "prefill") and np.any(past):
            raise InputError("past_len (tokens already cached) applies to the prefill phase only")
        P = None if prompt_len is None else check_sizes("prompt_len", prompt_len)
        G = None if output_len is None else check_sizes("output_len", output_len)
        if efficiency is not None:
            efficiency = fraction("efficiency", efficiency, open_low=True)
            if efficiency < MIN_EFFICIENCY:
                raise InputError(f"efficiency {efficiency:.3g} is no fraction of a device's peak that a step could run "
                                 f"at (its times overflow); give at least {MIN_EFFICIENCY:g}")
        purpose = "train" if phase == "train" else purpose
        if stack is None:               # configured (a SimulationConfig, MLSYSIM_STACK), else the purpose's default
            stack = configured_stack()
        profile = execution_profile(DEFAULT_STACK[purpose] if stack is None else stack)
        if stack is not None and profile.language_models_only and not family.language_model:
            raise InputError(f"{profile.name} runs language models, and {w.name} is a {w.architecture} (use a "
                             f"general stack such as torch_compile, tensorrt or pytorch_eager)")
        if host_speed is not None:
            if profile.launch != "eager" and not profile.host_dispatch:
                raise InputError(f"host_speed scales the host's cost of launching kernels one by one; {profile.key} "
                                 f"replays them from a graph on the GPU (use an eager stack such as pytorch_eager)")
            profile = on_host(profile, positive("host_speed", host_speed))
        if runtime_overhead is not None:
            profile = with_runtime(profile, parse(runtime_overhead, "B", "runtime_overhead"))
        prec = normalize_precision(precision)
        precisions = resolve_precisions(hw, profile, prec, weight_precision, activation_precision, kv_precision,
                                        phase == "train")
        layout = _layout(fleet, tp, pp, dp, ep, microbatches, v_stages, zero_stage, recompute, optimizer, lora, cp,
                         layers_per_stage, schedule)
        site = None
        if region is not None or duration_days is not None or utilization is not None:
            site = Site(DEFAULT_REGION if region is None else region,
                        None if duration_days is None else check_sizes("duration_days", duration_days, 0.0),
                        None if utilization is None else fraction("utilization", utilization))
        return _made({"workload": w, "hardware": hw, "phase": phase, "batch_size": B, "seq_len": S, "past_len": past,
                      "precision": prec, "precisions": precisions, "profile": profile,
                      "asked": (weight_precision, activation_precision, kv_precision), "efficiency": efficiency,
                      "layout": layout, "fleet": fleet, "prompt_len": P, "output_len": G, "site": site,
                      "calibration": _calibration(calibration)})

    def at(self, **changes) -> Run:
        """This run with some fields changed (already-resolved values: a derived step of a solver)."""
        if not changes.keys() <= _RUN_FIELDS:
            raise TypeError(f"Run has no field {sorted(changes.keys() - _RUN_FIELDS)[0]!r}")
        return _made({**self.__dict__, **changes})

    def on(self, hardware) -> Run:
        """This run on another device, its precisions resolved for that device's rates."""
        hw = resolve_hardware(hardware)
        if hw is self.hardware:
            return self
        return self.at(hardware=hw, precisions=resolve_precisions(hw, self.profile, self.precision, *self.asked,
                                                                  self.phase == "train"))

    # -- what a step needs -------------------------------------------------------------------------
    @property
    def family(self):
        return self.workload.family

    @property
    def context(self):
        """The context of a step: ``seq_len``, or the family's default when none was given (no longer than the
        model's own window: GPT-2's is 1,024 tokens)."""
        if self.seq_len is not None:
            return self.seq_len
        default, window = self.family.default_seq_len, getattr(self.workload, "context_length", None)
        return min(default, window) if default is not None and window else default

    def step_phase(self) -> str:
        return self.phase or self.family.default_phase(self.workload, False)

    def refuse(self, solver: str, *fields: str) -> None:
        """Refuse the named fields when this run sets them: ``solver`` cannot honour them."""
        for name in fields:
            given = _given(self, name)
            if given is not None:
                raise InputError(f"{solver} cannot use {name}={given}: {_WHY.get(name, 'it does not model it')}")


def _made(values: dict) -> Run:
    """A run from checked values, set at once: solvers derive several steps from one run per call, and
    the field-by-field frozen ``__init__`` would cost as much as the step's arithmetic."""
    run = object.__new__(Run)
    object.__setattr__(run, "__dict__", values)
    return run


_WHY = {"tp": "it times one device (use ServingModel or DistributedModel for tensor parallelism)",
        "pp": "it times one device (use ServingModel or DistributedModel for pipeline parallelism)",
        "ep": "it times one device (use DistributedModel for expert parallelism)",
        "prompt_len": "it times one step (use ServingModel for requests of prompt and output tokens)",
        "output_len": "it times one step (use ServingModel for requests of prompt and output tokens)",
        "fleet": "it times one device (use DistributedModel for a fleet)",
        "microbatches": "it has no pipeline schedule", "v_stages": "it has no pipeline schedule",
        "schedule": "it has no pipeline schedule", "layers_per_stage": "it has no pipeline stages",
        "cp": "it times one device (use DistributedModel for context parallelism)",
        "site": "it predicts time and memory, not a site's energy (use SustainabilityModel)",
        "past_len": "it times whole requests (give cached_prefix_len for a prefix-cache hit)"}


def _given(run: Run, name: str):
    """The value of ``name`` on the run when it differs from 'not given'."""
    lay = run.layout
    if name in ("tp", "ep", "v_stages", "cp"):
        value = getattr(lay, name)
        return value if value != 1 else None
    if name in ("layers_per_stage", "schedule"):
        return getattr(lay, name)
    if name == "pp":
        return lay.pp if lay.pp not in (1, None) else None
    if name == "microbatches":
        return lay.microbatches
    if name == "past_len":
        return run.past_len if np.any(run.past_len) else None
    value = getattr(run, name)
    return None if value is None else (getattr(value, "name", None) or value)


_RUN_FIELDS = frozenset(Run.__dataclass_fields__)
_ONE_DEVICE = Layout()
_AUTO_DEPTH = Layout(pp=None)          # one device, or as many pipeline stages as its memory needs
_LAYOUT_FIELDS = ("tp", "pp", "dp", "ep", "microbatches", "v_stages", "zero_stage", "recompute", "lora", "cp",
                  "layers_per_stage", "schedule")
_ONE_DEVICE_FIELDS = tuple(getattr(_ONE_DEVICE, name) for name in _LAYOUT_FIELDS)


def refuse_sequence(run: Run, seq_len, past_len=0) -> None:
    """A sequence length or cached context given where the step does not depend on it (it would be ignored):
    a model with no sequence, or a recurrent state of fixed size (a state-space model's decode step, or the
    tokens already folded into that state before a prefill)."""
    w = run.workload
    if seq_len is not None and not w.family.language_model:
        raise InputError(f"seq_len is the sequence of a language model; {w.name} is a "
                         f"{w.architecture}, whose step does not depend on it (drop seq_len)")
    if not w.family.fixed_state:
        return
    if seq_len is not None and run.step_phase() == "decode":
        raise InputError(f"seq_len does not change a decode step of {w.name}: a state-space model carries a "
                         f"fixed-size state instead of a KV cache (drop seq_len, or time phase='prefill')")
    if np.any(past_len):
        raise InputError(f"past_len does not change a step of {w.name}: a state-space model's cached context is "
                         f"a fixed-size state, whatever its length (drop past_len)")


def _refuse_training_inputs(zero_stage, optimizer, lora, recompute, dp) -> None:
    """An inference run given a training input (it would be ignored): one sentence naming it."""
    given = [name for name, value, unset in (("zero_stage", zero_stage, (0, None)), ("optimizer", optimizer, (None,)),
                                             ("lora", lora, (False, None)),
                                             ("recompute", recompute, ("none", False, None)),
                                             ("dp", dp, (None, 1))) if value not in unset]
    if given:
        raise InputError(f"{given[0]} describes a training step, and this run is inference; drop it or time a "
                         f"training step (training=True / is_training=True / --training)")


def _layout(fleet, tp, pp, dp, ep, microbatches, v_stages, zero_stage, recompute, optimizer, lora, cp=1,
            layers_per_stage=None, schedule=None) -> Layout:
    """The checked layout (the shared single-device one when nothing is split); ``optimizer=None`` is
    the training state's default."""
    if recompute is False:          # 0.1.0's flag, off: the default mode (keeps the shared layout below)
        recompute = "none"
    v_stages = virtual_stages(v_stages, schedule)
    if (optimizer is None or optimizer == _ONE_DEVICE.optimizer) and fleet is None and \
            (tp, 1 if pp is None else pp, 1 if dp is None else dp, ep, microbatches, v_stages, zero_stage, recompute,
             lora, cp, layers_per_stage, schedule) == _ONE_DEVICE_FIELDS:
        return _ONE_DEVICE if pp is not None else _AUTO_DEPTH
    tp, ep, cp = whole("tp", tp), whole("ep", ep), whole("cp", cp)
    pp = None if pp is None else whole("pp", pp)
    if layers_per_stage is not None:
        layers_per_stage = tuple(layers_per_stage)
    if schedule is not None and schedule not in SCHEDULES:
        raise InputError(f"unknown pipeline schedule {schedule!r}; use one of {', '.join(SCHEDULES)}")
    return Layout(tp=tp, pp=pp, dp=_data_parallel(dp, fleet, tp * cp * (pp or 1) * ep), ep=ep, cp=cp,
                  layers_per_stage=layers_per_stage, schedule=schedule,
                  microbatches=None if microbatches is None else whole("microbatches", microbatches),
                  v_stages=v_stages, zero_stage=_zero(zero_stage),
                  recompute=recompute_mode(recompute),
                  optimizer=_ONE_DEVICE.optimizer if optimizer is None else _optimizer(optimizer),
                  lora=_flag("LoRA", lora))


def _data_parallel(dp, fleet, model_parallel: int) -> int:
    """The data-parallel degree: as given, or what the fleet leaves after the model-parallel degrees."""
    if dp is not None:
        return whole("dp", dp)
    if fleet is None:
        return 1
    n = fleet.total_accelerators
    if n % model_parallel:
        raise InputError(f"tp×cp×pp×ep = {model_parallel} does not divide the {n} accelerators of {fleet.name}; "
                         f"choose degrees whose product divides {n}")
    return n // model_parallel


def _zero(value) -> int:
    if value not in (0, 1, 2, 3) or isinstance(value, bool):
        raise InputError(f"zero_stage must be 0, 1, 2 or 3, got {value!r}")
    return int(value)


def _flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name} is on or off (True or False), got {value!r}")
    return bool(value)


def _optimizer(value) -> str:
    if value not in OPTIMIZERS:
        raise InputError(f"unknown optimizer '{value}'; use one of {', '.join(OPTIMIZERS)}")
    return value


@lru_cache(maxsize=1024)
def resolve_precisions(hw, profile, prec, weight_precision, activation_precision, kv_precision,
                       training: bool) -> Precisions:
    """Weights, activations, KV cache and matmul precisions of a run on ``hw``.

    The matmuls run at ``activation_precision`` when given (W8A16, W4A16, ...), else at the run's
    precision where the chip has a rate for it; 4-bit weights without a 4-bit rate dequantize and
    compute in fp16. The KV cache and the activation tensors follow the stack's rules (:func:`_stored`):
    the LLM stacks keep both in 16 bits under an 8-bit run unless ``kv_precision`` asks otherwise, an
    int8 TensorRT or TFLite engine keeps int8 tensors between layers; activations are kept in 16 bits
    when training (mixed precision).
    """
    wprec = normalize_precision(weight_precision or prec)
    if activation_precision is not None:
        compute = normalize_precision(activation_precision)
        hw.peak_at(compute)
    else:
        compute = prec if hw.compute.rate(prec) else None
        if compute is None and prec in WEIGHT_ONLY:   # dequantized in the kernel
            compute = "int8" if prec in GGUF_BYTES and hw.compute.rate("int8") else \
                "fp16" if hw.compute.rate("fp16") else None
        if compute is None:
            hw.peak_at(prec)                  # raises the unsupported-precision sentence
    kv_rule = profile.precisions.kv_cache
    kvprec = normalize_precision(kv_precision or _stored(prec, kv_rule, "precision"))
    if kvprec not in _KV_ALWAYS and not hw.compute.rate(kvprec):
        ok = [p for p in ("fp8", "int8", "int4") if hw.compute.rate(p)]
        raise UnsupportedPrecisionError(f"{hw.name} has no {kvprec} support for the KV cache; use "
                                        f"{', '.join(list(_KV_ALWAYS[1:]) + ok)}")
    act = _stored(compute, profile.precisions.activations, "compute")
    if act in QUANTIZED_MATMUL and training:
        act = "fp16"
    return Precisions(wprec, act, kvprec, compute)


def _stored(precision: str, rule: str, as_is: str) -> str:
    """How a stack stores a tensor of a run at ``precision`` by its ``rule``: ``as_is``, at that precision;
    ``wide``, in 16 bits when it is narrower (an 8-bit matmul quantizes its input and writes a 16-bit
    output; vLLM's kv_cache_dtype and TensorRT-LLM's KV-cache quantization default to the model's 16-bit
    dtype); or the precision the rule names. Weight-only formats (4-bit, GGUF) store tensors in 16 bits."""
    if rule == as_is:
        return "fp16" if precision in WEIGHT_ONLY else precision
    if rule == "wide":
        return "fp16" if PRECISION_BYTES[precision] < 2 else precision
    return rule


__all__ = ["Run", "Layout", "Site", "resolve_model", "resolve_hardware", "resolve_fleet", "check_sizes", "whole",
           "fraction", "positive", "DEFAULT_STACK", "DEFAULT_OUTPUT_LEN", "DEFAULT_REGION", "DEFAULT_PRECISION"]
