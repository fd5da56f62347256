"""Generated command lines and plan files, as a careless (or hostile) user would type them: the command line
never says "internal error".

For every input: the exit code is 0, 1, 2 or 3; stderr holds no "internal error" and no traceback; on exit 1
stderr is one line, ``error: ...``; with ``-o json`` stdout is exactly one JSON object whose ``status`` is ok,
error, infeasible or sla_failed and agrees with the exit code.

The default profile is bounded for CI (the file runs in seconds); before a release run the long one (10,000
cases per property):
    HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz_cli.py

Left out on purpose: ``audit`` (it measures this machine), ``cheapest`` without ``--hardware`` and ``validate``
without ``--category`` (seconds each); fleets of 10^7 to 2^53 accelerators (a known hang of the serving layout
search) and ``--max-batch`` of 10^7 to 2^53 (a known dense sweep of the batching optimizer).
"""
import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

import yaml
from conftest import cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlsysim.cli.output import scan_format

settings.register_profile("long", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
if LONG:
    settings.load_profile("long")


def bounded(examples: int):
    """``examples`` cases per property in CI, the long profile's 10,000 when it is asked for."""
    return settings(max_examples=10_000 if LONG else examples, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


STATUS = {0: "ok", 1: "error", 2: "infeasible", 3: "sla_failed"}
SCRATCH = Path(tempfile.mkdtemp(prefix="mlsysim-fuzz-"))      # plans and figures the cases write
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def check(args):
    """Run ``mlsysim ARGS`` and check the rules every input must keep (``-o json`` as the command line's own
    reading of it finds it: the last ``-o`` or ``--output`` that names a format)."""
    args = [str(a) for a in args]
    if {"--debug", "--install-completion"} & set(args):     # tracebacks on purpose; edits the shell's files
        return None
    fmt = scan_format(args)
    out = cli(*args)
    where = f"args={args!r}\nexit={out.returncode}\nstdout={out.stdout[:500]!r}\nstderr={out.stderr[-800:]!r}"
    assert out.returncode in STATUS, where
    assert "internal error" not in out.stderr and "Traceback" not in out.stderr, where
    if out.returncode == 1:
        lines = out.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), where
    asked_help = any(a in ("-h", "--help", "--show-completion") for a in args)
    if fmt == "json" and not asked_help:
        assert out.stdout.endswith("\n") and out.stdout.count("\n") == 1, where
        data = json.loads(out.stdout)
        assert isinstance(data, dict), where
        if "schema" in args and out.returncode == 0:
            return out                                     # the payload is a JSON Schema itself
        assert data.get("status") == STATUS[out.returncode], where
    return out


# --- what a user types -----------------------------------------------------------------------------------------
MODELS = ["Llama3_8B", "Llama3_70B", "Mixtral_8x7B", "DeepSeek_V3", "GPT2", "BERT_Base", "ResNet50", "LeNet5",
          "Mamba_130M", "StableDiffusion_v1_5", "DLRM", "ViT_B16"]
LMS = ["Llama3_8B", "Llama3_1B", "Llama3_70B", "Mixtral_8x7B", "Qwen2_5_7B", "GPT2"]
DEVICES = ["H100", "A100", "B200", "T4", "MI300X", "TPUv5p", "ESP32_S3", "iPhone15Pro", "Cerebras_CS3", "GB200"]
PLANS = [str(EXAMPLES / name) for name in ("training_64_gpus.yaml", "edge_device.yaml", "single_gpu_inference.yaml")]
garbage = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),          # any unicode (no lone surrogates)
    st.sampled_from(["", " ", "\x00", "nul\x00l", "\n", "Llama3_8B\n", "h100", "H100 ", "../../etc/passwd",
                     "a" * 5000, "a" * 5000 + ".yaml", "x.json", "no/such.yaml", "/", ".", "-", "--", "😀",
                     "\u202eH100", "\x1b[31m", "%s%n", "{}", "[]", "null", "~", "H100.yaml", "/dev/null",
                     str(SCRATCH)]),
)
#: what a user might type for a number: huge, negative, zero, NaN, infinite, a fraction, a word
extremes = st.one_of(
    st.integers(-5, 300), st.integers(-10**6, 10**6),
    st.sampled_from([0, -1, 1, 2, 8, 64, 2**53, 2**53 + 1, 2**63, 10**30, 99999999999999999999999]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["nan", "inf", "-inf", "1e308", "1e-320", "-0", "0.5", "1/2", "abc", "", " 7 ", "1_000", "0x10",
                     "٣", "1e400", "+5", "--1", "9" * 400]),
    garbage,
)


