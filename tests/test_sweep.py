"""``mlsysim sweep``: the grid a sweep file spans, rows equal to ``mlsysim eval``'s, the Pareto front, the table on
disk, one-sentence refusals, and the Ray backend's table equal to the in-process one."""
import csv
import json
import math
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from conftest import cli as mlsysim
from conftest import one_json
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsysim import sweep as package
from mlsysim.cli.output import dumps
from mlsysim.errors import InputError
from mlsysim.sweep import evaluate
from mlsysim.sweep.pareto import pareto_front
from mlsysim.sweep.runner import run_sweep
from mlsysim.sweep.spec import parse_sweep
from mlsysim.sweep.table import write_table

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PLAN = {"version": "1.0", "name": "decode", "workload": {"name": "Llama3_8B", "seq_len": 1024},
        "hardware": {"name": "H100", "precision": "bf16"}, "ops": {"region": "Quebec", "duration_days": 30}}


def write(folder: Path, sweep: dict | str, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(sweep if isinstance(sweep, str) else yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return path


def same(row: dict, reference: dict) -> None:
    """``row`` holds every figure of ``reference`` (an eval JSON envelope): numbers to 1e-12, the rest exactly."""
    row = json.loads(dumps(row))
    for key, want in reference.items():
        got = row[key]
        if isinstance(want, float) and isinstance(got, float):
            assert got == pytest.approx(want, rel=1e-12), key
        else:
            assert got == want, key


# --- the grid -------------------------------------------------------------------------------------------------
def test_a_3x3_grid_gives_9_rows_in_grid_order():
    sweep = parse_sweep({"plan": PLAN, "axes": {"hardware.name": ["H100", "A100", "B200"],
                                                "workload.batch_size": [1, 8, 64]}})
    rows = run_sweep(sweep)
    assert len(rows) == 9 and all(row["status"] == "ok" for row in rows)
    assert [(r["hardware.name"], r["workload.batch_size"]) for r in rows] == \
        [(h, b) for h in ("H100", "A100", "B200") for b in (1, 8, 64)]
    assert len({tuple(row) for row in rows}) == 1               # every row has the same columns


def test_ranges_are_linear_or_log_and_whole_where_the_key_is():
    axes = parse_sweep({"plan": PLAN, "axes": {
        "workload.batch_size": {"start": 1, "stop": 256, "num": 9, "scale": "log"},
        "workload.seq_len": {"start": 1, "stop": 4, "num": 10},
        "hardware.efficiency": {"start": 0.25, "stop": 0.5, "num": 3}}}).axes
    assert axes["workload.batch_size"] == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert axes["workload.seq_len"] == [1, 2, 3, 4]                 # rounded, repeats dropped
    assert axes["hardware.efficiency"] == [0.25, 0.375, 0.5]


def test_the_documented_sweep_file_runs(tmp_path):
    doc = package.__doc__
    block = doc[doc.index("  plan:"):doc.index("\n\n", doc.index("  plan:"))]
    (tmp_path / "single_gpu_inference.yaml").write_text((EXAMPLES / "single_gpu_inference.yaml").read_text())
    data = one_json(mlsysim("sweep", write(tmp_path, textwrap.dedent(block)), "-o", "json"))
    assert data["points"] == len(data["rows"]) == 81
    assert data["front"] and all(row["status"] == "ok" for row in data["front"])


# --- rows equal `mlsysim eval` ----------------------------------------------------------------------------
def test_rows_solved_as_arrays_equal_per_point_evals(tmp_path, monkeypatch):
    plan = {**PLAN, "constraints": {"assert": [{"metric": "performance.latency_ms", "max": 20}]}}
    sweep = parse_sweep({"plan": plan, "axes": {"hardware.name": ["H100", "A100"],
                                                "workload.batch_size": [1, 16, 512],
                                                "workload.seq_len": [1024, 16384]}})
    solved = []
    lenses = evaluate._lenses
    monkeypatch.setattr(evaluate, "_lenses", lambda p, points: solved.extend(points) or lenses(p, points))
    rows = run_sweep(sweep)
    assert len(solved) == len(rows) == 12                          # every point through an array solve
    assert {row["status"] for row in rows} == {"ok", "infeasible", "sla_failed"}
    for values, row in zip(sweep.points(), rows):
        out = mlsysim("eval", write(tmp_path, sweep.point_plan(values), "point.yaml"), "-o", "json")
        same(row, one_json(out))


def test_a_point_that_fails_is_a_row_with_its_reason():
    sweep = parse_sweep({"plan": {**PLAN, "hardware": {"name": "A100"}},
                         "axes": {"hardware.precision": ["bf16", "fp8"], "workload.batch_size": [0, 8]}})
    rows = {(r["hardware.precision"], r["workload.batch_size"]): r for r in run_sweep(sweep)}
    assert rows["bf16", 8]["status"] == "ok" and rows["bf16", 8]["reason"] is None
    assert rows["bf16", 0]["status"] == "error" and "batch_size" in rows["bf16", 0]["reason"]
    assert rows["fp8", 8]["status"] == "error" and "fp8" in rows["fp8", 8]["reason"]
    assert rows["fp8", 8]["p_latency_ms"] is None


# --- the Pareto front ---------------------------------------------------------------------------------------
def dominates(a, b, objectives) -> bool:
    sign = {"min": 1, "max": -1}
    pairs = [(sign[s] * a[c], sign[s] * b[c]) for c, s in objectives.items()]
    return all(x <= y for x, y in pairs) and any(x < y for x, y in pairs)


def test_the_front_of_a_known_table():
    rows = [{"status": "ok", "t": 1.0, "c": 9.0}, {"status": "ok", "t": 2.0, "c": 2.0},
            {"status": "ok", "t": 3.0, "c": 3.0}, {"status": "ok", "t": 9.0, "c": 1.0},
            {"status": "infeasible", "t": 0.1, "c": 0.1}, {"status": "ok", "t": 2.0, "c": 2.0}]
    assert pareto_front(rows, {"t": "min", "c": "min"}) == [rows[0], rows[1], rows[3], rows[5]]
    assert pareto_front(rows, {"t": "max", "c": "min"}) == [rows[3]]


values = st.one_of(st.integers(0, 4).map(float), st.just(math.nan), st.none())


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.fixed_dictionaries({"status": st.sampled_from(["ok", "ok", "ok", "infeasible"]),
                                       "a": values, "b": values, "c": values}), min_size=1, max_size=30),
       st.dictionaries(st.sampled_from("abc"), st.sampled_from(["min", "max"]), min_size=1))
