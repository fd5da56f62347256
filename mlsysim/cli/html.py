"""``-o html``: the markdown a command writes, made one standalone page (inline CSS, no scripts, nothing fetched).

Loaded only when html is asked for (``cli.main``), so no other output format pays for its patterns.
"""
from __future__ import annotations

import html
import re

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


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^(\s*)\d{1,9}[.)]\s+(.*)$")
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|\[([^\]]+)\]\((https?://[^)\s]+)\)|(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)")


def _plain(text: str) -> str:
    """A heading's text without its inline markup (for the page's title)."""
    return _INLINE.sub(lambda m: m.group(1) or m.group(2) or m.group(3) or m.group(5) or "", text)


def _inline(text: str) -> str:
    """One line's inline markdown as escaped HTML."""
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
