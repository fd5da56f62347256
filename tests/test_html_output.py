"""``-o html``: every command's human-readable (markdown) output as one well-formed standalone page holding the
same figures; refusals, errors and help as with markdown."""
import re
import types
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import cli

from mlsysim.cli.html import markdown_to_html

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
VOID = {"meta", "br", "hr", "link", "img", "input"}

#: one command line per command (and per optimize subcommand) that answers with a payload
COMMANDS = {
    "eval": ["eval", "Llama3_8B", "H100"],
    "eval plan": ["eval", EXAMPLES / "single_gpu_inference.yaml"],
    "serve": ["serve", "Llama3_8B", "H100"],
    "fit": ["fit", "Llama3_70B", "H100"],
    "cheapest": ["cheapest", "Llama3_8B", "--hardware", "H100", "--qps", "10", "--p99", "10000"],
    "zoo list": ["zoo", "hardware"],
    "zoo entry": ["zoo", "hardware", "H100"],
    "explain": ["explain", "Llama3_8B", "A100", "H100"],
    "validate": ["validate", "--category", "failures"],
    "optimize batching": ["optimize", "batching", "Llama3_8B", "H100", "--sla-ms", "2000", "--qps", "20"],
    "optimize placement": ["optimize", "placement", EXAMPLES / "training_64_gpus.yaml"],
    "optimize parallelism": ["optimize", "parallelism", EXAMPLES / "training_64_gpus.yaml"],
    "sweep": ["sweep", EXAMPLES / "sweeps" / "inference_grid.yaml"],
    "audit": ["audit", "--quick", "--backend", "numpy"],
}


