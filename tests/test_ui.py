"""``mlsysim ui``: the JSON answers in-process, the command's start, stop and busy port, and the page in a real
browser (Debian's Chromium driven by Playwright; its screenshot is the README's picture)."""
import json
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import cli, one_json

import mlsysim
from mlsysim.ui.server import make_server

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "docs" / "images" / "ui.png"
#: no network on the machines that run this: nothing the browser would fetch for itself
OFFLINE = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server():
    srv = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def get(srv, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{srv.server_port}{path}", timeout=30) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


# --- the JSON answers ------------------------------------------------------------------------------------------
def test_options_come_from_the_zoo(server):
    code, body = get(server, "/api/options")
    assert code == 200
    assert {"Llama3_8B", "ResNet50"} <= {m["key"] for m in body["models"]}
    assert "H100" in {d["key"] for d in body["devices"]}
    assert {"fp16", "fp8"} <= set(body["precisions"]) and "vllm" in {s["key"] for s in body["stacks"]}


def test_evaluate_is_the_eval_envelope_and_the_engine_latency(server):
    code, body = get(server, "/api/evaluate?model=Llama3_8B&hardware=H100&batch_size=8&precision=fp16")
    assert code == 200
    assert body["envelope"] == one_json(cli("eval", "Llama3_8B", "H100", "-b", "8", "-o", "json"))
    engine = mlsysim.Engine.solve("Llama3_8B", "H100", batch_size=8, precision="fp16")
    assert body["envelope"]["p_latency_ms"] == pytest.approx(engine.latency_s * 1e3)
    assert body["cards"][0]["value"] == mlsysim.units.format_si(engine.latency_s, "s")


def test_the_figures_answer_for_a_language_model_and_say_why_not_for_others(server):
    code, serving = get(server, "/api/serving?model=Llama3_8B&hardware=H100&batch_size=8")
    assert code == 200 and serving["chosen"]["label"].startswith("batch 8: TTFT")
    code, serving = get(server, "/api/serving?model=ResNet50&hardware=H100&batch_size=8")
    assert code == 200 and serving["note"] == "ResNet-50 is not a decoder language model: no serving curves"
    code, carbon = get(server, "/api/carbon?model=ResNet50&hardware=H100&batch_size=8")
    values = [b["value"] for b in carbon["bars"]]
    assert code == 200 and values == sorted(values) and values[0] > 0


@pytest.mark.parametrize("query, sentence", [
    ("model=NoSuchModel&hardware=H100&batch_size=8", "NoSuchModel"),
    ("model=Llama3_8B&hardware=H100&batch_size=lots", "batch size must be a whole number, got 'lots'"),
    ("model=Llama3_8B&hardware=V100&batch_size=8&precision=fp8", "no datasheet rate for fp8"),
])
def test_bad_input_is_a_400_with_one_sentence(server, query, sentence):
    code, body = get(server, f"/api/evaluate?{query}")
    assert code == 400 and list(body) == ["error"]
    assert sentence in body["error"] and "\n" not in body["error"] and "Traceback" not in body["error"]


def test_an_unknown_address_is_a_404_in_words(server):
    assert get(server, "/api/nothing") == (404, {"error": "there is no page or answer at /api/nothing"})


# --- the command -------------------------------------------------------------------------------------------------
def test_a_port_in_use_is_one_sentence_and_exit_1(server):
    out = cli("ui", "--port", server.server_port, "--no-browser")
    assert out.returncode == 1
    assert out.stderr == f"error: port {server.server_port} is in use on 127.0.0.1; choose another with --port " \
                         f"(0 picks a free one)\n"


def test_the_command_serves_the_page_and_ctrl_c_stops_it():
    proc = subprocess.Popen([sys.executable, "-m", "mlsysim", "-o", "json", "ui", "--port", "0", "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = json.loads(proc.stdout.readline())["url"]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=30) as reply:
            assert reply.status == 200 and b"<title>MLSys\xc2\xb7im</title>" in reply.read()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert proc.stderr.read() == "stopped\n"
    finally:
        if proc.poll() is None:
            proc.kill()


# --- the page in a browser ---------------------------------------------------------------------------------------
def test_the_page_draws_the_figures_and_follows_the_inputs(server):
    if not CHROMIUM.exists():
        pytest.skip("the browser test drives Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright "
                                                                 "(pip install playwright; no browser download)")
    problems = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=OFFLINE)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            page.set_default_timeout(15_000)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            page.wait_for_function("document.body.dataset.rev === '1'")

            latency = page.text_content("#card-latency .value")
            _, body = get(server, "/api/evaluate?model=Llama3_8B&hardware=H100&batch_size=8&precision=fp16")
            assert latency == body["cards"][0]["value"]
            star = page.locator("#roofline .step")
            before = (float(star.get_attribute("data-x")), float(star.get_attribute("data-y")))
            assert page.locator("#roofline .operators circle").count() > 3
            assert page.locator("#carbon .bar").count() == len(mlsysim.ui.figures.REGIONS)
            assert page.locator("#serving polyline").count() == 3            # TTFT, ITL, tokens/s
            assert problems == []
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)

            page.fill("#batch_size", "64")                                    # more work per weight read
            page.wait_for_function("document.body.dataset.rev === '2'")
            assert page.text_content("#card-latency .value") != latency
            after = (float(star.get_attribute("data-x")), float(star.get_attribute("data-y")))
            assert after[0] > before[0] and after[1] < before[1]            # right and up: SVG y grows downwards
            assert problems == []

            page.fill("#batch_size", "0")
            page.wait_for_function("document.body.dataset.rev === '3'")
            assert page.text_content("#error") == "batch size must be a whole number >= 1, got 0"
            assert page.is_hidden("#figures")
        finally:
            browser.close()
    # the browser itself logs the 400 answer as a failed load; the page adds nothing
    assert problems == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
