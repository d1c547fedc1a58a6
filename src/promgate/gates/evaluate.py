"""Evaluate a promotion: per-item results of a baseline and candidates -> a typed GateReport.

Inputs are ``<dir>/<benchmark>.jsonl`` ItemResult files. Bad evidence never raises out of
here: a missing, malformed or misaligned file becomes a BLOCKED outcome naming the file, so
the gate stage always records a decision. ``promgate check`` turns that decision into an
exit code.

Units: accuracies and ``delta``/``ci_*`` are proportions (0.03); every ``*_pp`` field is
percentage points (3.0). Policy thresholds are in pp.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from promgate import __version__
from promgate.errors import AlignmentError, PromgateError, SchemaError
from promgate.gates.outcome import Decision, GateOutcome, Reason, Status, decide, worst
from promgate.gates.policy import BLOCKED_RESPONSE_KEY, Policy, policy_sha256
from promgate.io import atomic_write_text, read_json, sha256_file, write_json
from promgate.report.markdown import render_promotion_md
from promgate.results import ItemResult, read_results
from promgate.stats.bootstrap import (
    CI_TYPE,
    BootstrapResult,
    macro_bootstrap,
    paired_bootstrap,
)
from promgate.stats.mcnemar import EXACT_BELOW, mcnemar_from_pairs
from promgate.stats.pairing import PairedSample, pair_results

EXIT_CODES = {Decision.GO: 0, Decision.NO_GO: 1, Decision.BLOCKED: 3}
# Threshold comparisons in pp tolerate float noise such as 0.07 * 100 = 7.000000000000001.
_EPS_PP = 1e-9


def _pp(proportion: float) -> float:
    # Rounded so that 0.0725 reads 7.25, not 7.249999999999999; 1e-10 pp is far below any
    # threshold and keeps gate.json stable across platforms.
    return round(100.0 * proportion, 10)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BenchmarkStats(_Model):
    """One candidate against the baseline on one benchmark."""

    benchmark: str
    n: int = Field(description="paired items")
    n_baseline: int
    n_candidate: int
    binary: bool
    baseline_acc: float
    candidate_acc: float
    delta: float
    ci_low: float
    ci_high: float
    delta_pp: float
    ci_low_pp: float
    ci_high_pp: float
    confidence: float
    bootstrap_method: str
    # McNemar applies to 0/1 outcomes only; None for fractional scores.
    mcnemar_b: int | None = None
    mcnemar_c: int | None = None
    mcnemar_statistic: float | None = None
    p_value: float | None = None
    mcnemar_method: str | None = None


class AverageStats(_Model):
    """Macro average of the per-benchmark Δs, with a jointly bootstrapped CI."""

    benchmarks: list[str]
    delta: float
    ci_low: float
    ci_high: float
    delta_pp: float
    ci_low_pp: float
    ci_high_pp: float
    confidence: float
    resamples: int
    seed: int
    method: str


class CandidateReport(_Model):
    decision: Decision
    benchmarks: dict[str, BenchmarkStats]
    average: AverageStats | None
    outcomes: list[GateOutcome]


class PolicyInfo(_Model):
    name: str
    version: str
    sha256: str
    source: str
    seed_rule: str


class MethodInfo(_Model):
    resamples: int
    seed: int
    confidence: float
    ci: str = CI_TYPE
    bootstrap: str = (
        "paired, stratified (stratum sizes fixed); 0/1 outcomes: multinomial draw over the "
        "four (baseline, candidate) cells per stratum; scores: index resampling per stratum"
    )
    macro: str = "each benchmark resampled within itself; replicate mean of per-benchmark Δs"
    mcnemar: str = (
        f"exact binomial when b + c < {EXACT_BELOW}, else chi-square with continuity correction"
    )


class GateReport(_Model):
    schema_version: int = 1
    decision: Decision
    policy: PolicyInfo
    baseline: str
    benchmarks: list[str]
    candidates: dict[str, CandidateReport]
    outcomes: list[GateOutcome]
    method: MethodInfo
    inputs: dict[str, str] = Field(description="results file path -> sha256")
    generated_by: dict[str, str]


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


_RESERVED_METRICS = ("decision_go", "decision_code")


def gate_metrics(report: GateReport) -> dict[str, Any]:
    """Numbers only, nested by candidate and benchmark, for ``dvc metrics show/diff``."""
    out: dict[str, Any] = {
        "decision_go": int(report.decision is Decision.GO),
        "decision_code": EXIT_CODES[report.decision],
    }
    for cid, cand in report.candidates.items():
        if cid in _RESERVED_METRICS:
            raise ValueError(f"candidate id '{cid}' collides with a metrics key")
        entry: dict[str, Any] = {"decision_go": int(cand.decision is Decision.GO)}
        if cand.average is not None:
            entry["average_delta_pp"] = cand.average.delta_pp
            entry["average_ci_low_pp"] = cand.average.ci_low_pp
            entry["average_ci_high_pp"] = cand.average.ci_high_pp
        for bench, st in cand.benchmarks.items():
            nums = {
                "n": st.n,
                "baseline_acc": st.baseline_acc,
                "candidate_acc": st.candidate_acc,
                "delta_pp": st.delta_pp,
                "ci_low_pp": st.ci_low_pp,
                "ci_high_pp": st.ci_high_pp,
                "p_value": st.p_value,
            }
            entry[bench] = {k: v for k, v in nums.items() if v is not None}
        out[cid] = entry
    return out


def write_gate_outputs(
    report: GateReport, reports_dir: Path, metrics_path: Path
) -> dict[str, Path]:
    """Write reports/gate.json, reports/promotion.md and the flat metrics file (atomically)."""
    reports_dir = Path(reports_dir)
    paths = {
        "gate": reports_dir / "gate.json",
        "promotion_md": reports_dir / "promotion.md",
        "metrics": Path(metrics_path),
    }
    write_json(paths["gate"], report.model_dump(mode="json"))
    write_json(paths["metrics"], gate_metrics(report))
    atomic_write_text(paths["promotion_md"], render_promotion_md(report))
    return paths


def _consistent(report: GateReport) -> str | None:
    """Recompute the decision from the recorded outcomes; a mismatch means tampering or a bug."""
    for cid, cand in report.candidates.items():
        if decide(cand.outcomes) is not cand.decision:
            return f"candidate '{cid}' records {cand.decision.value}, its outcomes say otherwise"
    if worst(c.decision for c in report.candidates.values()) is not report.decision:
        return f"decision {report.decision.value} does not follow from the candidates'"
    flat = [o for c in report.candidates.values() for o in c.outcomes]
    if flat != report.outcomes:
        return "flattened outcomes differ from the candidates' outcomes"
    return None


def check_exit_code(gate_json: Path, *, stream: TextIO | None = None) -> int:
    """0 GO, 1 NO_GO, 3 BLOCKED; a missing, malformed or inconsistent gate.json is 3."""
    out = stream if stream is not None else sys.stderr
    try:
        report = GateReport.model_validate(read_json(gate_json))
    except (OSError, SchemaError, ValidationError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0]
        print(f"promgate check: BLOCKED (fail closed): cannot use {gate_json}: {first}", file=out)
        return EXIT_CODES[Decision.BLOCKED]
    problem = _consistent(report)
    if problem is not None:
        print(f"promgate check: BLOCKED (fail closed): {gate_json}: {problem}", file=out)
        return EXIT_CODES[Decision.BLOCKED]
    print(
        f"promgate check: {report.decision.value} under policy {report.policy.name}"
        f"@{report.policy.version} ({gate_json})",
        file=out,
    )
    return EXIT_CODES[report.decision]
