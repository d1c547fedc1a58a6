"""Evaluate a promotion: per-item results of a baseline and candidates -> a typed GateReport.

Inputs are ``<dir>/<benchmark>.jsonl`` ItemResult files and the JSON artifacts the policy's
evidence gates name. Bad evidence never raises out of here: a missing, malformed or
misaligned file becomes a BLOCKED outcome naming the file, so the gate stage always records
a decision. Pairing and statistics are in ``paired`` and ``benchmark_stats``; the gates in
``benchmark_gates``, ``suite_gates``, ``evidence_gates`` and ``seed_gates``; the report model
in ``report``; writing it in ``outputs``.
"""

from __future__ import annotations

from pathlib import Path

from promgate import __version__
from promgate.errors import ConfigError
from promgate.gates import benchmark_gates as bg
from promgate.gates import evidence_gates as eg
from promgate.gates import suite_gates as sg
from promgate.gates.inputs import EvidenceStore, Unusable, shown
from promgate.gates.outcome import GateOutcome, Reason, Status, decide, suite_decision
from promgate.gates.paired import (
    Evaluated,
    GateRun,
    other_benchmarks,
    results_path,
    statistics,
)
from promgate.gates.policy import Policy, policy_sha256
from promgate.gates.report import CandidateReport, GateReport, MethodInfo, PolicyInfo
from promgate.gates.seed_gates import seed_gates, split_candidate


def _main_outcomes(run: GateRun, cid: str, ev: Evaluated) -> list[GateOutcome]:
    policy = run.policy
    outcomes = [
        bg.blocked(policy, "per_benchmark", cid, b, ev.unusable[b])
        if b in ev.unusable
        else bg.per_benchmark_outcome(cid, ev.stats[b], policy)
        for b in run.benchmarks
    ]
    if not run.benchmarks:
        where = {"baseline_dir": str(shown(run.baseline_dir))}
        msg = f"no benchmarks to compare ({where['baseline_dir']} holds no results to pair)"
        err = Unusable(Reason.MISSING_EVIDENCE, msg, where)
        outcomes.append(bg.blocked(policy, "per_benchmark", cid, None, err))
    if policy.gates.average_delta is not None:
        missing = sorted(b for b in run.benchmarks if b in ev.unusable)
        if "main" in ev.averages and not missing:
            outcomes.append(bg.average_outcome(cid, ev.averages["main"], policy))
        else:
            missing = missing or ["(no benchmarks)"]
            err = Unusable(
                Reason.MISSING_EVIDENCE,
                f"the suite average needs every benchmark; unusable: {', '.join(missing)}",
                {"unusable_benchmarks": missing},
            )
            outcomes.append(bg.blocked(policy, "average_delta", cid, None, err))
    if policy.gates.claim is not None:
        not_evaluable = {
            o.benchmark: o.reason.value
            for o in outcomes
            if o.gate == "per_benchmark" and o.status is Status.BLOCKED
        }
        main_stats = {b: ev.stats[b] for b in run.benchmarks if b not in ev.unusable}
        outcomes.append(bg.claim_outcome(cid, main_stats, not_evaluable, policy))  # type: ignore[arg-type]
    return outcomes


def _other_outcomes(run: GateRun, cid: str, cand_dir: Path, ev: Evaluated) -> list[GateOutcome]:
    policy, gates = run.policy, run.policy.gates
    outcomes = []
    if gates.contamination_suite is not None:
        members = gates.contamination_suite.benchmarks
        outcomes.append(
            sg.contamination_outcome(
                cid,
                {b: ev.stats[b] for b in members if b not in ev.unusable},
                ev.averages.get("contamination_suite"),
                {b: ev.unusable[b] for b in members if b in ev.unusable},
                policy,
            )
        )
    if gates.swebench is not None:
        bench = gates.swebench.benchmark
        st = ev.unusable.get(bench) or ev.stats[bench]
        outcomes.append(sg.swebench_outcome(cid, st, policy))
    for name, target in gates.absolute.items():
        path = results_path(cand_dir, target.benchmark)
        rows = run.store.results(path)
        outcomes.append(sg.absolute_outcome(name, cid, rows, str(path), policy))
    return outcomes


def _schema_outcome(run: GateRun, cid: str, cand_dir: Path) -> GateOutcome:
    benches = [*run.paired, *(t.benchmark for t in run.policy.gates.absolute.values())]
    files: dict[str, Unusable | None] = {}
    for bench in dict.fromkeys(benches):
        for folder in (run.baseline_dir, cand_dir):
            path = results_path(folder, bench)
            got = run.store.results(path)
            files[str(path)] = got if isinstance(got, Unusable) else None
    return eg.results_schema_outcome(cid, files, run.policy)