class Page(HTMLParser):
    """Checks nesting as it parses; collects the text, the tags and their attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.text, self.attrs, self.errors = [], [], [], [], []
        self.doctype = None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Page:
    p = Page()
    p.feed(page)
    p.close()
    assert p.doctype and p.doctype.lower() == "doctype html", "a standalone page starts with <!DOCTYPE html>"
    assert not p.errors and not p.stack, (p.errors, p.stack)
    assert p.tags[:3] == ["html", "head", "meta"] and {"title", "style", "body", "main"} <= set(p.tags)
    assert not {"script", "link", "img", "iframe"} & set(p.tags), "inline CSS only, nothing loaded"
    for tag, attrs in p.attrs:
        assert "src" not in attrs and not any(k.startswith("on") for k in attrs), (tag, attrs)
        if tag == "a":
            assert attrs["href"].startswith(("https://", "http://"))
    return p


NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?")
TIMING = re.compile(r"\bin [\d.,]+ (?:ns|µs|us|ms|s)\b")


def _fixed_audit(monkeypatch):
    """The audit command measures this machine (a second, and different figures each run): a fixed result."""
    import mlsysim.analysis.audit as audit

    fixed = types.SimpleNamespace(device_name="test-cpu", backend="numpy", zoo_key=None,
                                  matmul_flops={"fp32": 2.5e11, "fp64": 4.16e10}, zoo_peak_flops={},
                                  memory_bandwidth=6.39e9, zoo_memory_bandwidth=None, launch_s=2.37e-7)
    monkeypatch.setattr(audit, "audit", lambda backend, quick, hardware: fixed)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_writes_its_markdown_as_a_standalone_page(name, monkeypatch):
    if name == "audit":
        _fixed_audit(monkeypatch)
    args = COMMANDS[name]
    md, page = cli(*args, "-o", "markdown"), cli(*args, "-o", "html")
    assert md.returncode in (0, 3) and md.stdout, md.stderr
    assert page.returncode == md.returncode and page.stderr == md.stderr
    p = parse(page.stdout)
    text = "".join(p.text)
    figures = TIMING.sub("", md.stdout)                # how long the search took differs from run to run
    missing = [n for n in NUMBER.findall(figures) if n not in text]
    assert not missing, f"figures of the markdown output missing from the page: {missing[:10]}"
    assert p.tags.count("table") == len(re.findall(r"^\|[-:| ]+\|\s*$", md.stdout, flags=re.M))
    assert p.tags.count("li") == len(re.findall(r"^\s*[-*] ", md.stdout, flags=re.M))
    headings = re.findall(r"^#{1,6} +(.*)$", md.stdout, flags=re.M)
    assert sum(p.tags.count(f"h{i}") for i in range(1, 7)) == len(headings)


def test_the_global_option_and_the_command_option_agree():
    a, b = cli("-o", "html", "explain", "Llama3_8B", "A100", "H100"), cli("explain", "Llama3_8B", "A100", "H100",
                                                                          "--output=html")
    assert a.returncode == b.returncode == 0 and a.stdout == b.stdout
    assert "<title>NVIDIA A100 SXM4 80GB -&gt; NVIDIA H100 SXM5 80GB: 1.55x</title>" in a.stdout


def test_commands_that_refuse_markdown_refuse_html_the_same_way():
    for line in (["schema", "-o", "{}"], ["-o", "{}", "ui"]):
        md = cli(*(w.format("markdown") for w in line))
        page = cli(*(w.format("html") for w in line))
        assert md.returncode == page.returncode == 1 and page.stdout == ""
        assert page.stderr == md.stderr.replace("'markdown'", "'html'")
        assert page.stderr.startswith("error: output format 'html' is not supported by this command")
    out = cli("-o", "html", "mcp")          # a stdio protocol server: no page to make of it
    assert out.returncode == 1 and out.stdout == "" and "mcp" in out.stderr and len(out.stderr.splitlines()) == 1


def test_errors_in_html_are_one_sentence_on_stderr_and_nothing_on_stdout():
    out = cli("-o", "html", "eval", "NoSuchModel", "H100")
    assert out.returncode == 1 and out.stdout == ""
    assert len(out.stderr.splitlines()) == 1 and out.stderr.startswith("error: ")
    assert cli("-o", "html", "eval", "Llama3_8B", "H100", "--batch-size", "-3").stdout == ""


def test_help_is_passed_through_and_the_version_is_a_page():
    help_md, help_html = cli("zoo", "--help", "-o", "markdown"), cli("zoo", "--help", "-o", "html")
    assert help_html.returncode == 0 and help_html.stdout == help_md.stdout and "<html" not in help_html.stdout
    version = cli("--version", "-o", "html")
    assert version.returncode == 0 and "mlsysim" in "".join(parse(version.stdout).text)


def test_json_mode_is_untouched_by_html():
    out = cli("-o", "html", "explain", "Llama3_8B", "A100", "H100", "-o", "json")
    assert out.returncode == 0 and out.stdout.count("\n") == 1 and out.stdout.startswith("{")


def test_the_converter_escapes_everything_and_keeps_structure():
    md = ("# Title <script>alert(1)</script>\n\nline one & two\nline *three*\n\n"
          "| a | b \\| c | n |\n|---|:-:|--:|\n| `x<y` | **bold** | 1,234 |\n\n"
          "- top\n  - nested [link](https://example.org/?a=1&b=2)\n- [bad](javascript:alert(1))\n\n"
          "1. first\n2. second\n\n> quoted\n\n---\n\n```bash\necho '<hi>' && exit\n```\n")
    page = markdown_to_html(md, "t")
    p = parse(page)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert p.tags.count("ul") == 2 and p.tags.count("ol") == 1 and p.tags.count("li") == 5
    assert '<th style="text-align:center">b | c</th>' in page and '<td style="text-align:right">1,234</td>' in page
    assert "<code>x&lt;y</code>" in page and "<strong>bold</strong>" in page and "<em>three</em>" in page
    assert '<a href="https://example.org/?a=1&amp;b=2">link</a>' in page
    assert 'href="javascript' not in page
    assert "line one &amp; two<br>" in page and "<blockquote>" in page and "<hr>" in page
    assert "<pre><code class=\"language-bash\">echo &#x27;&lt;hi&gt;&#x27; &amp;&amp; exit</code></pre>" in page
    assert "<title>Title &lt;script&gt;alert(1)&lt;/script&gt;</title>" in page
