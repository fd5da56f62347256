"""Lab: where a workload sits on a device's roofline, what binds it, and what would move it."""

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
    from mlsysim.viz import plot_roofline

    return Figure, fmt, mlsysim, mo, np, plot_roofline


@app.cell
def _(mo):
    mo.md("""
    # The roofline: what binds a step

    A device runs a step no faster than its arithmetic peak (the flat roof) and no faster than its memory
    can feed it (the slope: bandwidth x FLOPs per byte moved). The **ridge point**, peak / bandwidth, is
    the intensity at which the two meet. Each operator of the model is a point: left of the ridge it
    waits on memory, right of it on the arithmetic units, and far below both it waits on kernel launches.
    Pick a model, a device, a precision, a batch and a phase, and watch the points move.
    """)
    return


@app.cell
def _(mlsysim, mo):
    MODELS = ["Llama3_8B", "Llama3_70B", "Qwen2_5_7B", "Mixtral_8x7B", "BERT_Large", "ResNet50", "ViT_B16",
              "MobileNetV2"]
    DEVICES = ["H100", "H200", "B200", "A100", "MI300X", "Gaudi3", "TPUv5e", "L4", "T4"]
    POWERS_OF_TWO = [2**i for i in range(11)]
    model = mo.ui.dropdown({mlsysim.Models.get(k).name: k for k in MODELS}, value=mlsysim.Models.Llama3_8B.name,
                           label="model")
    device = mo.ui.dropdown({mlsysim.Hardware.get(k).name: k for k in DEVICES}, value=mlsysim.Hardware.H100.name,
                            label="device")
    precision = mo.ui.dropdown(["fp32", "bf16", "fp16", "fp8", "int8"], value="fp16", label="precision")
    phase = mo.ui.dropdown({"the model's own (decode for LMs, forward otherwise)": "auto", "decode": "decode",
                            "prefill": "prefill", "forward": "forward", "train": "train"},
                           value="the model's own (decode for LMs, forward otherwise)", label="phase")
    batch = mo.ui.slider(steps=POWERS_OF_TWO, value=8, label="batch", show_value=True)
    seq_len = mo.ui.slider(steps=[2**i for i in range(7, 16)], value=4096, label="context (LMs)", show_value=True)
    mo.vstack([mo.hstack([model, device, precision]), mo.hstack([phase, batch, seq_len])])
    return POWERS_OF_TWO, batch, device, model, phase, precision, seq_len


@app.cell
def _(POWERS_OF_TWO, batch, device, mlsysim, mo, model, np, phase, precision, seq_len):
    workload, hardware = mlsysim.Models.get(model.value), mlsysim.Hardware.get(device.value)
    run_args = dict(precision=precision.value, phase=None if phase.value == "auto" else phase.value)
    if isinstance(workload, mlsysim.TransformerWorkload):
        run_args["seq_len"] = seq_len.value
    try:
        profile = mlsysim.Engine.solve(workload, hardware, batch_size=batch.value, **run_args)
        sweep = mlsysim.Engine.solve(workload, hardware, batch_size=np.array(POWERS_OF_TWO), **run_args)
    except mlsysim.MlsysimError as _err:
        mo.stop(True, mo.callout(mo.md(f"**This run cannot be timed:** {_err}"), kind="warn"))
    ridge = hardware.peak_at(profile.precision) / float(hardware.memory.bandwidth)
    return hardware, profile, ridge, sweep


