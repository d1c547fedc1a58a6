"""Gates on benchmarks besides the main family: contamination suite, SWE-bench, pass@k targets.

Their benchmarks are read from the same results folders as the main ones
(``<dir>/<benchmark>.jsonl``). When one is absent the gate is BLOCKED MISSING_EVIDENCE
naming the file, never skipped.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from promgate.gates.benchmark_gates import blocked
from promgate.gates.benchmark_stats import EPS_PP, pp
from promgate.gates.inputs import Unusable
from promgate.gates.outcome import GateOutcome, Reason, Status
from promgate.gates.policy import Policy
from promgate.gates.report import AverageStats, BenchmarkStats
from promgate.results import ItemResult
from promgate.scoring.code import pass_at_k
from promgate.stats.bootstrap import paired_bootstrap


def _first_blocker(gate: str, unusable: Mapping[str, Unusable]) -> Unusable:
    """One Unusable standing for all of a gate's unusable benchmarks, naming every file."""
    names = sorted(unusable)
    first = unusable[names[0]]
    reasons = {unusable[b].reason for b in names}
    reason = Reason.MISSING_EVIDENCE if reasons == {Reason.MISSING_EVIDENCE} else first.reason
    detail = "; ".join(unusable[b].message for b in names)
    return Unusable(
        reason,
        f"{gate} needs {', '.join(names)}: {detail}",
        {"unusable": {b: unusable[b].evidence for b in names}},
    )


def contamination_outcome(
    candidate: str,
    stats: Mapping[str, BenchmarkStats],
    average: AverageStats | None,
    unusable: Mapping[str, Unusable],
    policy: Policy,
) -> GateOutcome:
    """Suite-average Δ reaches its minimum and no suite benchmark falls below its floor."""
    cfg = policy.gates.contamination_suite
    assert cfg is not None
    if unusable:
        err = _first_blocker("contamination_suite", unusable)
        return blocked(policy, "contamination_suite", candidate, None, err)
    assert average is not None  # every suite benchmark is usable, so the average exists
    floors = {b: cfg.floor_for(b) for b in cfg.benchmarks}
    worse = sorted(b for b in cfg.benchmarks if stats[b].delta_pp < floors[b] - EPS_PP)
    evidence = {
        "average_delta_pp": average.delta_pp,
        "average_ci_low_pp": average.ci_low_pp,
        "average_ci_high_pp": average.ci_high_pp,
        "min_delta_pp": cfg.min_delta_pp,
        "delta_pp": {b: stats[b].delta_pp for b in cfg.benchmarks},
        "floor_pp": floors,
    }
    if worse:
        status, reason = Status.FAIL, Reason.DETERIORATION
        verdict = f"deteriorated on {', '.join(worse)}"
    elif average.delta_pp < cfg.min_delta_pp - EPS_PP:
        status, reason, verdict = Status.FAIL, Reason.BELOW_THRESHOLD, "average below minimum"
    else:
        status, reason, verdict = Status.PASS, Reason.OK, "no deterioration"
    message = (
        f"contamination-resistant suite: average Δ = {average.delta_pp:+.2f} pp (needs ≥ "
        f"{cfg.min_delta_pp:+.1f}); {verdict}"
    )
    return policy.outcome(
        "contamination_suite", status, reason, message, candidate=candidate, evidence=evidence
    )


