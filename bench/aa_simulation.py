"""A/A simulation of the per-benchmark improvement test, CI coverage, and power; prints JSON.

    python bench/aa_simulation.py [--suites 2000] [--resamples 10000] [--seed 0] [--out FILE]

A/A: baseline and candidate have the same true accuracy on every benchmark, so any
"improvement" is a false one. Each simulated suite has 7 benchmarks; each benchmark draws
its true accuracy from U(0.5, 0.7) and its agreement (both right or both wrong) from
U(0.80, 0.90), like two checkpoints of one model; n items are drawn per benchmark, for
n = 100 and n = 500 (2,000 suites each). The improvement test is miso_v1's per-benchmark
rule, "Δ ≥ +2.0 pp AND McNemar p < 0.05 after Holm across the suite's benchmarks".

Reported: the false-improvement rate per suite (any benchmark falsely improved: what a
release decision sees) and per benchmark, with Holm, with BH, and with no adjustment; the
coverage of the true Δ by the 95 % bootstrap CI (percentile and BCa), in the A/A setting
(true Δ = 0) and in an A/B setting (true Δ = +3 pp); and the power at true Δ = +2 pp and
+3 pp for n = 100, 500, 1,000: McNemar's (analytic, Connor with continuity correction, and
simulated with the exact test promgate runs) and that of the whole improvement rule.

About 80 s on two busy cores with the gate's B = 10,000; ``--resamples 2000`` halves it
(coverage is a property of the interval: a smaller B only adds Monte-Carlo noise).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from promgate.stats.bootstrap import paired_bootstrap
from promgate.stats.mcnemar import mcnemar_test
from promgate.stats.multiplicity import adjust_pvalues
from promgate.stats.power import (
    mde_paired_binary,
    power_paired_binary,
    simulate_power_paired_binary,
)

BENCHMARKS = 7
MIN_DELTA = 0.02  # miso_v1 per-benchmark improvement threshold, +2.0 pp
ALPHA = 0.05
NS = (100, 500)
POWER_NS = (100, 500, 1_000)
POWER_DISCORDANCE = (0.10, 0.15, 0.20)
POWER_DELTAS = (0.02, 0.03)
AB_DELTA = 0.03
POWER_REPS = 20_000


class PValues:
    """McNemar p-values, memoised on (b, c): a simulation meets the same tables often."""

    def __init__(self) -> None:
        self.cache: dict[tuple[int, int], float] = {}

    def __call__(self, b: int, c: int) -> float:
        key = (b, c)
        if key not in self.cache:
            self.cache[key] = mcnemar_test(b, c).p_value
        return self.cache[key]


def cells(accuracy: float, discordance: float, delta: float) -> list[float]:
    """(0,0), (0,1), (1,0), (1,1) for baseline accuracy, P(disagree) and true Δ."""
    p01, p10 = (discordance + delta) / 2, (discordance - delta) / 2
    p11 = accuracy - p10
    return [1.0 - p01 - p10 - p11, p01, p10, p11]


def draw_suite(rng: np.random.Generator, n: int, delta: float):
    out = []
    for _ in range(BENCHMARKS):
        acc, agree = rng.uniform(0.5, 0.7), rng.uniform(0.80, 0.90)
        k = rng.choice(4, size=n, p=cells(acc, 1.0 - agree, delta))
        out.append(((k >= 2).astype(float), (k % 2).astype(float)))
    return out


def wilson(hits: int, total: int) -> list[float]:
    """95 % Wilson interval of a simulated rate."""
    z = 1.959964
    p = hits / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return [round(centre - half, 4), round(centre + half, 4)]


def rate(hits: int, total: int) -> dict:
    return {"rate": round(hits / total, 4), "ci95": wilson(hits, total), "of": total}


def improvement_and_coverage(
    n: int, delta: float, suites: int, resamples: int, seed: int, pvalue: PValues
) -> dict:
    methods = ("holm", "bh", "none")
    any_hits = dict.fromkeys(methods, 0)
    bench_hits = dict.fromkeys(methods, 0)
    two_sided = 0
    cover = {"percentile": 0, "bca": 0}
    width = 0.0
    for suite in range(suites):
        rng = np.random.default_rng([seed, n, int(delta * 1e4), suite])
        data = draw_suite(rng, n, delta)
        raw, observed = {}, {}
        for i, (base, cand) in enumerate(data):
            b = int(np.sum((base == 1) & (cand == 0)))
            c = int(np.sum((base == 0) & (cand == 1)))
            raw[f"b{i}"], observed[f"b{i}"] = pvalue(b, c), (c - b) / n
            two_sided += raw[f"b{i}"] < ALPHA
            for ci in cover:
                res = paired_bootstrap(
                    base, cand, resamples=resamples, seed=suite, key=f"b{i}", ci=ci
                )
                cover[ci] += res.ci_low <= delta <= res.ci_high
                if ci == "percentile":
                    width += res.ci_high - res.ci_low
        for method in methods:
            adj = adjust_pvalues(raw, method)
            wins = [k for k in raw if observed[k] >= MIN_DELTA - 1e-12 and adj[k] < ALPHA]
            any_hits[method] += bool(wins)
            bench_hits[method] += len(wins)
    total = suites * BENCHMARKS
    out = {
        "ci_coverage_of_true_delta": {ci: rate(h, total) for ci, h in cover.items()},
        "mean_percentile_ci_width_pp": round(100 * width / total, 2),
    }
    if delta == 0.0:
        out["false_improvement"] = {
            m: {
                "per_suite_any_benchmark": rate(any_hits[m], suites),
                "per_benchmark": rate(bench_hits[m], total),
            }
            for m in methods
        }
        out["mcnemar_two_sided_rejection_unadjusted"] = rate(two_sided, total)
    return out


def power_table(seed: int) -> dict:
    table = {}
    for n in POWER_NS:
        for psi in POWER_DISCORDANCE:
            row = {"mde_pp_at_80pct_power": round(100 * mde_paired_binary(n, psi), 2)}
            for delta in POWER_DELTAS:
                sim = {
                    "mcnemar": simulate_power_paired_binary(
                        n, psi, delta, reps=POWER_REPS, seed=seed
                    ),
                    "rule_unadjusted": simulate_power_paired_binary(
                        n, psi, delta, min_delta=MIN_DELTA, reps=POWER_REPS, seed=seed
                    ),
                    # Holm's first step when this is the only real effect in the suite.
                    "rule_holm_alone_in_7": simulate_power_paired_binary(
                        n,
                        psi,
                        delta,
                        alpha=ALPHA / BENCHMARKS,
                        min_delta=MIN_DELTA,
                        reps=POWER_REPS,
                        seed=seed,
                    ),
                }
                row[f"true_delta_{round(100 * delta)}pp"] = {
                    "mcnemar_analytic": round(power_paired_binary(n, psi, delta), 4),
                    "mcnemar_analytic_no_cc": round(
                        power_paired_binary(n, psi, delta, continuity=False), 4
                    ),
                    **{f"{k}_simulated": round(v, 4) for k, v in sim.items()},
                }
            table[f"n={n}, discordance={psi:.2f}"] = row
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", type=int, default=2_000)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    start = time.perf_counter()
    pvalue = PValues()
    aa = {
        f"n={n}": improvement_and_coverage(n, 0.0, args.suites, args.resamples, args.seed, pvalue)
        for n in NS
    }
    ab = {
        f"n={n}": improvement_and_coverage(
            n, AB_DELTA, args.suites // 2, args.resamples, args.seed, pvalue
        )["ci_coverage_of_true_delta"]
        for n in NS
    }
    power = power_table(args.seed)
    elapsed = time.perf_counter() - start

    fi = [aa[k]["false_improvement"]["holm"]["per_suite_any_benchmark"]["rate"] for k in aa]
    cov = [aa[k]["ci_coverage_of_true_delta"] for k in aa] + list(ab.values())
    report = {
        "setup": {
            "suites_per_n": args.suites,
            "benchmarks_per_suite": BENCHMARKS,
            "items_per_benchmark": list(NS),
            "true_accuracy": "U(0.5, 0.7) per benchmark, same for baseline and candidate",
            "agreement": "U(0.80, 0.90) per benchmark (discordance 0.10-0.20)",
            "improvement_rule": "delta >= +2.0 pp AND McNemar p (adjusted) < 0.05",
            "mcnemar": "exact binomial below 25 discordant pairs, else chi2 with continuity",
            "bootstrap": f"paired, 95 %, B = {args.resamples} (the gate's default is 10,000)",
            "ab_setting": f"true delta = +{round(100 * AB_DELTA)} pp, {args.suites // 2} suites",
            "power_reps": POWER_REPS,
            "seed": args.seed,
        },
        "aa": aa,
        "ab_ci_coverage_of_true_delta": ab,
        "power": power,
        "checks": {
            "false_improvement_holm_per_suite_le_5pct": all(r <= 0.05 for r in fi),
            "percentile_coverage_ge_94pct": all(c["percentile"]["rate"] >= 0.94 for c in cov),
            "bca_coverage_ge_94pct": all(c["bca"]["rate"] >= 0.94 for c in cov),
        },
        "runtime_s": round(elapsed, 1),
        "python": platform.python_version(),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
