"""How long the main job takes: `walletguard demo` end to end, and evaluate alone.

    python -m benchmarks.evaluate_demo [--users 3000] [--days 7] [--seed 7] [--repeat 1]

Runs the demo exactly as the command does (simulate, allow-list, evaluate with step-ups
and the support desk, reconcile, sweep, outbox, checkpoint, report) into a scratch
directory, and prints per step the wall time, and for the whole run the CPU time
(user + system of this process), the evaluation's events/s and CPU, and the peak memory.
On a shared machine wall time is noisy; CPU time is the comparable figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from walletguard.demo import DemoOptions, run_demo


class Quiet:
    def start(self, label: str, total: float | None) -> Callable[[float], None]:
        return lambda value: None

    def done(self, label: str, message: str) -> None:
        print(f"  {label}: {message}")


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wg-demo-bench-") as scratch:
        os.environ.setdefault("WALLETGUARD_HOME", str(Path(scratch) / "home"))
        for run in range(args.repeat):
            print(f"run {run + 1}: demo --users {args.users} --days {args.days} --seed {args.seed}")
            wall, before = time.perf_counter(), cpu()
            result = run_demo(
                DemoOptions(args.users, args.days, args.seed, out=Path(scratch) / f"run{run}"),
                Quiet(),
            )
            total_wall, total_cpu = time.perf_counter() - wall, cpu() - before
            ev = result.evaluation
            for step, seconds in result.steps.items():
                print(f"  {step:<26} {seconds:8.1f} s wall")
            print(f"  {'whole demo':<26} {total_wall:8.1f} s wall   {total_cpu:8.1f} s CPU")
            print(
                f"  evaluation: {ev.events:,} events, {ev.events_per_second:,.0f} events/s wall, "
                f"{ev.events / ev.cpu_seconds:,.0f} events/s CPU ({ev.cpu_seconds:.1f} s), "
                f"engine p50 {ev.latency.p50_us:.0f} µs p99 {ev.latency.p99_us:.0f} µs"
            )
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"  peak memory {peak:,.0f} MB; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
