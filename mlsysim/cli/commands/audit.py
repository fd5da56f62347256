"""``mlsysim audit``: measure this machine, set it beside the zoo, and write what predictions should use."""
from __future__ import annotations

from pathlib import Path

import typer

from ...units import format_si
from ..output import choose, dumps


def register(app: typer.Typer) -> None:
    @app.command("audit", epilog="Example:\n  mlsysim audit --quick\n(--write-calibration FILE, then "
                                 "--calibration FILE on eval or serve, makes predictions use what it measured)")
    def audit_command(
        ctx: typer.Context,
        backend: str = typer.Option("auto", "--backend", help="auto (a CUDA GPU when present), numpy or torch"),
        quick: bool = typer.Option(False, "--quick", help="fewer and smaller measurements (a few seconds)"),
        hardware: str = typer.Option(None, "--hardware", help="the zoo device to compare with (default: by name)"),
        write_calibration: Path = typer.Option(None, "--write-calibration",
                                               help="write the timing constants this machine implies"),
        write_device: Path = typer.Option(None, "--write-device", help="write a device file of the measured rates"),
        output: str = typer.Option(None, "--output", "-o", help="text, json, markdown or html"),
    ):
        """Matrix multiplies, memory bandwidth and launch cost of this machine, beside the closest zoo device."""
        import yaml

        from ...analysis.audit import audit, calibration_from, device_fact

        fmt = choose(ctx, output)
        r = audit(backend, quick, hardware)
        if write_calibration is not None:
            cal = calibration_from(r)
            write_calibration.write_text(f"# {cal.source}; load with --calibration {write_calibration.name}\n"
                                         + yaml.safe_dump(cal.to_dict(), sort_keys=False), encoding="utf-8")
        if write_device is not None:
            write_device.write_text(yaml.safe_dump(device_fact(r), sort_keys=False), encoding="utf-8")
        if fmt == "json":
            print(dumps({"status": "ok", **r.to_dict(), "fractions": r.fractions()}))
            return
        zoo = r.zoo_key or "no zoo device matches"
        rows = [(f"matmul {p}", format_si(f, "FLOP/s"),
                 format_si(r.zoo_peak_flops[p], "FLOP/s") if r.zoo_peak_flops.get(p) else "-")
                for p, f in r.matmul_flops.items()]
        rows += [("memory bandwidth", format_si(r.memory_bandwidth, "B/s"),
                  format_si(r.zoo_memory_bandwidth, "B/s") if r.zoo_memory_bandwidth else "-"),
                 ("launch", format_si(r.launch_s, "s"), "-")]
        head = f"{r.device_name} ({r.backend}) beside {zoo}"
        if fmt == "markdown":
            print(f"### {head}\n\n| figure | measured | zoo |\n|---|---|---|")
            print("\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows))
        else:
            from ...show import format_table
            print(head)
            print(format_table(["figure", "measured", "zoo"], [list(row) for row in rows]))
        for path, what in ((write_calibration, "calibration"), (write_device, "device file")):
            if path is not None:
                print(f"wrote the {what} {path}")
