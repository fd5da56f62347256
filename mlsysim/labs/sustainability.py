"""Lab: energy, carbon and water of one training job across hardware generations and grid regions."""

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
    # One job, four generations, many grids

    Fix the work — a model trained on a number of tokens — and change the machine and where it runs. A newer
    GPU draws more power but finishes sooner, so the job's **energy** follows the work done per joule, not the
    power rating. **Carbon** is that energy (times the facility's PUE) times the grid's intensity, and
    **water** is the facility's cooling plus the water the grid's power plants evaporate. Each generation
    trains at the fastest layout `ParallelismOptimizer` finds for it on the same number of GPUs.
    """)
    return


@app.cell
def _(mlsysim, mo):
    MODELS = ["Llama3_8B", "Llama3_70B", "Llama3_405B", "GPT3"]
    GENERATIONS = ["DGX_A100", "DGX_H100", "DGX_H200", "DGX_B200"]
    model = mo.ui.dropdown({mlsysim.Models.get(k).name: k for k in MODELS}, value=mlsysim.Models.Llama3_70B.name,
                           label="model")
    tokens_b = mo.ui.slider(steps=[100, 250, 500, 1000, 2000, 5000, 15000], value=1000,
                            label="training tokens (billions)", show_value=True)
    nodes = mo.ui.slider(steps=[2**i for i in range(2, 9)], value=32, label="nodes (8 GPUs each)", show_value=True)
    generations = mo.ui.multiselect({mlsysim.Systems.Nodes.get(k).name: k for k in GENERATIONS},
                                    value=[mlsysim.Systems.Nodes.get(k).name for k in GENERATIONS],
                                    label="hardware generations")
    regions = mo.ui.multiselect({g.name: k for k, g in mlsysim.Infra.Grids.items()},
                                value=[mlsysim.Infra.Grids.get(k).name
                                       for k in ("Quebec", "France", "US_Avg", "Poland")], label="regions")
    mo.vstack([mo.hstack([model, tokens_b, nodes]), generations, regions])
    return generations, model, nodes, regions, tokens_b


@app.cell
def _(generations, mlsysim, mo, model, nodes, regions, tokens_b):
    GLOBAL_BATCH, SEQ_LEN = 1024, 4096
    mo.stop(not generations.value or not regions.value, mo.md("*Pick at least one generation and one region.*"))
    jobs, no_fit = {}, []
    for _key in generations.value:
        _fleet = mlsysim.Fleet(name=f"{nodes.value} x {_key}", node=mlsysim.Systems.Nodes.get(_key),
                               count=nodes.value, fabric=mlsysim.Systems.Fabrics.InfiniBand_NDR)
        _best = mlsysim.ParallelismOptimizer().solve(model.value, _fleet, GLOBAL_BATCH, SEQ_LEN).best
        if _best is None:
            no_fit.append(_fleet.node.name)
            continue
        _days = tokens_b.value * 1e9 / (GLOBAL_BATCH * SEQ_LEN) * _best.step_time_s / 86400
        jobs[_fleet.node.name] = (_best, _days, {
            _region: mlsysim.SustainabilityModel().solve(_fleet, _days, grid=_region)
            for _region in regions.value})
    mo.stop(not jobs, mo.callout(mo.md(f"**{mlsysim.Models.get(model.value).name} fits none of the generations** "
                                       f"on {nodes.value} nodes: add nodes."), kind="warn"))
    return GLOBAL_BATCH, SEQ_LEN, jobs, no_fit


@app.cell
def _(Figure, jobs, np):
    fig_sustainability = Figure(figsize=(13, 4.2), layout="constrained")
    _energy, _carbon, _water = fig_sustainability.subplots(1, 3)
    _gens = list(jobs)
    _short = [g.replace("NVIDIA ", "").replace("DGX ", "") for g in _gens]
    _x = np.arange(len(_gens))
    _mwh = [next(iter(f.values())).it_energy_kwh.magnitude / 1e3 for _, _, f in jobs.values()]
    _bars = _energy.bar(_x, _mwh, color="#1f77b4")
    _energy.bar_label(_bars, [f"{days:.1f} d" for _, days, _ in jobs.values()], fontsize=8)
    _energy.set(xticks=_x, xticklabels=_short, ylabel="IT energy (MWh)", title="Energy of the job (label: days)")
    _regions = list(next(iter(jobs.values()))[2])
    _w = 0.8 / len(_regions)
    for _i, _r in enumerate(_regions):
        _at = _x + (_i - (len(_regions) - 1) / 2) * _w
        _results = [f[_r] for *_, f in jobs.values()]
        _carbon.bar(_at, [r.carbon_footprint_kg / 1e3 for r in _results], _w, label=_results[0].region_name)
        _water.bar(_at, [r.water_usage_liters / 1e3 for r in _results], _w, label=_results[0].region_name)
    _carbon.set(xticks=_x, xticklabels=_short, yscale="log", ylabel="operational carbon (t CO2e)",
                title="Carbon by generation and region")
    _water.set(xticks=_x, xticklabels=_short, ylabel="water (kL)", title="Water by generation and region")
    _water.legend(fontsize=8)
    for _ax in (_energy, _carbon, _water):
        _ax.grid(True, axis="y", alpha=0.3)
    fig_sustainability
    return


@app.cell
def _(GLOBAL_BATCH, SEQ_LEN, fmt, format_table, jobs, mo, no_fit, tokens_b):
    _rows = [[gen, f"{best.mfu:.0%}", f"{days:.1f}", fmt(r.total_energy_kwh.magnitude / 1e3), r.region_name,
              fmt(r.carbon_footprint_kg / 1e3), fmt(r.embodied_carbon_kg / 1e3), fmt(r.water_usage_liters / 1e3)]
             for gen, (best, days, footprints) in jobs.items() for r in footprints.values()]
    _carbon = [r.carbon_footprint_kg for _, _, f in jobs.values() for r in f.values()]
    _first = next(iter(jobs.values()))[2].values()
    _region_swing = max(r.carbon_footprint_kg for r in _first) / min(r.carbon_footprint_kg for r in _first)
    _energies = [next(iter(f.values())).it_energy_j for _, _, f in jobs.values()]
    _extremes = max(_carbon) / min(_carbon)
    _lever = "where the job runs" if _region_swing > max(_energies) / min(_energies) else "the generation"
    mo.vstack([mo.md(f"""
    {fmt(tokens_b.value)} billion tokens in steps of {GLOBAL_BATCH} sequences of {SEQ_LEN} tokens.
    Across generations the job's IT energy ranges **{max(_energies) / min(_energies):.1f}x**; across the
    regions chosen its carbon ranges **{_region_swing:.0f}x** for the same machine, and {_extremes:.0f}x
    from the worst pairing of generation and region to the best: here **{_lever}** is the larger lever, while a
    faster generation cuts energy, carbon and water in every region at once. Embodied carbon (the chips'
    manufacture, written off over five years; 0 where the zoo has no figure for the chip) counts most on the
    cleanest grids.
    {"**Does not fit:** " + ", ".join(no_fit) + "." if no_fit else ""}
    """), mo.plain_text(format_table(["generation", "MFU", "days", "energy (MWh)", "region", "carbon (t)",
                                      "embodied (t)", "water (kL)"], _rows))])
    return


if __name__ == "__main__":
    app.run()
