"""``mlsysim eval``: the three-lens scorecard of a model on hardware, or of a plan file."""
from __future__ import annotations

from pathlib import Path

import typer

from ..output import EXIT_ASSERT, EXIT_INFEASIBLE, Finished, choose, dumps, looks_like_plan

EXAMPLES = """Examples:
  mlsysim eval Llama3_8B H100 --batch-size 8
  mlsysim eval Llama3_70B H100 --accelerators 64 --training --tp 8 -b 256 --region Quebec --duration-days 14
  mlsysim eval Llama3_70B H100 --accelerators 64 --training --tp 8 --pp 4 --zero 1 --recompute selective
  mlsysim eval Llama3_70B H100 --accelerators 8 -b 32             # serving across 8 accelerators
  mlsysim eval examples/training_64_gpus.yaml -o json"""


def register(app: typer.Typer) -> None:
    @app.command("eval", epilog=EXAMPLES)
    def eval_command(
        ctx: typer.Context,
        target: str = typer.Argument(..., help="a model registry name (e.g. Llama3_8B), a Hugging Face config.json, "
                                               "or a plan file (.yaml)"),
        hardware: str = typer.Argument(None, help="hardware registry name (e.g. H100); not used with a plan"),
        batch_size: int = typer.Option(None, "--batch-size", "-b",
                                       help="samples (sequences) per step [default: 1; training on a fleet: one "
                                            "per replica per microbatch, pp microbatches]"),
        precision: str = typer.Option("fp16", "--precision", "-p", help="fp32, tf32, fp16, bf16, fp8, int8, int4"),
        seq_len: int = typer.Option(None, "--seq-len", "-s", help="context / sequence length of language models"),
        efficiency: float = typer.Option(None, "--efficiency", "-e", help="override the calibrated efficiency"),
        training: bool = typer.Option(False, "--training", help="a training step instead of inference"),
        phase: str = typer.Option(None, "--phase", help="forward, prefill, decode or train (one device)"),
        stack: str = typer.Option(None, "--stack", help="software stack, e.g. torch_compile, vllm, pytorch_eager"),
        host_speed: float = typer.Option(None, "--host-speed",
                                         help="host CPU speed relative to the measuring one (eager launch costs)"),
        runtime_overhead: str = typer.Option(None, "--runtime-overhead",
                                             help="device memory of the stack's process itself, e.g. '2 GiB'"),
        calibration: str = typer.Option(None, "--calibration",
                                        help="timing constants of one's own machine (as `mlsysim audit` writes them)"),
        accelerators: int = typer.Option(None, "--accelerators", help="total accelerators (a fleet when > 1)"),
        nodes: int = typer.Option(None, "--nodes", help="number of nodes (with the zoo's node size)"),
        tp: int = typer.Option(1, "--tp", help="tensor-parallel degree (fleets)"),
        pp: int = typer.Option(1, "--pp", help="pipeline-parallel degree (fleets)"),
        cp: int = typer.Option(1, "--cp", help="context-parallel degree (training)"),
        dp: int = typer.Option(None, "--dp", help="data-parallel degree (training; default: what is left)"),
        ep: int = typer.Option(1, "--ep", help="expert-parallel degree (training)"),
        v_stages: int = typer.Option(None, "--v-stages", help="virtual pipeline stages per device (training; "
                                                                "2 under --schedule interleaved)"),
        zero: str = typer.Option("0", "--zero", help="ZeRO stage 0-3 or fsdp (training)"),
        recompute: str = typer.Option("none", "--recompute", help="none, selective or full (training)"),
        micro_batch: int = typer.Option(None, "--micro-batch", help="sequences per microbatch (training)"),
        schedule: str = typer.Option(None, "--schedule", help="1f1b, interleaved, zero_bubble or dualpipe"),
        layers_per_stage: str = typer.Option(None, "--layers-per-stage",
                                             help="an uneven pipeline split, e.g. 7,8,8,...,7 (training)"),
        optimizer: str = typer.Option(None, "--optimizer", help="adam, adamw, sgd, adafactor, adam8bit, none"),
        region: str = typer.Option(None, "--region", help="grid for the macro lens, e.g. Quebec"),
        duration_days: float = typer.Option(None, "--duration-days", help="days of operation (macro lens)"),
        plot: Path = typer.Option(None, "--plot", help="also write a figure: roofline (.png or .svg)"),
        output: str = typer.Option(None, "--output", "-o", help="text, json, markdown or html"),
    ):
        """Evaluate a model on hardware (or a plan file): feasibility, performance, macro."""
        from ...errors import InputError
        from ...plan import load_plan, parse_plan, run_plan

        fmt = choose(ctx, output)
        if looks_like_plan(target):
            if hardware:
                raise InputError("a plan file names its own hardware; drop the second argument")
            flags = {"--batch-size": (batch_size, None), "--precision": (precision, "fp16"),
                     "--seq-len": (seq_len, None), "--cp": (cp, 1), "--dp": (dp, None), "--ep": (ep, 1),
                     "--v-stages": (v_stages, None), "--zero": (zero, "0"), "--recompute": (recompute, "none"),
                     "--micro-batch": (micro_batch, None), "--schedule": (schedule, None),
                     "--layers-per-stage": (layers_per_stage, None), "--optimizer": (optimizer, None),
                     "--efficiency": (efficiency, None), "--training": (training, False), "--phase": (phase, None),
                     "--stack": (stack, None), "--host-speed": (host_speed, None),
                     "--runtime-overhead": (runtime_overhead, None), "--calibration": (calibration, None),
                     "--accelerators": (accelerators, None), "--nodes": (nodes, None),
                     "--tp": (tp, 1), "--pp": (pp, 1), "--region": (region, None),
                     "--duration-days": (duration_days, None)}
            given = [flag for flag, (value, default) in flags.items() if value != default]
            if given:
                raise InputError(f"a plan file describes the whole run; {', '.join(given)} would be ignored "
                                 f"(set it in the plan instead)")
            plan = load_plan(target)
        else:
            if not hardware:
                raise InputError("give HARDWARE after the model name, e.g. mlsysim eval Llama3_8B H100")
            layout = {"tp": tp, "pp": pp, "cp": cp, "dp": dp, "ep": ep, "v_stages": v_stages, "zero": _zero(zero),
                      "recompute": recompute, "micro_batch": micro_batch, "schedule": schedule,
                      "layers_per_stage": _stages(layers_per_stage)}
            plan = parse_plan(_flags_plan(target, hardware, batch_size, precision, seq_len, efficiency, training,
                                          phase, stack, host_speed, accelerators, nodes, layout, optimizer, region,
                                          duration_days, runtime_overhead, calibration), "options")
        evaluation, violations = run_plan(plan)
        if plot is not None:
            _plot(evaluation, plan, plot)
        infeasible = evaluation.feasibility.status == "FAIL"
        status = "infeasible" if infeasible else ("sla_failed" if violations else "ok")
        if fmt == "json":
            print(dumps({"status": status, **evaluation.to_dict(), "violations": violations}))
        elif fmt == "markdown":
            print(evaluation.to_markdown())
            if violations:
                print("\n### Constraint violations\n\n" + "\n".join(f"- {v}" for v in violations))
        else:
            print(evaluation.scorecard())
            for v in violations:
                print(f"assert failed: {v}")
        if infeasible:
            raise Finished(EXIT_INFEASIBLE)
        if violations:
            raise Finished(EXIT_ASSERT)