def _evaluate_candidate(run: GateRun, cid: str, cand_dir: Path) -> CandidateReport:
    policy = run.policy
    recipe, seed = split_candidate(cid)
    ev = statistics(run, cand_dir)
    outcomes = []
    if policy.gates.results_schema is not None:
        outcomes.append(_schema_outcome(run, cid, cand_dir))
    outcomes += _main_outcomes(run, cid, ev)
    outcomes += _other_outcomes(run, cid, cand_dir, ev)
    for name, gate in policy.gates.evidence.items():
        if gate.per_candidate:
            outcomes.append(
                eg.evidence_outcome(name, cid, seed, run.store, run.evidence_root, policy)
            )
    for name in policy.gates.share:
        if not _global_share(policy, name):
            outcomes.append(eg.share_outcome(name, cid, outcomes, policy))
    return CandidateReport(
        decision=decide(outcomes),
        recipe=recipe,
        seed=seed,
        benchmarks={b: ev.stats[b] for b in run.paired if b in ev.stats},
        average=ev.averages.get("main"),
        outcomes=outcomes,
    )


def _global_share(policy: Policy, name: str) -> bool:
    """A share gate is suite-level when all its members are suite-level evidence gates."""
    evidence = policy.gates.evidence
    members = policy.gates.share[name].gates
    return all(m in evidence and not evidence[m].per_candidate for m in members)


def _suite_outcomes(run: GateRun, candidates: dict[str, CandidateReport]) -> tuple[dict, list]:
    policy = run.policy
    outcomes: list[GateOutcome] = []
    for name, gate in policy.gates.evidence.items():
        if not gate.per_candidate:
            outcomes.append(
                eg.evidence_outcome(name, None, None, run.store, run.evidence_root, policy)
            )
    for name in policy.gates.share:
        if _global_share(policy, name):
            outcomes.append(eg.share_outcome(name, None, outcomes, policy))
    seed_reports, seed_outcomes = seed_gates(candidates, policy) if candidates else ({}, [])
    return seed_reports, [*outcomes, *seed_outcomes]


def evaluate_promotion(
    baseline_dir: Path,
    candidate_dirs: dict[str, Path],
    benchmarks: list[str],
    policy: Policy,
    *,
    baseline_id: str | None = None,
    evidence_root: Path | None = None,
    contaminated: frozenset[str] | None = None,
) -> GateReport:
    """Judge every candidate against the baseline under ``policy``; never raises on evidence.

    ``evidence_root`` is where the evidence gates' files lie (default: the working
    directory). ``contaminated`` holds the ids flagged by the contamination stage; with it,
    each main benchmark also reports its clean-subset Δ. No candidates or no benchmarks
    give BLOCKED: absence of evidence is not a pass.
    """
    if len(set(benchmarks)) != len(benchmarks):
        raise ValueError(f"benchmarks listed more than once: {benchmarks}")
    other = other_benchmarks(policy)
    clash = sorted({b for group in other.values() for b in group} & set(benchmarks))
    if clash:
        raise ConfigError(
            f"benchmark(s) {clash} are both main benchmarks and read by another gate",
            field="benchmarks",
        )
    run = GateRun(
        baseline_dir=Path(baseline_dir),
        benchmarks=list(benchmarks),
        policy=policy,
        store=EvidenceStore(),
        evidence_root=Path(evidence_root) if evidence_root is not None else Path("."),
        other=other,
        contaminated=contaminated,
    )
    candidates = {
        cid: _evaluate_candidate(run, cid, Path(cdir)) for cid, cdir in candidate_dirs.items()
    }
    seeds, suite = _suite_outcomes(run, candidates)
    decisions = {cid: c.decision for cid, c in candidates.items()}
    return GateReport(
        decision=suite_decision(policy.seeds.rule, decisions, suite),
        policy=PolicyInfo(
            name=policy.name,
            version=policy.version,
            sha256=policy_sha256(policy),
            source=policy.source,
            seed_rule=policy.seeds.rule,
        ),
        baseline=baseline_id or Path(baseline_dir).name,
        benchmarks=list(benchmarks),
        other_benchmarks=other,
        candidates=candidates,
        seeds=seeds,
        suite_outcomes=suite,
        outcomes=[*(o for c in candidates.values() for o in c.outcomes), *suite],
        method=MethodInfo(
            resamples=policy.bootstrap.resamples,
            seed=policy.bootstrap.seed,
            confidence=policy.bootstrap.confidence,
            ci=policy.bootstrap.ci,
            clusters=policy.bootstrap.clusters,
            alpha=policy.testing.alpha,
            multiplicity=policy.testing.multiplicity,
            power=policy.testing.power,
            underpowered=policy.testing.underpowered,
        ),
        inputs=dict(sorted(run.store.results_digests.items())),
        artifacts=dict(sorted(run.store.artifact_digests.items())),
        generated_by={"promgate": __version__},
    )
