"""Running a sweep: its grid cut into chunks, evaluated here one after another, or as Ray tasks on a local Ray
instance or a cluster. Both backends evaluate the same chunks with the same code, so their tables are identical."""
from __future__ import annotations

import logging
import os

from ..errors import InputError
from .evaluate import evaluate_points
from .spec import Sweep
from .table import uniform

BACKENDS = ("inprocess", "ray")
#: grid points per chunk: a chunk is one Ray task (and one step of the progress bar), large enough that a task's
#: start-up is a small part of it, small enough that a few thousand points still keep every core busy
CHUNK_SIZE = 256
#: the object store of a Ray instance started for one sweep (its rows are a few kilobytes each)
OBJECT_STORE_BYTES = 256 << 20


def run_sweep(sweep: Sweep, backend: str = "inprocess", *, address: str | None = None, chunk_size: int = CHUNK_SIZE,
              progress=None) -> list[dict]:
    """The table of ``sweep``: one row per grid point, in grid order, every row with the same columns.

    ``backend`` is ``inprocess`` or ``ray`` (a Ray instance already started in this process, the cluster at
    ``address``, or else a local one started and stopped here); ``progress(done, total)`` is told of each chunk.
    A sweep none of whose points is a valid plan is one sentence: the first point's reason.
    """
    if backend not in BACKENDS:
        raise InputError(f"unknown backend '{backend}'; use {' or '.join(BACKENDS)}")
    if address is not None and backend != "ray":
        raise InputError("an address names a Ray cluster: give it with the ray backend")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InputError(f"chunk size must be a whole number of grid points >= 1, got {chunk_size!r}")
    parts = chunks(sweep, chunk_size)
    evaluated = _on_ray(sweep, parts, address, progress) if backend == "ray" else _here(sweep, parts, progress)
    rows = [row for _, row in sorted((pair for part in evaluated for pair in part), key=lambda pair: pair[0])]
    if all(row["status"] == "error" for row in rows):
        raise InputError(f"no grid point is a valid plan; the first: {rows[0]['reason']}")
    return uniform(rows)


def chunks(sweep: Sweep, size: int) -> list[list[tuple[int, tuple]]]:
    """The grid's (index, values) points in chunks of at most ``size``, the points one array solve answers
    (``Sweep.group_key``) kept together where they fit, so a chunk solves whole groups."""
    groups: dict[str, list] = {}
    for item in enumerate(sweep.points()):
        groups.setdefault(sweep.group_key(item[1]), []).append(item)
    out, current = [], []
    for members in groups.values():
        for start in range(0, len(members), size):
            piece = members[start:start + size]
            if len(current) + len(piece) > size:
                out.append(current)
                current = []
            current += piece
    return out + [current]


def _here(sweep: Sweep, parts: list, progress) -> list:
    done, out = 0, []
    for part in parts:
        out.append(evaluate_points(sweep, part))
        done += len(part)
        if progress:
            progress(done, sweep.size)
    return out


def _on_ray(sweep: Sweep, parts: list, address: str | None, progress) -> list:
    """Each chunk a Ray task, the sweep sent once through the object store; results gathered in chunk order."""
    try:
        import ray
    except ImportError:
        raise InputError("the ray backend needs Ray: pip install 'mlsysim[ray]'") from None
    started = not ray.is_initialized()
    if started:
        _start(ray, address)
    try:
        task = ray.remote(evaluate_points)
        shared = ray.put(sweep)
        refs = [task.remote(shared, part) for part in parts]
        sizes = {ref: len(part) for ref, part in zip(refs, parts)}
        pending, done = list(refs), 0
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            done += sizes[ready[0]]
            if progress:
                progress(done, sweep.size)
        return ray.get(refs)
    finally:
        if started:
            ray.shutdown()


def _start(ray, address: str | None) -> None:
    """Join the cluster at ``address``, or start a small local instance (no dashboard, workers' logs kept)."""
    quiet = dict(log_to_driver=False, logging_level=logging.ERROR)
    try:
        if address is None:
            ray.init(num_cpus=os.cpu_count() or 1, object_store_memory=OBJECT_STORE_BYTES, include_dashboard=False,
                     **quiet)
        else:
            ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at '{address}'" if address else "a local Ray instance"
        raise InputError(f"cannot start {where}: {' '.join(str(exc).split()) or type(exc).__name__}") from None
