"""``mlsysim eval MODEL HARDWARE``: one step of a workload on one device."""
from __future__ import annotations

import json

import typer

from ...units import format_si


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_command(
        model: str = typer.Argument(..., help="Model registry name, e.g. Llama3_8B"),
        hardware: str = typer.Argument(..., help="Hardware registry name, e.g. H100"),
        batch_size: int = typer.Option(1, "--batch-size", "-b", help="Samples (sequences) per step"),
        precision: str = typer.Option("fp16", "--precision", "-p", help="fp32, tf32, fp16, bf16, fp8, int8, int4"),
        seq_len: int = typer.Option(None, "--seq-len", help="Context / sequence length for language models"),
        efficiency: float = typer.Option(None, "--efficiency", help="Override the calibrated compute efficiency"),
        training: bool = typer.Option(False, "--training", help="Time a training step instead of inference"),
        phase: str = typer.Option(None, "--phase", help="forward, prefill, decode or train"),
        stack: str = typer.Option(None, "--stack", help="eager, graph or compiled"),
        output: str = typer.Option("text", "--output", "-o", help="text or json"),
    ):
        """Evaluate MODEL on HARDWARE.  Example: mlsysim eval Llama3_8B H100 --batch-size 8"""
        from ...engine.engine import Engine
        from ...errors import InputError, OOMError

        if output not in ("text", "json"):
            raise InputError(f"unknown output format '{output}'; use text or json")
        prof = Engine.solve(model, hardware, batch_size=batch_size, precision=precision, seq_len=seq_len,
                            efficiency=efficiency, is_training=training, phase=phase, stack=stack)
        if output == "json":
            print(json.dumps(profile_json(prof)))
        else:
            print(profile_text(prof))
        if not prof.feasible:
            raise OOMError(prof.constraint_trace[0])


def profile_json(p) -> dict:
    return {"status": "ok" if p.feasible else "infeasible", "model": p.model_name, "hardware": p.hardware_name,
            "phase": p.phase, "batch_size": p.batch_size, "seq_len": p.seq_len, "precision": p.precision,
            "stack": p.stack, "latency_s": p.latency_s, "latency_compute_s": p.latency_compute_s,
            "latency_memory_s": p.latency_memory_s, "latency_overhead_s": p.latency_overhead_s,
            "throughput_per_s": float(p.throughput), "bottleneck": p.bottleneck, "binding_operators": p.bottleneck_op,
            "arithmetic_intensity_flop_per_byte": float(p.arithmetic_intensity), "mfu": p.mfu,
            "memory_bytes": {k: float(v) for k, v in p.memory_parts.items()},
            "memory_capacity_bytes": p.memory_capacity_b, "energy_j": p.energy_j, "feasible": p.feasible}


def profile_text(p) -> str:
    rows = [("Model", p.model_name), ("Hardware", p.hardware_name),
            ("Phase", f"{p.phase} (batch {p.batch_size}, seq {p.seq_len}, {p.precision}, {p.stack})"),
            ("Latency", format_si(p.latency_s, "s")), ("Throughput", f"{float(p.throughput):,.1f} {p.throughput_unit}"),
            ("Bound", f"{p.bottleneck} ({p.bottleneck_op} operators dominate)"),
            ("  compute-bound", format_si(p.latency_compute_s, "s")),
            ("  memory-bound", format_si(p.latency_memory_s, "s")),
            ("  launch overhead", format_si(p.latency_overhead_s, "s")),
            ("MFU", f"{p.mfu:.1%}"),
            ("Memory", f"{format_si(sum(p.memory_parts.values()), 'B')} of {format_si(p.memory_capacity_b, 'B')}"
                       f" ({'fits' if p.feasible else 'DOES NOT FIT'})"),
            ("Energy", f"{format_si(p.energy_j, 'J')} per step")]
    return "\n".join(f"{k:<18}{v}" for k, v in rows)
