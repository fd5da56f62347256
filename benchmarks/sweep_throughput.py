"""Grid points per second of ``mlsysim sweep``: in this process (batch sizes and contexts solved as arrays, and
one plan at a time for comparison) and on a local Ray instance; prints one table.

Run: python benchmarks/sweep_throughput.py        (Ray: pip install 'mlsysim[ray]')

Each grid is hardware x precision x batch size (x context for the language model): a few thousand points, some
of which do not fit or are not supported on their device (rows too). The Ray figures include starting and
stopping the local instance (what `mlsysim sweep --backend ray` does) and, apart, a run on an instance already up.
"""
from __future__ import annotations

import os
import sys
import time

HARDWARE = ["H100", "A100", "B200", "H200", "MI300X", "L4", "L40S", "Gaudi3"]
PRECISIONS = ["fp16", "fp8", "int8"]
GRIDS = {
    "Llama3_8B decode": ({"name": "Llama3_8B"}, {"workload.batch_size": {"start": 1, "stop": 512, "num": 16,
                                                                          "scale": "log"},
                                                 "workload.seq_len": {"start": 512, "stop": 8192, "num": 8,
                                                                      "scale": "log"}}),
    "ResNet50 inference": ({"name": "ResNet50"}, {"workload.batch_size": {"start": 1, "stop": 1024, "num": 128}}),
}


def sweeps():
    from mlsysim.sweep.spec import parse_sweep

    for name, (workload, axes) in GRIDS.items():
        plan = {"version": "1.0", "name": name, "workload": workload, "hardware": {"name": "H100"},
                "ops": {"region": "Quebec", "duration_days": 30}}
        yield name, parse_sweep({"plan": plan, "axes": {"hardware.name": HARDWARE, "hardware.precision": PRECISIONS,
                                                        **axes}})


def rate(sweep, **options) -> tuple[float, list]:
    """Grid points per second of one run, and its table."""
    from mlsysim.sweep.runner import run_sweep

    start = time.perf_counter()
    rows = run_sweep(sweep, **options)
    return sweep.size / (time.perf_counter() - start), rows


def main() -> int:
    import ray

    from mlsysim.sweep.runner import run_sweep

    cpus = os.cpu_count() or 1
    print(f"{'grid':<20} {'points':>6}  {'in-process':>11}  {'one plan at a time':>18}  "
          f"{f'Ray, {cpus} CPUs, with start':>26}  {'Ray, started':>12}  same table")
    for name, sweep in sweeps():
        run_sweep(sweep)                                  # each step's structure traced once, as for any user
        here, table = rate(sweep)
        one, _ = rate(sweep, chunk_size=1)                # chunks of one point: no array solves
        cold, cold_table = rate(sweep, backend="ray")
        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        try:
            rate(sweep, backend="ray")                    # the workers' first import and trace of each step
            warm, _ = rate(sweep, backend="ray")
        finally:
            ray.shutdown()
        print(f"{name:<20} {sweep.size:>6,}  {here:>9,.0f}/s  {one:>16,.0f}/s  {cold:>24,.0f}/s  {warm:>10,.0f}/s  "
              f"{'yes' if cold_table == table else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
