"""One candidate's paired benchmarks: each paired with the baseline by item id, then its
statistics (CI, paired test with the family's multiplicity adjustment, power, flips, drift,
calibration) and the averages of benchmark groups.

A benchmark that cannot be paired (file missing or malformed, ids misaligned, too few items)
comes back as ``Unusable``; the gates turn that into a BLOCKED outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from promgate.errors import AlignmentError
from promgate.gates.benchmark_stats import (
    benchmark_stats,
    ci_fields,
    pp,
    raw_p_value,
    tested_alpha,
)
from promgate.gates.inputs import EvidenceStore, Unusable, located, shown
from promgate.gates.outcome import Reason
from promgate.gates.policy import Policy
from promgate.gates.report import AverageStats, BenchmarkStats, CleanSubset
from promgate.stats.bootstrap import BootstrapResult, macro_bootstrap, paired_bootstrap
from promgate.stats.multiplicity import adjust_pvalues
from promgate.stats.pairing import PairedSample, pair_results


@dataclass
class GateRun:
    """What every candidate's evaluation shares: inputs, policy, and where evidence lies."""

    baseline_dir: Path
    benchmarks: list[str]
    policy: Policy
    store: EvidenceStore
    evidence_root: Path
    other: dict[str, list[str]] = field(default_factory=dict)
    # Ids the contamination stage flagged; None when no flags were given.
    contaminated: frozenset[str] | None = None

    @property
    def paired(self) -> list[str]:
        """Main benchmarks, then every other benchmark a gate compares with the baseline."""
        extra = [b for group in self.other.values() for b in group if b not in self.benchmarks]
        return list(dict.fromkeys([*self.benchmarks, *extra]))


def results_path(folder: Path, bench: str) -> Path:
    """``<folder>/<bench>.jsonl``, as gate.json names it (relative to the working directory)."""
    return shown(folder / f"{bench}.jsonl")


def other_benchmarks(policy: Policy) -> dict[str, list[str]]:
    gates = policy.gates
    out: dict[str, list[str]] = {}
    if gates.contamination_suite is not None:
        out["contamination_suite"] = list(gates.contamination_suite.benchmarks)
    if gates.swebench is not None:
        out["swebench"] = [gates.swebench.benchmark]
    return out


def _cluster_problem(sample: PairedSample) -> str | None:
    """A cluster must lie in one stratum (the cluster bootstrap resamples within strata)."""
    strata_of: dict[str, set[str]] = {}
    for cluster, stratum in zip(sample.clusters, sample.strata, strict=True):
        if cluster:
            strata_of.setdefault(str(cluster), set()).add(str(stratum))
    spanning = sorted(c for c, s in strata_of.items() if len(s) > 1)
    return f"cluster '{spanning[0]}' spans more than one stratum" if spanning else None


def _pair(run: GateRun, bench: str, cand_dir: Path) -> PairedSample:
    base_path = results_path(run.baseline_dir, bench)
    cand_path = results_path(cand_dir, bench)
    base = run.store.results(base_path)
    if isinstance(base, Unusable):
        raise Unusable(base.reason, f"baseline: {base.message}", base.evidence)
    cand = run.store.results(cand_path)
    if isinstance(cand, Unusable):
        raise cand
    try:
        sample = pair_results(
            base, cand, benchmark=bench, baseline_source=base_path, candidate_source=cand_path
        )
    except AlignmentError as exc:
        raise Unusable(Reason.ALIGNMENT, str(exc), located(exc)) from exc
    if sample.n == 0:  # nothing to estimate at all; a short benchmark still gets statistics
        msg = f"{base_path}: no items to pair"
        raise Unusable(Reason.MISSING_EVIDENCE, msg, {"path": str(base_path), "n_paired": 0})
    problem = _cluster_problem(sample) if run.policy.bootstrap.clusters else None
    if problem:
        raise Unusable(Reason.SCHEMA, f"{base_path}: {problem}", {"path": str(base_path)})
    return sample


def _bootstrap(
    samples: Mapping[str, PairedSample], policy: Policy
) -> tuple[dict[str, BootstrapResult], BootstrapResult]:
    """Each benchmark's CI and their joint macro-average CI, from the same keyed streams."""
    bs = policy.bootstrap
    arrays = {
        k: (s.baseline, s.candidate, s.strata, s.clusters if bs.clusters else None)
        for k, s in samples.items()
    }
    macro = macro_bootstrap(
        arrays, resamples=bs.resamples, seed=bs.seed, confidence=bs.confidence, ci=bs.ci
    )
    return macro.per_benchmark, macro.average


def _average(result: BootstrapResult, benchmarks: list[str]) -> AverageStats:
    return AverageStats(
        benchmarks=benchmarks,
        resamples=result.resamples,
        seed=result.seed,
        method=result.method,
        **ci_fields(result),  # type: ignore[arg-type]
    )


