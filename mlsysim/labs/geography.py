"""Lab: "Geography is a Systems Variable" — the same training run's carbon, water and cost, region by region."""

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
    # Geography is a systems variable

    A cluster trains a model for a month. Where it runs changes nothing about latency or throughput — those
    are fixed by the hardware — but everything about its **carbon**, its **water** and, once carbon has a
    price, its **cost**. Every kilowatt-hour carries its grid's carbon intensity (a hydro grid ~20 gCO2e/kWh,
    a coal grid ~800), and the facility's PUE multiplies the energy drawn. This lab reruns the tutorial's
    computations for the cluster, regions and durations you pick.
    """)
    return


@app.cell
def _(mlsysim, mo):
    NODES = ["DGX_H100", "DGX_A100", "DGX_H200", "DGX_B200"]
    MODELS = ["Llama3_8B", "Llama3_70B", "Llama3_405B"]
    grid_names = {g.name: k for k, g in mlsysim.Infra.Grids.items()}
    node = mo.ui.dropdown({mlsysim.Systems.Nodes.get(k).name: k for k in NODES},
                          value=mlsysim.Systems.Nodes.DGX_H100.name, label="node")
    nodes = mo.ui.slider(1, 128, value=32, label="nodes (8 GPUs each)", show_value=True)
    model = mo.ui.dropdown({mlsysim.Models.get(k).name: k for k in MODELS}, value=mlsysim.Models.Llama3_70B.name,
                           label="model it trains")
    days = mo.ui.slider(1, 90, value=30, label="duration (days)", show_value=True)
    clean = mo.ui.dropdown(grid_names, value=mlsysim.Infra.Grids.Quebec.name, label="clean region")
    dirty = mo.ui.dropdown(grid_names, value=mlsysim.Infra.Grids.Poland.name, label="dirty region")
    short_days = mo.ui.slider(1, 90, value=10, label="days in the dirty region", show_value=True)
    regions = mo.ui.multiselect(grid_names, value=[mlsysim.Infra.Grids.get(k).name
                                                   for k in ("Quebec", "Norway", "US_Avg", "Poland")],
                                label="regions to sweep")
    carbon_price = mo.ui.slider(0, 500, step=10, value=50, label="carbon price ($/t CO2e)", show_value=True)
    mo.vstack([mo.hstack([node, nodes, model, days]), mo.hstack([clean, dirty, short_days]),
               mo.hstack([regions, carbon_price])])
    return carbon_price, clean, days, dirty, model, node, nodes, regions, short_days


@app.cell
def _(mlsysim, node, nodes):
    fleet = mlsysim.Fleet(name=f"{nodes.value * 8}-GPU Training Cluster", node=mlsysim.Systems.Nodes.get(node.value),
                          count=nodes.value, fabric=mlsysim.Systems.Fabrics.InfiniBand_NDR)
    solver = mlsysim.SustainabilityModel()
    return fleet, solver


@app.cell
def _(clean, days, dirty, fleet, fmt, format_table, mlsysim, mo, solver):
    res_clean = solver.solve(fleet=fleet, duration_days=days.value, datacenter=mlsysim.Infra.Grids.get(clean.value))
    res_dirty = solver.solve(fleet=fleet, duration_days=days.value, datacenter=mlsysim.Infra.Grids.get(dirty.value))
    carbon_clean = res_clean.carbon_footprint_kg / 1000  # tonnes
    carbon_dirty = res_dirty.carbon_footprint_kg / 1000
    ratio = carbon_dirty / carbon_clean if carbon_clean > 0 else 0
    mo.vstack([mo.md(f"""
    ## Two regions

    Same cluster ({fleet.total_accelerators} x {fleet.node.accelerator.name}), same {days.value} days; only the
    electricity differs. {res_dirty.region_name} emits **{ratio:.0f}x** what {res_clean.region_name} does: its
    grid's intensity ({fmt(res_dirty.carbon_intensity_g_kwh)} against {fmt(res_clean.carbon_intensity_g_kwh)}
    gCO2e/kWh) times its PUE ({res_dirty.pue:.2f} against {res_clean.pue:.2f}). That is a location decision,
    not an optimization.
    """), mo.plain_text(format_table(["Region", "Carbon (tonnes CO2)"], [
        [res_clean.region_name, f"{carbon_clean:.1f}"], [res_dirty.region_name, f"{carbon_dirty:.1f}"]]))])
    return carbon_clean, res_clean


@app.cell
def _(days, fleet, format_table, mlsysim, mo, model, regions, solver):
    mo.stop(not regions.value, mo.md("*Pick at least one region to sweep.*"))
    GLOBAL_BATCH, SEQ_LEN = 1024, 4096
    # what the run delivers: tokens of the model at its fastest layout on this cluster
    layout = mlsysim.ParallelismOptimizer().solve(model.value, fleet, GLOBAL_BATCH, SEQ_LEN).best
    tokens = None if layout is None else GLOBAL_BATCH * SEQ_LEN / layout.step_time_s * days.value * 86400
    grids = [mlsysim.Infra.Grids.get(k) for k in regions.value]
    region_results = {}
    sweep_rows = []
    for grid in grids:
        _r = solver.solve(fleet=fleet, duration_days=days.value, datacenter=grid)
        region_results[_r.region_name] = _r
        sweep_rows.append([_r.region_name, f"{_r.total_energy_kwh.magnitude / 1000:,.1f}",
                           f"{_r.carbon_footprint_kg / 1000:,.1f}", f"{_r.water_usage_liters / 1000:,.1f}",
                           f"{_r.pue:.2f}",
                           "-" if tokens is None else f"{_r.carbon_footprint_kg / tokens * 1e9:,.1f}"])
    _name = mlsysim.Models.get(model.value).name
    _trained = (f"{tokens / 1e9:,.0f} billion tokens of {_name} (step {layout.step_time_s:.1f} s at its best "
                f"layout, {GLOBAL_BATCH} sequences of {SEQ_LEN})" if tokens is not None
                else f"nothing: {_name} fits no layout on this cluster")
    mo.vstack([mo.md(f"""
    ## Every region

    In {days.value} days the cluster trains {_trained}. Energy differs between regions only through PUE (a
    free-cooled facility at 1.1-1.2 against a legacy one at 1.5+); the carbon intensity makes the large gap.
    """), mo.plain_text(format_table(["Region", "Energy (MWh)", "Carbon (t)", "Water (kL)", "PUE",
                                      "kg CO2e per B tokens"], sweep_rows))])
    return grids, region_results, tokens


@app.cell
def _(Figure, region_results):
    fig_regions = Figure(figsize=(12, 3.8), layout="constrained")
    _names = list(region_results)
    _short = [n.split(" (")[0] for n in _names]
    for _ax, (_title, _values, _color) in zip(fig_regions.subplots(1, 3), (
            ("Facility energy (MWh)", [r.total_energy_kwh.magnitude / 1e3 for r in region_results.values()],
             "#1f77b4"),
            ("Carbon (t CO2e)", [r.carbon_footprint_kg / 1e3 for r in region_results.values()], "#d62728"),
            ("Water (kL)", [r.water_usage_liters / 1e3 for r in region_results.values()], "#17becf"))):
        _ax.bar(_short, _values, color=_color)
        _ax.set_title(_title)
        _ax.tick_params(axis="x", labelrotation=30)
        _ax.grid(True, axis="y", alpha=0.3)
    fig_regions
    return


@app.cell
def _(carbon_clean, days, dirty, fleet, format_table, mlsysim, mo, res_clean, short_days, solver):
    res_short_dirty = solver.solve(fleet=fleet, duration_days=short_days.value,
                                   datacenter=mlsysim.Infra.Grids.get(dirty.value))
    c_q = carbon_clean
    c_p = res_short_dirty.carbon_footprint_kg / 1000
    _verdict = ("still emits more: geography is the larger lever" if c_p > c_q
                else "emits less: at this ratio of durations, time outweighs the grid")
    mo.vstack([mo.md(f"""
    ## Geography against duration

    {short_days.value} days in {res_short_dirty.region_name} against {days.value} in {res_clean.region_name}:
    the shorter, dirtier run **{_verdict}** ({c_p / c_q:.1f}x).
    """), mo.plain_text(format_table(["Scenario", "Carbon (tonnes CO2)"], [
        [f"{days.value} days in {res_clean.region_name}", f"{c_q:.1f}"],
        [f"{short_days.value} days in {res_short_dirty.region_name}", f"{c_p:.1f}"]]))])
    return


@app.cell
def _(Figure, carbon_price, days, fleet, fmt, format_table, grids, mlsysim, mo, np, tokens):
    econ = mlsysim.EconomicsModel()
    tco_results = [econ.solve(fleet=fleet, duration_days=days.value, grid=grid, tokens=tokens) for grid in grids]
    rows = []
    for tco in tco_results:
        carbon_cost = (tco.carbon_footprint_kg / 1000) * carbon_price.value
        total = tco.tco_usd + carbon_cost
        rows.append([tco.region_name, f"${tco.tco_usd:,.0f}", f"${carbon_cost:,.0f}", f"${total:,.0f}"])

    # the total at every carbon price: which region is cheapest, and where that changes
    _prices = np.arange(0, 501, 10)
    _totals = np.array([[t.tco_usd + t.carbon_footprint_kg / 1000 * p for p in _prices] for t in tco_results])
    _cheapest = [tco_results[i].region_name for i in _totals.argmin(axis=0)]
    _changes = [f"{_cheapest[i]} from ${_prices[i]}/t" for i in range(1, len(_prices))
                if _cheapest[i] != _cheapest[i - 1]]
    fig_tco = Figure(figsize=(8, 4), layout="constrained")
    _ax = fig_tco.subplots()
    for _t, _line in zip(tco_results, _totals):
        _ax.plot(_prices, _line / 1e6, label=_t.region_name)
    _ax.axvline(carbon_price.value, color="black", ls="--", label=f"${carbon_price.value}/t")
    _ax.set(xlabel="carbon price ($/t CO2e)", ylabel="TCO + carbon cost ($M)",
            title=f"Cost of {days.value} days by region as carbon is priced")
    _ax.legend(fontsize=8)
    _ax.grid(True, alpha=0.3)
    _per_token = "" if tokens is None else " TCO per million tokens: " + ", ".join(
        f"{t.region_name} ${fmt(t.usd_per_million_tokens)}" for t in tco_results) + "."
    mo.vstack([mo.md(f"""
    ## When carbon has a price

    Owning the cluster (purchase written off over its life, electricity at each region's industrial price,
    maintenance) plus ${carbon_price.value} per tonne of CO2e emitted. Between $0 and $500/t the cheapest
    region is {_cheapest[0]}{"; then " + "; ".join(_changes) if _changes else " throughout"}.{_per_token}
    """), mo.plain_text(format_table(["Region", "TCO ($)", "Carbon Cost ($)", "Total ($)"], rows)), fig_tco])
    return


if __name__ == "__main__":
    app.run()
