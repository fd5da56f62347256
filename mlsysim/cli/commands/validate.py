"""``mlsysim validate``: the validation suite, every anchor and its error."""
from __future__ import annotations

import typer

from ..output import choose, dumps, progress_bar


def register(app: typer.Typer) -> None:
    @app.command("validate", epilog="Examples:\n  mlsysim validate --category single_device_inference\n"
                                    "  mlsysim validate -o markdown > ACCURACY.md")
    def validate_command(
        ctx: typer.Context,
        category: str = typer.Option(None, "--category", "-c", help="only this category"),
        output: str = typer.Option(None, "--output", "-o", help="text, json, markdown or html (the accuracy report)"),
    ):
        """Compare predictions with published measurements, anchor by anchor, with a summary per category."""
        from ...errors import InputError
        from ...validation import run, summarize

        output = choose(ctx, output)
        results = run(category, progress=progress_bar(output, "anchors"))
        if category and not results:
            raise InputError(f"no anchors in category '{category}'")
        summary = summarize(results)
        if output == "markdown":
            from ...validation.report import markdown_report

            print(markdown_report(results, summary), end="")
            return
        if output == "json":
            print(dumps({"status": "ok", "anchors": [
                {"id": r.id, "category": r.category, "model": r.model, "hardware": r.hardware, "metric": r.metric,
                 "config": r.config, "unit": r.unit, "measured_si": r.measured, "predicted_si": r.predicted,
                 "error": r.error, "bound": r.bound, "failure": r.failure, "source": r.source, "url": r.url}
                for r in results], "summary": summary}))
            return
        for r in results:
            err = f"{r.error:+.0%}" if r.error is not None else f"n/a ({r.failure})"
            cfg = ", ".join(f"{k}={v}" for k, v in r.config.items())
            print(f"{r.id}\n  {r.model} on {r.hardware} [{cfg}] {r.metric}: measured {r.shown(r.measured)}, "
                  f"predicted {r.shown(r.predicted)}, error {err}\n  source: {r.source}")
        print()
        for cat, s in summary.items():
            print(f"{cat}: {_line(s)}")
            for hw, per in s["by_hardware"].items():
                print(f"    {hw}: {_line(per)}")


def _line(s: dict) -> str:
    med = f"{s['median_abs_error']:.1%}" if s["median_abs_error"] is not None else "-"
    line = f"{s['predicted']}/{s['anchors']} predicted, median |error| {med}, within 25%: {s['within_25pct'] or 0:.0%}"
    if s.get("band_coverage") is not None:
        line += f", inside the 10-90% band: {s['band_coverage']:.0%} of {s['band_scored']}"
    return line
