"""``mlsysim zoo``: the registries as tables, or one entry with every figure and its source."""
from __future__ import annotations

import typer

from ...units import SIValue, format_number
from ..output import choose, dumps

EXAMPLES = ("Examples:\n  mlsysim zoo hardware --sort-by memory.bandwidth\n  mlsysim zoo hardware H100\n"
            "  mlsysim zoo hardware --template > my_gpu.yaml   # fill it in, then give my_gpu.yaml as the device")
CATEGORIES = ("hardware", "models", "systems", "grids", "scenarios", "stacks")
#: per category: (column title, dotted attribute path) of the listing
COLUMNS = {
    "hardware": (("Name", "name"), ("Year", "release_year"), ("Peak 16-bit", "compute.peak_flops"),
                 ("Memory", "memory.capacity"), ("Bandwidth", "memory.bandwidth"), ("TDP", "tdp")),
    "models": (("Name", "name"), ("Kind", "architecture"), ("Parameters", "parameters"), ("Layers", "layers")),
    "systems": (("Name", "name"), ("Kind", "__kind__"), ("Accelerators", "total_accelerators"),
                ("Bandwidth", "bandwidth")),
    "grids": (("Name", "name"), ("gCO2/kWh", "carbon_intensity_g_kwh"), ("Basis", "intensity_basis"),
              ("Consumed gCO2/kWh", "consumption_intensity_g_kwh"), ("PUE", "pue"), ("WUE", "wue"),
              ("$/kWh", "electricity_usd_kwh"), ("Source", "primary_source")),
    "scenarios": (("Name", "name"), ("Workload", "workload.name"), ("System", "system.name"),
                  ("Target", "sla_latency")),
    "stacks": (("Name", "name"), ("Launch", "launch"), ("Host dispatch", "host_dispatch"),
               ("Host ahead", "host_ahead"), ("Fuses", "fuses"), ("Norm", "kernels.norm"), ("QKV", "kernels.qkv"),
               ("KV write", "kernels.kv_write"), ("KV cache", "precisions.kv_cache"), ("Runtime", "runtime_bytes"),
               ("Aliases", "aliases")),
}


#: columns a text listing shows in one unit, named in the header (the values plain numbers in it)
UNITS = {"compute.peak_flops": ("TFLOP/s", 1e12), "memory.capacity": ("GiB", 2**30), "memory.bandwidth": ("GB/s", 1e9),
         "tdp": ("W", 1.0)}
#: the columns a text listing shows unless --columns says otherwise (a long name would push the rest off screen)
DEFAULT_TEXT = {"hardware": ("Year", "Peak 16-bit", "Memory", "Bandwidth", "TDP")}


def _registry(category: str):
    if category == "hardware":
        from ...hardware.registry import Hardware
        return Hardware
    if category == "models":
        from ...models.registry import Models
        return Models
    if category == "systems":
        from ...systems.registry import Systems
        return Systems
    if category == "grids":
        from ...infra.registry import Grids
        return Grids
    if category == "stacks":
        from ...execution import Stacks
        return Stacks
    from ...scenarios import Scenarios
    return Scenarios


def register(app: typer.Typer) -> None:
    @app.command("zoo", epilog=EXAMPLES)
    def zoo_command(
        ctx: typer.Context,
        category: str = typer.Argument(None, help="hardware, models, systems, grids, scenarios or stacks (software "
                                                  "stacks: execution profiles)"),
        name: str = typer.Argument(None, help="one entry: show every figure and its source"),
        sort_by: str = typer.Option(None, "--sort-by", help="a dotted field, e.g. memory.bandwidth"),
        output: str = typer.Option(None, "--output", "-o", help="text, json, markdown or html"),
        template: bool = typer.Option(False, "--template", help="hardware: print a commented device file to "
                                                                 "fill in from a spec sheet"),
        columns: str = typer.Option(None, "--columns", help="the columns to show, comma-separated (e.g. "
                                                            "name,year,bandwidth); default: a readable set"),
    ):
        """List a registry of the facts zoo, or show one entry with its sources."""
        from ...errors import InputError, closest

        fmt = choose(ctx, output)
        if template:
            if category != "hardware" or name or sort_by or fmt != "text":
                raise InputError("--template goes alone with the hardware category: mlsysim zoo hardware --template")
            from ...hardware.registry import TEMPLATE
            print(TEMPLATE.read_text(encoding="utf-8"), end="")
            return
        if category is None:
            raise InputError(f"zoo category is required: one of {', '.join(CATEGORIES)}")
        if category not in CATEGORIES:
            hint = closest(category, CATEGORIES)
            raise InputError(f"unknown zoo category '{category}'" + (f"; did you mean {hint[0]}?" if hint else
                                                                      f"; use one of {', '.join(CATEGORIES)}"))
        reg = _registry(category)
        if name:
            entry = reg.get(name)
            _show_entry(reg.key_of(entry) or name, entry, fmt)
            return
        if sort_by:
            _check_path(reg, sort_by)
        entries = reg.list(sort_by=sort_by, reverse=True) if sort_by else [e for _, e in reg.items()]
        keys = {id(e): k for k, e in reg.items()}
        shown = _chosen(category, columns, fmt)
        rows = [[keys[id(e)]] + [_cell(_get(e, path), path) for _, path in shown] for e in entries]
        headers = ["Key"] + [title + (f" ({UNITS[path][0]})" if path in UNITS else "") for title, path in shown]
        if fmt == "json":
            print(dumps({"status": "ok", category: [{"key": r[0], **{h.lower(): _plain(_get(e, p)) for (h, p) in
                                                      COLUMNS[category]}, "source": _source(e)}
                                    for r, e in zip(rows, entries)]}))
        elif fmt == "markdown":
            print("| " + " | ".join(headers) + " |\n|" + "---|" * len(headers))
            print("\n".join("| " + " | ".join(r) + " |" for r in rows))
        else:
            from ...show import format_table
            print(format_table(headers, rows))


