"""``mlsysim explain``: why an upgrade gives the speed-up it gives."""
from __future__ import annotations

import typer

from ...units import format_si
from ..output import choose, dumps


def register(app: typer.Typer) -> None:
    @app.command("explain", epilog="Example:\n  mlsysim explain Llama3_8B A100 H100 B200 --batch-size 8")
    def explain_command(
        ctx: typer.Context,
        model: str = typer.Argument(..., help="model registry name"),
        hardware: list[str] = typer.Argument(..., help="two or more hardware names, baseline first"),
        batch_size: int = typer.Option(1, "--batch-size", "-b"),
        precision: str = typer.Option("fp16", "--precision", "-p"),
        seq_len: int = typer.Option(None, "--seq-len", "-s"),
        training: bool = typer.Option(False, "--training"),
        output: str = typer.Option(None, "--output", "-o", help="text, json, markdown or html"),
    ):
        """Compare hardware for one workload: speed-up, the bound on each side, and the resource ratio."""
        from ...analysis.explain import compare
        from ...errors import InputError

        fmt = choose(ctx, output)
        if len(hardware) < 2:
            raise InputError("explain needs at least two hardware names: a baseline and an upgrade")
        steps = compare(model, hardware, batch_size=batch_size, precision=precision, seq_len=seq_len,
                        is_training=training)
        if fmt == "json":
            print(dumps({"status": "ok", "model": model, "comparisons": [s.to_dict() for s in steps]}))
            return
        for s in steps:
            head = f"{s.baseline} -> {s.proposal}: {s.speedup:.2f}x"
            body = [f"  {s.baseline}: {s.base_bound}-bound, {format_si(s.base_latency_s, 's')} per step",
                    f"  {s.proposal}: {s.new_bound}-bound, {format_si(s.new_latency_s, 's')} per step",
                    f"  {s.reason}"]
            if fmt == "markdown":
                print(f"### {head}\n\n" + "\n".join("- " + b.strip() for b in body) + "\n")
            else:
                print(head + "\n" + "\n".join(body))
