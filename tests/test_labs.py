"""The labs (marimo notebooks in mlsysim/labs/) run in-process at their default widget values, draw their
figures, and report what a direct call to the public API gives for the same inputs; one runs as a script."""
import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import mlsysim
from mlsysim import Fleet, Hardware, Infra, Systems
from mlsysim.labs import LABS

os.environ.setdefault("MPLBACKEND", "Agg")
pytest.importorskip("marimo", reason="the labs are marimo notebooks: pip install 'mlsysim[labs]'")
pytest.importorskip("matplotlib", reason="the labs draw with matplotlib: pip install 'mlsysim[labs]'")

LAB_DIR = Path(mlsysim.__file__).parent / "labs"


@pytest.fixture(scope="module")
def lab():
    """The definitions a lab leaves after one run at its defaults (each lab runs once per module)."""
    runs = {}

    def run(name):
        if name not in runs:
            runs[name] = importlib.import_module(f"mlsysim.labs.{name}").app.run()[1]
        return runs[name]

    return run


def _fleet(node, count):
    return Fleet(name=f"{count} x {node}", node=Systems.Nodes.get(node), count=count,
                 fabric=Systems.Fabrics.InfiniBand_NDR)


def _bars(ax) -> int:
    return len(ax.patches)


#: modules of mlsysim/labs/ that are not notebooks: the package, its listing, and 0.1.0's lab toolkit
NOT_LABS = {"__init__", "__main__", "components", "state", "style"}


def test_the_package_lists_exactly_its_labs(capsys):
    notebooks = {p.stem for p in LAB_DIR.glob("*.py")} - NOT_LABS
    assert set(LABS) == notebooks and all("marimo.App" in (LAB_DIR / f"{name}.py").read_text() for name in LABS)
    from mlsysim.labs.__main__ import main

    main()
    out = capsys.readouterr().out
    assert all(f"marimo edit {LAB_DIR / f'{name}.py'}" in out for name in LABS)


