"""The launch command of a serving engine for the configuration a serving result modelled.

What the model assumed (tensor and pipeline degrees, the batch it decoded, the longest request, the
precisions of weights, matmuls and KV cache, chunked prefill, the prefix cache, a draft model) becomes the
engine's own flags, so the deployment is the configuration that was timed. Flag names follow each engine's
reference: vLLM ``vllm serve --help`` (docs.vllm.ai, "Engine Arguments"), SGLang ``sglang.launch_server``
(docs.sglang.io, "Server Arguments"), TensorRT-LLM ``trtllm-serve`` with its ``--extra_llm_api_options``
YAML (nvidia.github.io/TensorRT-LLM, "trtllm-serve").
"""
from __future__ import annotations

import json
import shlex

from ..errors import InputError

#: engine name on the command line -> the execution profile it is timed as
ENGINE_STACKS = {"vllm": "vllm", "sglang": "sglang", "trtllm": "tensorrt_llm"}

#: precision name -> the dtype flag's value (what the activations and matmuls run in)
_DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
#: the KV-cache dtype each engine names, for the caches it can keep besides the activations' 16 bits
_KV_DTYPES = {"vllm": {"fp8": "fp8"}, "sglang": {"fp8": "fp8_e4m3"}, "trtllm": {"fp8": "fp8"}}
#: weight formats that need a checkpoint quantized ahead of time (the engine reads the method from it)
_PREQUANTIZED = {"int8": "an int8 (W8A16 GPTQ or SmoothQuant)", "int4": "an int4 (AWQ or GPTQ)",
                 "nf4": "an NF4 (bitsandbytes)", "fp4": "an FP4 (ModelOpt NVFP4)"}


def launch_command(result, run, options, engine: str) -> str:
    """A shell script that starts ``engine`` serving what ``result`` modelled for ``run`` and ``options``.

    Refused in one sentence where the engine cannot run it as modelled (a KV-cache format it lacks); what
    the user must supply (a checkpoint the zoo does not know, a pre-quantized one) is said in a comment."""
    if engine not in ENGINE_STACKS:
        raise InputError(f"unknown engine '{engine}'; emit one of {', '.join(ENGINE_STACKS)}")
    model = run.workload
    weights, compute, kv = run.precisions.weights, run.precisions.activations, run.precisions.kv
    comments = [f"# {result.model_name} on {result.hardware_name}: modelled by mlsysim serve"]
    checkpoint = model.metadata.checkpoint
    if checkpoint is None:
        checkpoint = f"/path/to/{model.name}"
        comments.append(f"# {model.name} has no known Hugging Face checkpoint: replace {checkpoint}")
    quantization = None
    if weights == "fp8":
        quantization = "fp8"
    elif weights in _PREQUANTIZED:
        comments.append(f"# weights in {weights}: point the model at {_PREQUANTIZED[weights]} checkpoint")
    if kv in ("fp16", "bf16", "fp32"):
        kv_dtype = None
    elif kv in _KV_DTYPES[engine]:
        kv_dtype = _KV_DTYPES[engine][kv]
    else:
        raise InputError(f"{engine} keeps the KV cache in 16 bits or fp8, not {kv}; model it with "
                         f"--kv-precision fp8 or without one")
    dtype = _DTYPES.get(compute, "auto")
    longest = int(result.prompt_len + (result.output_len or 0)) if result.output_len else int(result.context_len)
    fields = {"tp": int(result.tp), "pp": int(result.pp), "batch": int(result.batch_size), "longest": longest,
              "dtype": dtype, "quantization": quantization, "kv": kv_dtype,
              "chunk": options.prefill_chunk_tokens, "prefix": options.cached_prefix_len > 0,
              "speculation": options.speculation, "checkpoint": checkpoint}
    script = {"vllm": _vllm, "sglang": _sglang, "trtllm": _trtllm}[engine](fields, comments)
    return "\n".join(comments + script)


