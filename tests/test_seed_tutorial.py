"""The seed tutorial ("Geography is a Systems Variable") runs as written against this package.

The seed file is a web rendering of the tutorial: every source line is followed by two lines
holding only '|' (four after a blank line), and leading whitespace is lost. Reading it back
drops the '|' lines, restores blank lines, and re-indents the body of each block-opening line
(``for ...:``) up to the next blank line, which is how the tutorial's loops are laid out.
"""
import contextlib
import io
import re
from pathlib import Path

import pytest

SEED = Path(__file__).parents[1].parent / "shared" / "seed" / "000_ed2134841ce02fe9.txt"
REGIONS = ("Quebec (Hydro)", "Norway (Hydro)", "US Average", "Poland (Coal)")


def source_lines(text: str) -> list[str]:
    """The rendered page as its source lines: separator runs of 4+ '|' lines become blank lines."""
    out, bars = [], 0
    for line in text.splitlines():
        if line == "|":
            bars += 1
            continue
        out += [""] * max(0, (bars - 2) // 2)
        out.append(line)
        bars = 0
    return out


def python_blocks(lines: list[str]) -> list[str]:
    """The ```{python} and ```python blocks, in order, with loop bodies re-indented."""
    blocks, block = [], None
    for line in lines:
        if block is None:
            if re.fullmatch(r"```(\{python\}|python)\s*", line):
                block = []
        elif line.strip() == "```":
            blocks.append("\n".join(reindent(block)))
            block = None
        else:
            block.append(line)
    return blocks


def reindent(lines: list[str]) -> list[str]:
    out, body = [], False
    for i, line in enumerate(lines):
        if not line.strip():
            body = False
        elif body and not line.startswith(" "):
            line = "    " + line
        out.append(line)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.rstrip().endswith(":") and not line.lstrip().startswith("#") and not nxt.startswith(" "):
            body = True
    return out


@pytest.fixture(scope="module")
def run():
    if not SEED.exists():
        pytest.skip(f"seed tutorial not found at {SEED}")
    blocks = python_blocks(source_lines(SEED.read_text(encoding="utf-8")))
    namespace, out = {"__name__": "__tutorial__"}, io.StringIO()
    with contextlib.redirect_stdout(out):
        for code in blocks:
            exec(compile(code, str(SEED), "exec"), namespace)
    return blocks, namespace, out.getvalue()


def test_every_block_runs(run):
    blocks, _, output = run
    assert len(blocks) == 6
    print(output)


def test_region_table_has_every_region(run):
    _, ns, output = run
    for name in REGIONS:
        assert name in output
        assert name in ns["region_results"]


def test_geography_beats_duration(run):
    """The story: the same 30-day job emits 30-50x more in Poland than in Quebec (the grids'
    generation-based life-cycle intensities times their PUEs), and 10 days in Poland emit more
    than 30 in Quebec."""
    _, ns, _ = run
    ratio = ns["carbon_p"] / ns["carbon_q"]
    print(f"Poland/Quebec carbon ratio, 30 days each: {ratio:.1f}x; "
          f"10 days Poland / 30 days Quebec: {ns['c_p'] / ns['c_q']:.1f}x")
    assert 30 <= ratio <= 50
    assert ns["c_p"] > ns["c_q"] > 0


def test_story_ratio_is_intensity_times_pue(run):
    """Same fleet, same days: the ratio is exactly the grids' intensity ratio times their PUE ratio."""
    from mlsysim import Infra

    _, ns, _ = run
    q, p = Infra.Grids.Quebec, Infra.Grids.Poland
    expected = (p.carbon_intensity_g_kwh * p.pue) / (q.carbon_intensity_g_kwh * q.pue)
    assert ns["carbon_p"] / ns["carbon_q"] == pytest.approx(expected)


def test_tco_rows_are_positive(run):
    _, ns, _ = run
    assert len(ns["rows"]) == 4
    assert all(float(row[1].strip("$").replace(",", "")) > 0 for row in ns["rows"])