class V:
    """A value on the command line: ``good`` is what a user means to type, ``bad`` what a slip gives."""

    def __init__(self, good, bad=extremes):
        self.good, self.bad = good, bad


def pick(*values):
    return st.sampled_from(values)


def ints(lo, hi):
    return st.integers(lo, hi)


FLAG = None                                                  # an option without a value
MODEL, LM, DEVICE = V(pick(*MODELS), garbage), V(pick(*LMS), garbage), V(pick(*DEVICES), garbage)
PREC = V(pick("fp16", "bf16", "fp8", "int8", "int4", "fp32", "tf32"), garbage)
STACK = V(pick("vllm", "pytorch_eager", "torch_compile", "tensorrt_llm", "megatron"), garbage)
DEGREE = V(pick(1, 1, 2, 4, 8))
#: comma-separated lists of degrees (--layers-per-stage, optimize parallelism's --tp and friends)
DEGREES = V(st.lists(pick("1", "2", "4", "8"), min_size=1, max_size=3).map(",".join), st.one_of(
    st.lists(ints(-3, 100).map(str), max_size=5).map(",".join), pick("", ",", "1," + str(10**30), "a,b", "1,,2"),
    garbage))
PLAN = V(pick(*PLANS), st.one_of(pick("/no/such/file.yaml", "x" * 5000 + ".yaml"), garbage))
SIZE = V(pick("2 GiB", "0 B", "512 MiB", "12"), st.one_of(pick("-1 GiB", "1e30 GiB", "1e400 B", "2 GHz", "lots"),
                                                        garbage))
CALIBRATION = V(pick("/no/such/calibration.yaml"), garbage)
REGION = V(pick("Quebec", "US_Avg", "Norway", "Poland"), garbage)
PLOT = V(pick(str(SCRATCH / "x.png"), str(SCRATCH / "x.svg")),
         pick(str(SCRATCH / "x.txt"), "/no/such/x.png", str(SCRATCH / ("p" * 300 + ".png")), str(SCRATCH), ""))
#: fleets: never 10^7..2^53 accelerators (the serving layout search then runs for minutes: a known issue)
FLEET = V(pick(1, 8, 16, 64, 256), st.one_of(ints(-3, 10**6), pick(0, 2**53 + 1, 10**30, "x", "8.0"), garbage))

EVAL = {"--batch-size": V(ints(1, 512)), "--precision": PREC, "--seq-len": V(ints(1, 8192)),
        "--region": REGION, "--duration-days": V(st.floats(0.5, 365)), "--stack": STACK}