@app.cell
def _(Figure, POWERS_OF_TWO, batch, hardware, mo, np, plot_roofline, profile, sweep):
    fig_roofline = plot_roofline(hardware, profile, ax=Figure(figsize=(9, 6), layout="constrained").subplots())

    fig_batch = Figure(figsize=(9, 3.6), layout="constrained")
    _ax = fig_batch.subplots()
    _colors = {"Compute": "#d62728", "Memory": "#1f77b4", "Overhead": "#7f7f7f"}
    _x, _y = np.array(POWERS_OF_TWO), np.asarray(sweep.throughput, dtype=float)
    _fits = np.asarray(sweep.feasible, dtype=bool)
    _ax.plot(_x, _y, color="0.7", zorder=1)
    for _bound, _color in _colors.items():
        _here = np.asarray(sweep.bottleneck) == _bound
        if not _here.any():
            continue
        _ax.scatter(_x[_here & _fits], _y[_here & _fits], color=_color, label=f"{_bound}-bound", zorder=2)
        _ax.scatter(_x[_here & ~_fits], _y[_here & ~_fits], facecolors="none", edgecolors=_color, zorder=2)
    _ax.scatter([batch.value], [float(profile.throughput)], s=220, facecolors="none", edgecolors="black",
                label="this batch", zorder=3)
    _ax.set(xscale="log", yscale="log", xlabel="batch", ylabel=f"throughput ({profile.throughput_unit})",
            title="Throughput against batch (hollow: does not fit in memory)")
    _ax.xaxis.set_major_formatter("{x:g}")
    _ax.legend(fontsize=8)
    _ax.grid(True, alpha=0.3)
    mo.vstack([fig_roofline, fig_batch])
    return


@app.cell
def _(POWERS_OF_TWO, batch, fmt, hardware, mo, np, profile, ridge, sweep):
    bound = str(profile.bottleneck)
    _fits = np.asarray(sweep.feasible, dtype=bool)
    _bounds = np.asarray(sweep.bottleneck)
    _intensity = np.asarray(sweep.arithmetic_intensity, dtype=float)
    moves_at = next((b for b, other, fit in zip(POWERS_OF_TWO, _bounds, _fits)
                     if b > batch.value and fit and other != bound), None)
    if moves_at is not None:
        _shift = (f"At batch **{moves_at}** the step becomes **{_bounds[POWERS_OF_TWO.index(moves_at)]}-bound**: "
                  f"the binding resource moves.")
    else:
        _shift = (f"No larger batch that fits (up to {POWERS_OF_TWO[-1]}) changes the binding resource; the step "
                  f"intensity reaches at most {fmt(float(_intensity[_fits].max(initial=0)))} FLOP/B.")
    _levers = {
        "Memory": "Fewer bytes per FLOP move it: a larger batch reuses each weight byte (until the KV cache, which "
                  "grows with the batch, dominates), a lower-precision weight or KV cache (fp8) halves the bytes, "
                  "and a device with more bandwidth lifts the slope.",
        "Compute": "It is under the roof: only more FLOP/s moves it — a precision with a higher peak (fp8 on a "
                   "device that has it) or a faster device. A larger batch adds work, not speed.",
        "Overhead": "Kernel launches take more time than the arithmetic or the memory traffic: a larger batch "
                    "amortizes each launch, and a stack that captures graphs or fuses kernels (torch.compile, "
                    "TensorRT, vLLM) removes launches.",
    }
    _fit = "" if profile.feasible else " **It does not fit in the device's memory.**"
    mo.md(f"""
    **{profile.model_name}, {profile.phase}, batch {batch.value} on {hardware.name} ({profile.precision}):**
    {fmt(profile.latency)} per step, {fmt(profile.throughput)}, MFU {float(profile.mfu):.1%}, memory
    {fmt(profile.memory_footprint)}.{_fit}

    **{bound}-bound**, the {profile.bottleneck_op} operators taking the most time. The whole step does
    {fmt(float(profile.arithmetic_intensity))} FLOP per byte against a ridge of {fmt(ridge)} FLOP/B
    (time in compute-bound operators {fmt(profile.latency_compute)}, in memory-bound ones
    {fmt(profile.latency_memory)}, in launch overhead {fmt(profile.latency_overhead)}).

    *What would move it.* {_levers.get(bound, "")} {_shift}
    """)
    return


if __name__ == "__main__":
    app.run()
