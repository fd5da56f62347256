"""Output formats and exit codes shared by every command.

stdout carries only the payload (exactly one JSON object with ``-o json``, also on error);
diagnostics go to stderr.
"""
from __future__ import annotations

import json
import math

from ..errors import InputError

FORMATS = ("text", "json", "markdown", "html")
EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_ASSERT = 0, 1, 2, 3


class Finished(Exception):
    """A command has printed its payload and ends with ``code``."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def choose(ctx, local: str | None, supported=FORMATS) -> str:
    """The command's own ``-o`` if given, else the global one; refuse a format the command lacks.

    ``html`` is the markdown output made a page (``cli.main`` converts it): a command that writes markdown
    writes it as markdown, and one that refuses markdown refuses html the same way."""
    fmt = local or ((ctx.find_root().obj or {}).get("output") if ctx is not None else None) or "text"
    if fmt not in FORMATS:
        raise InputError(f"unsupported output format '{fmt}'; use one of {', '.join(FORMATS)}")
    if fmt == "html" and "markdown" in supported:
        return "markdown"
    if fmt not in supported:
        shown = [f for f in FORMATS if f in supported or (f == "html" and "markdown" in supported)]
        raise InputError(f"output format '{fmt}' is not supported by this command; use {', '.join(shown)}")
    return fmt


def scan_format(argv: list[str]) -> str:
    """The output format named on the command line (so errors can be shaped before parsing): the last one,
    as the parser takes it (a command's own ``-o`` comes after the global one, and wins), passing over names
    that are no format (``-o json eval --output plan.yaml`` still answers in JSON)."""
    fmt = "text"
    for i, arg in enumerate(argv):
        named = argv[i + 1] if arg in ("-o", "--output") and i + 1 < len(argv) else \
            arg.split("=", 1)[1] if arg.startswith("--output=") else None
        if named in FORMATS:
            fmt = named
    return fmt


def is_file(name: str) -> bool:
    """Whether ``name`` is an existing file; a name the system cannot even look up (too long, a NUL) is not."""
    from pathlib import Path

    try:
        return Path(name).is_file()
    except (OSError, ValueError):
        return False


def looks_like_plan(target: str) -> bool:
    """Whether a command's first argument is a plan file (a ``.yaml`` name or an existing file that is not
    JSON) rather than a registry name; a YAML file whose top level holds ``layers:`` is a model, not a plan."""
    from ..models.layers import is_layer_file

    if not (target.endswith((".yaml", ".yml")) or (is_file(target) and not target.endswith(".json"))):
        return False
    try:
        return not is_layer_file(target)
    except (OSError, ValueError, RecursionError):      # unreadable: reading it as a plan says why
        return True


#: the deepest nesting of lists and mappings a YAML or JSON file named on the command line may have (device,
#: model, calibration and plan files nest a few levels; far deeper ones crash or exhaust the parsers)
MAX_FILE_DEPTH = 64


def nesting_problem(name: str, limit: int = MAX_FILE_DEPTH) -> str | None:
    """Why a ``.yaml``/``.yml``/``.json`` file named on the command line cannot be read safely (nested beyond
    ``limit``), or None. Anything else about the file is left to the command that reads it."""
    import re

    lower = name.lower()
    if not lower.endswith((".yaml", ".yml", ".json")) or not is_file(name):
        return None
    try:
        with open(name, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, ValueError):                      # unreadable or not UTF-8: the command says so
        return None
    depth = 0
    if lower.endswith(".json"):
        for m in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
            token = m.group()
            if token in "[{":
                depth += 1
                if depth > limit:
                    line = text.count("\n", 0, m.start()) + 1
                    return f"{name}: arrays or objects nested more than {limit} levels deep (line {line})"
            elif token in "]}":
                depth -= 1
        return None
    import yaml

    try:
        for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > limit:
                    return (f"{name}: lists or mappings nested more than {limit} levels deep (line "
                            f"{event.start_mark.line + 1})")
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as exc:                # PyYAML >= 6.0.4 stops at its own depth limit first
        if "nesting depth" in str(exc.problem):
            return (f"{name}: lists or mappings nested more than {limit} levels deep (line "
                    f"{exc.problem_mark.line + 1})")
        return None                                    # malformed: the command's reader says where
    except yaml.YAMLError:
        return None
    return None


def progress_bar(fmt: str, what: str, stream=None):
    """A one-line progress bar on a terminal's stderr for long work (``show(done, total)``); None in JSON or
    markdown, or when stderr is not a terminal, so nothing but the payload is ever printed there."""
    import sys

    stream = stream or sys.stderr
    if fmt != "text" or not stream.isatty():
        return None

    def show(done, total):
        width = 30
        filled = int(width * done / max(total, 1))
        stream.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} {what}")
        if done >= total:
            stream.write("\n")
        stream.flush()
    return show


def dumps(obj) -> str:
    return json.dumps(_safe(obj), allow_nan=False)


def _safe(value):
    """JSON-safe: NumPy scalars and arrays to Python, non-finite floats to None."""
    if isinstance(value, dict):
        return {str(k): _safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe(v) for v in value]
    if hasattr(value, "tolist"):
        return _safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --- -o html: the markdown output as one standalone page -------------------------------------------------------
_PAGE_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330; background: #f6f7f9;
       margin: 0; padding: 2rem; }
main { max-width: 72rem; margin: 0 auto; background: #fff; border: 1px solid #dde1e7; border-radius: 8px;
       padding: 1.5rem 2rem; }
h1, h2, h3, h4, h5, h6 { line-height: 1.25; margin: 1.4em 0 .5em; }
h1:first-child, h2:first-child, h3:first-child { margin-top: 0; }
table { border-collapse: collapse; margin: .8em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #dde1e7; padding: .3em .7em; vertical-align: top; }
th { background: #eef1f5; text-align: left; }
tr:nth-child(even) td { background: #fafbfc; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .92em; }
pre { background: #f0f2f5; padding: .8em 1em; border-radius: 6px; overflow-x: auto; }
blockquote { border-left: 4px solid #dde1e7; margin: .8em 0; padding: 0 1em; color: #4a5263; }
footer { color: #6b7385; font-size: .85em; margin-top: 1.5em; }
"""


