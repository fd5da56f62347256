"""Small display helpers for tutorials and notebooks: ``table``, ``info``, ``banner``."""
from __future__ import annotations

from .units import SIValue, format_number


def fmt(value) -> str:
    """A value as a person would read it: quantities with units, numbers grouped, text as is."""
    if isinstance(value, SIValue):
        return repr(value)
    if hasattr(value, "magnitude") and hasattr(value, "units"):   # a pint Quantity
        return f"{format_number(float(value.magnitude))} {format(value.units, '~')}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return format_number(value)
    return str(value)


def format_table(headers, rows, alignments=None) -> str:
    """An aligned text table: first column left, the rest right, unless told."""
    cells = [[fmt(c) for c in row] for row in rows]
    heads = [str(h) for h in headers]
    widths = [max([len(heads[i])] + [len(r[i]) for r in cells if i < len(r)]) for i in range(len(heads))]
    align = list(alignments or ["<"] + [">"] * (len(heads) - 1))

    def line(values):
        return "  ".join(f"{v:{align[i]}{widths[i]}}" for i, v in enumerate(values)).rstrip()

    header = line(heads)
    return "\n".join([header, "─" * len(header)] + [line(r) for r in cells])


def table(headers, rows, alignments=None) -> str:
    """Print (and return) an aligned table."""
    out = format_table(headers, rows, alignments)
    print(out)
    return out


def info(title=None, **fields) -> str:
    """Print (and return) a titled block of ``key: value`` lines."""
    lines = []
    if title:
        lines.append(f"── {title} " + "─" * max(0, 40 - len(str(title))))
    keys = [k.replace("_", " ") for k in fields]
    width = max((len(k) for k in keys), default=0)
    lines += [f"{k + ':':<{width + 1}}  {fmt(v)}" for k, v in zip(keys, fields.values())]
    out = "\n".join(lines)
    print(out)
    return out


def banner(text: str) -> str:
    """Print (and return) a section banner."""
    out = f"\n=== {text} ==="
    print(out)
    return out
