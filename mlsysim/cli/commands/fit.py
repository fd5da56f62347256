"""``mlsysim fit``: the longest context, the largest batch and the fewest devices that fit a model."""
from __future__ import annotations

import typer

from ...units import format_si
from ..output import choose, dumps


def register(app: typer.Typer) -> None:
    @app.command("fit", epilog="Examples:\n  mlsysim fit Llama3_8B H100 --seq-len 8192\n"
                               "  mlsysim fit Llama3_70B H100 --batch-size 8 --precision fp8")
    def fit_command(
        ctx: typer.Context,
        model: str = typer.Argument(..., help="model registry name (or a Hugging Face config.json)"),
        hardware: str = typer.Argument(..., help="hardware registry name (or a device YAML file)"),
        batch_size: int = typer.Option(1, "--batch-size", "-b", help="sequences at once (for the longest context)"),
        seq_len: int = typer.Option(None, "--seq-len", "-s", help="tokens per sequence (for the largest batch)"),
        precision: str = typer.Option("fp16", "--precision", "-p"),
        kv_precision: str = typer.Option(None, "--kv-precision", help="KV cache precision, e.g. fp8"),
        stack: str = typer.Option(None, "--stack", help="software stack (its runtime footprint counts)"),
        tp: int = typer.Option(1, "--tp", help="tensor-parallel devices the context and batch answers use"),
        output: str = typer.Option(None, "--output", "-o", help="text, json, markdown or html"),
    ):
        """What fits: the longest context at a batch, the largest batch at a context, the fewest devices."""
        from ...optimize.fit import FitModel

        fmt = choose(ctx, output)
        r = FitModel().solve(model, hardware, batch_size=batch_size, seq_len=seq_len, precision=precision,
                             kv_precision=kv_precision, stack=stack, tp=tp)
        if fmt == "json":
            print(dumps({"status": "ok", **r.to_dict()}))
            return
        rows = [("longest context", _count(r.max_context, "tokens") + f" at batch {r.batch_size}", r.context_binding),
                ("largest batch", _count(r.max_batch, "sequences") + f" of {r.seq_len:,} tokens", r.batch_binding),
                ("fewest devices", "none" if r.min_devices is None else
                 f"{r.min_devices} (tp={r.min_devices_tp} x pp={r.min_devices_pp})", r.devices_binding)]
        head = (f"{r.model_name} on {r.hardware_name} at {r.precision}: batch {r.batch_size} x {r.seq_len:,} tokens "
                f"takes {format_si(r.memory_bytes, 'B')} of {format_si(r.memory_capacity_bytes, 'B')} per device")
        if fmt == "markdown":
            print(f"### {head}\n\n| question | answer | what binds |\n|---|---|---|")
            print("\n".join(f"| {q} | {a} | {why} |" for q, a, why in rows))
            return
        print(head)
        for q, a, why in rows:
            print(f"  {q}: {a}\n    {why}")


def _count(value, unit: str) -> str:
    return "none" if value is None else f"{value:,} {unit}"
