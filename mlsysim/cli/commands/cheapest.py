"""``mlsysim cheapest``: the device (and how many) that serves a load within a latency target for the least."""
from __future__ import annotations

import math

import typer

from ...units import format_si
from ..output import choose, dumps, progress_bar


def register(app: typer.Typer) -> None:
    @app.command("cheapest", epilog="Example:\n  mlsysim cheapest Llama3_8B --qps 20 --p99 10000 --prompt-len 512 "
                                    "--output-len 256")
    def cheapest_command(
        ctx: typer.Context,
        model: str = typer.Argument(..., help="model registry name (or a Hugging Face config.json)"),
        qps: float = typer.Option(..., "--qps", help="requests per second to serve"),
        p99_ms: float = typer.Option(..., "--p99", help="P99 request latency target in ms"),
        prompt_len: int = typer.Option(None, "--prompt-len", help="prompt tokens per request"),
        output_len: int = typer.Option(None, "--output-len", help="generated tokens per request"),
        precision: str = typer.Option("fp16", "--precision", "-p"),
        stack: str = typer.Option(None, "--stack", help="software stack"),
        hardware: list[str] = typer.Option(None, "--hardware", help="only these devices (repeatable)"),
        top: int = typer.Option(10, "--top", help="how many of the cheapest deployments to list"),
        output: str = typer.Option(None, "--output", "-o", help="text, json, markdown or html"),
    ):
        """The cheapest zoo devices (list price x devices) that meet a P99 latency target at a request rate."""
        from ...optimize.cheapest import CheapestHardwareModel

        fmt = choose(ctx, output)
        if not math.isfinite(p99_ms) or p99_ms <= 0:
            from ...errors import InputError
            raise InputError(f"--p99 must be a positive number of milliseconds, got {p99_ms:g}")
        r = CheapestHardwareModel().solve(model, qps=qps, target_p99_latency=f"{p99_ms} ms", prompt_len=prompt_len,
                                          output_len=output_len, precision=precision, stack=stack,
                                          hardware=hardware or None, top=top,
                                          progress=progress_bar(fmt, "devices"))
        if fmt == "json":
            print(dumps({"status": "ok", **r.to_dict()}))
            return
        rows = [(c.hardware_key, c.tp, c.replicas, c.devices, f"${c.cost_usd:,.0f}", format_si(c.p99_latency_s, "s"))
                for c in r.candidates]
        headers = ("device", "tp", "replicas", "devices", "cost", "P99")
        if fmt == "markdown":
            print(f"### {r.summary()}\n\n| " + " | ".join(headers) + " |\n|" + "---|" * len(headers))
            print("\n".join("| " + " | ".join(map(str, row)) + " |" for row in rows))
            return
        from ...show import format_table
        print(r.summary())
        if rows:
            print(format_table(list(headers), [[str(x) for x in row] for row in rows]))
        print(f"  {len(r.rejected)} priced device(s) cannot meet the target; {len(r.unpriced)} without a list price "
              "left out")
