"""The serving category of the validation suite: every published LLM-serving measurement is
reported with its source and its error, and each metric is answered by the right ServingModel field."""
import json
import math

import pytest
import yaml
from conftest import cli

from mlsysim.serving.serving import ServingModel
from mlsysim.validation import load_anchors, run, summarize
from mlsysim.validation.runner import _SERVING_KEYS, SERVING_DATA, SERVING_METRICS


@pytest.fixture(scope="module")
def results():
    return run("serving")


def _write(tmp_path, anchors, name="anchors.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"anchors": anchors}))
    return path


def _anchor(id, metric, unit, **config):
    return {"id": id, "category": "serving", "model": "Llama3_8B", "hardware": "H100", "config": config,
            "metric": metric, "measured": {"value": 1.0, "unit": unit}, "source": "synthetic"}


# --- the data file ---------------------------------------------------------------------------------
def test_every_serving_anchor_is_a_sourced_measurement_with_a_known_schema():
    anchors = yaml.safe_load(SERVING_DATA.read_text())["anchors"]
    assert len(anchors) >= 20
    for a in anchors:
        assert a["category"] == "serving" and a["metric"] in SERVING_METRICS, a["id"]
        assert a["source"] and a["url"].startswith("https://"), a["id"]
        assert a["measured"]["value"] > 0 and a["measured"]["unit"] in ("tokens/s", "ms", "s"), a["id"]
        assert set(a["config"]) <= set(_SERVING_KEYS), a["id"]
        assert "prompt_len" in a["config"], a["id"]
        if a["metric"] == "output_tokens_per_s":
            assert a["config"]["throughput_kind"] in ("end_to_end", "steady_decode"), a["id"]
        if a["config"].get("tp", 1) > 1 and a["metric"] == "output_tokens_per_s":
            assert a["config"].get("throughput_per") in ("gpu", "group"), f"{a['id']}: say per GPU or per group"


def test_the_default_load_reads_both_files_without_duplicate_ids():
    every = load_anchors()
    ids = [a["id"] for a in every]
    assert len(ids) == len(set(ids))
    assert {a["category"] for a in every} >= {"serving", "single_device_inference"}
    assert len(load_anchors("serving")) == len(yaml.safe_load(SERVING_DATA.read_text())["anchors"])


def test_a_duplicate_id_across_files_is_refused(tmp_path):
    _write(tmp_path, [_anchor("same", "ttft", "ms", prompt_len=128)], "a.yaml")
    _write(tmp_path, [_anchor("same", "ttft", "ms", prompt_len=256)], "b.yaml")
    with pytest.raises(ValueError, match="same"):
        load_anchors(path=tmp_path)


# --- the real anchors ------------------------------------------------------------------------------
def test_every_serving_anchor_is_reported(results):
    assert {r.id for r in results} == {a["id"] for a in load_anchors("serving")}
    assert all(r.category == "serving" for r in results)
    for r in results:
        assert (r.predicted is None) != (r.failure is None), r.id   # a number or a reason, never neither


def test_serving_errors_follow_the_convention(results):
    for r in results:
        if r.predicted is not None:
            assert r.predicted > 0 and math.isfinite(r.error), r.id
            assert r.error == pytest.approx((r.predicted - r.measured) / r.measured)


def test_serving_summary_counts_every_anchor(results):
    s = summarize(results)["serving"]
    assert s["anchors"] == len(results) and s["predicted"] <= s["anchors"]
    if s["predicted"]:
        assert 0 <= s["median_abs_error"] <= s["max_abs_error"] and 0 <= s["within_25pct"] <= 1


def test_measured_units_are_converted_to_si(results):
    by_id = {r.id: r for r in results}
    ttft = by_id["trtllm_v0.9_llama2_7b_fp8_h100_ttft_in2048"]
    assert ttft.measured == pytest.approx(30.8e-3) and ttft.unit == "ms"
    lat = by_id["vllm_llama3.1_405b_fp8_mi300x_tp8_bs1_in128_out128"]
    assert lat.measured == pytest.approx(3.530) and lat.unit == "s"


# --- dispatch: each metric to its ServingModel field ------------------------------------------------
def test_each_metric_reads_the_right_serving_field(tmp_path):
    base = dict(batch_size=8, prompt_len=256, precision="fp16", tp=2, stack="compiled")
    anchors = [
        _anchor("ttft", "ttft", "ms", **base),
        _anchor("itl", "itl", "ms", **base, output_len=64),
        _anchor("req", "request_latency", "s", **base, output_len=64),
        _anchor("e2e", "output_tokens_per_s", "tokens/s", **base, output_len=64, throughput_kind="end_to_end"),
        _anchor("e2e_group", "output_tokens_per_s", "tokens/s", **base, output_len=64,
                throughput_kind="end_to_end", throughput_per="group"),
        _anchor("steady", "output_tokens_per_s", "tokens/s", **base, output_len=64,
                throughput_kind="steady_decode"),
        _anchor("prefill", "prompt_tokens_per_s", "tokens/s", **base),
    ]
    got = {r.id: r for r in run(path=_write(tmp_path, anchors))}
    assert all(r.failure is None for r in got.values()), {k: r.failure for k, r in got.items()}

    sm = ServingModel()
    full = sm.solve("Llama3_8B", "H100", batch_size=8, precision="fp16", prompt_len=256, output_len=64, tp=2, pp=1,
                    stack="compiled")
    prompt_only = sm.solve("Llama3_8B", "H100", batch_size=8, precision="fp16", prompt_len=256, tp=2, pp=1,
                           stack="compiled")
    assert got["ttft"].predicted == pytest.approx(prompt_only.ttft_s)
    assert got["itl"].predicted == pytest.approx(full.itl_s)
    assert got["req"].predicted == pytest.approx(full.request_latency_s)
    assert got["e2e_group"].predicted == pytest.approx(8 * 64 / full.request_latency_s)
    assert got["e2e"].predicted == pytest.approx(8 * 64 / full.request_latency_s / 2)     # per GPU of TP 2
    assert got["steady"].predicted == pytest.approx(full.tokens_per_s / 2)
    assert got["prefill"].predicted == pytest.approx(8 * 256 / prompt_only.ttft_s)
    # end to end includes the prefill, steady decode does not
    assert got["e2e"].predicted < got["steady"].predicted
    assert got["req"].bound == full.binding


def test_single_device_anchors_still_go_to_the_engine(tmp_path):
    from mlsysim import Engine

    engine = {"id": "cnn", "category": "single_device_inference", "model": "ResNet50", "hardware": "H100",
              "config": {"batch_size": 8, "precision": "int8", "stack": "compiled"}, "metric": "throughput",
              "measured": {"value": 1000, "unit": "samples/s"}, "source": "synthetic"}
    serving = _anchor("llm", "ttft", "ms", batch_size=1, prompt_len=128, precision="fp16")
    got = {r.id: r for r in run(path=_write(tmp_path, [engine, serving]))}
    assert got["cnn"].predicted == pytest.approx(float(Engine.solve("ResNet50", "H100", batch_size=8,
                                                                    precision="int8", stack="compiled").throughput))
    assert got["llm"].predicted is not None and got["llm"].category == "serving"


@pytest.mark.parametrize("anchor, reason", [
    (_anchor("k", "ttft", "ms", prompt_len=128, warp_drive=9), "warp_drive"),
    (_anchor("t", "output_tokens_per_s", "tokens/s", prompt_len=128, output_len=128), "throughput_kind"),
    (_anchor("p", "output_tokens_per_s", "tokens/s", prompt_len=128, output_len=128, throughput_kind="end_to_end",
             throughput_per="rack"), "throughput_per"),
    (_anchor("o", "request_latency", "s", prompt_len=128), "output_len"),
    (_anchor("n", "ttft", "ms", batch_size=1), "prompt_len"),
    (_anchor("s", "ttft", "ms", prompt_len=128, scenario="server"), "Server"),
    (_anchor("f", "ttft", "ms", prompt_len=2048, batch_size=4096, precision="fp16"), "not to fit"),
    (_anchor("m", "tokens_per_joule", "tokens/s", prompt_len=128), "unknown metric"),
    (dict(_anchor("x", "ttft", "ms", prompt_len=128), model="NoSuchModel"), "NoSuchModel"),
    (dict(_anchor("r", "ttft", "ms", prompt_len=128), model="ResNet50"), "decoder"),
])
def test_an_unpredictable_serving_anchor_is_reported_with_its_reason(tmp_path, anchor, reason):
    (res,) = run(path=_write(tmp_path, [anchor]))
    assert res.predicted is None and res.error is None
    assert reason in res.failure


def test_a_failure_does_not_hide_the_other_anchors(tmp_path):
    good = _anchor("good", "ttft", "ms", prompt_len=128)
    bad = _anchor("bad", "ttft", "ms", prompt_len=128, warp_drive=9)
    res = run(path=_write(tmp_path, [bad, good]))
    assert [r.id for r in res] == ["bad", "good"]
    assert res[0].predicted is None and res[1].predicted is not None
    s = summarize(res)["serving"]
    assert s["anchors"] == 2 and s["predicted"] == 1


# --- the command line --------------------------------------------------------------------------------
def _mlsysim(*args):
    return cli(*args)


def test_validate_serving_json_end_to_end():
    out = _mlsysim("validate", "--category", "serving", "-o", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["status"] == "ok" and set(data["summary"]) == {"serving"}
    ids = {a["id"] for a in data["anchors"]}
    assert ids == {a["id"] for a in load_anchors("serving")}
    for a in data["anchors"]:
        assert a["category"] == "serving" and a["source"] and a["url"]
        if a["predicted_si"] is not None:
            assert a["error"] == pytest.approx((a["predicted_si"] - a["measured_si"]) / a["measured_si"])
        else:
            assert a["failure"]
    assert data["summary"]["serving"]["anchors"] == len(data["anchors"])


def test_validate_serving_text_lists_every_anchor_and_the_summary():
    out = _mlsysim("validate", "--category", "serving")
    assert out.returncode == 0, out.stderr
    for a in load_anchors("serving"):
        assert a["id"] in out.stdout
    assert "serving:" in out.stdout and "median |error|" in out.stdout
