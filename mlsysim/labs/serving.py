"""Lab: LLM serving — TTFT, ITL and KV cache against batch and context, and the largest batch an SLO allows."""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo
    import numpy as np
    from matplotlib.figure import Figure

    import mlsysim
    from mlsysim.show import fmt

    return Figure, fmt, mlsysim, mo, np


@app.cell
def _(mo):
    mo.md("""
    # Serving an LLM: the SLO frontier

    A request waits for its prompt to be prefilled (**TTFT**, time to first token), then receives one token
    per decode step (**ITL**, inter-token latency). Batching more requests raises throughput, but every
    prompt in the batch is prefilled before the first token, so TTFT grows with the batch; each decode step
    reads the weights once for the whole batch plus every sequence's **KV cache**, so ITL grows slowly —
    until the KV cache no longer fits. Set the targets with the sliders: the largest batch meeting both,
    in memory, is the SLO frontier.
    """)
    return


@app.cell
def _(mlsysim, mo):
    MODELS = ["Llama3_8B", "Llama3_70B", "Qwen2_5_7B", "Mistral_7B", "Mixtral_8x7B", "Llama3_1B"]
    DEVICES = ["H100", "H200", "B200", "A100", "MI300X", "L40S"]
    CONTEXTS = [2**i for i in range(9, 16)]
    model = mo.ui.dropdown({mlsysim.Models.get(k).name: k for k in MODELS}, value=mlsysim.Models.Llama3_8B.name,
                           label="model")
    device = mo.ui.dropdown({mlsysim.Hardware.get(k).name: k for k in DEVICES}, value=mlsysim.Hardware.H100.name,
                            label="device")
    tp = mo.ui.dropdown({str(n): n for n in (1, 2, 4, 8)}, value="1", label="tensor parallel")
    precision = mo.ui.dropdown(["fp16", "fp8"], value="fp16", label="weights")
    kv_precision = mo.ui.dropdown(["fp16", "fp8"], value="fp16", label="KV cache")
    prompt_len = mo.ui.slider(steps=CONTEXTS, value=1024, label="prompt tokens", show_value=True)
    output_len = mo.ui.slider(steps=[2**i for i in range(4, 13)], value=256, label="output tokens", show_value=True)
    ttft_target = mo.ui.slider(100, 10_000, step=100, value=1000, label="TTFT target (ms)", show_value=True)
    itl_target = mo.ui.slider(5, 200, step=5, value=30, label="ITL target (ms)", show_value=True)
    mo.vstack([mo.hstack([model, device, tp, precision, kv_precision]), mo.hstack([prompt_len, output_len]),
               mo.hstack([ttft_target, itl_target])])
    return CONTEXTS, device, itl_target, kv_precision, model, output_len, precision, prompt_len, tp, ttft_target


@app.cell
def _(CONTEXTS, device, itl_target, kv_precision, mlsysim, mo, model, np, output_len, precision, prompt_len, tp,
      ttft_target):
    batches = np.arange(1, 513)
    try:
        grid = mlsysim.ServingModel().solve(
            model.value, device.value, batch_size=batches[:, None], prompt_len=np.array(CONTEXTS),
            output_len=output_len.value, tp=tp.value, pp=1, precision=precision.value,
            kv_precision=kv_precision.value)
    except mlsysim.MlsysimError as _err:
        mo.stop(True, mo.callout(mo.md(f"**This deployment cannot be served:** {_err}"), kind="warn"))
    fits = np.asarray(grid.feasible, dtype=bool)
    meets = fits & (grid.ttft_s <= ttft_target.value / 1e3) & (grid.itl_s <= itl_target.value / 1e3)
    # the largest batch meeting the SLO at each context (0: none does); batches past a miss are not counted
    frontier = np.where(meets.all(axis=0), batches[-1], np.argmin(meets, axis=0))
    col = CONTEXTS.index(prompt_len.value)
    best_batch = int(frontier[col])
    return batches, best_batch, col, fits, frontier, grid, meets


