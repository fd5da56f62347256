"""``mlsysim optimize``: design-space searches over the solvers (one subcommand per search)."""
from __future__ import annotations

import typer

from ...evaluation import format_metric
from ...models.families.base import LM_CONTEXT
from ...units import format_number, format_si
from ..output import EXIT_ASSERT, Finished, choose, dumps, is_file, progress_bar

optimize_app = typer.Typer(no_args_is_help=True, help="Search a design space for the best configuration.")

BATCHING_EXAMPLES = """Example:
  mlsysim optimize batching Llama3_8B H100 --sla-ms 2000 --qps 20 --replicas 2 --output-len 128"""


def register(app: typer.Typer) -> None:
    app.add_typer(optimize_app, name="optimize")


@optimize_app.callback()
def _optimize():
    """Search a design space for the best configuration.

    Example: mlsysim optimize batching Llama3_8B H100 --sla-ms 2000 --qps 20
    """


@optimize_app.command("batching", epilog=BATCHING_EXAMPLES)
def batching_command(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="a decoder language model, e.g. Llama3_8B"),
    hardware: str = typer.Argument(..., help="hardware registry name, e.g. H100"),
    sla_ms: float = typer.Option(..., "--sla-ms", help="P99 request latency target in ms"),
    qps: float = typer.Option(..., "--qps", help="request arrival rate across the replicas"),
    replicas: int = typer.Option(1, "--replicas", help="serving replicas sharing the load"),
    prompt_len: int = typer.Option(LM_CONTEXT, "--prompt-len"),
    output_len: int = typer.Option(128, "--output-len"),
    max_batch: int = typer.Option(256, "--max-batch", help="largest batch to consider"),
    precision: str = typer.Option("fp16", "--precision", "-p"),
    service_cv: float = typer.Option(1.0, "--service-cv", help="variability of request times (0: all alike)"),
    output: str = typer.Option(None, "--output", "-o", help="text, json, markdown or html"),
):
    """The batch size that maximizes throughput while the P99 latency meets the SLA."""
    from ...optimize.batching import BatchingOptimizer

    fmt = choose(ctx, output)
    r = BatchingOptimizer().solve(model, hardware, sla_latency=sla_ms / 1e3, arrival_rate=qps, num_replicas=replicas,
                                  prompt_len=prompt_len, output_len=output_len, max_batch=max_batch,
                                  precision=precision, service_cv=service_cv)
    rows = [("best_batch_size", "best batch size", r.best_batch_size),
            ("throughput_tokens_per_s", "throughput (tokens/s)", r.max_throughput_tokens_per_s),
            ("p99_latency_ms", "P99 latency", r.p99_latency_s * 1e3),
            ("feasible", "meets the SLA", r.is_feasible), ("searched", "batch sizes searched", r.total_searched)]
    if fmt == "json":
        print(dumps({"status": "ok" if r.is_feasible else "sla_failed", "model": model, "hardware": hardware,
                     **{k: v for k, _, v in rows}, "binding": r.binding}))
    else:
        lines = [f"{label:<24} {format_metric(k, v)}" for k, label, v in rows]
        if fmt == "markdown":
            print("## Batching vs. SLA\n\n" + "\n".join(f"- {line}" for line in lines))
        else:
            print("Batching vs. SLA\n" + "\n".join("  " + line for line in lines) + f"\n  {r.binding}")
    if not r.is_feasible:
        raise Finished(EXIT_ASSERT)


PLACEMENT_EXAMPLES = """Example:
  mlsysim optimize placement examples/training_64_gpus.yaml --carbon-tax 150"""