def test_the_front_is_every_non_dominated_row(rows, objectives):
    rows[0].update({k: 1.0 for k in objectives})                  # every objective a column with a number
    front = pareto_front(rows, objectives)
    eligible = [r for r in rows if r["status"] == "ok" and all(isinstance(r[c], float) and r[c] == r[c]
                                                               for c in objectives)]
    assert all(any(r is f for f in front) == (not any(dominates(o, r, objectives) for o in eligible))
               for r in eligible)
    assert all(any(f is r for r in eligible) for f in front)
    for c, sense in objectives.items():
        best = (min if sense == "min" else max)(r[c] for r in eligible) if eligible else None
        assert not eligible or any(f[c] == best for f in front)


# --- the table on disk --------------------------------------------------------------------------------------
def test_csv_and_parquet_read_back(tmp_path):
    sweep = parse_sweep({"plan": PLAN, "axes": {"hardware.name": ["H100", "A100"], "workload.batch_size": [1, 8]}})
    rows = run_sweep(sweep)
    write_table(rows, tmp_path / "t.csv")
    with open(tmp_path / "t.csv", newline="", encoding="utf-8") as fh:
        back = list(csv.DictReader(fh))
    assert list(back[0]) == list(rows[0]) and len(back) == len(rows)
    for row, read in zip(rows, back):
        assert float(read["p_latency_ms"]) == row["p_latency_ms"] and read["hardware.name"] == row["hardware.name"]
        assert read["reason"] == "" and json.loads(read["violations"]) == row["violations"]
    pq = pytest.importorskip("pyarrow.parquet")
    write_table(rows, tmp_path / "t.parquet")
    read = pq.read_table(tmp_path / "t.parquet").to_pylist()
    assert [r["p_latency_ms"] for r in read] == [r["p_latency_ms"] for r in rows]
    assert [r["workload.batch_size"] for r in read] == [1, 8, 1, 8]


def test_the_command_writes_the_table_and_front(tmp_path):
    sweep = write(tmp_path, {"plan": PLAN, "axes": {"hardware.name": ["H100", "A100", "B200"],
                                                    "workload.batch_size": [1, 64]},
                             "objectives": {"p_latency_ms": "min", "m_tco_usd": "min"}})
    out = mlsysim("sweep", sweep, "--out", tmp_path / "t.csv", "--pareto", tmp_path / "p.csv")
    assert out.returncode == 0, out.stderr
    assert "6 grid points" in out.stdout and "Pareto front over p_latency_ms (min), m_tco_usd (min)" in out.stdout
    front = list(csv.DictReader(open(tmp_path / "p.csv", encoding="utf-8")))
    assert front and all(r["status"] == "ok" for r in front)
    assert len(list(csv.DictReader(open(tmp_path / "t.csv", encoding="utf-8")))) == 6
    data = one_json(mlsysim("sweep", sweep, "-o", "json"))
    assert data["status"] == "ok" and len(data["rows"]) == 6 and len(data["front"]) == len(front)


