"""Plots: the roofline and the scorecard are written as real PNG/SVG files; matplotlib stays optional."""
import subprocess
import sys
from types import SimpleNamespace

import pytest

import mlsysim
from mlsysim.errors import InputError, MlsysimError, UnsupportedPrecisionError


@pytest.fixture
def plt():
    plt = pytest.importorskip("matplotlib.pyplot")
    yield plt
    plt.close("all")


@pytest.fixture(scope="module")
def decode():
    return mlsysim.Engine.solve(mlsysim.Models.Llama3_8B, mlsysim.Hardware.H100, batch_size=1)


@pytest.fixture(scope="module")
def resnet():
    return mlsysim.Engine.solve(mlsysim.Models.ResNet50, mlsysim.Hardware.H100, batch_size=32)


def _evaluation():
    level = lambda name, status, **metrics: SimpleNamespace(level_name=name, status=status,  # noqa: E731
                                                            summary=f"{name} says {status}", metrics=metrics)
    return SimpleNamespace(scenario_name="toy", feasibility=level("Feasibility", "PASS", memory_used_gb=18.2),
                           performance=level("Performance", "FAIL", latency_ms=6.6, bottleneck="Memory"),
                           macro=level("Macro", "SKIPPED"))


def _operator_points(ax) -> int:
    return sum(len(c.get_offsets()) for c in ax.collections if c.get_gid() == "operators")


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_figures_are_written_in_the_format_the_suffix_names(plt, decode, tmp_path, suffix):
    from mlsysim.viz import plot_evaluation_scorecard, plot_roofline

    for name, draw in [("roofline", lambda p: plot_roofline(mlsysim.Hardware.H100, decode, path=p)),
                       ("scorecard", lambda p: plot_evaluation_scorecard(_evaluation(), path=p))]:
        path = tmp_path / f"{name}{suffix}"
        draw(path)
        data = path.read_bytes()
        assert len(data) > 1000
        assert data.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in data


def test_roofline_is_log_log_with_one_point_per_timed_operator(plt, decode, resnet):
    from mlsysim.viz import plot_roofline

    fig = plot_roofline("H100", decode)
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert _operator_points(ax) == sum(op.time_s > 0 for op in decode.operators)
    assert ax.get_legend() is not None

    both = plot_roofline(mlsysim.Hardware.H100, [decode, resnet], precision="fp8").axes[0]
    assert _operator_points(both) == sum(op.time_s > 0 for p in (decode, resnet) for op in p.operators)
    assert len([c for c in both.collections if c.get_gid() == "step"]) == 2


def test_roofline_draws_into_a_given_axes_and_checks_its_inputs(plt, decode):
    from mlsysim.viz import plot_roofline

    fig, ax = plt.subplots()
    assert plot_roofline(mlsysim.Hardware.H100, ax=ax, title="bare") is fig
    assert ax.get_title() == "bare" and _operator_points(ax) == 0
    with pytest.raises(UnsupportedPrecisionError):
        plot_roofline(mlsysim.Hardware.T4, precision="fp8")
    with pytest.raises(InputError, match=r"\.png or \.svg"):
        plot_roofline(mlsysim.Hardware.H100, decode, path="roofline.pdf")


def test_scorecard_shows_each_lens_and_its_verdict(plt):
    from mlsysim.viz import plot_evaluation_scorecard

    texts = {t.get_text() for t in plot_evaluation_scorecard(_evaluation()).axes[0].texts}
    assert {"Feasibility", "Performance", "Macro", "PASS", "FAIL", "SKIPPED", "latency ms", "Memory"} <= texts


def test_import_mlsysim_does_not_import_matplotlib():
    code = "import sys, mlsysim, mlsysim.viz; mlsysim.Engine; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_missing_viz_extra_is_one_clear_error(monkeypatch, decode):
    from mlsysim.viz import plot_evaluation_scorecard, plot_roofline

    monkeypatch.setitem(sys.modules, "matplotlib", None)        # `import matplotlib` now raises ImportError
    for draw in (lambda: plot_roofline("H100", decode), lambda: plot_evaluation_scorecard(_evaluation())):
        with pytest.raises(MlsysimError, match=r"plots need the viz extra: pip install 'mlsysim\[viz\]'"):
            draw()
