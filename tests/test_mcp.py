"""``mlsysim mcp``: each tool answers with the JSON the command line prints for the same inputs, bad input is a
tool error holding the CLI's one sentence, and an agent can launch the server over stdio. Driven by the SDK's own
client (in process, and once as a subprocess), without mocks."""
import json
import sys
from pathlib import Path

import anyio
import pytest
from conftest import cli, one_json

pytest.importorskip("mcp.server.mcpserver", reason="the mcp extra (mcp >= 2) is not installed")

from mcp import Client, ClientSession, StdioServerParameters, stdio_client  # noqa: E402

from mlsysim.mcp_server import server  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOOLS = {"evaluate", "serve", "optimize", "zoo", "validate", "explain"}


def call(name: str, arguments: dict):
    """One tool call through the SDK's client, connected to the server object in this process."""
    async def go():
        async with Client(server) as client:
            return await client.call_tool(name, arguments)
    return anyio.run(go)


def answer(result) -> dict:
    """A tool's JSON answer: the text it carries and its structured content, which must agree."""
    assert not result.is_error, result.content
    data = json.loads(result.content[0].text)
    assert data == result.structured_content
    return data


def test_lists_the_six_tools_with_described_input_schemas():
    async def go():
        async with Client(server) as client:
            return (await client.list_tools()).tools
    tools = {t.name: t for t in anyio.run(go)}
    assert set(tools) == TOOLS
    for tool in tools.values():
        schema = tool.input_schema
        assert schema["type"] == "object" and tool.description
        assert all(p.get("description") for p in schema["properties"].values()), tool.name
    assert set(tools["evaluate"].input_schema["required"]) == {"model"}
    assert {"batch_size", "seq_len", "precision", "training", "stack", "tp", "pp"} <= set(
        tools["evaluate"].input_schema["properties"])
    assert {"tp", "pp", "kv_precision", "qps", "p99_ms"} <= set(tools["serve"].input_schema["properties"])


CASES = [
    ("evaluate", {"model": "Llama3_8B", "hardware": "H100", "batch_size": 8}, ["eval", "Llama3_8B", "H100", "-b", "8"]),
    ("evaluate", {"model": "Llama3_70B", "hardware": "H100", "accelerators": 64, "training": True, "tp": 8, "pp": 4,
                  "batch_size": 64, "zero": 1, "recompute": "selective", "region": "Quebec", "duration_days": 14},
     ["eval", "Llama3_70B", "H100", "--accelerators", "64", "--training", "--tp", "8", "--pp", "4", "-b", "64",
      "--zero", "1", "--recompute", "selective", "--region", "Quebec", "--duration-days", "14"]),
    ("serve", {"model": "Llama3_70B", "hardware": "H100", "tp": 8, "kv_precision": "fp8", "output_len": 256},
     ["serve", "Llama3_70B", "H100", "--tp", "8", "--kv-precision", "fp8", "--output-len", "256"]),
    ("serve", {"model": "Llama3_8B", "hardware": "H100", "qps": 20, "p99_ms": 2000, "output_len": 256},
     ["serve", "Llama3_8B", "H100", "--qps", "20", "--p99", "2000", "--output-len", "256"]),
    ("optimize", {"search": "batching", "target": "Llama3_8B", "hardware": "H100", "sla_ms": 2000, "qps": 20,
                  "replicas": 2, "output_len": 128},
     ["optimize", "batching", "Llama3_8B", "H100", "--sla-ms", "2000", "--qps", "20", "--replicas", "2",
      "--output-len", "128"]),
    ("optimize", {"search": "placement", "target": "examples/training_64_gpus.yaml", "carbon_tax": 150,
                  "regions": ["Quebec", "Poland"]},
     ["optimize", "placement", "examples/training_64_gpus.yaml", "--carbon-tax", "150", "--regions", "Quebec,Poland"]),
    ("optimize", {"search": "parallelism", "target": "Llama3_70B", "hardware": "H100", "accelerators": 64,
                  "global_batch": 64, "seq_len": 4096, "tp": [4, 8], "zero": [1], "top": 3},
     ["optimize", "parallelism", "Llama3_70B", "H100", "--accelerators", "64", "--global-batch", "64", "--seq-len",
      "4096", "--tp", "4,8", "--zero", "1", "--top", "3"]),
    ("zoo", {"category": "grids", "sort_by": "pue"}, ["zoo", "grids", "--sort-by", "pue"]),
    ("validate", {"category": "serving"}, ["validate", "--category", "serving"]),
    ("explain", {"model": "Llama3_8B", "hardware": ["A100", "H100", "B200"], "batch_size": 8},
     ["explain", "Llama3_8B", "A100", "H100", "B200", "-b", "8"]),
]


