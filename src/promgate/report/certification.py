"""The promotion report's certification section: each variant across its seeds.

One row per variant: the per-seed Δ with its CI and verdict, the pass rate, the worst seed's
Δ and whether the variant is certified; then what blocked any variant. The content comes from
reports/certification.json (``promgate.gates.certification``).
"""

from __future__ import annotations

from promgate.gates.certification import Certification, SeedResult, VariantCertification
from promgate.report.document import Badge, Code, Line, Section, Table
from promgate.report.format import fmt_pp, fmt_rate


def _seed_cell(s: SeedResult | None) -> Line:
    if s is None:
        return ["missing"]
    if s.delta_pp is None:
        return [Badge(s.decision.value)]
    ci = f" [{fmt_pp(s.ci_low_pp)}, {fmt_pp(s.ci_high_pp)}]"
    return [fmt_pp(s.delta_pp), ci, " ", "pass" if s.passed else "fail"]


def _row(v: VariantCertification, seeds: list[int]) -> list[Line]:
    by_seed = {s.seed: s for s in v.seeds}
    rate = (
        "n/a" if v.pass_rate is None else f"{v.n_passed}/{len(v.seeds)} ({fmt_rate(v.pass_rate)})"
    )
    if v.missing_seeds:
        rate += f", {len(v.missing_seeds)} missing"
    worst = "n/a" if v.worst_seed is None else f"{fmt_pp(v.worst_delta_pp)} (seed {v.worst_seed})"
    return [
        [Code(v.variant)],
        *(_seed_cell(by_seed.get(seed)) for seed in seeds),
        [rate],
        [worst],
        [Badge("PASS" if v.certified else v.status.value), " yes" if v.certified else " no"],
    ]


def certification_section(cert: Certification) -> Section:
    pol = cert.policy
    seeds = sorted(
        {*pol.expected_seeds, *(s.seed for v in cert.variants.values() for s in v.seeds)}
    )
    columns = [
        "variant",
        *(f"seed {s}: Δ pp [CI]" for s in seeds),
        "pass rate",
        "worst-seed Δ pp",
        "certified",
    ]
    n = len(seeds)
    table = Table(columns, [_row(v, seeds) for v in cert.variants.values()], set(range(1, n + 3)))
    lead: Line = [
        "Each variant certified across seeds under ",
        Code(pol.name),
        f" v{pol.version}: {pol.clause}. A seed's Δ is its macro-average Δ against ",
        Code(cert.baseline),
        " with its CI; it passes when its own decision under the policy is GO. Safe: ",
        *([Code(", ".join(cert.safe))] if cert.safe else ["none"]),
        ". Machine-readable: ",
        Code("reports/certification.json"),
        ".",
    ]
    blocks: list[Line | Table | list[Line]] = [lead, table]
    blocked = [
        [Code(v.variant), ": ", Code(b.candidate or v.recipe), f" {b.reason.value}: {b.message}"]
        for v in cert.variants.values()
        for b in v.blockers
    ]
    if blocked:
        blocks += [["Blocked (not certified until the evidence exists):"], blocked]
    failed = [
        [Code(v.variant), f": {v.message}"]
        for v in cert.variants.values()
        if not v.certified and not v.blockers
    ]
    if failed:
        blocks += [["Not certified:"], failed]
    return Section(title=["Certification across seeds"], blocks=blocks, anchor="certification")
