"""``mlsysim sweep``: a plan evaluated at every point of a grid of its keys, here or on Ray: a table and its
Pareto front."""
from __future__ import annotations

from pathlib import Path

import typer

from ..output import choose, dumps, progress_bar

STATUSES = ("ok", "infeasible", "sla_failed", "error")


def _epilog() -> str:
    """The sweep file's format, as the package documents it (its import is cheap: the rest loads on use)."""
    import mlsysim.sweep

    doc = mlsysim.sweep.__doc__.split("\n\n", 1)[1].strip()
    return (f"{doc}\n\nExamples:\n  mlsysim sweep sweep.yaml --out table.csv --pareto pareto.csv\n"
            f"  mlsysim sweep sweep.yaml --backend ray -o json\n"
            f"  mlsysim sweep sweep.yaml --backend ray --address auto --out table.parquet")


def register(app: typer.Typer) -> None:
    @app.command("sweep", epilog=_epilog())
    def sweep_command(
        ctx: typer.Context,
        sweep_file: Path = typer.Argument(..., help="a sweep file (.yaml): a plan, its axes and objectives"),
        out: Path = typer.Option(None, "--out", help="write every row to this .csv or .parquet file"),
        pareto: Path = typer.Option(None, "--pareto", help="write the Pareto front to this .csv or .parquet file"),
        backend: str = typer.Option("inprocess", "--backend", help="inprocess, or ray (pip install 'mlsysim\\[ray]')"),
        address: str = typer.Option(None, "--address", help="a Ray cluster's address (default: a local instance)"),
        chunk_size: int = typer.Option(None, "--chunk-size", min=1,
                                       help="grid points per chunk, one Ray task each (default: 256)"),
        output: str = typer.Option(None, "--output", "-o", help="text, json, markdown or html"),
    ):
        """Evaluate a plan at every point of a grid of its keys: a table, and the Pareto front of its objectives."""
        import time

        from ...errors import InputError
        from ...sweep.pareto import pareto_front
        from ...sweep.runner import CHUNK_SIZE, run_sweep
        from ...sweep.spec import load_sweep
        from ...sweep.table import check_destination, write_table

        fmt = choose(ctx, output)
        for path, option in ((out, "--out"), (pareto, "--pareto")):
            if path is not None:
                check_destination(path, option)
        sweep = load_sweep(sweep_file)
        if pareto is not None and not sweep.objectives:
            raise InputError(f"--pareto needs objectives; {sweep_file} names none (e.g. objectives: "
                             f"{{p_latency_ms: min, m_tco_usd: min}})")
        start = time.perf_counter()
        rows = run_sweep(sweep, backend, address=address, chunk_size=chunk_size or CHUNK_SIZE,
                         progress=progress_bar(fmt, "grid points"))
        seconds = time.perf_counter() - start
        front = pareto_front(rows, sweep.objectives)
        if out is not None:
            write_table(rows, out)
        if pareto is not None:
            write_table(front, pareto, "--pareto", columns=list(rows[0]))
        counts = {s: n for s in STATUSES if (n := sum(row["status"] == s for row in rows))}
        if fmt == "json":
            print(dumps({"status": "ok", "sweep": str(sweep_file), "backend": backend, "points": len(rows),
                         "statuses": counts, "objectives": sweep.objectives, "columns": list(rows[0]), "rows": rows,
                         "front": front}))
            return
        head = (f"{sweep_file}: {len(rows):,} grid points in {seconds:.2f} s ({backend}): "
                + ", ".join(f"{n:,} {s}" for s, n in counts.items()))
        written = [f"{what} written to {path}" for what, path in (("table", out), ("Pareto front", pareto)) if path]
        if not sweep.objectives:
            title = "no objectives in the sweep file: no Pareto front"
        else:
            title = (f"Pareto front over {', '.join(f'{c} ({s})' for c, s in sweep.objectives.items())}: "
                     f"{len(front):,} of {counts.get('ok', 0):,} ok points")
        shown = list(dict.fromkeys([*sweep.axes, *sweep.objectives]))
        cells = [[row[c] for c in shown] for row in front]
        from ...show import fmt as readable
        from ...show import format_table

        if fmt == "markdown":
            print(f"{head}\n\n" + "".join(f"{w}\n\n" for w in written) + f"### {title}")
            if front:
                print(f"\n| {' | '.join(shown)} |\n|{'---|' * len(shown)}")
                print("\n".join(f"| {' | '.join(readable(v) for v in r)} |" for r in cells))
            return
        print("\n".join([head, *written, title]))
        if front:
            print(format_table(shown, cells))

