"""Time promgate's paired bootstrap against scipy.stats.bootstrap, same data; print JSON.

    python bench/bootstrap_speed.py [--benchmarks 10] [--items 1000] [--resamples 10000]
                                    [--repeats 3] [--out FILE]

Both compute a 95 % percentile CI of Δ = mean(candidate) − mean(baseline) on each of the
benchmarks' paired binary items, B = 10,000: scipy with ``paired=True, vectorized=True``
(it resamples item indices), promgate drawing each replicate's n01 − n10 from its exact
law (the same law as a multinomial draw over the four (baseline, candidate) cells). Each
repeat times the whole suite; the medians are compared. When one scipy repeat takes over
30 s, it is timed once and the output says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from promgate.stats.bootstrap import macro_bootstrap, paired_bootstrap

SLOW_S = 30.0


def suite(benchmarks: int, items: int, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Paired binary outcomes with ~60 % accuracy and ~85 % agreement per benchmark."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(benchmarks):
        acc, psi = rng.uniform(0.5, 0.7), rng.uniform(0.10, 0.20)
        cells = [1 - acc - psi / 2 + 0.01, psi / 2 + 0.01, psi / 2 - 0.01, acc - psi / 2 - 0.01]
        k = rng.choice(4, size=items, p=cells)
        out[f"bench{i:02d}"] = ((k >= 2).astype(float), (k % 2).astype(float))
    return out


def mean_diff(base: np.ndarray, cand: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(cand - base, axis=axis)


def run_promgate(data, resamples: int, ci: str = "percentile") -> dict[str, tuple[float, float]]:
    out = {}
    for name, (base, cand) in data.items():
        res = paired_bootstrap(base, cand, resamples=resamples, seed=0, key=name, ci=ci)
        out[name] = (res.ci_low, res.ci_high)
    return out


def run_scipy(data, resamples: int) -> dict[str, tuple[float, float]]:
    out = {}
    for i, (name, (base, cand)) in enumerate(data.items()):
        res = stats.bootstrap(
            (base, cand),
            mean_diff,
            paired=True,
            vectorized=True,
            n_resamples=resamples,
            method="percentile",
            rng=np.random.default_rng(i),
        )
        ci = res.confidence_interval
        out[name] = (float(ci.low), float(ci.high))
    return out


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", type=int, default=10)
    parser.add_argument("--items", type=int, default=1_000)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    data = suite(args.benchmarks, args.items, seed=0)
    run_promgate(data, 100)  # warm-up: imports, first-call allocations
    scipy_times: list[float] = []
    ours_times: list[float] = []
    bca_times: list[float] = []
    macro_times: list[float] = []
    scipy_note = None
    for rep in range(args.repeats):
        t, ours = timed(run_promgate, data, args.resamples)
        ours_times.append(t)
        bca_times.append(timed(run_promgate, data, args.resamples, "bca")[0])
        arrays = {k: (b, c, None) for k, (b, c) in data.items()}
        macro_times.append(timed(macro_bootstrap, arrays, resamples=args.resamples)[0])
        if rep == 0 or scipy_times[0] <= SLOW_S:
            t, theirs = timed(run_scipy, data, args.resamples)
            scipy_times.append(t)
        elif scipy_note is None:
            scipy_note = f"one scipy repeat took over {SLOW_S:.0f} s: scipy timed once"

    # The two must agree (independent streams: within Monte-Carlo error and one 1/n step).
    worst_gap = max(
        max(abs(ours[k][0] - theirs[k][0]), abs(ours[k][1] - theirs[k][1])) for k in data
    )
    ours_med = statistics.median(ours_times)
    scipy_med = statistics.median(scipy_times)
    report = {
        "task": (
            f"95% percentile CI of paired Δ, {args.benchmarks} benchmarks × {args.items} "
            f"paired binary items, B = {args.resamples}"
        ),
        "promgate": {
            "method": "paired_bootstrap: n01 - n10 per replicate drawn from its exact law",
            "repeats_s": [round(t, 5) for t in ours_times],
            "median_s": round(ours_med, 5),
            "bca_median_s": round(statistics.median(bca_times), 5),
            "macro_bootstrap_median_s": round(statistics.median(macro_times), 5),
        },
        "scipy": {
            "method": "scipy.stats.bootstrap(paired=True, vectorized=True, method='percentile')",
            "version": scipy.__version__,
            "repeats_s": [round(t, 4) for t in scipy_times],
            "median_s": round(scipy_med, 4),
            "note": scipy_note,
        },
        "speedup_scipy_over_promgate": round(scipy_med / ours_med, 1),
        "largest_ci_bound_gap": round(worst_gap, 5),
        "one_grid_step": 1.0 / args.items,
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpus": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
        },
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
