"""The content of a promotion report, once, as a small document tree.

promotion.md and promotion.html render the same tree, so both say the same thing; only the
forest plot is HTML's own. Text is kept as inline parts (plain text, code, a status badge)
so each renderer escapes and styles it its own way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from promgate.gates.outcome import GateOutcome, Status
from promgate.gates.report import BenchmarkStats, CandidateReport, GateReport, SeedReport
from promgate.report.format import fmt_acc, fmt_num, fmt_p, fmt_pp, fmt_rate, not_passing

if TYPE_CHECKING:
    from promgate.gates.certification import Certification


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Badge:
    """A decision or gate status; ``kind`` picks its colour in HTML."""

    text: str

    @property
    def kind(self) -> str:
        return {
            "GO": "go",
            "PASS": "go",
            "NO_GO": "nogo",
            "FAIL": "nogo",
            "BLOCKED": "blocked",
        }.get(self.text, "muted")


Inline = str | Code | Badge
Line = list[Inline]


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Line]]
    numeric: set[int] = field(default_factory=set)


@dataclass
class Section:
    title: Line
    level: int = 2
    blocks: list[Line | Table | list[Line]] = field(default_factory=list)  # list = bullets
    anchor: str = ""


DECISION_WORDS = {
    "GO": "GO: the candidate may replace the baseline.",
    "NO_GO": "NO-GO: the candidate must not replace the baseline.",
    "BLOCKED": "BLOCKED: no decision can be made on the evidence at hand; do not promote.",
}
_SUMMARY_LIMIT = 6


def verdict(o: GateOutcome | None) -> Line:
    if o is None:
        return ["n/a"]
    warn = " (warning)" if o.warnings else ""
    return [Badge(o.status.value), f" {o.reason.value}{warn}"]


def _why(report: GateReport) -> Line | list[Line]:
    if not report.candidates:
        return ["There were no candidates to judge."]
    bad = sorted(
        (o for o in not_passing(report) if o.required), key=lambda o: o.status != Status.BLOCKED
    )
    if not bad:
        return ["Every required gate passed."]
    items: list[Line] = [
        [
            Code(o.candidate or "suite"),
            f" {o.gate}{f' ({o.benchmark})' if o.benchmark else ''}: ",
            Badge(o.status.value),
            f" {o.reason.value}",
        ]
        for o in bad[:_SUMMARY_LIMIT]
    ]
    if len(bad) > _SUMMARY_LIMIT:
        items.append([f"and {len(bad) - _SUMMARY_LIMIT} more (see below)"])
    return items


def summary(report: GateReport) -> Section:
    pol = report.policy
    rule = {
        "all": "every seed's candidate must pass",
        "certify": "each recipe certifies across its seeds",
    }.get(pol.seed_rule, pol.seed_rule)
    lead: Line = [DECISION_WORDS[report.decision.value]]
    context: Line = [
        "Baseline ",
        Code(report.baseline),
        f", {len(report.candidates)} candidate(s) on {len(report.benchmarks)} benchmark(s), "
        "judged under policy ",
        Code(pol.name),
        f" v{pol.version} ({pol.source}); seed rule ",
        Code(pol.seed_rule),
        f" ({rule}). Policy sha256 ",
        Code(pol.sha256),
        ".",
    ]
    why = _why(report)
    blocks: list[Line | Table | list[Line]] = [lead, context]
    if why and isinstance(why[0], list):
        blocks += [["Why:"], why]  # type: ignore[list-item]
    else:
        blocks.append(why)  # type: ignore[arg-type]
    return Section(
        title=["Promotion decision ", Badge(report.decision.value)], level=1, blocks=blocks
    )


_BENCH_COLUMNS = [
    "benchmark",
    "n",
    "baseline",
    "candidate",
    "Δ pp",
    "CI (pp)",
    "p",
    "p adj",
    "MDE pp",
    "power @ target",
    "fixed / broken",
    "gate",
]


def _flips(st: BenchmarkStats) -> str:
    return "–" if st.flips is None else f"+{st.flips.fixed} / −{st.flips.broken}"


def _bench_row(bench: str, st: BenchmarkStats | None, gate: GateOutcome | None) -> list[Line]:
    if st is None:
        return [[bench], *[["–"]] * 10, verdict(gate)]
    power = "–" if st.power_at_threshold is None else f"{st.power_at_threshold:.0%}"
    # No MDE with a level tested means no Δ at all reaches the target power at this n.
    mde = "–" if st.alpha_tested is None else fmt_num(st.mde_pp, "∞")
    return [
        [bench],
        [str(st.n)],
        [fmt_acc(st.baseline_acc)],
        [fmt_acc(st.candidate_acc)],
        [fmt_pp(st.delta_pp)],
        [f"[{fmt_pp(st.ci_low_pp)}, {fmt_pp(st.ci_high_pp)}]"],
        [fmt_p(st.p_value)],
        [fmt_p(st.p_adjusted)],
        [mde],
        [power],
        [_flips(st)],
        verdict(gate),
    ]


def benchmark_table(cand: CandidateReport, benchmarks: list[str], gate: str) -> Table:
    outcomes = {o.benchmark: o for o in cand.outcomes if o.gate == gate}
    rows = [_bench_row(b, cand.benchmarks.get(b), outcomes.get(b)) for b in benchmarks]
    return Table(_BENCH_COLUMNS, rows, numeric=set(range(1, 11)))


def _cal(st: BenchmarkStats) -> list[Line] | None:
    cal = st.calibration
    if cal is None:
        return None

    def pair(attr: str) -> str:
        values = [getattr(side, attr) if side else None for side in (cal.baseline, cal.candidate)]
        return " → ".join(fmt_num(v, "n/a", 3) for v in values)

    return [[st.benchmark], [pair("ece")], [pair("brier")], [pair("roc_auc")]]


def calibration_table(cand: CandidateReport) -> Table | None:
    rows = [r for st in cand.benchmarks.values() if (r := _cal(st)) is not None]
    if not rows:
        return None
    columns = ["benchmark", "ECE base → cand", "Brier base → cand", "ROC-AUC base → cand"]
    return Table(columns, rows, numeric={1, 2, 3})


def drift_table(cand: CandidateReport) -> Table | None:
    rows: list[list[Line]] = []
    for st in cand.benchmarks.values():
        if len(st.strata) < 2:
            continue  # one stratum is the benchmark row itself
        for row in st.strata:
            flips = "–" if row.fixed is None else f"+{row.fixed} / −{row.broken}"
            rows.append(
                [
                    [st.benchmark],
                    [row.stratum or "(none)"],
                    [str(row.n)],
                    [fmt_acc(row.baseline_acc)],
                    [fmt_acc(row.candidate_acc)],
                    [fmt_pp(row.delta_pp)],
                    [flips],
                ]
            )
    if not rows:
        return None
    columns = ["benchmark", "stratum", "n", "baseline", "candidate", "Δ pp", "fixed / broken"]
    return Table(columns, rows, numeric={2, 3, 4, 5, 6})


def _average_line(cand: CandidateReport) -> Line | None:
    o = next((o for o in cand.outcomes if o.gate == "average_delta"), None)
    a = cand.average
    if o is None and a is None:
        return None
    head: Line = ["Average gate: ", *verdict(o), ": "]
    if a is None:
        return [*head, o.message if o else "not evaluated"]
    # A blocked gate can still have an estimate (e.g. a benchmark below the minimum n).
    why = f" Blocked: {o.message}." if o is not None and o.status is Status.BLOCKED else ""
    return [
        *head,
        f"macro-average Δ {fmt_pp(a.delta_pp)} pp, {a.confidence:.0%} CI "
        f"[{fmt_pp(a.ci_low_pp)}, {fmt_pp(a.ci_high_pp)}] pp over {len(a.benchmarks)} "
        f"benchmark(s).{why}",
    ]


def clean_table(cand: CandidateReport) -> Table | None:
    rows: list[list[Line]] = []
    for st in cand.benchmarks.values():
        if st.clean is None:
            continue
        c = st.clean
        ci = "n/a" if c.ci_low_pp is None else f"[{fmt_pp(c.ci_low_pp)}, {fmt_pp(c.ci_high_pp)}]"
        rows.append(
            [
                [st.benchmark],
                [fmt_pp(st.delta_pp)],
                [str(c.n)],
                [str(c.n_excluded)],
                [fmt_pp(c.delta_pp)],
                [ci],
            ]
        )
    if not rows:
        return None
    columns = ["benchmark", "Δ pp (all)", "n clean", "n flagged", "Δ pp (clean)", "CI (clean)"]
    return Table(columns, rows, numeric={1, 2, 3, 4})


def _gate_rows(outcomes: list[GateOutcome]) -> Table:
    rows = [[[o.gate], [o.benchmark or "–"], verdict(o), [o.message]] for o in outcomes]
    return Table(["gate", "benchmark", "status", "detail"], rows)


def candidate_section(cid: str, cand: CandidateReport, report: GateReport) -> Section:
    blocks: list[Line | Table | list[Line]] = [
        benchmark_table(cand, report.benchmarks, "per_benchmark")
    ]
    avg = _average_line(cand)
    if avg:
        blocks.append(avg)
    others = [b for group in report.other_benchmarks.values() for b in group]
    if any(b in cand.benchmarks for b in others):
        blocks += [["Other benchmarks (read by the gates named in the last column):"]]
        table = benchmark_table(cand, list(dict.fromkeys(others)), "")
        for row, bench in zip(table.rows, dict.fromkeys(others), strict=True):
            used = [g for g, members in report.other_benchmarks.items() if bench in members]
            row[-1] = [", ".join(used)]
        blocks.append(table)
    rest = [o for o in cand.outcomes if o.gate not in ("per_benchmark", "average_delta")]
    if rest:
        blocks += [["Other gates:"], _gate_rows(rest)]
    clean = clean_table(cand)
    if clean:
        blocks += [["Clean subset: Δ on items the contamination stage did not flag:"], clean]
    cal = calibration_table(cand)
    if cal:
        blocks += [["Calibration of `confidence` against correctness (baseline → candidate):"], cal]
    drift = drift_table(cand)
    if drift:
        blocks += [["Drift: Δ by stratum (error profile):"], drift]
    return Section(
        title=["Candidate ", Code(cid), " ", Badge(cand.decision.value)],
        blocks=blocks,
        anchor=f"candidate-{cid}",
    )


def _seed_lines(rep: SeedReport) -> list[Line | Table | list[Line]]:
    rows = [
        [
            [str(v.seed) if v.seed is not None else "–"],
            [Code(v.candidate)],
            [Badge(v.decision.value)],
            [fmt_pp(v.delta_pp)],
            [fmt_num(v.ci_half_width_pp, "n/a")],
        ]
        for v in rep.seeds
    ]
    table = Table(
        ["seed", "candidate", "decision", "average Δ pp", "CI half-width pp"],
        rows,
        numeric={0, 3, 4},
    )
    spread = (
        "n/a"
        if rep.sd_across_seeds_pp is None
        else f"SD across seeds {rep.sd_across_seeds_pp:.2f} pp beside a mean CI half-width "
        f"across items of {fmt_num(rep.mean_item_ci_half_width_pp, 'n/a')} pp"
    )
    facts: Line = [
        f"Pass rate {rep.n_passed} of {rep.n_seeds} ({fmt_rate(rep.pass_rate)}); worst seed "
        f"{rep.worst_seed or 'n/a'} at {fmt_pp(rep.worst_delta_pp)} pp; mean "
        f"{fmt_pp(rep.mean_delta_pp)} pp; {spread}."
    ]
    if rep.missing_seeds:
        facts.append(f" Missing seeds: {', '.join(map(str, rep.missing_seeds))}.")
    if rep.certified is not None:
        facts.append(f" Certified: {'yes' if rep.certified else 'no'}.")
    return [["Recipe ", Code(rep.recipe or "(none)"), f", rule {rep.rule}:"], table, facts]


def seeds_section(report: GateReport) -> Section | None:
    if not report.seeds:
        return None
    blocks: list[Line | Table | list[Line]] = []
    for rep in report.seeds.values():
        blocks += _seed_lines(rep)
    return Section(title=["Seeds"], blocks=blocks)


def suite_section(report: GateReport) -> Section | None:
    if not report.suite_outcomes:
        return None
    rows = [
        [[o.gate], [Code(o.candidate)] if o.candidate else ["–"], verdict(o), [o.message]]
        for o in report.suite_outcomes
    ]
    return Section(
        title=["Suite gates"], blocks=[Table(["gate", "recipe", "status", "detail"], rows)]
    )


def actions_section(report: GateReport) -> Section:
    bad = not_passing(report)
    if not bad:
        return Section(title=["Failed or blocked gates"], blocks=[["None."]])
    rows = [
        [
            [o.candidate or "–"],
            [o.gate],
            [o.benchmark or "–"],
            [Badge(o.status.value)],
            [o.reason.value],
            ["yes" if o.required else "no"],
            [o.message],
            [o.failure_response or "see policy"],
        ]
        for o in bad
    ]
    columns = ["candidate", "gate", "benchmark", "status", "reason", "required", "detail", "action"]
    return Section(title=["Failed or blocked gates"], blocks=[Table(columns, rows)])


def warnings_section(report: GateReport) -> Section | None:
    notes = [[Code(o.candidate or "suite"), f" {w}"] for o in report.outcomes for w in o.warnings]
    if not notes:
        return None
    lead: Line = [
        "These gates kept their verdict under the policy's underpowered: "
        f"{report.method.underpowered} rule; each cannot reliably detect its own threshold:"
    ]
    return Section(title=["Warnings"], blocks=[lead, notes])  # type: ignore[list-item]


def method_section(report: GateReport) -> Section:
    m = report.method
    version = report.generated_by.get("promgate", "?")
    items: list[Line] = [
        [
            "Δ = candidate accuracy − baseline accuracy on the same items (paired by id), in "
            "percentage points; accuracy of fractional scores is their mean."
        ],
        [
            f"Bootstrap: B = {m.resamples:,}, seed {m.seed}, {m.ci} {m.confidence:.0%} CI; "
            f"{m.bootstrap}."
        ],
        [f"Macro average: {m.macro}."],
        [f"McNemar: {m.mcnemar} (0/1 outcomes); fractional scores: paired t-test."],
        [f"Significance: α = {m.alpha:g}, {m.multiplicity} across benchmarks; {m.family}."],
        [f"Power: {m.power_method}; target power {m.power:.0%}; underpowered → {m.underpowered}."],
        [f"promgate {version}; gate.json is the source of truth."],
    ]
    return Section(title=["Method"], blocks=[items])


def build(report: GateReport, certification: Certification | None = None) -> list[Section]:
    """Every section in reading order; the HTML renderer adds its plot after the candidates."""
    from promgate.report.certification import certification_section

    sections = [summary(report)]
    if certification is not None:  # across seeds, per variant: read before the candidates
        sections.append(certification_section(certification))
    sections += [candidate_section(cid, c, report) for cid, c in report.candidates.items()]
    for extra in (seeds_section(report), suite_section(report)):
        if extra is not None:
            sections.append(extra)
    sections.append(actions_section(report))
    warn = warnings_section(report)
    if warn is not None:
        sections.append(warn)
    sections.append(method_section(report))
    return sections
