"""Evaluate a promotion: per-item results of a baseline and candidates -> a typed GateReport.

Inputs are ``<dir>/<benchmark>.jsonl`` ItemResult files. Bad evidence never raises out of
here: a missing, malformed or misaligned file becomes a BLOCKED outcome naming the file, so
the gate stage always records a decision. The report model lives in
``promgate.gates.report``; writing it and the CI exit code in ``promgate.gates.outputs``.

Units: accuracies and ``delta``/``ci_*`` are proportions (0.03); every ``*_pp`` field is
percentage points (3.0). Policy thresholds are in pp.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from promgate import __version__
from promgate.errors import AlignmentError, PromgateError, SchemaError
from promgate.gates.outcome import GateOutcome, Reason, Status, decide, worst
from promgate.gates.policy import BLOCKED_RESPONSE_KEY, Policy, policy_sha256
from promgate.gates.report import (
    AverageStats,
    BenchmarkStats,
    CandidateReport,
    GateReport,
    MethodInfo,
    PolicyInfo,
)
from promgate.io import sha256_file
from promgate.results import ItemResult, read_results
from promgate.stats.bootstrap import BootstrapResult, macro_bootstrap, paired_bootstrap
from promgate.stats.mcnemar import mcnemar_from_pairs
from promgate.stats.pairing import PairedSample, pair_results

# Threshold comparisons in pp tolerate float noise such as 0.07 * 100 = 7.000000000000001.
_EPS_PP = 1e-9


def _pp(proportion: float) -> float:
    # Rounded so that 0.0725 reads 7.25, not 7.249999999999999; 1e-10 pp is far below any
    # threshold and keeps gate.json stable across platforms.
    return round(100.0 * proportion, 10)


class _Unusable(Exception):
    """Evidence that cannot be used, with the reason code a BLOCKED outcome will carry."""

    def __init__(self, reason: Reason, message: str, evidence: dict[str, Any]) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.evidence = evidence


def _located(exc: PromgateError) -> dict[str, Any]:
    fields = {k: getattr(exc, k, None) for k in ("path", "line", "field")}
    return {k: v for k, v in fields.items() if v is not None}


def _shown(path: Path) -> Path:
    """The path relative to the working directory when it lies below it.

    Stages run from the repository root, so gate.json then names ``results/...`` and does
    not change with where the repository is checked out. Symlinks are not followed: DVC may
    link outputs into its cache, and the report should name the workspace path.
    """
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(Path.cwd()))
    except ValueError:
        return path


def _load(path: Path, inputs: dict[str, str]) -> list[ItemResult] | _Unusable:
    """Read one results file, or describe why it cannot be used."""
    path = _shown(path)
    if not path.is_file():
        return _Unusable(
            Reason.MISSING_EVIDENCE, f"{path}: results file not found", {"path": str(path)}
        )
    try:
        inputs[str(path)] = sha256_file(path)
        return read_results(path)
    except SchemaError as exc:
        return _Unusable(Reason.SCHEMA, str(exc), _located(exc))
    except UnicodeDecodeError as exc:
        return _Unusable(Reason.SCHEMA, f"{path}: not UTF-8 text ({exc.reason})", {})
    except OSError as exc:
        return _Unusable(Reason.MISSING_EVIDENCE, f"{path}: unreadable ({exc.strerror})", {})


def _pair(
    bench: str,
    base: list[ItemResult] | _Unusable,
    base_path: Path,
    cand_path: Path,
    inputs: dict[str, str],
    policy: Policy,
) -> PairedSample:
    if isinstance(base, _Unusable):
        raise _Unusable(base.reason, f"baseline: {base.message}", base.evidence)
    cand = _load(cand_path, inputs)
    if isinstance(cand, _Unusable):
        raise cand
    try:
        sample = pair_results(
            base, cand, benchmark=bench, baseline_source=base_path, candidate_source=cand_path
        )
    except AlignmentError as exc:
        raise _Unusable(Reason.ALIGNMENT, str(exc), _located(exc)) from exc
    if sample.n < policy.min_items_per_benchmark:
        raise _Unusable(
            Reason.MISSING_EVIDENCE,
            f"{cand_path}: {sample.n} paired item(s), policy needs at least "
            f"{policy.min_items_per_benchmark}",
            {"n_paired": sample.n, "min_items_per_benchmark": policy.min_items_per_benchmark},
        )
    return sample


def _benchmark_stats(sample: PairedSample, boot: BootstrapResult) -> BenchmarkStats:
    stats: dict[str, Any] = {}
    if sample.is_binary:
        mc = mcnemar_from_pairs(sample.baseline, sample.candidate)
        stats = {
            "mcnemar_b": mc.b,
            "mcnemar_c": mc.c,
            "mcnemar_statistic": mc.statistic,
            "p_value": mc.p_value,
            "mcnemar_method": mc.method,
        }
    return BenchmarkStats(
        benchmark=sample.benchmark,
        n=sample.n,
        n_baseline=sample.coverage.n_baseline,
        n_candidate=sample.coverage.n_candidate,
        binary=sample.is_binary,
        baseline_acc=float(sample.baseline.mean()),
        candidate_acc=float(sample.candidate.mean()),
        delta=boot.delta,
        ci_low=boot.ci_low,
        ci_high=boot.ci_high,
        delta_pp=_pp(boot.delta),
        ci_low_pp=_pp(boot.ci_low),
        ci_high_pp=_pp(boot.ci_high),
        confidence=boot.confidence,
        bootstrap_method=boot.method,
        **stats,
    )


def _blocked(
    gate: str, candidate: str, bench: str | None, err: _Unusable, policy: Policy, required: bool
) -> GateOutcome:
    return GateOutcome(
        gate=gate,
        status=Status.BLOCKED,
        reason=err.reason,
        message=err.message,
        candidate=candidate,
        benchmark=bench,
        evidence=err.evidence,
        policy_ref=policy.ref(gate),
        required=required,
        failure_response=policy.response_for(BLOCKED_RESPONSE_KEY),
    )


def _per_benchmark_outcome(candidate: str, st: BenchmarkStats, policy: Policy) -> GateOutcome:
    cfg = policy.gates.per_benchmark
    if st.delta_pp >= cfg.min_improvement_pp - _EPS_PP:
        status, reason, verdict = Status.PASS, Reason.IMPROVED, "improved"
    elif st.delta_pp >= cfg.max_regression_pp - _EPS_PP:
        status, reason, verdict = Status.PASS, Reason.NO_REGRESSION, "no regression"
    else:
        status, reason, verdict = Status.FAIL, Reason.REGRESSION, "regression"
    return GateOutcome(
        gate="per_benchmark",
        status=status,
        reason=reason,
        message=(
            f"{st.benchmark}: Δ = {st.delta_pp:+.2f} pp ({verdict}; improve ≥ "
            f"{cfg.min_improvement_pp:+.1f} pp or stay ≥ {cfg.max_regression_pp:+.1f} pp)"
        ),
        candidate=candidate,
        benchmark=st.benchmark,
        evidence={
            "n": st.n,
            "delta_pp": st.delta_pp,
            "ci_low_pp": st.ci_low_pp,
            "ci_high_pp": st.ci_high_pp,
            "p_value": st.p_value,
            "min_improvement_pp": cfg.min_improvement_pp,
            "max_regression_pp": cfg.max_regression_pp,
        },
        policy_ref=policy.ref("per_benchmark"),
        required=cfg.required,
        failure_response=policy.response_for("per_benchmark") if status is Status.FAIL else None,
    )


def _average_outcome(candidate: str, avg: AverageStats, policy: Policy) -> GateOutcome:
    cfg = policy.gates.average_delta
    low_enough = avg.delta_pp < cfg.min_delta_pp - _EPS_PP
    ci_clear = avg.ci_low_pp > cfg.ci_lower_gt_pp + _EPS_PP
    if low_enough:
        status, reason = Status.FAIL, Reason.BELOW_THRESHOLD
    elif not ci_clear:
        status, reason = Status.FAIL, Reason.CI_INCLUDES_ZERO
    else:
        status, reason = Status.PASS, Reason.OK
    return GateOutcome(
        gate="average_delta",
        status=status,
        reason=reason,
        message=(
            f"average Δ = {avg.delta_pp:+.2f} pp, {avg.confidence:.0%} CI "
            f"[{avg.ci_low_pp:+.2f}, {avg.ci_high_pp:+.2f}] over {len(avg.benchmarks)} "
            f"benchmark(s); needs Δ ≥ {cfg.min_delta_pp:+.1f} pp and CI lower bound > "
            f"{cfg.ci_lower_gt_pp:+.1f} pp"
        ),
        candidate=candidate,
        evidence={
            "delta_pp": avg.delta_pp,
            "ci_low_pp": avg.ci_low_pp,
            "ci_high_pp": avg.ci_high_pp,
            "benchmarks": avg.benchmarks,
            "min_delta_pp": cfg.min_delta_pp,
            "ci_lower_gt_pp": cfg.ci_lower_gt_pp,
        },
        policy_ref=policy.ref("average_delta"),
        required=cfg.required,
        failure_response=policy.response_for("average_delta") if status is Status.FAIL else None,
    )


def _bootstraps(
    samples: dict[str, PairedSample], complete: bool, policy: Policy
) -> tuple[dict[str, BootstrapResult], BootstrapResult | None]:
    """Per-benchmark CIs and, when every benchmark is usable, the joint macro CI.

    Both use the same keyed random streams, so a benchmark's CI is the same either way.
    """
    bs = policy.bootstrap
    opts = {"resamples": bs.resamples, "seed": bs.seed, "confidence": bs.confidence}
    if complete and samples:
        arrays = {k: (s.baseline, s.candidate, s.strata) for k, s in samples.items()}
        macro = macro_bootstrap(arrays, **opts)
        return macro.per_benchmark, macro.average
    per = {
        k: paired_bootstrap(s.baseline, s.candidate, s.strata, key=k, **opts)
        for k, s in samples.items()
    }
    return per, None


def _evaluate_candidate(
    candidate: str,
    cand_dir: Path,
    benchmarks: list[str],
    baseline: Mapping[str, list[ItemResult] | _Unusable],
    baseline_dir: Path,
    inputs: dict[str, str],
    policy: Policy,
) -> CandidateReport:
    samples: dict[str, PairedSample] = {}
    unusable: dict[str, _Unusable] = {}
    for bench in benchmarks:
        base_path = _shown(baseline_dir / f"{bench}.jsonl")
        cand_path = _shown(cand_dir / f"{bench}.jsonl")
        try:
            samples[bench] = _pair(bench, baseline[bench], base_path, cand_path, inputs, policy)
        except _Unusable as err:
            unusable[bench] = err

    boots, macro = _bootstraps(samples, not unusable, policy)
    stats = {k: _benchmark_stats(samples[k], boots[k]) for k in benchmarks if k in samples}
    pb_required = policy.gates.per_benchmark.required
    outcomes = [
        _per_benchmark_outcome(candidate, stats[k], policy)
        if k in stats
        else _blocked("per_benchmark", candidate, k, unusable[k], policy, pb_required)
        for k in benchmarks
    ]

    average = None
    if macro is not None:
        average = AverageStats(
            benchmarks=sorted(samples),
            delta=macro.delta,
            ci_low=macro.ci_low,
            ci_high=macro.ci_high,
            delta_pp=_pp(macro.delta),
            ci_low_pp=_pp(macro.ci_low),
            ci_high_pp=_pp(macro.ci_high),
            confidence=macro.confidence,
            resamples=macro.resamples,
            seed=macro.seed,
            method=macro.method,
        )
        outcomes.append(_average_outcome(candidate, average, policy))
    else:
        missing = sorted(unusable) or ["(no benchmarks)"]
        err = _Unusable(
            Reason.MISSING_EVIDENCE,
            f"the suite average needs every benchmark; unusable: {', '.join(missing)}",
            {"unusable_benchmarks": missing},
        )
        required = policy.gates.average_delta.required
        outcomes.append(_blocked("average_delta", candidate, None, err, policy, required))

    return CandidateReport(
        decision=decide(outcomes), benchmarks=stats, average=average, outcomes=outcomes
    )


def evaluate_promotion(
    baseline_dir: Path,
    candidate_dirs: dict[str, Path],
    benchmarks: list[str],
    policy: Policy,
    *,
    baseline_id: str | None = None,
) -> GateReport:
    """Judge every candidate against the baseline under ``policy``; never raises on evidence.

    With seed_rule "all" the overall decision is the worst candidate's. No candidates or no
    benchmarks give BLOCKED: absence of evidence is not a pass.
    """
    if len(set(benchmarks)) != len(benchmarks):
        raise ValueError(f"benchmarks listed more than once: {benchmarks}")
    baseline_dir = Path(baseline_dir)
    inputs: dict[str, str] = {}
    baseline = {b: _load(baseline_dir / f"{b}.jsonl", inputs) for b in benchmarks}
    candidates = {
        cid: _evaluate_candidate(
            cid, Path(cdir), benchmarks, baseline, baseline_dir, inputs, policy
        )
        for cid, cdir in candidate_dirs.items()
    }
    return GateReport(
        decision=worst(c.decision for c in candidates.values()),
        policy=PolicyInfo(
            name=policy.name,
            version=policy.version,
            sha256=policy_sha256(policy),
            source=policy.source,
            seed_rule=policy.seed_rule,
        ),
        baseline=baseline_id or baseline_dir.name,
        benchmarks=list(benchmarks),
        candidates=candidates,
        outcomes=[o for c in candidates.values() for o in c.outcomes],
        method=MethodInfo(
            resamples=policy.bootstrap.resamples,
            seed=policy.bootstrap.seed,
            confidence=policy.bootstrap.confidence,
        ),
        inputs=dict(sorted(inputs.items())),
        generated_by={"promgate": __version__},
    )
