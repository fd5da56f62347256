"""``mlsysim mcp``: the command line's JSON answers as Model Context Protocol tools for agents, over stdio.

Built on the SDK's high-level ``MCPServer`` (mcp 2's name for FastMCP) because typed, described parameters give
each tool its JSON Schema, so no hand-written schema can drift from the function it describes.

Each tool builds a command line and runs the CLI's entry point in this process, so it answers with exactly the
JSON object ``mlsysim ... -o json`` prints for the same inputs. Exit 0, 2 (does not fit) and 3 (an assert or
target failed) are answers and come back as that JSON; exit 1 (bad input) is a tool error carrying the CLI's
one-sentence message. Options go as ``--name=value`` and arguments after ``--``, so no value is read as a flag.
"""
from __future__ import annotations

import contextlib
import io
import json
import threading
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from .cli.commands.zoo import CATEGORIES
from .cli.main import main as cli_main
from .cli.main import one_line, version
from .cli.output import EXIT_ASSERT, EXIT_INFEASIBLE, EXIT_INPUT, EXIT_OK

#: tools compute and read; none changes anything, so a client may run them without asking
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

#: one CLI run at a time: redirect_stdout swaps the process-wide sys.stdout, and the SDK runs each synchronous
#: tool on a worker thread, so two concurrent calls would otherwise print into each other's capture
_CLI = threading.Lock()

SeqLen = Annotated[int | None, Field(description="context / sequence length in tokens of a language model")]
Precision = Annotated[str | None, Field(description="fp32, tf32, fp16, bf16, fp8, int8 or int4 [default: fp16]")]
Stack = Annotated[str | None, Field(description="software stack, e.g. vllm, tensorrt_llm, torch_compile, "
                                                "pytorch_eager, megatron (the zoo's stacks)")]
Training = Annotated[bool, Field(description="a training step instead of inference")]


def _cli(command: list[str], arguments: list[str], options: dict[str, Any]) -> CallToolResult:
    """``mlsysim COMMAND --output=json OPTIONS -- ARGUMENTS``: its JSON (the text as printed, and parsed), or a
    tool error whose text is the CLI's one sentence.

    A None option is left to the CLI's default, False leaves a flag off, True sets it, a list is joined by commas.
    """
    argv = [*command, "--output=json"]
    for flag, value in options.items():
        if value is True:
            argv.append(flag)
        elif value is not None and value is not False:
            argv.append(f"{flag}={','.join(map(str, value)) if isinstance(value, list) else value}")
    argv += ["--", *arguments]
    out, err = io.StringIO(), io.StringIO()
    # The capture cannot reach the MCP channel: stdio_server() (mcp/server/stdio.py) writes the protocol to its
    # own handle, a private duplicate of fd 1 (or, failing that, sys.stdout's buffer as it was at start), and
    # points fd 1 at stderr while serving; swapping the sys.stdout object here changes neither.
    code = EXIT_OK
    with _CLI, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli_main(argv)
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (EXIT_OK if done.code is None else EXIT_INPUT)
    text = out.getvalue().strip()
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    if code in (EXIT_OK, EXIT_INFEASIBLE, EXIT_ASSERT) and isinstance(payload, dict):
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=payload)
    message = payload.get("error") if isinstance(payload, dict) else None
    return _error(message or one_line(err.getvalue()).removeprefix("error: ") or f"mlsysim exited with {code}")


def _error(message: str) -> CallToolResult:
    """A tool error carrying just the sentence (a raised ToolError would reach the client prefixed)."""
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


async def _refuse_undeclared(ctx, call_next):
    """Refuse a tool argument the tool does not declare: the SDK would drop it, and a misspelt name (``batch``
    for ``batch_size``) would silently run with the default."""
    params = ctx.params or {}
    arguments = params.get("arguments")
    if ctx.method == "tools/call" and isinstance(arguments, dict):
        declared = {t.name: list(t.input_schema["properties"]) for t in await server.list_tools()}.get(params["name"])
        unknown = sorted(set(arguments) - set(declared or arguments))
        if unknown:
            return _error(f"{params['name']} takes no argument '{unknown[0]}'; it takes {', '.join(declared)}")
    return await call_next(ctx)


