"""The validation suite reports every anchor honestly, with its source and error."""
import math

import pytest
import yaml

from mlsysim.validation import load_anchors, run, summarize
from mlsysim.validation.runner import DATA


@pytest.fixture(scope="module")
def results():
    return run()


def test_every_anchor_is_reported(results):
    assert len(results) == len(load_anchors()) >= 20
    assert {r.id for r in results} == {a["id"] for a in load_anchors()}


def test_every_anchor_is_a_sourced_measurement():
    for a in yaml.safe_load(open(DATA))["anchors"]:
        assert a["source"] and a["category"] and a["metric"] in ("throughput", "latency"), a["id"]
        assert a["measured"]["value"] > 0, a["id"]


def test_errors_follow_the_convention(results):
    for r in results:
        if r.predicted is not None:
            assert r.error == pytest.approx((r.predicted - r.measured) / r.measured)
            assert math.isfinite(r.error)


def test_summary_counts_every_category(results):
    summary = summarize(results)
    assert sum(s["anchors"] for s in summary.values()) == len(results)
    for s in summary.values():
        assert s["predicted"] <= s["anchors"]
        if s["predicted"]:
            assert 0 <= s["median_abs_error"] <= s["max_abs_error"]


def test_an_unpredictable_anchor_is_reported_not_dropped(tmp_path):
    bad = {"anchors": [{"id": "x", "category": "c", "model": "NoSuchModel", "hardware": "H100", "config": {},
                        "metric": "latency", "measured": {"value": 1.0, "unit": "ms"}, "source": "test"},
                       {"id": "y", "category": "c", "model": "ResNet50", "hardware": "H100",
                        "config": {"warp_drive": 9}, "metric": "latency", "measured": {"value": 1.0, "unit": "ms"},
                        "source": "test"}]}
    path = tmp_path / "anchors.yaml"
    path.write_text(yaml.safe_dump(bad))
    res = run(path=path)
    assert [r.predicted for r in res] == [None, None]
    assert "NoSuchModel" in res[0].failure and "warp_drive" in res[1].failure


def test_the_committed_accuracy_report_is_the_commands_output():
    """ACCURACY.md is written by `mlsysim validate -o markdown` and never by hand: regenerate it with that
    command when a prediction or an anchor changes."""
    from pathlib import Path

    from conftest import cli

    out = cli("validate", "-o", "markdown")
    assert out.returncode == 0, out.stderr
    committed = (Path(__file__).resolve().parent.parent / "ACCURACY.md").read_text(encoding="utf-8")
    assert out.stdout == committed, "ACCURACY.md is stale: run `mlsysim validate -o markdown > ACCURACY.md`"


def test_the_report_has_every_category_and_anchor(results):
    from mlsysim.validation.report import markdown_report

    text = markdown_report(results, summarize(results))
    assert all(f"\n## {cat}\n" in text for cat in {r.category for r in results})
    assert all(f"| {r.id} |" in text for r in results)
    import re

    rows = [line for line in text.splitlines() if line.startswith("| ")]
    widths = {len(re.findall(r"(?<!\\)\|", line)) for line in rows}
    assert widths == {10, 9}              # summary rows have 9 cells, anchor rows 8: none broken by a stray bar
