"""``mlsysim optimize``: design-space searches over the solvers (one subcommand per search)."""
from __future__ import annotations

import typer

from ...units import format_number, format_si
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
    prompt_len: int = typer.Option(2048, "--prompt-len"),
    output_len: int = typer.Option(128, "--output-len"),
    max_batch: int = typer.Option(256, "--max-batch", help="largest batch to consider"),
    precision: str = typer.Option("fp16", "--precision", "-p"),
    service_cv: float = typer.Option(1.0, "--service-cv", help="variability of request times (0: all alike)"),
    output: str = typer.Option(None, "--output", "-o", help="text, json or markdown"),
):
    """The batch size that maximizes throughput while the P99 latency meets the SLA."""
    from ...solvers.capacity import BatchingOptimizer

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
        lines = [f"{label:<24} {_show(k, v)}" for k, label, v in rows]
        if fmt == "markdown":
            print("## Batching vs. SLA\n\n" + "\n".join(f"- {line}" for line in lines))
        else:
            print("Batching vs. SLA\n" + "\n".join("  " + line for line in lines) + f"\n  {r.binding}")
    if not r.is_feasible:
        raise Finished(EXIT_ASSERT)


def _show(key: str, value) -> str:
    if key.endswith("_ms"):
        return format_si(value / 1e3, "s")
    return format_number(value) if isinstance(value, float) else str(value)
