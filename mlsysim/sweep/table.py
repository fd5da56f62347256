"""A sweep's table on disk: CSV (the standard library's writer) or Parquet (pyarrow), chosen by the file's suffix."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError

SUFFIXES = (".csv", ".parquet")


def uniform(rows: list[dict]) -> list[dict]:
    """The rows with the same columns each (every column any row has, in the order first met; None where a row
    lacks one): points of different kinds (one device, a fleet, an error) report different figures."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return [{k: row.get(k) for k in columns} for row in rows]


def check_destination(path: Path, option: str) -> None:
    """Refuse a file the table cannot be written to before the sweep runs: a suffix other than .csv or .parquet,
    Parquet without pyarrow, a folder that does not exist."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{option} takes a .csv or .parquet file name, got '{path.name}'")
    if suffix == ".parquet":
        _pyarrow()
    try:
        folder = path.parent.is_dir()
    except (OSError, ValueError):
        folder = False
    if not folder:
        raise InputError(f"{option}: cannot write '{path}': there is no folder '{path.parent}'")


def write_table(rows: list[dict], path: Path, option: str = "--out", columns: list | None = None) -> None:
    """Write ``rows`` (uniform; ``columns`` names them where there may be none) as CSV or Parquet; lists and
    mappings (an axis of sections, the violations) as JSON text, so every column holds one type."""
    check_destination(path, option)
    columns = columns if columns is not None else list(rows[0]) if rows else []
    cells = {c: _column([row[c] for row in rows]) for c in columns}
    try:
        if path.suffix.lower() == ".parquet":
            pa = _pyarrow()
            import pyarrow.parquet as pq

            pq.write_table(pa.table(cells), path)
        else:
            import csv

            with open(path, "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(columns)
                writer.writerows(zip(*(["" if v is None else v for v in cells[c]] for c in columns)))
    except OSError as exc:
        from ..plan import file_problem
        raise InputError(file_problem(f"{option} file", path, exc)) from None


def _column(values: list) -> list:
    """A column's cells: numbers, text and booleans as they are where the column holds one kind of them, else
    each as its JSON text."""
    kinds = {bool if isinstance(v, bool) else float if isinstance(v, (int, float)) else type(v)
             for v in values if v is not None}
    if len(kinds) <= 1 and kinds <= {bool, float, str}:
        return values
    return [None if v is None else json.dumps(v) for v in values]


def _pyarrow():
    try:
        import pyarrow
    except ImportError:
        raise InputError("writing Parquet needs pyarrow: pip install 'mlsysim[parquet]'") from None
    return pyarrow