def _chosen(category: str, columns: str | None, fmt: str) -> tuple:
    """The (title, path) columns to show: those ``--columns`` names, else the category's readable default
    (JSON always carries every column)."""
    from ...errors import InputError

    every = COLUMNS[category]
    if columns is None:
        default = DEFAULT_TEXT.get(category)
        return every if default is None or fmt == "json" else tuple(c for c in every if c[0] in default)
    by_name = {title.lower().replace(" ", "_").replace("-", "_"): (title, path) for title, path in every}
    wanted = [w.strip().lower().replace(" ", "_").replace("-", "_") for w in columns.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in by_name]
    if unknown or not wanted:
        raise InputError(f"unknown column '{unknown[0] if unknown else columns}' for {category}; choose from "
                         f"{', '.join(by_name)}")
    return tuple(by_name[w] for w in wanted)


def _check_path(reg, path: str) -> None:
    from ...errors import InputError

    sample = reg.list()[0]
    value = sample
    for part in path.split("."):
        if not hasattr(value, part) and value is not None:
            raise InputError(f"cannot sort by '{path}': entries have no field '{part}'")
        value = getattr(value, part, None)


def _get(entry, path: str):
    if path == "__kind__":
        return type(entry).__name__.replace("Profile", "").replace("Envelope", "")
    value = entry
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _source(entry) -> str:
    """Where an entry's figures come from (execution profiles carry it as a field of their own)."""
    meta = getattr(entry, "metadata", None)
    return meta.source if meta is not None else entry.source


def _cell(value, path: str = "") -> str:
    if value is None:
        return "-"
    if path in UNITS and isinstance(value, (SIValue, int, float)):
        return format_number(float(value) / UNITS[path][1])
    if isinstance(value, (tuple, frozenset)):
        return ", ".join(sorted(map(str, value))) or "-"
    if isinstance(value, SIValue):
        return repr(value)
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def _plain(value):
    if isinstance(value, (tuple, frozenset)):
        return sorted(map(str, value))
    if isinstance(value, SIValue):
        return {"value": float(value), "unit": _si_unit(value), "text": repr(value)}
    return value


def _si_unit(value: SIValue) -> str:
    return value.dim or "1"


def _show_entry(key: str, entry, fmt: str) -> None:
    data = entry.model_dump(mode="json", exclude={"metadata", "source"})
    meta = getattr(entry, "metadata", None)
    sources, url = (meta.sources, meta.url) if meta is not None else ({}, None)
    if fmt == "json":
        print(dumps({"status": "ok", "key": key, "entry": data, "source": _source(entry), "sources": sources,
                     "url": url}))
        return
    lines = [f"{key}: {getattr(entry, 'name', key)}"] if fmt == "text" else [f"## {key}: {getattr(entry, 'name', key)}",
                                                                           ""]
    for path, value in _flatten(data):
        lines.append(f"  {path:<34} {value}" if fmt == "text" else f"- **{path}**: {value}")
    lines.append(f"  {'source':<34} {_source(entry)}" if fmt == "text" else f"- **source**: {_source(entry)}")
    for field, src in sources.items():
        lines.append(f"  {'source of ' + field:<34} {src}" if fmt == "text" else f"- **source of {field}**: {src}")
    print("\n".join(lines))


def _flatten(data, prefix=""):
    for k, v in data.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            yield from _flatten(v, path + ".")
        elif v not in (None, {}, [], ""):
            yield path, v
