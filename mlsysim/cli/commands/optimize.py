"""``mlsysim optimize``: design-space searches over the solvers (one subcommand per search)."""
from __future__ import annotations

import typer

from ...evaluation import format_metric
from ...models.families.base import LM_CONTEXT
from ..output import EXIT_ASSERT, Finished, choose, dumps

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
    output: str = typer.Option(None, "--output", "-o", help="text, json or markdown"),
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
    output: str = typer.Option(None, "--output", "-o", help="text, json or markdown"),
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
        print("\n".join(f"| {c.name} | {_usd(c.tco_usd)} | {c.carbon_t:,.1f} t | {_usd(c.total_usd)} |"
                        for c in r.regions))
    else:
        print(head + f"\n  {'region':<28} {'TCO':>12} {'carbon':>12} {'total':>12}\n  " + "\n  ".join(rows))
        print(f"  {r.binding}")


def _usd(x: float) -> str:
    return f"${x:,.0f}"
