"""Across seeds: recipes, per-seed verdicts, and the ``seeds`` gate (rule ``all`` or ``certify``).

A candidate id names its recipe and seed, ``<recipe>-s<seed>`` (``lora-s42``; ``-seed42`` and
``_s42`` work too), or ``<base>-s<seed>-<variant>`` for a variant cut from a seed's adapter
(``lora-s42-per_layer`` is recipe ``lora-per_layer``, seed 42). Candidates of one recipe are
draws of the same training process; the
seeds gate weighs them together. A seed passes when its own decision is GO; its Δ is its
macro-average Δ.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from promgate.gates.outcome import Decision, GateOutcome, Reason, Status
from promgate.gates.policy import SEEDS_GATE, Policy
from promgate.gates.report import CandidateReport, SeedReport, SeedVerdict
from promgate.stats import seeds as seed_stats

_SEED_SUFFIX = re.compile(r"^(?:(?P<recipe>.+?)[-_])?s(?:eed)?[-_]?(?P<seed>\d+)$")
_SEED_INFIX = re.compile(r"^(?P<base>.+?)-s(?P<seed>\d+)-(?P<variant>.+)$")


def split_candidate(candidate: str) -> tuple[str, int | None]:
    """(recipe, seed) of a candidate id; a name without a seed in it is its own recipe."""
    match = _SEED_SUFFIX.match(candidate)
    if match is not None:
        return match.group("recipe") or "", int(match.group("seed"))
    infix = _SEED_INFIX.match(candidate)
    if infix is not None:
        return f"{infix.group('base')}-{infix.group('variant')}", int(infix.group("seed"))
    return candidate, None


def training_run(candidate: str) -> str:
    """The candidate whose training produced these weights: a variant's seed run
    (``lora-s42-per_layer`` -> ``lora-s42``), otherwise the candidate itself."""
    if _SEED_SUFFIX.match(candidate) is None:
        infix = _SEED_INFIX.match(candidate)
        if infix is not None:
            return f"{infix.group('base')}-s{infix.group('seed')}"
    return candidate


def _verdict(cid: str, cand: CandidateReport) -> SeedVerdict:
    avg = cand.average
    return SeedVerdict(
        candidate=cid,
        seed=cand.seed,
        decision=cand.decision,
        passed=cand.decision is Decision.GO,
        delta_pp=avg.delta_pp if avg else None,
        ci_half_width_pp=(avg.ci_high_pp - avg.ci_low_pp) / 2 if avg else None,
    )


def seed_report(recipe: str, members: Mapping[str, CandidateReport], policy: Policy) -> SeedReport:
    rule = policy.seeds
    verdicts = sorted(
        (_verdict(cid, c) for cid, c in members.items()),
        key=lambda v: (v.seed is None, v.seed or 0, v.candidate),
    )
    present = {v.seed for v in verdicts if v.seed is not None}
    n_passed = sum(v.passed for v in verdicts)
    report = SeedReport(
        recipe=recipe,
        rule=rule.rule,
        seeds=verdicts,
        missing_seeds=sorted(set(rule.expected) - present),
        n_seeds=len(verdicts),
        n_passed=n_passed,
        pass_rate=n_passed / len(verdicts),
    )
    spreads = {
        v.candidate: seed_stats.SeedVerdict(v.passed, v.delta_pp, v.ci_half_width_pp)
        for v in verdicts
        if v.delta_pp is not None and v.ci_half_width_pp is not None
    }
    if len(spreads) < len(verdicts):
        return report  # a seed without an average Δ: no worst seed, no spread
    summary = seed_stats.summarize_seeds(spreads)
    certified = None
    if rule.rule == "certify":
        certified = seed_stats.certify(summary, rule.min_pass_rate, rule.min_worst_delta_pp)
    return report.model_copy(
        update={
            "worst_seed": summary.worst_seed,
            "worst_delta_pp": summary.worst_delta_pp,
            "mean_delta_pp": summary.mean_delta_pp,
            "sd_across_seeds_pp": summary.sd_across_seeds_pp,
            "mean_item_ci_half_width_pp": summary.mean_item_ci_half_width_pp,
            "certified": certified,
        }
    )


def _coverage_blocker(report: SeedReport, policy: Policy) -> str | None:
    unnamed = [v.candidate for v in report.seeds if v.seed is None]
    if policy.seeds.expected and unnamed:
        return f"candidate(s) {', '.join(unnamed)} name no seed (expected <recipe>-s<seed>)"
    if report.missing_seeds:
        return f"no candidate for seed(s) {', '.join(map(str, report.missing_seeds))}"
    return None


def _certify_status(report: SeedReport, policy: Policy) -> tuple[Status, str]:
    rule = policy.seeds
    known = [v.delta_pp for v in report.seeds if v.delta_pp is not None]
    blocked = sum(v.decision is Decision.BLOCKED for v in report.seeds)
    worst = min(known) if known else None
    rate_need = rule.min_pass_rate - seed_stats.RATE_TOLERANCE
    if worst is not None and worst < rule.min_worst_delta_pp:
        return Status.FAIL, f"worst seed Δ {worst:+.2f} pp < {rule.min_worst_delta_pp:+.1f} pp"
    if len(known) < report.n_seeds:
        return Status.BLOCKED, "a seed has no average Δ, so the worst seed is unknown"
    if report.pass_rate >= rate_need:
        return Status.PASS, "certified"
    if (report.n_passed + blocked) / report.n_seeds >= rate_need:
        return Status.BLOCKED, f"{blocked} seed(s) BLOCKED could still reach the pass rate"
    return Status.FAIL, f"pass rate {report.pass_rate:.0%} < {rule.min_pass_rate:.0%}"


def _all_status(report: SeedReport) -> tuple[Status, str]:
    decisions = [v.decision for v in report.seeds]
    if Decision.BLOCKED in decisions:
        return Status.BLOCKED, "a seed is BLOCKED"
    if Decision.NO_GO in decisions:
        return Status.FAIL, "not every seed passes"
    return Status.PASS, "every seed passes"


def seeds_outcome(report: SeedReport, policy: Policy) -> GateOutcome:
    rule = policy.seeds
    spread = (
        "n/a"
        if report.sd_across_seeds_pp is None
        else f"{report.sd_across_seeds_pp:.2f} pp across seeds vs "
        f"{report.mean_item_ci_half_width_pp:.2f} pp CI half-width across items"
    )
    worst = "n/a" if report.worst_delta_pp is None else f"{report.worst_delta_pp:+.2f} pp"
    head = (
        f"recipe '{report.recipe}': {report.n_passed} of {report.n_seeds} seed(s) pass "
        f"({report.pass_rate:.0%}), worst seed Δ {worst}, spread {spread}"
    )
    evidence = report.model_dump(mode="json", exclude={"seeds"})
    evidence["per_seed"] = {v.candidate: v.decision.value for v in report.seeds}
    coverage = _coverage_blocker(report, policy)
    if coverage is not None:
        return policy.outcome(
            SEEDS_GATE,
            Status.BLOCKED,
            Reason.MISSING_EVIDENCE,
            f"{head}; {coverage}",
            candidate=report.recipe,
            evidence=evidence,
        )
    status, why = _certify_status(report, policy) if rule.rule == "certify" else _all_status(report)
    reason = {Status.PASS: Reason.OK, Status.FAIL: Reason.BELOW_THRESHOLD}.get(
        status, Reason.MISSING_EVIDENCE
    )
    return policy.outcome(
        SEEDS_GATE, status, reason, f"{head}: {why}", candidate=report.recipe, evidence=evidence
    )


def seed_gates(
    candidates: Mapping[str, CandidateReport], policy: Policy
) -> tuple[dict[str, SeedReport], list[GateOutcome]]:
    """One seed report and one ``seeds`` outcome per recipe, recipes in first-seen order."""
    recipes: dict[str, dict[str, CandidateReport]] = {}
    for cid, cand in candidates.items():
        recipes.setdefault(cand.recipe, {})[cid] = cand
    reports = {r: seed_report(r, members, policy) for r, members in recipes.items()}
    return reports, [seeds_outcome(rep, policy) for rep in reports.values()]