OPTIONS = {
    "eval": {**EVAL, "-b": V(ints(1, 64)), "--efficiency": V(st.floats(0.05, 1.0)),
             "--phase": V(pick("forward", "prefill", "decode", "train"), garbage),
             "--host-speed": V(st.floats(0.25, 4.0)), "--runtime-overhead": SIZE, "--calibration": CALIBRATION,
             "--plot": PLOT, "--training": FLAG},
    "eval fleet": {**EVAL, "--tp": DEGREE, "--pp": DEGREE, "--efficiency": V(st.floats(0.05, 1.0))},
    "eval training": {**EVAL, "--tp": DEGREE, "--pp": DEGREE, "--cp": DEGREE, "--dp": DEGREE, "--ep": DEGREE,
                      "--v-stages": DEGREE, "--micro-batch": DEGREE,
                      "--zero": V(pick("0", "1", "2", "3", "fsdp"), pick("4", "-1", "x", "1.5", "")),
                      "--recompute": V(pick("none", "selective", "full"), garbage),
                      "--schedule": V(pick("1f1b", "interleaved", "zero_bubble", "dualpipe"), garbage),
                      "--layers-per-stage": DEGREES,
                      "--optimizer": V(pick("adam", "adamw", "sgd", "adafactor", "none"), garbage),
                      "--nodes": V(ints(1, 8), st.one_of(ints(-2, 1000), pick(10**30, "x")))},
    "serve": {"--seq-len": V(ints(128, 8192)), "--prompt-len": V(ints(1, 8192)), "--output-len": V(ints(1, 1024)),
              "--batch-size": V(ints(1, 256)), "--precision": PREC, "--weight-precision": PREC,
              "--activation-precision": PREC, "--kv-precision": PREC, "--tp": DEGREE, "--pp": DEGREE,
              "--stack": STACK, "--host-speed": V(st.floats(0.25, 4.0)), "--runtime-overhead": SIZE,
              "--calibration": CALIBRATION, "--prefill-chunk-tokens": V(ints(64, 4096)),
              "--cached-prefix": V(ints(0, 1024)), "--draft-model": V(pick("Llama3_1B", "Llama3_3B"), garbage),
              "--acceptance": V(st.floats(0, 1)), "--qps": V(st.floats(0.1, 100)), "--p99": V(st.floats(100, 60000)),
              "--service-cv": V(st.floats(0, 2))},
    "fit": {"--batch-size": V(ints(1, 256)), "--seq-len": V(ints(1, 131072)), "--precision": PREC,
            "--kv-precision": PREC, "--stack": STACK, "--tp": DEGREE},
    "cheapest": {"--prompt-len": V(ints(1, 8192)), "--output-len": V(ints(1, 1024)), "--precision": PREC,
                 "--stack": STACK, "--top": V(ints(1, 20)), "--hardware": DEVICE},
    "explain": {"--batch-size": V(ints(1, 256)), "--precision": PREC, "--seq-len": V(ints(1, 8192)),
                "--training": FLAG},
    "zoo": {"--sort-by": V(pick("memory.bandwidth", "name", "tdp", "release_year"), st.one_of(pick("x.y", "."),
                                                                                               garbage)),
            "--template": FLAG},
    "schema": {"--type": V(pick("plan", "hardware", "workload", "evaluation"), garbage)},
    "validate": {},
    "batching": {"--replicas": V(ints(1, 8)), "--prompt-len": V(ints(1, 8192)), "--output-len": V(ints(1, 1024)),
                 # --max-batch never 10^7..2^53: the optimizer sweeps every batch size at once (a known issue)
                 "--max-batch": V(ints(1, 1024), st.one_of(ints(-3, 10**5), pick(0, 2**53 + 1, 10**30, "x"))),
                 "--precision": PREC, "--service-cv": V(st.floats(0, 2))},
    "placement": {"--carbon-tax": V(st.floats(0, 1000)), "--regions": V(st.lists(pick(
        "Quebec", "US_Avg", "Norway"), min_size=1, max_size=3).map(",".join), st.one_of(pick(",,", ""), garbage))},
    "parallelism": {"--seq-len": V(ints(128, 8192)), "--precision": PREC, "--tp": DEGREES, "--pp": DEGREES,
                    "--cp": DEGREES, "--ep": DEGREES, "--zero": V(pick("0", "1", "1,3", "0,1,2,3"), garbage),
                    "--recompute": V(pick("none", "none,full", "selective"), garbage), "--micro-batch": DEGREES,
                    "--schedules": V(pick("1f1b", "1f1b,interleaved", "zero_bubble,dualpipe"), garbage),
                    "--optimizer": V(pick("adam", "sgd"), garbage), "--stack": STACK, "--top": V(ints(1, 20))},
}
#: each command's positionals (and required options): a few forms, some missing an argument
HEADS = {
    "eval": [["eval", MODEL, DEVICE], ["eval", PLAN]],
    "eval fleet": [["eval", MODEL, DEVICE, "--accelerators", FLEET]],
    "eval training": [["eval", LM, V(pick("H100", "A100", "B200", "MI300X"), garbage), "--training",
                       "--accelerators", V(pick(8, 16, 64, 256), st.one_of(ints(-2, 4096), pick(2**53 + 1)))]],
    "serve": [["serve", LM, DEVICE]],
    "fit": [["fit", LM, DEVICE], ["fit", MODEL, DEVICE]],
    "cheapest": [["cheapest", LM, "--qps", V(st.floats(0.1, 50)), "--p99", V(st.floats(500, 60000)), "--hardware",
                  DEVICE]],
    "zoo": [["zoo", V(pick("hardware", "models", "systems", "grids", "scenarios", "stacks"), garbage)],
            ["zoo", V(pick("hardware", "models", "grids"), garbage), V(pick(*DEVICES, *MODELS, "Quebec"), garbage)]],
    "explain": [["explain", MODEL, DEVICE, DEVICE], ["explain", LM, DEVICE, DEVICE, DEVICE],
                ["explain", MODEL, DEVICE]],
    "schema": [["schema"]],
    "validate": [["validate", "--category", V(pick("serving", "training", "operations"), garbage)]],
    "batching": [["optimize", "batching", LM, DEVICE, "--sla-ms", V(st.floats(100, 60000)), "--qps",
                  V(st.floats(0.1, 100))]],
    "placement": [["optimize", "placement", PLAN]],
    "parallelism": [["optimize", "parallelism", LM, V(pick("H100", "A100", "B200"), garbage), "--accelerators",
                     V(pick(8, 16, 64, 256), st.one_of(ints(-2, 512), pick(2**53 + 1, "x"))), "--global-batch",
                     V(pick(8, 64, 256, 1024))], ["optimize", "parallelism", PLAN]],
}
#: flags a user may mistype or borrow from another command (never --debug: it shows tracebacks on purpose, nor
#: --install-completion: it edits the shell's start-up files)
STRAY = st.sampled_from(["--batch-sise", "--frobnicate", "-x", "--tp", "--qps", "--version", "--help", "-h",
                         "--training", "--hardware", "-", "--", "--output", "-o", "--output=xml", "--zoo"])