@dataclass
class Evaluated:
    """One candidate's paired benchmarks: statistics, and why a benchmark cannot be used.

    A benchmark with fewer paired items than the policy's minimum has statistics (they are
    reported) and is unusable too: every gate that reads it is BLOCKED.
    """

    stats: dict[str, BenchmarkStats]
    unusable: dict[str, Unusable]
    averages: dict[str, AverageStats]  # "main", "contamination_suite", "swebench"


def _group_bootstraps(
    run: GateRun, samples: dict[str, PairedSample]
) -> tuple[dict[str, BootstrapResult], dict[str, AverageStats]]:
    """CIs for every usable benchmark; a group's average only when all its members are usable."""
    groups = {"main": run.benchmarks, **run.other}
    boots: dict[str, BootstrapResult] = {}
    averages: dict[str, AverageStats] = {}
    for name, members in groups.items():
        usable = {b: samples[b] for b in members if b in samples}
        if len(usable) == len(members) and members:
            per, avg = _bootstrap(usable, run.policy)
            averages[name] = _average(avg, sorted(members))
            boots.update(per)
        elif usable:
            boots.update(_bootstrap(usable, run.policy)[0])
    return boots, averages


def clean_subset(sample: PairedSample, contaminated: frozenset[str], policy: Policy) -> CleanSubset:
    """Δ and its CI restricted to items not flagged as contaminated."""
    keep = ~np.isin(sample.ids, np.array(sorted(contaminated), dtype=object))
    n = int(keep.sum())
    if n == 0:
        return CleanSubset(n=0, n_excluded=sample.n, delta_pp=None, ci_low_pp=None, ci_high_pp=None)
    clean = replace(
        sample,
        ids=sample.ids[keep],
        baseline=sample.baseline[keep],
        candidate=sample.candidate[keep],
        strata=sample.strata[keep],
        clusters=sample.clusters[keep],
    )
    bs = policy.bootstrap
    result = paired_bootstrap(
        clean.baseline,
        clean.candidate,
        clean.strata,
        resamples=bs.resamples,
        seed=bs.seed,
        confidence=bs.confidence,
        key=f"{sample.benchmark}/clean",
        ci=bs.ci,
    )
    return CleanSubset(
        n=n,
        n_excluded=sample.n - n,
        delta_pp=pp(result.delta),
        ci_low_pp=pp(result.ci_low),
        ci_high_pp=pp(result.ci_high),
    )


def statistics(run: GateRun, cand_dir: Path) -> Evaluated:
    """Every benchmark the run pairs, for the candidate whose results are in ``cand_dir``."""
    samples: dict[str, PairedSample] = {}
    unusable: dict[str, Unusable] = {}
    need = run.policy.min_items_per_benchmark
    for bench in run.paired:
        try:
            samples[bench] = sample = _pair(run, bench, cand_dir)
        except Unusable as err:
            unusable[bench] = err
            continue
        if sample.n < need:
            path = str(results_path(cand_dir, bench))
            unusable[bench] = Unusable(
                Reason.MISSING_EVIDENCE,
                f"{path}: {sample.n} paired item(s), policy needs at least {need}",
                {"path": path, "n_paired": sample.n, "min_items_per_benchmark": need},
            )
    boots, averages = _group_bootstraps(run, samples)
    tests = {b: raw_p_value(s) for b, s in samples.items()}
    testing = run.policy.testing
    # Missing evidence counts as p = 1: it stays in the family and loosens nothing.
    family = {b: tests[b][0] if b in tests else 1.0 for b in run.benchmarks}
    adjusted = adjust_pvalues(family, testing.multiplicity)
    main_alpha = tested_alpha(testing.alpha, testing.multiplicity, len(run.benchmarks))
    per_bench = run.policy.gates.per_benchmark
    stats = {}
    for bench, sample in samples.items():
        in_family = bench in run.benchmarks
        base = run.store.results(results_path(run.baseline_dir, bench))
        cand = run.store.results(results_path(cand_dir, bench))
        assert not isinstance(base, Unusable) and not isinstance(cand, Unusable)
        stats[bench] = benchmark_stats(
            sample,
            boots[bench],
            p_value=tests[bench][0],
            test_fields=tests[bench][1],
            p_adjusted=adjusted[bench] if in_family else None,
            alpha=main_alpha if in_family else testing.alpha,
            power=testing.power,
            threshold_pp=per_bench.target_for(bench) if in_family else None,
            baseline_results={r.id: r for r in base},
            candidate_results={r.id: r for r in cand},
            sources={
                "baseline": str(results_path(run.baseline_dir, bench)),
                "candidate": str(results_path(cand_dir, bench)),
            },
        )
        if run.contaminated is not None and in_family:
            stats[bench].clean = clean_subset(sample, run.contaminated, run.policy)
    return Evaluated(stats=stats, unusable=unusable, averages=averages)
