"""Speed budgets of DESIGN.md §5, measured on this machine; prints one table.

Run: python benchmarks/bench.py
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
import timeit


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


def bench_warm_solve() -> tuple[float, float]:
    import mlsysim

    m, hw = mlsysim.Models.Llama3_8B, mlsysim.Hardware.H100
    r50 = mlsysim.Models.ResNet50
    mlsysim.Engine.solve(m, hw)
    mlsysim.Engine.solve(r50, hw, batch_size=32)
    n = 2000
    llm = min(timeit.repeat(lambda: mlsysim.Engine.solve(m, hw, batch_size=8), number=n, repeat=5)) / n
    cnn = min(timeit.repeat(lambda: mlsysim.Engine.solve(r50, hw, batch_size=32), number=n, repeat=5)) / n
    return llm, cnn


def bench_fresh_solve() -> float:
    """A configuration never solved before: lowering and operator timing included."""
    import mlsysim

    m, hw = mlsysim.Models.Llama3_8B, mlsysim.Hardware.H100
    sizes = iter(range(10_000, 10_000_000))
    return min(timeit.repeat(lambda: mlsysim.Engine.solve(m, hw, batch_size=next(sizes), seq_len=128),
                             number=1000, repeat=5)) / 1000


def bench_sweep(n: int = 100_000) -> float:
    import numpy as np

    import mlsysim

    batches = np.arange(1, n + 1)
    return min(timeit.repeat(lambda: mlsysim.Engine.solve("Llama3_8B", "H100", batch_size=batches),
                             number=1, repeat=5))


def bench_serving_grid(n: int = 1000) -> float:
    """ServingModel over an n x n grid of batch sizes and context lengths (TTFT and ITL of each)."""
    import numpy as np
    from mlsysim.solvers.serving import ServingModel

    batches, contexts = np.arange(1, n + 1)[:, None], np.arange(1, n + 1) * 8
    solve = ServingModel().solve
    return min(timeit.repeat(lambda: solve("Llama3_8B", "H100", seq_len=contexts, batch_size=batches),
                             number=1, repeat=5))


def main() -> None:
    compile_package()
    imp = bench_import()
    cli = bench_cli_eval()
    llm, cnn = bench_warm_solve()
    fresh = bench_fresh_solve()
    sweep = bench_sweep()
    grid = bench_serving_grid()
    rows = [("import mlsysim (whole process)", f"{imp * 1e3:.0f} ms", "300 ms", imp <= 0.3),
            ("mlsysim eval Llama3_8B H100 (whole process)", f"{cli * 1e3:.0f} ms", "600 ms", cli <= 0.6),
            ("warm Engine.solve, Llama3_8B decode on H100", f"{llm * 1e6:.1f} us", "50 us", llm <= 50e-6),
            ("warm Engine.solve, ResNet50 b=32 on H100", f"{cnn * 1e6:.1f} us", "50 us", cnn <= 50e-6),
            ("Engine.solve of a new configuration (Llama3_8B)", f"{fresh * 1e6:.1f} us", "-", True),
            ("vectorized solve, 100,000 batch sizes", f"{sweep * 1e3:.0f} ms ({1e5 / sweep:,.0f} configs/s)",
             ">= 1,000,000 configs/s", 1e5 / sweep >= 1e6),
            ("ServingModel, 1000 batch x 1000 context grid", f"{grid * 1e3:.0f} ms ({1e6 / grid:,.0f} configs/s)",
             ">= 1,000,000 configs/s", 1e6 / grid >= 1e6)]
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'measured':>30}  {'budget':>22}  ok")
    for name, got, budget, ok in rows:
        print(f"{name:<{width}}  {got:>30}  {budget:>22}  {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