server = MCPServer("mlsysim", version=version(), middleware=[_refuse_undeclared], instructions=(
    "Analytical predictions of ML systems (latency, throughput, memory fit, energy, cost, carbon). Names come from "
    "the zoo tool (zoo hardware / zoo models); every answer is the JSON that `mlsysim ... -o json` prints, whose "
    "status is ok, infeasible (does not fit) or sla_failed (a target is missed)."))


@server.tool(annotations=READ_ONLY)
def evaluate(
    model: Annotated[str, Field(description="model registry name (e.g. Llama3_8B), a Hugging Face config.json, or "
                                            "a plan file (.yaml) that names its own hardware")],
    hardware: Annotated[str | None, Field(description="hardware registry name (e.g. H100); not used with a "
                                                      "plan")] = None,
    batch_size: Annotated[int | None, Field(description="samples (sequences) per step [default: 1; training on a "
                                                        "fleet: one per replica per microbatch]")] = None,
    seq_len: SeqLen = None,
    precision: Precision = None,
    training: Training = False,
    phase: Annotated[str | None, Field(description="forward, prefill, decode or train (one device)")] = None,
    stack: Stack = None,
    efficiency: Annotated[float | None, Field(description="override the calibrated efficiency (0..1]")] = None,
    accelerators: Annotated[int | None, Field(description="total accelerators (a fleet when > 1)")] = None,
    nodes: Annotated[int | None, Field(description="number of nodes (with the zoo's node size)")] = None,
    tp: Annotated[int | None, Field(description="tensor-parallel degree (fleets) [default: 1]")] = None,
    pp: Annotated[int | None, Field(description="pipeline-parallel degree (fleets) [default: 1]")] = None,
    dp: Annotated[int | None, Field(description="data-parallel degree (training; default: what is left)")] = None,
    zero: Annotated[int | Literal["fsdp"] | None, Field(description="ZeRO stage 0-3 or fsdp (training)")] = None,
    recompute: Annotated[str | None, Field(description="none, selective or full (training)")] = None,
    micro_batch: Annotated[int | None, Field(description="sequences per microbatch (training)")] = None,
    region: Annotated[str | None, Field(description="grid for the macro lens (cost, carbon), e.g. Quebec")] = None,
    duration_days: Annotated[float | None, Field(description="days of operation (macro lens)")] = None,
) -> CallToolResult:
    """A model on hardware (or a plan file): memory fit, latency, throughput, bottleneck, MFU, energy, and with a
    region and duration cost and carbon (`mlsysim eval`). Status infeasible means it does not fit."""
    return _cli(["eval"], [model] + ([hardware] if hardware is not None else []), {
        "--batch-size": batch_size, "--seq-len": seq_len, "--precision": precision, "--training": training,
        "--phase": phase, "--stack": stack, "--efficiency": efficiency, "--accelerators": accelerators,
        "--nodes": nodes, "--tp": tp, "--pp": pp, "--dp": dp, "--zero": zero, "--recompute": recompute,
        "--micro-batch": micro_batch, "--region": region, "--duration-days": duration_days})