def _zero(value: str):
    """--zero: a stage number, or fsdp."""
    return value if value == "fsdp" else int(value) if value.isdigit() else value


def _stages(value: str | None):
    """--layers-per-stage 7,8,8,7: the counts, or one sentence."""
    if value is None:
        return None
    try:
        return [int(x) for x in value.split(",")]
    except ValueError:
        from ...errors import InputError
        raise InputError(f"--layers-per-stage takes whole numbers separated by commas, e.g. 7,8,8,7; "
                         f"got '{value}'") from None


def _flags_plan(model, hardware, batch_size, precision, seq_len, efficiency, training, phase, stack, host_speed,
                accelerators, nodes, layout, optimizer, region, duration_days, runtime_overhead=None,
                calibration=None) -> dict:
    hw = {"name": hardware, "precision": precision}
    if calibration is not None:
        hw["calibration"] = calibration
    if efficiency is not None:
        hw["efficiency"] = efficiency
    if accelerators is not None:
        hw["accelerators"] = accelerators
    if nodes is not None:
        from ...run import resolve_hardware
        from ...systems.registry import Systems

        accel = resolve_hardware(hardware)
        node = next((n for _, n in Systems.Nodes.items() if n.accelerator is accel), None)
        if node is None:
            from ...errors import InputError
            raise InputError(f"no node of {accel.name} in the zoo; give --accelerators instead of --nodes")
        hw.update(node_count=nodes, accelerators_per_node=node.accelerators_per_node)
    workload = {"name": model, "training": training}
    if batch_size is not None:
        workload["batch_size"] = batch_size
    if optimizer is not None:
        workload["optimizer"] = optimizer
    if seq_len is not None:
        workload["seq_len"] = seq_len
    if phase is not None:
        workload["phase"] = phase
    if stack is not None:
        workload["stack"] = stack
    if host_speed is not None:
        workload["host_speed"] = host_speed
    if runtime_overhead is not None:
        workload["runtime_overhead"] = runtime_overhead
    plan = {"version": "1.0", "name": f"{model} on {hardware}", "workload": workload, "hardware": hw}
    defaults = {"tp": 1, "pp": 1, "cp": 1, "dp": None, "ep": 1, "v_stages": None, "zero": 0, "recompute": "none",
                "micro_batch": None, "schedule": None, "layers_per_stage": None}
    given = {k: v for k, v in layout.items() if v != defaults[k]}
    if given:
        plan["parallelism"] = given
    if region is not None or duration_days is not None:
        plan["ops"] = {k: v for k, v in (("region", region), ("duration_days", duration_days)) if v is not None}
    return plan


def _plot(evaluation, plan, path: Path) -> None:
    from ...errors import InputError
    from ...viz import plot_evaluation_scorecard, plot_roofline

    if path.suffix.lower() not in (".png", ".svg"):
        raise InputError(f"--plot needs a .png or .svg file name, got '{path.name}'")
    if "\x00" in str(path):
        raise InputError("--plot: a file name cannot hold a NUL character")
    folder = path.parent
    try:
        missing = not folder.is_dir()
    except (OSError, ValueError):
        missing = True
    if missing:
        raise InputError(f"--plot: cannot write '{path}': there is no folder '{folder}'")
    try:
        if hasattr(evaluation.details, "operators"):
            plot_roofline(_hardware(plan), evaluation.details, path=path, precision=plan.hardware.precision)
        else:
            plot_evaluation_scorecard(evaluation, path=path)
    except OSError as exc:
        from ...plan import file_problem
        raise InputError(file_problem("--plot file", path, exc)) from None


def _hardware(plan):
    from ...run import resolve_hardware

    return resolve_hardware(plan.hardware.name)