def swebench_outcome(candidate: str, st: BenchmarkStats | Unusable, policy: Policy) -> GateOutcome:
    """Net additional resolved issues (c − b) and previously resolved ones now failing (b)."""
    cfg = policy.gates.swebench
    assert cfg is not None
    if isinstance(st, Unusable):
        return blocked(policy, "swebench", candidate, cfg.benchmark, st)
    if not st.binary or st.mcnemar_b is None or st.mcnemar_c is None:
        err = Unusable(
            Reason.SCHEMA,
            f"{cfg.benchmark}: resolved counts need 'correct' (resolved yes/no) on every item",
            {"sources": st.sources},
        )
        return blocked(policy, "swebench", candidate, cfg.benchmark, err)
    additional, newly_failing = st.mcnemar_c - st.mcnemar_b, st.mcnemar_b
    resolved = {
        "baseline": round(st.baseline_acc * st.n),
        "candidate": round(st.candidate_acc * st.n),
    }
    evidence = {
        "n": st.n,
        "resolved": resolved,
        "additional_resolved": additional,
        "newly_failing": newly_failing,
        "min_additional_resolved": cfg.min_additional_resolved,
        "max_newly_failing": cfg.max_newly_failing,
        "p_value": st.p_value,
    }
    if cfg.max_newly_failing is not None and newly_failing > cfg.max_newly_failing:
        status, reason = Status.FAIL, Reason.REGRESSION
    elif additional < cfg.min_additional_resolved:
        status, reason = Status.FAIL, Reason.BELOW_THRESHOLD
    else:
        status, reason = Status.PASS, Reason.OK
    message = (
        f"{cfg.benchmark}: {resolved['candidate']} resolved vs {resolved['baseline']} "
        f"({additional:+d}; needs ≥ +{cfg.min_additional_resolved}), {newly_failing} "
        f"previously resolved now failing"
    )
    return policy.outcome(
        "swebench",
        status,
        reason,
        message,
        candidate=candidate,
        benchmark=cfg.benchmark,
        evidence=evidence,
    )


def _per_item_pass_at_k(rows: list[ItemResult], k: int) -> np.ndarray | list[str]:
    """pass@k of every item, or the ids of items that lack what pass@k needs."""
    if k == 1:
        return np.array([r.value for r in rows])
    lacking = sorted(r.id for r in rows if r.n_correct is None or r.n_samples < k)
    if lacking:
        return lacking
    return np.array([pass_at_k(r.n_samples, int(r.n_correct or 0), k) for r in rows])


def absolute_outcome(
    name: str,
    candidate: str,
    rows: list[ItemResult] | Unusable,
    path: str,
    policy: Policy,
) -> GateOutcome:
    """The candidate's own pass@k (percent) on a benchmark against a fixed target."""
    cfg = policy.gates.absolute[name]
    if isinstance(rows, Unusable):
        return blocked(policy, name, candidate, cfg.benchmark, rows)
    per_item = _per_item_pass_at_k(rows, cfg.k)
    if isinstance(per_item, list):
        shown = ", ".join(per_item[:5]) + (
            f" (and {len(per_item) - 5} more)" if len(per_item) > 5 else ""
        )
        err = Unusable(
            Reason.MISSING_EVIDENCE,
            f"{path}: pass@{cfg.k} needs n_samples ≥ {cfg.k} and n_correct on every item; "
            f"{len(per_item)} lack them: {shown}",
            {"path": path, "field": "n_samples", "items_lacking": len(per_item)},
        )
        return blocked(policy, name, candidate, cfg.benchmark, err)
    if len(rows) < policy.min_items_per_benchmark:
        err = Unusable(
            Reason.MISSING_EVIDENCE,
            f"{path}: {len(rows)} item(s), policy needs at least {policy.min_items_per_benchmark}",
            {"path": path, "n": len(rows)},
        )
        return blocked(policy, name, candidate, cfg.benchmark, err)
    # The CI of a mean is the paired bootstrap against a baseline of zeros.
    bs = policy.bootstrap
    ci = paired_bootstrap(
        np.zeros(per_item.size),
        per_item,
        resamples=bs.resamples,
        seed=bs.seed,
        confidence=bs.confidence,
        key=f"{name}/{cfg.benchmark}",
        ci=bs.ci,
    )
    value = pp(float(per_item.mean()))
    status, reason = (
        (Status.PASS, Reason.OK)
        if value >= cfg.min_pct - EPS_PP
        else (Status.FAIL, Reason.BELOW_THRESHOLD)
    )
    message = (
        f"{cfg.benchmark}: pass@{cfg.k} = {value:.1f} % over {len(rows)} item(s), "
        f"{bs.confidence:.0%} CI [{pp(ci.ci_low):.1f}, {pp(ci.ci_high):.1f}]; "
        f"needs ≥ {cfg.min_pct:g} %"
    )
    evidence = {
        "path": path,
        "k": cfg.k,
        "n": len(rows),
        "value_pct": value,
        "ci_low_pct": pp(ci.ci_low),
        "ci_high_pct": pp(ci.ci_high),
        "min_pct": cfg.min_pct,
    }
    return policy.outcome(
        name,
        status,
        reason,
        message,
        candidate=candidate,
        benchmark=cfg.benchmark,
        evidence=evidence,
    )