@optimize_app.command("placement", epilog=PLACEMENT_EXAMPLES)
def placement_command(
    ctx: typer.Context,
    plan_file: str = typer.Argument(..., help="a plan (.yaml): its hardware and ops.duration_days are used"),
    carbon_tax: float = typer.Option(100.0, "--carbon-tax", help="carbon price in $ per tonne CO2e"),
    regions: str = typer.Option(None, "--regions", help="comma-separated grid names (default: every priced grid)"),
    output: str = typer.Option(None, "--output", "-o", help="text, json, markdown or html"),
):
    """The region where the plan's system costs least, counting carbon at a price."""
    from ...optimize.placement import PlacementOptimizer
    from ...plan import load_plan, plan_fleet
    from ...run import resolve_hardware

    fmt = choose(ctx, output)
    plan = load_plan(plan_file)
    hw = resolve_hardware(plan.hardware.name)
    system = plan_fleet(plan.hardware, hw) if plan.hardware.total > 1 else hw
    days = plan.ops.duration_days if plan.ops else 30.0
    util = plan.ops.utilization if plan.ops else None
    r = PlacementOptimizer().solve(system, days, regions=regions.split(",") if regions else None,
                                   carbon_price=carbon_tax, utilization=util)
    if fmt == "json":
        print(dumps({"status": "ok", "best_region": r.best_region, "carbon_price_usd_per_t": carbon_tax,
                     "switch_price_usd_per_t": r.switch_price_usd_per_t, "switch_to": r.switch_to,
                     "regions": [vars(c) for c in r.regions], "envelope": [list(e) for e in r.envelope]}))
        return
    head = f"Placement over {days:g} days at ${carbon_tax:g}/tCO2e: {r.best.name}"
    rows = [f"{c.name:<28} {_usd(c.tco_usd):>12} {c.carbon_t:>10,.1f} t {_usd(c.total_usd):>12}" for c in r.regions]
    if fmt == "markdown":
        print(f"## {head}\n\n| region | TCO | carbon | total |\n|---|---|---|---|")
        print("\n".join(f"| {c.name} | {_usd(c.tco_usd)} | {format_number(c.carbon_t)} t | {_usd(c.total_usd)} |"
                        for c in r.regions))
    else:
        print(head + f"\n  {'region':<28} {'TCO':>12} {'carbon':>12} {'total':>12}\n  " + "\n  ".join(rows))
        print(f"  {r.binding}")


def _usd(x: float) -> str:
    return f"${x:,.0f}"


PARALLELISM_EXAMPLES = """Examples:
  mlsysim optimize parallelism Llama3_70B H100 --accelerators 256 --global-batch 256 --seq-len 4096
  mlsysim optimize parallelism Llama3_405B H100 --accelerators 16384 --global-batch 2048 --seq-len 8192 --tp 8
  mlsysim optimize parallelism examples/training_64_gpus.yaml -o json"""