@pytest.mark.parametrize("tool, arguments, argv", CASES, ids=lambda c: c if isinstance(c, str) else None)
def test_each_tool_answers_with_the_command_lines_json(tool, arguments, argv, monkeypatch):
    monkeypatch.chdir(ROOT)
    expected = cli(*argv, "-o", "json")
    assert expected.returncode in (0, 2, 3), expected.stderr
    got, want = answer(call(tool, arguments)), json.loads(expected.stdout)
    for data in (got, want):
        data.pop("layouts_per_s", None)                 # the parallelism search's own speed: a clock reading
    assert got == want


def test_zoo_gives_a_device_with_its_source():
    data = answer(call("zoo", {"category": "hardware", "name": "H100"}))
    assert data["key"] == "H100" and data["entry"]["memory"] and "datasheet" in data["source"]
    assert data == one_json(cli("zoo", "hardware", "H100", "-o", "json"))


def test_a_model_that_does_not_fit_is_an_answer_not_an_error():
    expected = cli("eval", "Llama3_70B", "L4", "-o", "json")
    assert expected.returncode == 2
    data = answer(call("evaluate", {"model": "Llama3_70B", "hardware": "L4"}))
    assert data["status"] == "infeasible" and data == json.loads(expected.stdout)


@pytest.mark.parametrize("tool, arguments", [
    ("evaluate", {"model": "Llama3_8", "hardware": "H100"}),
    ("optimize", {"search": "batching", "target": "Llama3_8B", "hardware": "H100", "sla_ms": 2000, "qps": 20,
                  "carbon_tax": 150}),                          # an option of another search: refused, not dropped
    ("evaluate", {"model": "Llama3_8B", "hardware": "H100", "stack": "--training"}),
])
def test_bad_input_is_a_tool_error_with_the_one_sentence(tool, arguments):
    result = call(tool, arguments)
    text = result.content[0].text
    assert result.is_error and "\n" not in text and "Traceback" not in text
    if tool == "evaluate" and arguments["model"] == "Llama3_8":
        assert text == one_json(cli("eval", "Llama3_8", "H100", "-o", "json"))["error"]
        assert text.startswith("unknown model 'Llama3_8'; did you mean")


def test_an_undeclared_argument_is_refused_not_dropped():
    result = call("evaluate", {"model": "Llama3_8B", "hardware": "H100", "batch": 8})
    assert result.is_error and result.content[0].text.startswith("evaluate takes no argument 'batch'; it takes model")


def test_without_the_mcp_package_the_command_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "mcp.server.mcpserver", None)
    monkeypatch.delitem(sys.modules, "mlsysim.mcp_server")
    out = cli("mcp")
    assert out.returncode == 1
    assert out.stderr == "error: the MCP server needs the mcp extra: pip install 'mlsysim[mcp]'\n"


def test_an_agent_launches_the_server_over_stdio():
    """End to end: ``python -m mlsysim mcp`` as a subprocess, the SDK's stdio client and the classic handshake."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "mlsysim", "mcp"], cwd=str(ROOT))

    async def go():
        with anyio.fail_after(60):
            async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                return await session.call_tool("zoo", {"category": "hardware", "name": "H100"})
    data = answer(anyio.run(go))
    assert data["key"] == "H100" and data["source"]
