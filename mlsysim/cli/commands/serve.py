"""``mlsysim serve``: how fast an LLM serves on hardware, and how many replicas a load needs."""
from __future__ import annotations

import typer

from ...evaluation import format_metric
from ...models.families.base import LM_CONTEXT
from ..output import EXIT_ASSERT, EXIT_INFEASIBLE, Finished, choose, dumps

EXAMPLES = """Examples:
  mlsysim serve Llama3_8B H100 --prompt-len 1024 --output-len 256 --batch-size 16
  mlsysim serve Llama3_70B H100 --tp 8 --kv-precision fp8 -o json
  mlsysim serve Llama3_8B H100 --qps 20 --p99 2000 --output-len 256
  mlsysim serve Llama3_70B H100 --tp 4 --batch-size 64 --kv-precision fp8 --emit vllm"""


def register(app: typer.Typer) -> None:
    @app.command("serve", epilog=EXAMPLES)
    def serve_command(
        ctx: typer.Context,
        model: str = typer.Argument(..., help="a decoder language model, e.g. Llama3_8B"),
        hardware: str = typer.Argument(..., help="hardware registry name, e.g. H100"),
        seq_len: int = typer.Option(None, "--seq-len", "-s", help="context at which ITL is measured"),
        prompt_len: int = typer.Option(None, "--prompt-len",
                                       help=f"prompt tokens (default: --seq-len or {LM_CONTEXT})"),
        output_len: int = typer.Option(None, "--output-len", help="generated tokens per request"),
        batch_size: int = typer.Option(1, "--batch-size", "-b", help="sequences decoded together"),
        precision: str = typer.Option("fp16", "--precision", "-p", help="weights and compute precision"),
        weight_precision: str = typer.Option(None, "--weight-precision", help="e.g. int4 (weight-only)"),
        activation_precision: str = typer.Option(None, "--activation-precision", help="the matmuls' precision"),
        kv_precision: str = typer.Option(None, "--kv-precision", help="KV cache precision, e.g. fp8"),
        tp: int = typer.Option(1, "--tp", help="tensor-parallel degree over the scale-up link"),
        pp: int = typer.Option(None, "--pp", help="pipeline stages (default: as few as fit)"),
        stack: str = typer.Option(None, "--stack", help="software stack, e.g. vllm, tensorrt_llm, pytorch_eager"),
        host_speed: float = typer.Option(None, "--host-speed",
                                         help="host CPU speed relative to the measuring one (eager launch costs)"),
        runtime_overhead: str = typer.Option(None, "--runtime-overhead",
                                             help="device memory of the stack's process itself, e.g. '2 GiB'"),
        calibration: str = typer.Option(None, "--calibration",
                                        help="timing constants of one's own machine (as `mlsysim audit` writes them)"),
        chunk: int = typer.Option(None, "--prefill-chunk-tokens", help="chunked prefill size"),
        cached: int = typer.Option(0, "--cached-prefix", help="prompt tokens already in the prefix cache"),
        draft: str = typer.Option(None, "--draft-model", help="speculative decoding draft model"),
        acceptance: float = typer.Option(None, "--acceptance", help="draft token acceptance rate (0..1)"),
        qps: float = typer.Option(None, "--qps", help="request rate to size replicas for"),
        p99_ms: float = typer.Option(None, "--p99", help="P99 request latency target in ms (with --qps)"),
        service_cv: float = typer.Option(1.0, "--service-cv", help="variability of request times (0: all alike)"),
        emit: str = typer.Option(None, "--emit",
                                 help="print the launch command of vllm, sglang or trtllm for this configuration"),
        output: str = typer.Option(None, "--output", "-o", help="text, json, markdown or html"),
    ):
        """Time to first token, inter-token latency, tokens/s and memory; replicas for a load with --qps."""
        from ...errors import InputError
        from ...execution import execution_profile
        from ...run import Run
        from ...serving.launch import ENGINE_STACKS, launch_command
        from ...serving.serving import ServingOptions, serve

        fmt = choose(ctx, output)
        if emit is not None:
            if emit not in ENGINE_STACKS:
                raise InputError(f"unknown engine '{emit}' for --emit; use one of {', '.join(ENGINE_STACKS)}")
            engine_stack = ENGINE_STACKS[emit]
            if stack is not None and execution_profile(stack).key != engine_stack:
                raise InputError(f"--emit {emit} launches the {engine_stack} stack, and --stack {stack} models "
                                 f"another; drop --stack or give --stack {engine_stack}")
            stack = engine_stack
        if (qps is None) != (p99_ms is None):
            raise InputError("--qps and --p99 go together: the load and its P99 latency target")
        if qps is None and service_cv != 1.0:
            raise InputError("--service-cv describes the requests of a load; give it with --qps and --p99")
        run = Run.build(model, hardware, purpose="serving", seq_len=seq_len, batch_size=batch_size,
                        prompt_len=prompt_len, output_len=output_len, precision=precision,
                        weight_precision=weight_precision, activation_precision=activation_precision,
                        kv_precision=kv_precision, stack=stack, host_speed=host_speed, tp=tp, pp=pp,
                        runtime_overhead=runtime_overhead, calibration=calibration)
        options = ServingOptions.build(chunk, cached, draft_model=draft, draft_acceptance_rate=acceptance)
        r = serve(run, options)
        rows, capacity = _rows(r), None
        if qps is not None:
            from ...serving.capacity import ServingCapacityModel

            if pp is not None:
                raise InputError("a serving replica is one tensor-parallel group here; --pp does not apply with --qps")
            capacity = ServingCapacityModel().solve(
                run.at(seq_len=None, prompt_len=r.prompt_len), qps=qps, target_p99_latency=p99_ms / 1e3,
                max_batch_size=batch_size if batch_size > 1 else 256, service_cv=service_cv, options=options)
            rows += _capacity_rows(capacity)
        missed = capacity is not None and not capacity.feasible
        status = "infeasible" if not r.feasible else ("sla_failed" if missed else "ok")
        launch = None if emit is None else launch_command(r, run, options, emit)
        if fmt == "json":
            payload = {"status": status, "model": r.model_name, "hardware": r.hardware_name,
                       **{k: v for k, _, v in rows}, "assumptions": list(r.assumptions),
                       **({} if launch is None else {"launch_command": launch})}
            print(dumps(payload))
        elif launch is not None:                       # the script alone, to pipe into a file or a shell
            print(f"```bash\n{launch}\n```" if fmt == "markdown" else launch)
        elif fmt == "markdown":
            print(f"## Serving {r.model_name} on {r.hardware_name}\n\n| figure | value |\n|---|---|")
            print("\n".join(f"| {label} | {format_metric(k, v)} |" for k, label, v in rows))
        else:
            print(f"Serving {r.model_name} on {r.hardware_name}")
            print("\n".join(f"  {label:<26} {format_metric(k, v)}" for k, label, v in rows))
            for note in r.assumptions:
                print(f"  note: {note}")
            if missed:
                print(f"no replica count meets the P99 target: {capacity.binding}")
        if not r.feasible:
            raise Finished(EXIT_INFEASIBLE)
        if missed:
            raise Finished(EXIT_ASSERT)