def markdown_to_html(text: str, title: str = "mlsysim") -> str:
    """A standalone HTML page (inline CSS, no scripts, nothing fetched) of the markdown the commands write:
    headings, pipe tables (with their column alignment), bulleted and numbered lists, fenced code, block
    quotes, rules and paragraphs (a paragraph's line breaks are kept, as in the terminal); inline bold, italic,
    code and http(s) links. Every character of the text is escaped."""
    import html

    from .. import __version__

    heading = next((m.group(2) for m in map(_HEADING.match, text.splitlines()) if m), None)
    page_title = html.escape(_plain(heading) if heading else title)
    body = "\n".join(_blocks(text.splitlines()))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<meta name=\"generator\" content=\"mlsysim {html.escape(__version__)}\">\n"
            f"<title>{page_title}</title>\n<style>{_PAGE_CSS}</style>\n</head>\n<body>\n<main>\n{body}\n"
            f"<footer>{html.escape(title)} &middot; MLSys&middot;im {html.escape(__version__)}</footer>\n"
            "</main>\n</body>\n</html>\n")


def _compile(pattern: str):
    import re
    return re.compile(pattern)


_HEADING = _compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_RULE = _compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
_BULLET = _compile(r"^(\s*)[-*+]\s+(.*)$")
_NUMBERED = _compile(r"^(\s*)\d{1,9}[.)]\s+(.*)$")
_SEPARATOR = _compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_INLINE = _compile(r"`([^`]+)`|\*\*(.+?)\*\*|\[([^\]]+)\]\((https?://[^)\s]+)\)|(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)")


def _plain(text: str) -> str:
    """A heading's text without its inline markup (for the page's title)."""
    return _INLINE.sub(lambda m: m.group(1) or m.group(2) or m.group(3) or m.group(5) or "", text)


def _inline(text: str) -> str:
    """One line's inline markdown as escaped HTML."""
    import html

    out, last = [], 0
    for m in _INLINE.finditer(text):
        out.append(html.escape(text[last:m.start()]))
        code, bold, label, url, em = m.groups()
        if code is not None:
            out.append(f"<code>{html.escape(code)}</code>")
        elif bold is not None:
            out.append(f"<strong>{_inline(bold)}</strong>")
        elif label is not None:
            out.append(f"<a href=\"{html.escape(url)}\">{_inline(label)}</a>")
        else:
            out.append(f"<em>{_inline(em)}</em>")
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _cells(line: str) -> list[str]:
    """A pipe-table row's cells (``\\|`` is a literal bar)."""
    row = line.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    cells, cur, i = [], "", 0
    while i < len(row):
        if row[i] == "\\" and i + 1 < len(row) and row[i + 1] == "|":
            cur, i = cur + "|", i + 2
            continue
        if row[i] == "|":
            cells.append(cur.strip())
            cur = ""
        else:
            cur += row[i]
        i += 1
    cells.append(cur.strip())
    return cells


