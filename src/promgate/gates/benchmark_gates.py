"""Gates on the main benchmarks of one candidate: per benchmark, the average, the claim.

Every function returns a GateOutcome built by ``Policy.outcome``, so each carries its
clause reference, whether it is required, and the failure-response action.
"""

from __future__ import annotations

from promgate.gates.benchmark_stats import EPS_PP
from promgate.gates.inputs import Unusable
from promgate.gates.outcome import GateOutcome, Reason, Status
from promgate.gates.policy import Policy
from promgate.gates.report import AverageStats, BenchmarkStats


def blocked(
    policy: Policy, gate: str, candidate: str | None, benchmark: str | None, err: Unusable
) -> GateOutcome:
    return policy.outcome(
        gate,
        Status.BLOCKED,
        err.reason,
        err.message,
        candidate=candidate,
        benchmark=benchmark,
        evidence=err.evidence,
    )


def significant(st: BenchmarkStats, policy: Policy) -> bool:
    """The benchmark's multiplicity-adjusted p is below alpha (raw p outside the family)."""
    p = st.p_adjusted if st.p_adjusted is not None else st.p_value
    return p is not None and p < policy.testing.alpha


def improved(st: BenchmarkStats, policy: Policy) -> bool:
    """Δ reaches the benchmark's improvement target and the paired test is significant."""
    target = policy.gates.per_benchmark.target_for(st.benchmark)
    return st.delta_pp >= target - EPS_PP and significant(st, policy)


def _power_note(st: BenchmarkStats) -> str:
    mde = "MDE ∞ (no Δ is detectable)" if st.mde_pp is None else f"MDE {st.mde_pp:.1f} pp"
    return (
        f"underpowered: {mde} at n = {st.n}, α = {st.alpha_tested:.3g} (power "
        f"{st.power_at_threshold or 0.0:.0%} at the {st.threshold_pp:+.1f} pp threshold)"
    )


def _verdict(st: BenchmarkStats, policy: Policy) -> tuple[Status, Reason, str]:
    cfg = policy.gates.per_benchmark
    target = cfg.target_for(st.benchmark)
    if improved(st, policy):
        return Status.PASS, Reason.IMPROVED, "improved, significant"
    below_floor = st.delta_pp < cfg.max_regression_pp - EPS_PP
    if below_floor and (not cfg.regression_needs_significance or significant(st, policy)):
        return Status.FAIL, Reason.REGRESSION, "regression"
    if st.delta_pp >= target - EPS_PP:
        return Status.PASS, Reason.NO_REGRESSION, "no regression; the gain is not significant"
    return Status.PASS, Reason.NO_REGRESSION, "no regression"


def per_benchmark_outcome(candidate: str, st: BenchmarkStats, policy: Policy) -> GateOutcome:
    cfg = policy.gates.per_benchmark
    target = cfg.target_for(st.benchmark)
    status, reason, verdict = _verdict(st, policy)
    evidence = {
        "n": st.n,
        "delta_pp": st.delta_pp,
        "ci_low_pp": st.ci_low_pp,
        "ci_high_pp": st.ci_high_pp,
        "p_value": st.p_value,
        "p_adjusted": st.p_adjusted,
        "alpha": policy.testing.alpha,
        "significant": significant(st, policy),
        "target_pp": target,
        "max_regression_pp": cfg.max_regression_pp,
        "mde_pp": st.mde_pp,
        "alpha_tested": st.alpha_tested,
        "power_at_threshold": st.power_at_threshold,
        "underpowered": st.underpowered,
    }
    message = (
        f"{st.benchmark}: Δ = {st.delta_pp:+.2f} pp, adjusted p = "
        f"{'n/a' if st.p_adjusted is None else f'{st.p_adjusted:.3g}'} ({verdict}; improve ≥ "
        f"{target:+.1f} pp with p < {policy.testing.alpha:g}, or stay ≥ "
        f"{cfg.max_regression_pp:+.1f} pp)"
    )
    warnings = []
    if st.underpowered:
        note = _power_note(st)
        if policy.testing.underpowered == "block":
            evidence["verdict_if_powered"] = f"{status} {reason}"
            status, reason = Status.BLOCKED, Reason.UNDERPOWERED
            message = f"{st.benchmark}: {note}; would be {evidence['verdict_if_powered']}"
        else:
            warnings.append(f"{st.benchmark}: {note}")
    return policy.outcome(
        "per_benchmark",
        status,
        reason,
        message,
        candidate=candidate,
        benchmark=st.benchmark,
        evidence=evidence,
        warnings=warnings,
    )


