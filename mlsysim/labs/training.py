"""Lab: training scale-out — the best parallel layout for a model on N GPUs, and where its step time goes."""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo
    import numpy as np
    from matplotlib.figure import Figure

    import mlsysim
    from mlsysim.show import fmt, format_table

    return Figure, fmt, format_table, mlsysim, mo, np


@app.cell
def _(mo):
    mo.md("""
    # Training at scale: choosing the layout

    A training step on many GPUs splits the model (**tensor** parallelism inside a node, **pipeline** stages
    across nodes), splits the batch (**data** parallelism), and shards optimizer state (**ZeRO**). Each
    split costs something: TP all-reduces every layer on the scale-up link, pipelines idle in a **bubble**
    while they fill and drain, and DP synchronizes gradients over the fabric once per step (partly hidden
    behind the backward pass). `ParallelismOptimizer` (also `mlsysim optimize parallelism`) times every
    layout that fits and keeps the fastest; the bars below show where each leading layout's step goes.
    """)
    return


@app.cell
def _(mlsysim, mo):
    MODELS = ["Llama3_8B", "Llama3_70B", "Llama3_405B", "Qwen2_5_7B", "Mixtral_8x7B", "GPT3"]
    NODES = ["DGX_H100", "DGX_H200", "DGX_B200", "DGX_A100"]
    FABRICS = ["InfiniBand_NDR", "InfiniBand_XDR", "InfiniBand_HDR", "RoCE_400G", "Ethernet_100G"]
    model = mo.ui.dropdown({mlsysim.Models.get(k).name: k for k in MODELS}, value=mlsysim.Models.Llama3_70B.name,
                           label="model")
    node = mo.ui.dropdown({mlsysim.Systems.Nodes.get(k).name: k for k in NODES},
                          value=mlsysim.Systems.Nodes.DGX_H100.name, label="node")
    nodes = mo.ui.slider(steps=[2**i for i in range(8)], value=8, label="nodes (8 GPUs each)", show_value=True)
    fabric = mo.ui.dropdown(FABRICS, value="InfiniBand_NDR", label="fabric")
    global_batch = mo.ui.slider(steps=[2**i for i in range(5, 13)], value=256, label="global batch (sequences)",
                                show_value=True)
    seq_len = mo.ui.dropdown({str(s): s for s in (2048, 4096, 8192)}, value="4096", label="sequence length")
    mo.vstack([mo.hstack([model, node, fabric]), mo.hstack([nodes, global_batch, seq_len])])
    return fabric, global_batch, model, node, nodes, seq_len


@app.cell
def _(fabric, global_batch, mlsysim, mo, model, node, nodes, seq_len):
    fleet = mlsysim.Fleet(name=f"{nodes.value} x {node.value}", node=mlsysim.Systems.Nodes.get(node.value),
                          count=nodes.value, fabric=mlsysim.Systems.Fabrics.get(fabric.value))
    try:
        search = mlsysim.ParallelismOptimizer().solve(model.value, fleet, global_batch.value, seq_len.value, top=6)
    except mlsysim.MlsysimError as _err:
        mo.stop(True, mo.callout(mo.md(f"**No layout to search:** {_err}"), kind="warn"))
    mo.stop(search.best is None, mo.callout(mo.md(f"**No layout fits in memory:** {search.binding}"), kind="danger"))
    best = search.best

    def layout_name(lay):
        """A layout in the parallelism vocabulary, naming only the dimensions it uses."""
        return (f"TP{lay.tp} PP{lay.pp} DP{lay.dp}" + (f" CP{lay.cp}" if lay.cp > 1 else "")
                + (f" EP{lay.ep}" if lay.ep > 1 else "") + f" ZeRO{lay.zero_stage} {lay.recompute} mb{lay.micro_batch}"
                + (f" {lay.schedule}" + (f" v{lay.v_stages}" if lay.v_stages > 1 else "") if lay.pp > 1 else ""))

    # the leading layouts again through DistributedModel, which reports each term of the step
    breakdown = [
        mlsysim.DistributedModel().solve(
            model.value, fleet, batch_size=global_batch.value, seq_len=seq_len.value, tp=lay.tp, cp=lay.cp,
            pp=lay.pp, dp=lay.dp, ep=lay.ep, v_stages=lay.v_stages, zero_stage=lay.zero_stage,
            recompute=lay.recompute, schedule=lay.schedule,
            microbatches=global_batch.value // (lay.dp * lay.ep) // lay.micro_batch,
            layers_per_stage=list(lay.layers_per_stage))
        for lay in search.top_candidates]
    return best, breakdown, fleet, layout_name, search