@app.cell
def _(CONTEXTS, Figure, batches, best_batch, col, fits, frontier, grid, itl_target, np, ttft_target):
    fig_serving = Figure(figsize=(11, 7), layout="constrained")
    (_ttft, _itl), (_mem, _front) = fig_serving.subplots(2, 2)
    for _ax, _y, _target, _name in ((_ttft, grid.ttft_s[:, col], ttft_target.value, "TTFT"),
                                    (_itl, grid.itl_s[:, col], itl_target.value, "ITL")):
        _ax.plot(batches, _y * 1e3, color="#1f77b4")
        _ax.axhline(_target, color="#d62728", ls="--", label=f"{_name} target")
        _ax.set(xscale="log", yscale="log" if _name == "TTFT" else "linear", xlabel="batch", ylabel=f"{_name} (ms)",
                title=f"{_name} against batch")
    _gb = 1e9
    _mem.stackplot(batches, np.full(batches.shape, grid.weights_bytes / _gb), grid.kv_cache_bytes[:, col] / _gb,
                   labels=["weights", "KV cache"], colors=["#aec7e8", "#ff9896"])
    _mem.axhline(grid.memory_capacity_bytes / _gb, color="black", ls="--", label="device memory")
    _mem.set(xscale="log", xlabel="batch", ylabel="GB per device", title="Memory per device")
    for _ax in (_ttft, _itl, _mem):
        if best_batch:
            _ax.axvline(best_batch, color="#2ca02c", label=f"SLO frontier (batch {best_batch})")
        if not fits[:, col].all():
            _ax.axvspan(batches[~fits[:, col]][0], batches[-1], color="0.85", label="does not fit")
        _ax.legend(fontsize=8)
        _ax.grid(True, alpha=0.3)
    _fit_limit = np.where(fits.all(axis=0), batches[-1], np.argmin(fits, axis=0))
    _front.plot(CONTEXTS, _fit_limit, "o--", color="0.5", label="largest batch that fits")
    _front.plot(CONTEXTS, frontier, "o-", color="#2ca02c", label="largest batch meeting the SLO")
    _front.set(xscale="log", yscale="symlog", xlabel="prompt tokens", ylabel="batch",
               title="The SLO frontier against context", ylim=(0, None))
    _front.xaxis.set_major_formatter("{x:g}")
    _front.legend(fontsize=8)
    _front.grid(True, alpha=0.3)
    fig_serving
    return


@app.cell
def _(batches, best_batch, col, fits, fmt, grid, itl_target, meets, mo, prompt_len, ttft_target):
    if best_batch:
        _i = best_batch - 1
        _next = best_batch if best_batch < len(batches) else None
        if _next is None:
            _why = "every batch up to the sweep's end meets it"
        elif not fits[_next, col]:
            _why = f"batch {_next + 1} does not fit in memory"
        elif grid.ttft_s[_next, col] > ttft_target.value / 1e3:
            _why = f"batch {_next + 1} misses the TTFT target ({fmt(float(grid.ttft_s[_next, col]) * 1e3)} ms)"
        else:
            _why = f"batch {_next + 1} misses the ITL target ({fmt(float(grid.itl_s[_next, col]) * 1e3)} ms)"
        _verdict = (f"The largest batch meeting TTFT ≤ {ttft_target.value} ms and ITL ≤ {itl_target.value} ms at a "
                    f"{prompt_len.value}-token prompt is **{best_batch}**: TTFT "
                    f"{fmt(float(grid.ttft_s[_i, col]) * 1e3)} ms, ITL {fmt(float(grid.itl_s[_i, col]) * 1e3)} ms, "
                    f"**{fmt(float(grid.tokens_per_s[_i, col]))} tokens/s** per group of {grid.tp} device(s); "
                    f"{_why}.")
    else:
        _verdict = (f"**No batch meets** TTFT ≤ {ttft_target.value} ms and ITL ≤ {itl_target.value} ms at a "
                    f"{prompt_len.value}-token prompt (batch 1: TTFT {fmt(float(grid.ttft_s[0, col]) * 1e3)} ms, "
                    f"ITL {fmt(float(grid.itl_s[0, col]) * 1e3)} ms, "
                    f"{'fits' if fits[0, col] else 'does not fit'}): relax a target, shorten the prompt, or add "
                    f"tensor parallelism.")
    mo.md(f"""
    {_verdict}

    Weights take {fmt(grid.weights_bytes / 1e9)} GB per device and each token of context
    {fmt(grid.kv_bytes_per_token / 1e3)} kB of KV cache (split over the {grid.tp} device(s)), so memory caps the
    batch at long contexts; at short ones the TTFT target usually binds first. {int(meets[:, col].sum())} of the
    {len(batches)} batch sizes meet the SLO at this context. Prefill is
    {grid.prefill_bound[0, col].lower()}-bound and decode {grid.decode_bound[0, col].lower()}-bound at batch 1.
    """)
    return


if __name__ == "__main__":
    app.run()