@server.tool(annotations=READ_ONLY)
def serve(
    model: Annotated[str, Field(description="a decoder language model, e.g. Llama3_8B")],
    hardware: Annotated[str, Field(description="hardware registry name, e.g. H100 (the zoo tool lists them)")],
    batch_size: Annotated[int | None, Field(description="sequences decoded together [default: 1]")] = None,
    prompt_len: Annotated[int | None, Field(description="prompt tokens [default: seq_len or the model's "
                                                        "context]")] = None,
    output_len: Annotated[int | None, Field(description="generated tokens per request")] = None,
    seq_len: Annotated[int | None, Field(description="context at which ITL is measured")] = None,
    precision: Annotated[str | None, Field(description="weights and compute precision [default: fp16]")] = None,
    weight_precision: Annotated[str | None, Field(description="weight-only precision, e.g. int4")] = None,
    kv_precision: Annotated[str | None, Field(description="KV cache precision, e.g. fp8")] = None,
    tp: Annotated[int | None, Field(description="tensor-parallel degree over the scale-up link [default: 1]")] = None,
    pp: Annotated[int | None, Field(description="pipeline stages [default: as few as fit]")] = None,
    stack: Stack = None,
    prefill_chunk_tokens: Annotated[int | None, Field(description="chunked prefill size")] = None,
    cached_prefix: Annotated[int | None, Field(description="prompt tokens already in the prefix cache")] = None,
    draft_model: Annotated[str | None, Field(description="speculative decoding draft model")] = None,
    acceptance: Annotated[float | None, Field(description="draft token acceptance rate (0..1)")] = None,
    qps: Annotated[float | None, Field(description="request rate to size replicas for (with p99_ms)")] = None,
    p99_ms: Annotated[float | None, Field(description="P99 request latency target in ms (with qps)")] = None,
    service_cv: Annotated[float | None, Field(description="variability of request times, 0: all alike (with "
                                                          "qps) [default: 1]")] = None,
) -> CallToolResult:
    """LLM serving: time to first token, inter-token latency, tokens/s, KV cache and weights per device, and with
    qps and p99_ms the replicas a load needs (`mlsysim serve`). Status infeasible means it does not fit, sla_failed
    that no replica count meets the P99 target."""
    return _cli(["serve"], [model, hardware], {
        "--batch-size": batch_size, "--prompt-len": prompt_len, "--output-len": output_len, "--seq-len": seq_len,
        "--precision": precision, "--weight-precision": weight_precision, "--kv-precision": kv_precision,
        "--tp": tp, "--pp": pp, "--stack": stack, "--prefill-chunk-tokens": prefill_chunk_tokens,
        "--cached-prefix": cached_prefix, "--draft-model": draft_model, "--acceptance": acceptance, "--qps": qps,
        "--p99": p99_ms, "--service-cv": service_cv})


Degrees = Annotated[list[int] | None, Field(description="parallelism: degrees to try, e.g. [4, 8] [default: all "
                                                        "allowed]")]


@server.tool(annotations=READ_ONLY)
def optimize(
    search: Annotated[Literal["batching", "placement", "parallelism"], Field(
        description="batching: the batch size with the most throughput inside a P99 SLA; placement: the grid "
                    "region where a plan's system costs least counting carbon; parallelism: the fastest training "
                    "layout that fits")],
    target: Annotated[str, Field(description="batching: a decoder model; placement: a plan file (.yaml); "
                                             "parallelism: a transformer (e.g. Llama3_70B) or a plan file")],
    hardware: Annotated[str | None, Field(description="batching, parallelism: hardware registry name (e.g. H100); "
                                                      "not used with a plan")] = None,
    sla_ms: Annotated[float | None, Field(description="batching (required): P99 request latency target in "
                                                      "ms")] = None,
    qps: Annotated[float | None, Field(description="batching (required): request rate across the replicas")] = None,
    replicas: Annotated[int | None, Field(description="batching: serving replicas sharing the load [default: "
                                                      "1]")] = None,
    prompt_len: Annotated[int | None, Field(description="batching: prompt tokens")] = None,
    output_len: Annotated[int | None, Field(description="batching: generated tokens [default: 128]")] = None,
    max_batch: Annotated[int | None, Field(description="batching: largest batch to consider [default: 256]")] = None,
    service_cv: Annotated[float | None, Field(description="batching: variability of request times [default: "
                                                          "1]")] = None,
    precision: Annotated[str | None, Field(description="batching, parallelism: precision [default: fp16 for "
                                                       "batching, bf16 for parallelism]")] = None,
    carbon_tax: Annotated[float | None, Field(description="placement: carbon price in $ per tonne CO2e [default: "
                                                          "100]")] = None,
    regions: Annotated[list[str] | None, Field(description="placement: grid names to compare [default: every "
                                                           "priced grid]")] = None,
    accelerators: Annotated[int | None, Field(description="parallelism (with a model): total "
                                                          "accelerators")] = None,
    global_batch: Annotated[int | None, Field(description="parallelism (with a model): sequences per optimizer "
                                                          "step")] = None,
    seq_len: Annotated[int | None, Field(description="parallelism: tokens per sequence")] = None,
    tp: Degrees = None,
    pp: Degrees = None,
    cp: Degrees = None,
    ep: Degrees = None,
    zero: Annotated[list[int] | None, Field(description="parallelism: ZeRO stages to try, e.g. [1, 3]")] = None,
    recompute: Annotated[list[str] | None, Field(description="parallelism: recomputation modes to try (none, "
                                                             "selective, full)")] = None,
    micro_batch: Annotated[list[int] | None, Field(description="parallelism: micro-batch sizes to try")] = None,
    schedules: Annotated[list[str] | None, Field(description="parallelism: pipeline schedules to try [default: "
                                                             "1f1b, interleaved]")] = None,
    optimizer: Annotated[str | None, Field(description="parallelism: adam, adamw, sgd, adafactor, adam8bit or "
                                                       "none [default: adam]")] = None,
    stack: Annotated[str | None, Field(description="parallelism: software stack [default: pytorch_eager; e.g. "
                                                   "megatron]")] = None,
    top: Annotated[int | None, Field(description="parallelism: layouts to list, best first [default: 10]")] = None,
) -> CallToolResult:
    """Search a design space (`mlsysim optimize batching|placement|parallelism`). Each option applies to the
    searches its description names; one given to another search is refused, not ignored."""
    return _cli(["optimize", search], [target] + ([hardware] if hardware is not None else []), {
        "--sla-ms": sla_ms, "--qps": qps, "--replicas": replicas, "--prompt-len": prompt_len,
        "--output-len": output_len, "--max-batch": max_batch, "--service-cv": service_cv, "--precision": precision,
        "--carbon-tax": carbon_tax, "--regions": regions, "--accelerators": accelerators,
        "--global-batch": global_batch, "--seq-len": seq_len, "--tp": tp, "--pp": pp, "--cp": cp, "--ep": ep,
        "--zero": zero, "--recompute": recompute, "--micro-batch": micro_batch, "--schedules": schedules,
        "--optimizer": optimizer, "--stack": stack, "--top": top})