@app.cell
def _(Figure, breakdown, layout_name, np, search):
    _labels = [layout_name(lay) for lay in search.top_candidates][::-1]
    _runs = breakdown[::-1]
    fig_training = Figure(figsize=(12, 0.6 * len(_labels) + 2), layout="constrained")
    _time, _memory = fig_training.subplots(1, 2, sharey=True)
    _y = np.arange(len(_labels))
    _left = np.zeros(len(_labels))
    for _term, _field, _color in (("compute", "compute_time_s", "#1f77b4"), ("bubble", "bubble_time_s", "#bcbd22"),
                                  ("TP comm", "tp_comm_s", "#ff7f0e"), ("CP comm", "cp_comm_s", "#8c564b"),
                                  ("PP comm", "pp_comm_s", "#9467bd"), ("EP comm", "ep_comm_s", "#e377c2"),
                                  ("DP comm (exposed)", "dp_exposed_s", "#d62728")):
        _w = np.array([float(getattr(r, _field)) for r in _runs])
        if _w.any():
            _time.barh(_y, _w, left=_left, color=_color, label=_term)
            _left += _w
    _time.set(yticks=_y, yticklabels=_labels, xlabel="seconds per step", title="Where the step time goes")
    _time.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4)
    _left = np.zeros(len(_labels))
    for _term, _field, _color in (("weights", "weights_b", "#aec7e8"), ("gradients", "gradients_b", "#ffbb78"),
                                  ("optimizer", "optimizer_b", "#98df8a"), ("activations", "activations_b", "#ff9896")):
        _w = np.array([float(getattr(r, _field)) for r in _runs]) / 1e9
        _memory.barh(_y, _w, left=_left, color=_color, label=_term)
        _left += _w
    _other = np.array([float(r.memory_per_device_b) for r in _runs]) / 1e9 - _left
    _memory.barh(_y, _other, left=_left, color="0.8", label="buffers, framework")
    _memory.axvline(breakdown[0].memory_capacity_b / 1e9, color="black", ls="--", label="device memory")
    _memory.set(xlabel="GB per device", title="Where the memory goes")
    _memory.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3)
    fig_training
    return


@app.cell
def _(best, breakdown, fleet, fmt, format_table, layout_name, mo, search):
    _d = breakdown[0]
    _rows = [[layout_name(c), fmt(c.step_time_s) + " s",
              f"{c.mfu:.1%}", c.reason or "best"] for c in search.top_candidates]
    _pruned = "; ".join(f"{k}: {v:,}" for k, v in search.pruned.items()) or "none"
    mo.vstack([mo.md(f"""
    **Best of {search.total_searched:,} layouts timed** on {fleet.total_accelerators} x
    {fleet.node.accelerator.name} ({search.infeasible:,} of them do not fit; refused before timing: {_pruned}):
    TP {best.tp} x PP {best.pp} x DP {best.dp}, ZeRO-{best.zero_stage}, recomputation {best.recompute},
    micro-batch {best.micro_batch} — **{fmt(best.step_time_s)} s per step, MFU {best.mfu:.1%}**,
    {fmt(float(_d.tokens_per_s))} tokens/s, {fmt(best.memory_per_device_b / 1e9)} GB per device.

    Compute is {float(_d.compute_time_s / _d.step_time_s):.0%} of the step; bound by {_d.binding}. More GPUs
    for the same global batch shrink each replica's work but not the gradient all-reduce, so communication and
    the bubble grow as a share of the step: raise the batch, or the fabric's bandwidth, to keep the GPUs busy.
    """), mo.plain_text(format_table(["layout", "step", "MFU", "why not"], _rows))])
    return


if __name__ == "__main__":
    app.run()
