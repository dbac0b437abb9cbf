"""Per-event cost of scoring one event with a LightGBM model, each way we could.

    .venv/bin/python benchmarks/model_scoring.py [--trees 200] [--features 40]

Trains a model of the shape walletguard's training produces (15 leaves, depth 6) on
synthetic data, then times single-row scoring: LightGBM's `Booster.predict` (default
threads and one thread), the compiled trees walletguard serves with, and the
`pred_contrib` explanation. Prints microseconds per call (median of several runs).
"""

from __future__ import annotations

import argparse
import statistics
import time

import lightgbm as lgb
import numpy as np

from walletguard.scoring.training import DEFAULT_PARAMS
from walletguard.scoring.trees import compile_trees


def per_call_us(fn, rows, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        for row in rows:
            fn(row)
        runs.append((time.perf_counter() - started) / len(rows) * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--features", type=int, default=40)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40_000, args.features))
    x[rng.random(x.shape) < 0.1] = np.nan
    signal = np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) * np.nan_to_num(x[:, 2])
    y = (signal + rng.normal(size=len(x)) > 2.5).astype(int)
    booster = lgb.train(DEFAULT_PARAMS, lgb.Dataset(x, y), num_boost_round=args.trees)
    compiled = compile_trees(booster.dump_model())
    rows = [list(map(float, r)) for r in x[:2000]]
    arrays = [np.asarray([r]) for r in rows]
    few = arrays[:200]
    results = {
        "Booster.predict, default threads": per_call_us(lambda a: booster.predict(a), few, 3),
        "Booster.predict, num_threads=1": per_call_us(
            lambda a: booster.predict(a, num_threads=1), arrays
        ),
        "compiled trees (served)": per_call_us(compiled, rows),
        "pred_contrib, num_threads=1 (explanations)": per_call_us(
            lambda a: booster.predict(a, pred_contrib=True, num_threads=1), few, 3
        ),
    }
    print(f"model: {args.trees} trees, {args.features} features, 15 leaves, depth ≤ 6")
    for name, us in results.items():
        print(f"{name:45s} {us:9.1f} µs/event")


if __name__ == "__main__":
    main()