@st.composite
def command_lines(draw):
    """A real command with sensible values, of which none, one or two are a slip (huge, negative, NaN, a word,
    a stray character); now and then a stray or valueless flag; ``-o FMT`` before or after it, or not at all."""
    command = draw(st.sampled_from(["eval"] * 2 + ["eval fleet", "eval training"] * 2 + ["serve"] * 3 + [
        "fit", "cheapest", "zoo", "explain", "schema", "validate", "batching", "placement", "parallelism"]))
    tokens = list(draw(st.sampled_from(HEADS[command])))
    table = OPTIONS[command]
    for flag in draw(st.lists(st.sampled_from(sorted(table)), max_size=3, unique=True)) if table else ():
        tokens.append(flag)
        if table[flag] is not FLAG:
            tokens.append(table[flag])
    values = [i for i, t in enumerate(tokens) if isinstance(t, V)]
    n = min(draw(pick(0, 0, 0, 1, 1, 2)), len(values))      # most lines right, some with one or two slips
    slips = draw(st.lists(st.sampled_from(values), min_size=n, max_size=n, unique=True)) if n else []
    args = [draw(t.bad if i in slips else t.good) if isinstance(t, V) else t for i, t in enumerate(tokens)]
    mangle = draw(pick(*["none"] * 12, "stray", "drop"))
    if mangle == "stray":                                    # a stray word or flag anywhere
        args.insert(draw(st.integers(1, len(args))), draw(st.one_of(STRAY, garbage)))
    elif mangle == "drop" and len(args) > 1:                 # a word left out (an option's value, an argument)
        del args[draw(st.integers(1, len(args) - 1))]
    fmt = draw(pick(None, None, None, "json", "json", "json", "json", "text", "markdown", "markdown", "html", "xml"))
    if fmt is not None:
        where = draw(st.sampled_from(["front", "end", "equals"]))
        args = ["-o", fmt] + args if where == "front" else args + (["-o", fmt] if where == "end"
                                                                   else [f"--output={fmt}"])
    return args


@bounded(150)
@given(command_lines())
def test_any_command_line_is_answered_in_one_sentence_or_a_payload(args):
    check(args)


@bounded(60)
@given(st.lists(st.one_of(garbage, STRAY, st.sampled_from(["eval", "serve", "zoo", "optimize", "schema", "fit",
                                                           "-o", "json", "H100", "Llama3_8B"])), max_size=6))
def test_any_list_of_words_is_answered(words):
    if words[:1] == ["validate"] or "cheapest" in words or "audit" in words:
        return
    check(words)


# --- what a user writes in a plan ---------------------------------------------------------------------------
wrong = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.sampled_from([2**53 + 1, 10**30, -0.0]),
                  st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                  st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
                  st.sampled_from(["", "1e400", "-1", "2 GiB", "400 Gbps", "nan"]))


def maybe(required=None, **fields):
    """A mapping holding ``required`` and any subset of ``fields``, each drawn from its strategy."""
    return st.fixed_dictionaries(required or {}, optional=fields)


#: each section's keys with sensible values (a plan draws some of them; a slip then spoils one or two)
SECTIONS = {
    "workload": dict(name=pick(*MODELS), batch_size=ints(1, 512), seq_len=ints(128, 8192), training=st.booleans(),
                     phase=pick("forward", "prefill", "decode"), stack=pick("vllm", "pytorch_eager", "torch_compile"),
                     host_speed=st.floats(0.25, 4), optimizer=pick("adam", "sgd"), runtime_overhead=pick("2 GiB")),
    "hardware": dict(name=pick(*DEVICES), accelerators=pick(1, 8, 16, 64), node_count=ints(1, 4),
                     accelerators_per_node=pick(4, 8), fabric=pick("InfiniBand_NDR"),
                     fabric_bandwidth=pick("400 Gbps"), intra_node_bw=pick("900 GB/s"),
                     precision=pick("fp16", "bf16", "fp8", "int8"), efficiency=st.floats(0.1, 1)),
    "parallelism": dict(tp=pick(1, 2, 4, 8), pp=pick(1, 2, 4), cp=pick(1, 2), dp=pick(1, 2, 8), ep=pick(1, 2),
                        v_stages=pick(1, 2), zero=pick(0, 1, 3, "fsdp"), recompute=pick("none", "selective", "full"),
                        micro_batch=pick(1, 2), schedule=pick("1f1b", "interleaved", "zero_bubble", "dualpipe"),
                        layers_per_stage=st.lists(ints(1, 40), min_size=1, max_size=4)),
    "ops": dict(region=pick("Quebec", "US_Avg", "Norway"), duration_days=st.floats(1, 365),
                utilization=st.floats(0, 1)),
}
METRICS = pick("performance.latency_ms", "performance.throughput", "feasibility.memory_utilization",
               "macro.carbon_t", "macro.tco_usd")
