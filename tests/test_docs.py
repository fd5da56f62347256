"""The documentation site stays true: its generated pages are what ``scripts/gen_docs.py`` writes now, it builds
offline under ``mkdocs build --strict``, and every code block marked runnable runs.

A runnable block is a fenced ``python`` or ``bash`` block on the line after ``<!-- runnable -->``: a page's
python blocks run in order in one namespace (a tutorial builds on its earlier blocks), and each line of a bash
block is an ``mlsysim ...`` command, run through the command's entry point, that must exit 0.
"""
import contextlib
import importlib.util
import io
import re
import shlex
from pathlib import Path

import pytest
from conftest import cli

pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install -e '.[docs]')")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MARKER = "<!-- runnable -->"
RUNNABLE = re.compile(re.escape(MARKER) + r"\n```(python|bash)\n(.*?)\n```", re.S)
PAGES = sorted(path for path in DOCS.rglob("*.md") if MARKER in path.read_text(encoding="utf-8"))


def _generator():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree(root: Path, folders) -> dict:
    return {path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
            for folder in folders for path in sorted((root / folder).rglob("*")) if path.is_file()}


def test_generated_pages_are_current(tmp_path):
    """Regenerated into a temporary folder, the owned folders hold exactly the committed pages."""
    gen = _generator()
    gen.write(tmp_path)
    fresh, committed = _tree(tmp_path, gen.OWNED), _tree(DOCS, gen.OWNED)
    stale = sorted(path for path in fresh.keys() | committed.keys() if fresh.get(path) != committed.get(path))
    assert not stale, f"generated pages out of date: {', '.join(stale)}; run `python scripts/gen_docs.py`"


@pytest.mark.slow
def test_site_builds_offline_and_strict(tmp_path):
    """Every page, link, anchor, snippet and docstring resolves; nothing is fetched (the theme's fonts are off)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"), site_dir=str(tmp_path / "site"), strict=True)
    assert config["theme"]["font"] is False, "the theme must not load fonts from the network"
    build(config)
    assert (tmp_path / "site" / "index.html").is_file()
    assert "fonts.googleapis" not in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def test_every_marker_opens_a_block():
    """A marker not directly above a python or bash fence would silently test nothing."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert text.count(MARKER) == len(RUNNABLE.findall(text)), f"{page.relative_to(ROOT)}: a stray {MARKER}"
    assert PAGES, f"no page has a {MARKER} block"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_runnable_blocks_run(page, monkeypatch):
    monkeypatch.chdir(ROOT)                       # the examples name files relative to the repository
    namespace = {"__name__": "__docs__"}
    for lang, body in RUNNABLE.findall(page.read_text(encoding="utf-8")):
        if lang == "python":
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(body, str(page), "exec"), namespace)
            continue
        for line in filter(None, (line.strip() for line in body.splitlines())):
            command = shlex.split(line, comments=True)
            assert command[:1] == ["mlsysim"], f"{page.name}: a runnable bash block runs mlsysim only: {line}"
            out = cli(*command[1:])
            assert out.returncode == 0, f"{line}: exit {out.returncode}: {out.stderr}"
            assert out.stdout.strip(), f"{line}: printed nothing"