def _table(rows: list[str]) -> str:
    header, aligns = None, []
    if len(rows) > 1 and _SEPARATOR.match(rows[1]):
        header = _cells(rows[0])
        for spec in _cells(rows[1]):
            aligns.append("right" if spec.endswith(":") and not spec.startswith(":") else
                          "center" if spec.startswith(":") and spec.endswith(":") else "")
        rows = rows[2:]

    def cell(tag, value, k):
        align = aligns[k] if k < len(aligns) else ""
        style = f' style="text-align:{align}"' if align else ""
        return f"<{tag}{style}>{_inline(value)}</{tag}>"

    out = ["<table>"]
    if header is not None:
        out.append("<thead><tr>" + "".join(cell("th", v, k) for k, v in enumerate(header)) + "</tr></thead>")
    out.append("<tbody>")
    out += ["<tr>" + "".join(cell("td", v, k) for k, v in enumerate(_cells(r))) + "</tr>" for r in rows]
    out.append("</tbody></table>")
    return "\n".join(out)


def _list(items: list[tuple[int, str]], numbered: bool) -> str:
    """A list whose items carry their indentation: deeper items nest inside the item before them."""
    tag = "ol" if numbered else "ul"
    out, stack = [], []                                     # the indentations of the open lists
    for indent, content in items:
        if not stack or indent > stack[-1]:
            if stack:
                out[-1] = out[-1].removesuffix("</li>")
            out.append(f"<{tag}>")
            stack.append(indent)
        else:
            while len(stack) > 1 and indent < stack[-1]:
                stack.pop()
                out.append(f"</{tag}></li>")
        out.append(f"<li>{_inline(content)}</li>")
    while stack:
        stack.pop()
        out.append(f"</{tag}>" + ("</li>" if stack else ""))
    return "\n".join(out)


def _blocks(lines: list[str]):
    """The block elements of the markdown, in order, as HTML."""
    import html

    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            i += 1
        elif stripped.startswith("```"):
            lang = stripped[3:].strip()
            j = i + 1
            while j < n and not lines[j].strip().startswith("```"):
                j += 1
            code = "\n".join(lines[i + 1:j])
            cls = f' class="language-{html.escape(lang)}"' if lang else ""
            yield f"<pre><code{cls}>{html.escape(code)}</code></pre>"
            i = j + 1
        elif _HEADING.match(line):
            m = _HEADING.match(line)
            level = len(m.group(1))
            yield f"<h{level}>{_inline(m.group(2))}</h{level}>"
            i += 1
        elif _RULE.match(line):
            yield "<hr>"
            i += 1
        elif stripped.startswith("|"):
            j = i
            while j < n and lines[j].strip().startswith("|"):
                j += 1
            yield _table(lines[i:j])
            i = j
        elif _BULLET.match(line) or _NUMBERED.match(line):
            numbered = not _BULLET.match(line)
            pattern = _NUMBERED if numbered else _BULLET
            items = []
            while i < n and pattern.match(lines[i]):
                m = pattern.match(lines[i])
                items.append((len(m.group(1).expandtabs()), m.group(2)))
                i += 1
                while i < n and lines[i].startswith((" ", "\t")) and lines[i].strip() \
                        and not (_BULLET.match(lines[i]) or _NUMBERED.match(lines[i])):
                    items[-1] = (items[-1][0], items[-1][1] + " " + lines[i].strip())   # a wrapped item
                    i += 1
            yield _list(items, numbered)
        elif stripped.startswith(">"):
            j = i
            while j < n and lines[j].strip().startswith(">"):
                j += 1
            quoted = [ln.strip()[1:].removeprefix(" ") for ln in lines[i:j]]
            yield "<blockquote>\n" + "\n".join(_blocks(quoted)) + "\n</blockquote>"
            i = j
        else:
            j = i
            while j < n and lines[j].strip() and not (
                    lines[j].strip().startswith(("```", "|", ">")) or _HEADING.match(lines[j])
                    or _RULE.match(lines[j]) or _BULLET.match(lines[j]) or _NUMBERED.match(lines[j])):
                j += 1
            yield "<p>" + "<br>\n".join(_inline(ln.strip()) for ln in lines[i:j]) + "</p>"
            i = j