good_plans = st.fixed_dictionaries(
    {"version": st.just("1.0"), "name": st.text(max_size=10),
     "workload": maybe({"name": SECTIONS["workload"]["name"]},
                       **{k: v for k, v in SECTIONS["workload"].items() if k != "name"}),
     "hardware": maybe({"name": SECTIONS["hardware"]["name"]},
                       **{k: v for k, v in SECTIONS["hardware"].items() if k != "name"})},
    optional={"parallelism": maybe(**SECTIONS["parallelism"]), "ops": maybe(**SECTIONS["ops"]),
              "constraints": st.fixed_dictionaries({"assert": st.lists(maybe(
                  {"metric": METRICS}, max=st.floats(0, 1e6), min=st.floats(0, 1e3)), max_size=2)})})


@st.composite
def plans(draw):
    """A plan with sensible values, of which none, one or two are spoilt: a wrong type, an extreme number, an
    unknown key, a whole section replaced."""
    plan = draw(good_plans)
    for _ in range(draw(pick(0, 0, 1, 1, 2))):
        section = draw(pick("version", "name", "workload", "hardware", "parallelism", "ops", "constraints",
                            "workload", "hardware", "parallelism", "extra"))
        keys = list(SECTIONS.get(section, {})) + ["unknown_key"]
        if section in SECTIONS and isinstance(plan.get(section, {}), dict) and draw(pick(True, True, True, False)):
            plan.setdefault(section, {})[draw(pick(*keys))] = draw(st.one_of(wrong, extremes))
        elif section == "constraints":
            plan[section] = {"assert": [{"metric": draw(st.one_of(METRICS, wrong)), "max": draw(wrong)}]}
        else:
            plan[section] = draw(wrong)
    return plan


@st.composite
def plan_texts(draw):
    """A plan's YAML: valid in structure with wrong or extreme values, or mangled (a key given twice, deep
    nesting, an alias loop, a stray character, an empty file, not a mapping at all)."""
    text = yaml.safe_dump(draw(plans()), allow_unicode=draw(st.booleans()), sort_keys=False)
    lines = text.splitlines()
    how = draw(st.sampled_from(["as is"] * 16 + ["duplicate", "deep", "alias loop", "character", "empty", "list",
                                                 "truncate", "tabs"]))
    if how == "duplicate":
        i = draw(st.integers(0, len(lines) - 1))
        lines.insert(i, lines[i])
    elif how == "deep":
        n = draw(st.sampled_from([5, 33, 100, 5000]))
        lines.append(f"deep: {'[' * n}{']' * n}")
    elif how == "alias loop":
        lines += ["loop: &l [*l]"]
    elif how == "character":
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] += draw(st.sampled_from(["\x00", "\x01", "\x7f", "\ufffe", "\t", "\x85", "é", "😀", "\r"]))
    elif how == "empty":
        lines = draw(st.sampled_from([[], [""], ["---"], ["# nothing"], ["~"]]))
    elif how == "list":
        lines = ["- " + line for line in lines]
    elif how == "truncate":
        lines = lines[: draw(st.integers(0, len(lines)))]
        lines.append(draw(st.sampled_from(["workload: {name: ", "  - [", "hardware: &a", "version: '1.0"])))
    elif how == "tabs":
        lines = [line.replace("  ", "\t") for line in lines]
    return "\n".join(lines) + "\n"


@bounded(150)
@given(plan_texts(), st.sampled_from(["eval", "eval", "eval", "placement", "parallelism"]),
       st.sampled_from([None, "json"]))
def test_any_plan_file_is_answered_in_one_sentence_or_a_payload(text, command, fmt):
    path = SCRATCH / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    head = ["eval"] if command == "eval" else ["optimize", command]
    check(head + [path] + (["-o", fmt] if fmt else []))