def average_outcome(candidate: str, avg: AverageStats, policy: Policy) -> GateOutcome:
    cfg = policy.gates.average_delta
    assert cfg is not None
    ci_rule = cfg.ci_lower_gt_pp
    if avg.delta_pp < cfg.min_delta_pp - EPS_PP:
        status, reason = Status.FAIL, Reason.BELOW_THRESHOLD
    elif ci_rule is not None and not avg.ci_low_pp > ci_rule + EPS_PP:
        status, reason = Status.FAIL, Reason.CI_INCLUDES_ZERO
    else:
        status, reason = Status.PASS, Reason.OK
    needs = f"Δ ≥ {cfg.min_delta_pp:+.1f} pp"
    if ci_rule is not None:
        needs += f" and CI lower bound > {ci_rule:+.1f} pp"
    return policy.outcome(
        "average_delta",
        status,
        reason,
        (
            f"average Δ = {avg.delta_pp:+.2f} pp, {avg.confidence:.0%} CI "
            f"[{avg.ci_low_pp:+.2f}, {avg.ci_high_pp:+.2f}] over {len(avg.benchmarks)} "
            f"benchmark(s); needs {needs}"
        ),
        candidate=candidate,
        evidence={
            "delta_pp": avg.delta_pp,
            "ci_low_pp": avg.ci_low_pp,
            "ci_high_pp": avg.ci_high_pp,
            "benchmarks": avg.benchmarks,
            "min_delta_pp": cfg.min_delta_pp,
            "ci_lower_gt_pp": ci_rule,
        },
    )


def claim_outcome(
    candidate: str,
    stats: dict[str, BenchmarkStats],
    not_evaluable: dict[str, str],
    policy: Policy,
) -> GateOutcome:
    """Cross-benchmark evidence: enough benchmarks improved significantly.

    ``not_evaluable`` maps a benchmark to why it has no verdict (its BLOCKED reason). The
    claim is BLOCKED only when those benchmarks could still make the difference.
    """
    cfg = policy.gates.claim
    assert cfg is not None
    need = cfg.min_significant_benchmarks
    wins = sorted(b for b, st in stats.items() if b not in not_evaluable and improved(st, policy))
    evidence = {
        "significant_improvements": wins,
        "not_evaluable": dict(sorted(not_evaluable.items())),
        "min_significant_benchmarks": need,
        "alpha": policy.testing.alpha,
        "multiplicity": policy.testing.multiplicity,
    }
    counted = f"{len(wins)} of {len(set(stats) | set(not_evaluable))}"
    if len(wins) >= need:
        status, reason = Status.PASS, Reason.OK
        message = f"{counted} benchmark(s) improved significantly ({', '.join(wins)}); need {need}"
    elif len(wins) + len(not_evaluable) >= need:
        status, reason = Status.BLOCKED, Reason.MISSING_EVIDENCE
        if all(r == Reason.UNDERPOWERED.value for r in not_evaluable.values()):
            reason = Reason.UNDERPOWERED
        message = (
            f"{counted} benchmark(s) improved significantly; {len(not_evaluable)} not "
            f"evaluable ({', '.join(sorted(not_evaluable))}) could decide a claim that needs {need}"
        )
    else:
        status, reason = Status.FAIL, Reason.NOT_SIGNIFICANT
        message = f"{counted} benchmark(s) improved significantly; a claim needs {need}"
    return policy.outcome("claim", status, reason, message, candidate=candidate, evidence=evidence)