@optimize_app.command("parallelism", epilog=PARALLELISM_EXAMPLES)
def parallelism_command(
    ctx: typer.Context,
    target: str = typer.Argument(..., help="a transformer (e.g. Llama3_70B) or a plan file (.yaml)"),
    hardware: str = typer.Argument(None, help="accelerator registry name (e.g. H100); not used with a plan"),
    accelerators: int = typer.Option(None, "--accelerators", help="total accelerators"),
    global_batch: int = typer.Option(None, "--global-batch", "-b", help="sequences per optimizer step"),
    seq_len: int = typer.Option(LM_CONTEXT, "--seq-len", "-s", help="tokens per sequence"),
    precision: str = typer.Option("bf16", "--precision", "-p"),
    tp: str = typer.Option(None, "--tp", help="tensor-parallel degrees to try, e.g. 4,8 (default: all allowed)"),
    pp: str = typer.Option(None, "--pp", help="pipeline-parallel degrees to try"),
    cp: str = typer.Option(None, "--cp", help="context-parallel degrees to try"),
    ep: str = typer.Option(None, "--ep", help="expert-parallel degrees to try"),
    zero: str = typer.Option(None, "--zero", help="ZeRO stages to try, e.g. 1,3"),
    recompute: str = typer.Option(None, "--recompute", help="recomputation modes to try: none,selective,full"),
    micro_batch: str = typer.Option(None, "--micro-batch", help="micro-batch sizes to try"),
    schedules: str = typer.Option("1f1b,interleaved", "--schedules", help="pipeline schedules to try"),
    optimizer: str = typer.Option("adam", "--optimizer", help="adam, adamw, sgd, adafactor, adam8bit, none"),
    stack: str = typer.Option(None, "--stack", help="software stack (default: pytorch_eager; e.g. megatron)"),
    top: int = typer.Option(10, "--top", help="layouts to list, best first"),
    output: str = typer.Option(None, "--output", "-o", help="text, json, markdown or html"),
):
    """The fastest training layout that fits: TP, CP, PP, virtual stages, DP, EP, ZeRO, recomputation, micro-batch."""

    from ...errors import InputError
    from ...optimize.parallelism import ParallelismOptimizer
    from ...plan import load_plan, plan_fleet
    from ...run import resolve_hardware

    fmt = choose(ctx, output)
    if target.endswith((".yaml", ".yml")) or is_file(target):
        if hardware or accelerators or global_batch:
            raise InputError("a plan file names its own model, hardware and batch; drop HARDWARE, --accelerators "
                             "and --global-batch")
        plan = load_plan(target)
        model, hw = plan.workload.name, resolve_hardware(plan.hardware.name)
        fleet = plan_fleet(plan.hardware, hw)
        global_batch, seq_len = plan.workload.batch_size, plan.workload.seq_len or seq_len
        precision = plan.hardware.precision
        if global_batch is None:
            raise InputError(f"{target}: set workload.batch_size (the global batch the layouts share)")
    else:
        if not hardware or not accelerators or not global_batch:
            raise InputError("give MODEL HARDWARE --accelerators N --global-batch B, or a plan file")
        from ...plan import HardwareSpec, build_spec

        model, hw = target, resolve_hardware(hardware)
        fleet = plan_fleet(build_spec(HardwareSpec, "options", {"name": hardware, "accelerators": accelerators}), hw)
    bar = progress_bar(fmt, "layouts")
    r = ParallelismOptimizer().solve(model, fleet, global_batch, seq_len, precision, tp=_ints(tp, "--tp"),
                                     pp=_ints(pp, "--pp"), cp=_ints(cp, "--cp"), ep=_ints(ep, "--ep"),
                                     zero_stage=_ints(zero, "--zero"), micro_batch=_ints(micro_batch, "--micro-batch"),
                                     recompute=recompute.split(",") if recompute else None,
                                     schedules=tuple(schedules.split(",")), optimizer=optimizer, stack=stack, top=top,
                                     progress=bar)
    if fmt == "json":
        print(dumps({"status": "ok" if r.best else "infeasible", "model": str(model), "accelerators":
                     fleet.total_accelerators, "global_batch": global_batch, "seq_len": seq_len,
                     "best": None if r.best is None else {**r.best.config, "step_time_s": r.best.step_time_s,
                                                          "mfu": r.best.mfu,
                                                          "memory_per_device_gb": r.best.memory_per_device_b / 1e9},
                     "top": [{**c.config, "step_time_s": c.step_time_s, "mfu": c.mfu, "reason": c.reason}
                             for c in r.top_candidates],
                     "searched": r.total_searched, "infeasible": r.infeasible, "pruned": r.pruned,
                     "layouts_per_s": r.layouts_per_s, "binding": r.binding}))
    else:
        head = (f"Parallel layouts of {model} on {fleet.total_accelerators} x {hw.name}, {global_batch} sequences of "
                f"{seq_len} tokens: {r.total_searched:,} timed ({r.infeasible:,} do not fit) in "
                f"{format_si(r.search_s, 's')}")
        rows = [f"{_shape(c):<58} {format_si(c.step_time_s, 's'):>9}  MFU {c.mfu:5.1%}  {c.reason or 'best'}"
                for c in r.top_candidates]
        if fmt == "markdown":
            print(f"## {head}\n\n| layout | step | MFU | why not |\n|---|---|---|---|")
            print("\n".join(f"| {_shape(c)} | {format_si(c.step_time_s, 's')} | {c.mfu:.1%} | {c.reason or 'best'} |"
                            for c in r.top_candidates))
        else:
            print(head + "\n  " + "\n  ".join(rows) + f"\n  {r.binding}")
    if r.best is None:
        from ..output import EXIT_INFEASIBLE

        raise Finished(EXIT_INFEASIBLE)


def _ints(value, flag):
    if value is None:
        return None
    try:
        return [int(x) for x in value.split(",")]
    except ValueError:
        from ...errors import InputError
        raise InputError(f"{flag} takes whole numbers separated by commas, e.g. 4,8; got '{value}'") from None


def _shape(c) -> str:
    return (f"tp{c.tp} cp{c.cp} pp{c.pp} dp{c.dp} ep{c.ep} v{c.v_stages} zero{c.zero_stage} {c.recompute} "
            f"mb{c.micro_batch}")