# --- refusals -------------------------------------------------------------------------------------------------
GOOD = "plan: {version: '1.0', name: t, workload: {name: Llama3_8B}, hardware: {name: H100}}\n"


@pytest.mark.parametrize("text, words", [
    (GOOD + "axes: {operations.region: [Quebec]}\n", "axis 'operations.region' is no plan key"),
    (GOOD + "axes: {workload.batchsize: [1]}\n", "the keys of 'workload' are"),
    (GOOD + "axes: {}\n", "'axes' is empty"),
    (GOOD + "axes: {workload.batch_size: []}\n", "has no values"),
    (GOOD + "axes: {workload.batch_size: {start: 0, stop: 8, num: 4, scale: log}}\n", "log range needs start"),
    (GOOD + "axes: {workload.batch_size: {start: 1, stop: 8, num: 0}}\n", "range num must be"),
    (GOOD + "axes: {workload.batch_size: {start: 1, stop: 8}}\n", "a range needs num"),
    (GOOD + "axes: {hardware.name: {start: 1, stop: 8, num: 2}}\n", "a range needs a numeric key"),
    (GOOD + "axes: {workload: [{name: Llama3_8B}], workload.batch_size: [1]}\n", "overlap"),
    (GOOD + "axes: {workload.batch_size: [1]}\nobjectives: {p_latency: min}\n", "objective 'p_latency' is no"),
    (GOOD + "axes: {workload.batch_size: [1]}\nobjectives: {p_latency_ms: least}\n", "must be min or max"),
    (GOOD + "axes: {workload.batch_size: [1]}\nextra: 1\n", "unknown key 'extra'"),
    ("plan: missing.yaml\naxes: {workload.batch_size: [1]}\n", "plan file"),
    ("axes: {workload.batch_size: [1]}\n", "missing required key 'plan'"),
    ("plan: {version: '1.0', name: t, workload: {name: NoSuchModel}, hardware: {name: H100}}\n"
     "axes: {workload.batch_size: [1, 2]}\n", "no grid point is a valid plan"),
])
def test_a_bad_sweep_file_is_one_sentence(tmp_path, text, words):
    for fmt in ("text", "json"):
        out = mlsysim("sweep", write(tmp_path, text), "-o", fmt)
        assert out.returncode == 1 and words in out.stderr, out.stderr
        assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: ")
    assert one_json(out)["status"] == "error"


def test_bad_options_are_one_sentence(tmp_path, monkeypatch):
    sweep = write(tmp_path, GOOD + "axes: {workload.batch_size: [1]}\n")
    for args, words in ((("--out", tmp_path / "t.txt"), "a .csv or .parquet"),
                        (("--out", tmp_path / "no" / "t.csv"), "there is no folder"),
                        (("--pareto", tmp_path / "p.csv"), "--pareto needs objectives"),
                        (("--backend", "dask"), "unknown backend 'dask'"),
                        (("--address", "auto"), "give it with the ray backend"),
                        ((), "not found")):
        out = mlsysim("sweep", sweep if args else tmp_path / "none.yaml", *args)
        assert out.returncode == 1 and words in out.stderr, (args, out.stderr)
    monkeypatch.setitem(sys.modules, "ray", None)                 # Ray not installed
    out = mlsysim("sweep", sweep, "--backend", "ray")
    assert out.returncode == 1 and "pip install 'mlsysim[ray]'" in out.stderr
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    out = mlsysim("sweep", sweep, "--out", tmp_path / "t.parquet")
    assert out.returncode == 1 and "pip install 'mlsysim[parquet]'" in out.stderr
    with pytest.raises(InputError, match="chunk size"):
        run_sweep(parse_sweep({"plan": PLAN, "axes": {"workload.batch_size": [1]}}), chunk_size=0)


# --- Ray --------------------------------------------------------------------------------------------------------
def test_ray_table_equals_the_in_process_table(tmp_path):
    ray = pytest.importorskip("ray")
    sweep = write(tmp_path, {"plan": PLAN, "axes": {"hardware.accelerators": [1, 8],
                                                    "hardware.precision": ["bf16", "fp8"],
                                                    "workload.batch_size": [1, 8, 64]},
                             "objectives": {"p_latency_ms": "min", "m_tco_usd": "min"}})
    here = mlsysim("sweep", sweep, "--chunk-size", 5, "-o", "json")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        there = mlsysim("sweep", sweep, "--chunk-size", 5, "--backend", "ray", "-o", "json")
    finally:
        ray.shutdown()
    assert here.returncode == there.returncode == 0, there.stderr
    assert there.stdout.replace('"backend": "ray"', '"backend": "inprocess"') == here.stdout
    assert len(one_json(here)["rows"]) == 12