def _band_rows(name: str, band) -> list[tuple[str, str, float]]:
    """A time's 10th-90th percentile band (seconds) as two rows in ms (none without a band)."""
    if band is None:
        return []
    return [(f"{name}_low_ms", "  10th percentile", float(band[0]) * 1e3),
            (f"{name}_high_ms", "  90th percentile", float(band[1]) * 1e3)]


def _rows(r) -> list[tuple[str, str, object]]:
    rows = [("execution_profile", "stack", r.execution_profile), ("prompt_len", "prompt tokens", r.prompt_len),
            ("output_len", "output tokens", r.output_len),
            ("batch_size", "batch", r.batch_size), ("tp", "tensor parallel", r.tp), ("pp", "pipeline stages", r.pp),
            ("ttft_ms", "time to first token", r.ttft_s * 1e3), *_band_rows("ttft", r.ttft_range),
            ("itl_ms", "inter-token latency", r.itl_s * 1e3), *_band_rows("itl", r.itl_range),
            ("tokens_per_s", "decode tokens/s", r.tokens_per_s),
            ("request_latency_ms", "request latency",
             None if r.request_latency_s is None else r.request_latency_s * 1e3),
            ("kv_cache_gb", "KV cache", r.kv_cache_bytes / 1e9), ("weights_gb", "weights per device",
                                                                  r.weights_bytes / 1e9),
            ("memory_utilization", "memory used", r.memory_utilization), ("feasible", "fits", r.feasible),
            ("prefill_bound", "prefill bound", r.prefill_bound), ("decode_bound", "decode bound", r.decode_bound)]
    if r.prefill_chunks > 1:
        rows += [("prefill_chunks", "prefill chunks", r.prefill_chunks),
                 ("decode_stall_bound_ms", "decode stall bound", r.decode_stall_bound_s * 1e3)]
    if r.tokens_per_step != 1.0:
        rows.append(("tokens_per_step", "tokens per target pass", r.tokens_per_step))
    return [row for row in rows if row[2] is not None]


def _capacity_rows(c) -> list[tuple[str, str, object]]:
    """Replicas for the load; when no replica count meets the target, what the most replicas searched give."""
    if not c.feasible:
        return [("meets_p99_target", "meets the P99 target", False),
                ("replicas_searched", "replicas searched up to", c.required_replicas),
                ("p99_latency_ms", "P99 latency at that size", c.estimated_p99_latency_s * 1e3),
                ("capacity_bottleneck", "what binds", c.bottleneck)]
    return [("meets_p99_target", "meets the P99 target", True), ("replicas", "replicas needed", c.required_replicas),
            ("qps_capacity", "capacity (requests/s)", c.qps_capacity),
            ("loaded_ttft_ms", "TTFT at the load", c.ttft_s * 1e3),
            ("loaded_itl_ms", "ITL at the load", c.itl_s * 1e3),
            ("p99_latency_ms", "estimated P99 latency", c.estimated_p99_latency_s * 1e3),
            ("capacity_bottleneck", "what binds", c.bottleneck)]