def _command(words: list) -> str:
    """One command, a flag per line (copy-pasteable)."""
    parts = [shlex.quote(str(w)) for w in words]
    lines, line = [], parts[0]
    for part in parts[1:]:
        if part.startswith("--"):
            lines.append(line)
            line = "  " + part
        else:
            line += " " + part
    return " \\\n".join(lines + [line])


def _vllm(f: dict, comments: list) -> list[str]:
    words = ["vllm", "serve", f["checkpoint"], "--tensor-parallel-size", f["tp"], "--pipeline-parallel-size",
             f["pp"], "--max-num-seqs", f["batch"], "--max-model-len", f["longest"], "--dtype", f["dtype"]]
    if f["quantization"]:
        words += ["--quantization", f["quantization"]]
    if f["kv"]:
        words += ["--kv-cache-dtype", f["kv"]]
    if f["chunk"]:
        words += ["--enable-chunked-prefill", "--max-num-batched-tokens", f["chunk"]]
    if f["prefix"]:
        words += ["--enable-prefix-caching"]
    spec = f["speculation"]
    if spec is not None:
        draft = spec.draft.metadata.checkpoint or f"/path/to/{spec.draft.name}"
        words += ["--speculative-config", json.dumps({"model": draft, "num_speculative_tokens": spec.k})]
    return [_command(words)]


def _sglang(f: dict, comments: list) -> list[str]:
    words = ["python", "-m", "sglang.launch_server", "--model-path", f["checkpoint"], "--tp-size", f["tp"],
             "--pp-size", f["pp"], "--max-running-requests", f["batch"], "--context-length", f["longest"],
             "--dtype", f["dtype"]]
    if f["quantization"]:
        words += ["--quantization", f["quantization"]]
    if f["kv"]:
        words += ["--kv-cache-dtype", f["kv"]]
    if f["chunk"]:
        words += ["--chunked-prefill-size", f["chunk"]]
    if not f["prefix"]:
        comments.append("# the radix (prefix) cache is on by default and only helps; the model assumed no hits")
    spec = f["speculation"]
    if spec is not None:
        draft = spec.draft.metadata.checkpoint or f"/path/to/{spec.draft.name}"
        words += ["--speculative-algorithm", "STANDALONE", "--speculative-draft-model-path", draft,
                  "--speculative-num-steps", spec.k, "--speculative-eagle-topk", 1,
                  "--speculative-num-draft-tokens", spec.k + 1]
    return [_command(words)]


def _trtllm(f: dict, comments: list) -> list[str]:
    config = []
    if f["kv"]:
        config += ["kv_cache_config:", f"  dtype: {f['kv']}"]
    if f["prefix"]:
        config += ([] if config else ["kv_cache_config:"]) + ["  enable_block_reuse: true"]
    if f["chunk"]:
        config += ["enable_chunked_prefill: true"]
    if f["speculation"] is not None:
        spec = f["speculation"]
        draft = spec.draft.metadata.checkpoint or f"/path/to/{spec.draft.name}"
        config += ["speculative_config:", "  decoding_type: Draft_Target", f"  max_draft_len: {spec.k}",
                   f"  speculative_model_dir: {draft}"]
    if f["quantization"]:
        comments.append("# fp8 weights: serve an FP8 checkpoint quantized with TensorRT Model Optimizer")
    words = ["trtllm-serve", f["checkpoint"], "--backend", "pytorch", "--tp_size", f["tp"], "--pp_size", f["pp"],
             "--max_batch_size", f["batch"], "--max_seq_len", f["longest"]]
    if f["chunk"]:
        words += ["--max_num_tokens", f["chunk"]]
    if not config:
        return [_command(words)]
    words += ["--extra_llm_api_options", "extra-llm-api-config.yml"]
    return ["cat > extra-llm-api-config.yml <<'EOF'", *config, "EOF", _command(words)]