def test_listing_the_labs_imports_no_toolkit_and_no_marimo():
    """``mlsysim.labs`` re-exports 0.1.0's toolkit (``Card``, ``DesignLedger`` ...) on first access only."""
    code = ("import sys, mlsysim.labs as labs; assert labs.LABS; "
            "assert not {'marimo', 'mlsysim.labs.components', 'mlsysim.labs.style'} & set(sys.modules); "
            "assert labs.Card and labs.DesignLedger and labs.COLORS and 'marimo' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_geography_reruns_the_tutorial(lab):
    """Defaults are the tutorial's: 32 DGX H100 for 30 days, Quebec against Poland, 10 days in Poland, $50/t."""
    d = lab("geography")
    fleet, solver = _fleet("DGX_H100", 32), mlsysim.SustainabilityModel()
    q, p = Infra.Grids.Quebec, Infra.Grids.Poland
    quebec = solver.solve(fleet=fleet, duration_days=30, datacenter=q)
    assert d["carbon_clean"] == pytest.approx(quebec.carbon_footprint_kg / 1000)
    assert d["ratio"] == pytest.approx((p.carbon_intensity_g_kwh * p.pue) / (q.carbon_intensity_g_kwh * q.pue))
    assert d["c_p"] > d["c_q"] == pytest.approx(d["carbon_clean"])
    assert list(d["region_results"]) == ["Quebec (Hydro)", "Norway (Hydro)", "US Average", "Poland (Coal)"]

    tco = mlsysim.EconomicsModel().solve(fleet=fleet, duration_days=30, grid=p)
    assert d["rows"][-1] == ["Poland (Coal)", f"${tco.tco_usd:,.0f}", f"${tco.carbon_footprint_kg / 1000 * 50:,.0f}",
                             f"${tco.tco_usd + tco.carbon_footprint_kg / 1000 * 50:,.0f}"]
    assert [_bars(ax) for ax in d["fig_regions"].axes] == [4, 4, 4]
    assert len(d["fig_tco"].axes[0].lines) == 4 + 1          # a cost line per region, the chosen price


def test_roofline_places_the_default_run(lab):
    d = lab("roofline")
    direct = mlsysim.Engine.solve("Llama3_8B", "H100", batch_size=8, seq_len=4096, precision="fp16")
    assert d["profile"].latency_s == pytest.approx(direct.latency_s)
    assert d["bound"] == direct.bottleneck == "Memory"
    assert d["ridge"] == pytest.approx(Hardware.H100.peak_at("fp16") / float(Hardware.H100.memory.bandwidth))
    points = sum(len(c.get_offsets()) for c in d["fig_roofline"].axes[0].collections if c.get_gid() == "operators")
    assert points == sum(op.time_s > 0 for op in direct.operators)
    assert d["moves_at"] is None or d["moves_at"] > 8
    assert len(d["sweep"].latency_s) == 11 and d["fig_batch"].axes[0].get_xscale() == "log"


def test_roofline_reacts_to_its_widgets_and_refuses_an_impossible_run():
    """The controls cell replaced by other choices (``defs=`` needs marimo 0.16): the numbers follow them, and a
    phase the model has not stops the lab at a callout (``mo.stop``) instead of raising or drawing."""
    from mlsysim.labs import roofline

    def controls(**values):
        widgets = {k: SimpleNamespace(value=v) for k, v in values.items()}
        return {"POWERS_OF_TWO": [2**i for i in range(11)], "MODELS": [], "DEVICES": [], **widgets}

    _, d = roofline.app.run(defs=controls(model="ResNet50", device="A100", precision="bf16", phase="train", batch=64,
                                          seq_len=4096))
    direct = mlsysim.Engine.solve("ResNet50", "A100", batch_size=64, precision="bf16", phase="train")
    assert d["profile"].latency_s == pytest.approx(direct.latency_s) and d["bound"] == direct.bottleneck

    _, d = roofline.app.run(defs=controls(model="ResNet50", device="A100", precision="fp16", phase="decode", batch=1,
                                          seq_len=4096))
    assert "profile" not in d and "fig_roofline" not in d and "bound" not in d


def test_serving_frontier_is_the_largest_batch_meeting_both_targets(lab):
    """Defaults: Llama-3.1-8B on one H100, 1024-token prompts, 256 output tokens, TTFT 1 s, ITL 30 ms."""
    d = lab("serving")
    r = mlsysim.ServingModel().solve("Llama3_8B", "H100", batch_size=np.arange(1, 513), prompt_len=1024,
                                     output_len=256, tp=1, pp=1)
    meets = np.asarray(r.feasible, dtype=bool) & (r.ttft_s <= 1.0) & (r.itl_s <= 0.030)
    b = d["best_batch"]
    assert 1 < b < 512 and meets[:b].all() and not meets[b]
    assert d["grid"].ttft_s[b - 1, d["col"]] == pytest.approx(r.ttft_s[b - 1])
    assert list(d["frontier"]) == sorted(d["frontier"], reverse=True)     # longer prompts, smaller batches
    assert len(d["fig_serving"].axes) == 4


def test_training_breaks_down_the_layout_the_optimizer_picks(lab):
    """Defaults: Llama-3.1-70B on 8 DGX H100 over InfiniBand NDR, 256 sequences of 4096 tokens."""
    d = lab("training")
    best = mlsysim.ParallelismOptimizer().solve("Llama3_70B", _fleet("DGX_H100", 8), 256, 4096).best
    assert d["best"].config == best.config and d["best"].step_time_s == pytest.approx(best.step_time_s)
    step = d["breakdown"][0]
    assert step.step_time_s == pytest.approx(best.step_time_s, rel=0.01)
    terms = step.compute_time_s + step.bubble_time_s + step.communication_time_s
    assert terms == pytest.approx(step.step_time_s)
    time_ax, memory_ax = d["fig_training"].axes
    assert len(time_ax.get_yticklabels()) == len(d["search"].top_candidates)
    assert _bars(memory_ax) == 5 * len(d["search"].top_candidates)     # four kinds of state and the rest


def test_sustainability_compares_generations_on_one_job(lab):
    """Defaults: Llama-3.1-70B, a trillion tokens, 32 nodes of each DGX generation, four regions."""
    d = lab("sustainability")
    jobs = d["jobs"]
    assert len(jobs) == 4 and not d["no_fit"]
    best, days, footprints = jobs[Systems.Nodes.DGX_H100.name]
    direct = mlsysim.ParallelismOptimizer().solve("Llama3_70B", _fleet("DGX_H100", 32), 1024, 4096).best
    assert days == pytest.approx(1e12 / (1024 * 4096) * direct.step_time_s / 86400)
    q, p = Infra.Grids.Quebec, Infra.Grids.Poland
    assert footprints["Poland"].carbon_footprint_kg / footprints["Quebec"].carbon_footprint_kg == pytest.approx(
        (p.carbon_intensity_g_kwh * p.pue) / (q.carbon_intensity_g_kwh * q.pue))
    a100, b200 = jobs[Systems.Nodes.DGX_A100.name], jobs[Systems.Nodes.DGX_B200.name]
    assert b200[1] < a100[1] and b200[2]["US_Avg"].it_energy_j < a100[2]["US_Avg"].it_energy_j
    assert [_bars(ax) for ax in d["fig_sustainability"].axes] == [4, 16, 16]


def test_a_lab_runs_as_a_plain_script():
    done = subprocess.run([sys.executable, str(LAB_DIR / "serving.py")], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr
