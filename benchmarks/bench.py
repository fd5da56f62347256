"""Speed budgets of DESIGN.md §5, measured on this machine; prints one table and exits non-zero when a
budget is missed.

Run: python benchmarks/bench.py

"A new configuration each call" means what it says: every timed call solves a (batch, context) pair no
earlier call solved, so no result is reused; the structure of the step (its traced operators and
timing constants) is, as it is for any user who asks about one model on one device more than once.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
import timeit

#: batch sizes and contexts the per-call benchmarks walk through: every pair distinct for 64,512 calls
BATCHES, CONTEXTS = 256, 8064


def _configs():
    """(batch, context) pairs, each new: batch 1..256, context 128..8191, both changing every call."""
    i = 0
    while True:
        yield 1 + (37 * i) % BATCHES, 128 + (101 * i) % CONTEXTS
        i += 1


def _best_process_time(code: list[str], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(code, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def compile_package() -> None:
    """Byte-compile the package first, as `pip install` does: this machine sets PYTHONDONTWRITEBYTECODE,
    so an editable checkout would otherwise recompile every module in every process."""
    import compileall
    from pathlib import Path

    import mlsysim

    compileall.compile_dir(str(Path(mlsysim.__file__).parent), quiet=1)


def bench_import() -> float:
    return _best_process_time([sys.executable, "-c", "import mlsysim"])


def bench_cli_eval() -> float:
    return _best_process_time([sys.executable, "-m", "mlsysim", "eval", "Llama3_8B", "H100"])


def _per_call(call, number: int = 2000, repeat: int = 15) -> float:
    """Seconds per call, the best of ``repeat`` runs of ``number`` calls, each on a new configuration (the
    best, because on a shared machine other work only ever adds time)."""
    configs = _configs()
    call(*next(configs))                       # the structure of the step, built once
    return min(timeit.repeat(lambda: call(*next(configs)), number=number, repeat=repeat)) / number


def bench_engine_solve() -> float:
    import mlsysim

    m, hw = mlsysim.Models.Llama3_8B, mlsysim.Hardware.H100
    return _per_call(lambda b, s: mlsysim.Engine.solve(m, hw, batch_size=b, seq_len=s))


def bench_serving_solve() -> float:
    import mlsysim

    m, hw = mlsysim.Models.Llama3_8B, mlsysim.Hardware.H100
    solve = mlsysim.ServingModel().solve
    return _per_call(lambda b, s: solve(m, hw, batch_size=b, seq_len=s), number=1000)


def bench_sweep(n: int = 100_000) -> float:
    import numpy as np

    import mlsysim

    batches = np.arange(1, n + 1)
    return min(timeit.repeat(lambda: mlsysim.Engine.solve("Llama3_8B", "H100", batch_size=batches),
                             number=1, repeat=5))


def bench_serving_grid(n: int = 1000) -> float:
    """ServingModel over an n x n grid of batch sizes and context lengths (TTFT and ITL of each)."""
    import numpy as np

    import mlsysim

    batches, contexts = np.arange(1, n + 1)[:, None], np.arange(1, n + 1) * 8
    solve = mlsysim.ServingModel().solve
    return min(timeit.repeat(lambda: solve("Llama3_8B", "H100", seq_len=contexts, batch_size=batches),
                             number=1, repeat=5))


def bench_layout_search() -> tuple[int, float]:
    """ParallelismOptimizer over every layout of Llama 3 405B on 16,384 H100 (a fresh optimizer, warm process):
    (layouts timed, seconds)."""
    import mlsysim

    fleet = mlsysim.Systems.Clusters.Frontier_8K.model_copy(update={"count": 2048})
    solve = mlsysim.ParallelismOptimizer().solve
    solve("Llama3_405B", fleet, 2048, 8192)
    runs = [solve("Llama3_405B", fleet, 2048, 8192) for _ in range(3)]
    best = min(runs, key=lambda r: r.search_s)
    return best.total_searched, best.search_s


def main() -> int:
    compile_package()
    imp = bench_import()
    cli = bench_cli_eval()
    engine = bench_engine_solve()
    serving = bench_serving_solve()
    sweep = bench_sweep()
    grid = bench_serving_grid()
    layouts, search = bench_layout_search()
    rows = [("import mlsysim (whole process)", f"{imp * 1e3:.0f} ms", "100 ms", imp <= 0.1),
            ("mlsysim eval Llama3_8B H100 (whole process)", f"{cli * 1e3:.0f} ms", "400 ms", cli <= 0.4),
            ("Engine.solve, a new configuration each call", f"{engine * 1e6:.1f} us", "30 us", engine <= 30e-6),
            ("ServingModel().solve, a new configuration each call", f"{serving * 1e6:.1f} us", "50 us",
             serving <= 50e-6),
            ("vectorized Engine.solve, 100,000 batch sizes", f"{sweep * 1e3:.0f} ms ({1e5 / sweep:,.0f} configs/s)",
             ">= 1,000,000 configs/s", 1e5 / sweep >= 1e6),
            ("ServingModel, 1000 batch x 1000 context grid", f"{grid * 1e3:.0f} ms ({1e6 / grid:,.0f} configs/s)",
             "1 s", grid <= 1.0),
            (f"ParallelismOptimizer, Llama 3 405B on 16,384 H100 ({layouts:,} layouts)",
             f"{search * 1e3:.0f} ms ({layouts / search:,.0f} layouts/s)", ">= 100,000 layouts/s",
             layouts / search >= 1e5)]
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'measured':>30}  {'budget':>22}  ok")
    for name, got, budget, ok in rows:
        print(f"{name:<{width}}  {got:>30}  {budget:>22}  {'yes' if ok else 'NO'}")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