@server.tool(annotations=READ_ONLY)
def zoo(
    category: Annotated[Literal[CATEGORIES], Field(description="which registry; stacks are the software stacks "
                                                               "(execution profiles)")],
    name: Annotated[str | None, Field(description="one entry: every figure and its source; without it, the whole "
                                                  "registry")] = None,
    sort_by: Annotated[str | None, Field(description="a listing's order: a dotted field, e.g. "
                                                     "memory.bandwidth")] = None,
) -> CallToolResult:
    """The facts zoo: a registry's entries, or one entry with every figure and where it comes from (`mlsysim
    zoo`)."""
    return _cli(["zoo"], [category] + ([name] if name is not None else []), {"--sort-by": sort_by})


@server.tool(annotations=READ_ONLY)
def validate(
    category: Annotated[str | None, Field(description="only this category, e.g. single_device_inference, serving, "
                                                      "training, training_memory, training_energy [default: "
                                                      "all]")] = None,
) -> CallToolResult:
    """Accuracy against published measurements: every anchor's measured and predicted value, error and source,
    and a summary per category (`mlsysim validate`)."""
    return _cli(["validate"], [], {"--category": category})


@server.tool(annotations=READ_ONLY)
def explain(
    model: Annotated[str, Field(description="model registry name, e.g. Llama3_8B (the zoo tool lists them)")],
    hardware: Annotated[list[str], Field(min_length=2, description="two or more hardware names, baseline first")],
    batch_size: Annotated[int | None, Field(description="samples (sequences) per step [default: 1]")] = None,
    precision: Precision = None,
    seq_len: SeqLen = None,
    training: Training = False,
) -> CallToolResult:
    """Why one device is faster than another for a workload: the speed-up, the bound on each side and the resource
    ratio behind it (`mlsysim explain`)."""
    return _cli(["explain"], [model, *hardware], {"--batch-size": batch_size, "--precision": precision,
                                                  "--seq-len": seq_len, "--training": training})


def main() -> None:
    """Serve the tools over stdin/stdout until the client closes the connection."""
    server.run("stdio")
