"""Certification: a certify-rule policy applied to each variant across its seeds.

Every variant (the probe adapter itself, and each compression variant cut from it) is one
recipe; its candidates are the seeds' results folders. The policy judges each seed's
candidate against the baseline (a seed passes when its decision is GO) and its ``seeds``
gate certifies the recipe: enough seeds pass and the worst seed's average Δ stays above the
floor. ``reports/certification.json`` is the machine-readable answer: which variants are
safe, with the per-seed evidence and the digests of the results it rests on.

Fail closed: a variant is certified only when its seeds gate PASSES. A seed without a results
folder, a missing or malformed results file, or an absent seed makes it BLOCKED and not
certified, and every such gap is listed as a typed blocker naming what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from promgate import __version__
from promgate.errors import ConfigError, SchemaError
from promgate.gates.evaluate import evaluate_promotion
from promgate.gates.inputs import shown
from promgate.gates.outcome import Decision, GateOutcome, Reason, Status
from promgate.gates.policy import SEEDS_GATE, Policy, policy_sha256
from promgate.gates.report import CandidateReport, GateReport, SeedReport
from promgate.gates.seed_gates import split_candidate
from promgate.io import read_json, write_json

FORMAT = "promgate.certification/1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Blocker(_Model):
    """Evidence a certification needed and did not get."""

    reason: Reason
    candidate: str | None = Field(description="the seed's candidate, or the variant's recipe")
    message: str
    path: str | None = None


class SeedResult(_Model):
    seed: int
    candidate: str
    results_dir: str
    decision: Decision
    passed: bool
    delta_pp: float | None = Field(description="the seed's macro-average Δ")
    ci_low_pp: float | None
    ci_high_pp: float | None
    not_passing: list[str] = Field(
        default_factory=list, description="required gates that did not pass, with why"
    )


class VariantCertification(_Model):
    variant: str
    recipe: str = Field(description="the candidate ids without their seed")
    certified: bool
    status: Status = Field(description="the seeds gate's status (certified only on PASS)")
    reason: Reason
    message: str
    expected_seeds: list[int]
    seeds: list[SeedResult]
    missing_seeds: list[int]
    n_passed: int
    pass_rate: float | None
    worst_seed: int | None
    worst_delta_pp: float | None
    mean_delta_pp: float | None
    sd_across_seeds_pp: float | None
    blockers: list[Blocker]
    failure_response: str | None = None


class CertificationPolicy(_Model):
    name: str
    version: str
    sha256: str
    source: str
    clause: str
    expected_seeds: list[int]
    min_pass_rate: float
    min_worst_delta_pp: float


class Certification(_Model):
    """``reports/certification.json``."""

    format: Literal["promgate.certification/1"] = FORMAT
    policy: CertificationPolicy
    baseline: str
    benchmarks: list[str]
    safe: list[str] = Field(description="the certified variants, in the order given")
    variants: dict[str, VariantCertification]
    inputs: dict[str, str] = Field(
        description="results file -> sha256 of its records in id order, as in gate.json"
    )
    generated_by: dict[str, str]


def _seed_result(cid: str, seed: int, folder: Path, cand: CandidateReport) -> SeedResult:
    avg = cand.average
    bad = [
        f"{o.gate}{f' ({o.benchmark})' if o.benchmark else ''}: {o.status.value} {o.reason.value}"
        for o in cand.outcomes
        if o.required and o.status is not Status.PASS
    ]
    return SeedResult(
        seed=seed,
        candidate=cid,
        results_dir=str(shown(folder)),
        decision=cand.decision,
        passed=cand.decision is Decision.GO,
        delta_pp=avg.delta_pp if avg else None,
        ci_low_pp=avg.ci_low_pp if avg else None,
        ci_high_pp=avg.ci_high_pp if avg else None,
        not_passing=bad,
    )


def _blocker(o: GateOutcome) -> Blocker:
    path = o.evidence.get("path")
    return Blocker(
        reason=o.reason,
        candidate=o.candidate,
        message=o.message,
        path=str(path) if path is not None else None,
    )


def _variant(
    variant: str,
    recipe: str,
    members: Mapping[str, tuple[int, Path]],
    report: GateReport,
    policy: Policy,
) -> VariantCertification:
    blockers: list[Blocker] = []
    seeds: list[SeedResult] = []
    for cid, (seed, folder) in sorted(members.items(), key=lambda kv: kv[1][0]):
        cand = report.candidates.get(cid)
        if cand is None:
            blockers.append(
                Blocker(
                    reason=Reason.MISSING_EVIDENCE,
                    candidate=cid,
                    message=f"seed {seed}: no results folder {shown(folder)}",
                    path=str(shown(folder)),
                )
            )
            continue
        seeds.append(_seed_result(cid, seed, folder, cand))
        blockers += [_blocker(o) for o in cand.outcomes if o.status is Status.BLOCKED]
    rep: SeedReport | None = report.seeds.get(recipe)
    gate = next(
        (o for o in report.suite_outcomes if o.gate == SEEDS_GATE and o.candidate == recipe),
        None,
    )
    expected = list(policy.seeds.expected) or sorted(seed for seed, _ in members.values())
    if rep is None or gate is None:
        message = f"variant '{variant}': no seed has results, nothing to certify"
        gate = policy.outcome(
            SEEDS_GATE, Status.BLOCKED, Reason.MISSING_EVIDENCE, message, candidate=recipe
        )
    if gate.status is Status.BLOCKED:
        blockers.append(_blocker(gate))
    worst = next((s.seed for s in seeds if rep and s.candidate == rep.worst_seed), None)
    return VariantCertification(
        variant=variant,
        recipe=recipe,
        certified=gate.status is Status.PASS,
        status=gate.status,
        reason=gate.reason,
        message=gate.message,
        expected_seeds=expected,
        seeds=seeds,
        missing_seeds=sorted(set(expected) - {s.seed for s in seeds}),
        n_passed=sum(s.passed for s in seeds),
        pass_rate=rep.pass_rate if rep else None,
        worst_seed=worst,
        worst_delta_pp=rep.worst_delta_pp if rep else None,
        mean_delta_pp=rep.mean_delta_pp if rep else None,
        sd_across_seeds_pp=rep.sd_across_seeds_pp if rep else None,
        blockers=blockers,
        failure_response=gate.failure_response,
    )


def certify(
    *,
    baseline_dir: Path,
    variants: Mapping[str, Mapping[str, Path]],
    benchmarks: list[str],
    policy: Policy,
    evidence_root: Path | None = None,
    contaminated: frozenset[str] | None = None,
) -> Certification:
    """Certify each variant across its seeds under ``policy`` (whose seed rule is ``certify``).

    ``variants`` maps a variant name to its candidates: candidate id (``lora-s42-per_layer``,
    naming recipe and seed) -> results folder. Folders that do not exist are blockers, not
    errors, so the certification is always written.
    """
    if policy.seeds.rule != "certify":
        raise ConfigError(
            f"policy {policy.name} has seed rule '{policy.seeds.rule}'; certification needs "
            "'certify'",
            field="certification.policy.seeds.rule",
        )
    members: dict[str, tuple[str, dict[str, tuple[int, Path]]]] = {}
    for variant, candidates in variants.items():
        named = {cid: split_candidate(cid) for cid in candidates}
        recipes = {recipe for recipe, _ in named.values()}
        if len(recipes) != 1 or any(seed is None for _, seed in named.values()):
            raise ValueError(f"variant '{variant}': candidates {sorted(named)} are not one recipe")
        members[variant] = (
            recipes.pop(),
            {cid: (seed, Path(candidates[cid])) for cid, (_, seed) in named.items()},  # type: ignore[misc]
        )
    recipes = [recipe for recipe, _ in members.values()]
    if len(set(recipes)) != len(recipes):
        raise ValueError(f"two variants share a recipe: {recipes}")
    present = {
        cid: folder
        for _, group in members.values()
        for cid, (_, folder) in group.items()
        if folder.is_dir()
    }
    report = evaluate_promotion(
        baseline_dir=Path(baseline_dir),
        candidate_dirs=present,
        benchmarks=benchmarks,
        policy=policy,
        evidence_root=evidence_root,
        contaminated=contaminated,
    )
    results = {
        variant: _variant(variant, recipe, group, report, policy)
        for variant, (recipe, group) in members.items()
    }
    rule = policy.seeds
    return Certification(
        policy=CertificationPolicy(
            name=policy.name,
            version=policy.version,
            sha256=policy_sha256(policy),
            source=policy.source,
            clause=rule.clause,
            expected_seeds=list(rule.expected),
            min_pass_rate=rule.min_pass_rate,
            min_worst_delta_pp=rule.min_worst_delta_pp,
        ),
        baseline=report.baseline,
        benchmarks=list(benchmarks),
        safe=[v for v, c in results.items() if c.certified],
        variants=results,
        inputs=report.inputs,
        generated_by={"promgate": __version__},
    )


def write_certification(cert: Certification, path: Path) -> None:
    write_json(path, cert.model_dump(mode="json"))


def certification_metrics(cert: Certification) -> dict[str, Any]:
    """Numbers per variant for ``dvc metrics show/diff``."""
    out: dict[str, Any] = {}
    for name, v in cert.variants.items():
        nums = {
            "certified": int(v.certified),
            "n_passed": v.n_passed,
            "pass_rate": v.pass_rate,
            "worst_delta_pp": v.worst_delta_pp,
            "mean_delta_pp": v.mean_delta_pp,
        }
        out[name] = {k: val for k, val in nums.items() if val is not None}
    return out


def load_certification(path: str | Path) -> Certification:
    """Read and validate a certification.json; anything off names the file and field."""
    path = Path(path)
    try:
        data = read_json(path)
    except OSError as exc:
        raise SchemaError(f"cannot read certification ({exc.strerror})", path=path) from exc
    try:
        return Certification.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise SchemaError(err["msg"], path=path, field=field) from exc
