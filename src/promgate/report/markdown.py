"""reports/promotion.md: the decision in words, then the evidence behind it."""

from __future__ import annotations

from promgate.gates.report import CandidateReport, GateReport
from promgate.report.format import fmt_acc, fmt_p, fmt_pp, not_passing

_DECISION_WORDS = {
    "GO": "**GO**: the candidate may replace the baseline.",
    "NO_GO": "**NO-GO**: the candidate must not replace the baseline.",
    "BLOCKED": "**BLOCKED**: no decision can be made on the evidence at hand; do not promote.",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _summary(report: GateReport) -> str:
    policy = f"policy `{report.policy.name}` v{report.policy.version} ({report.policy.source})"
    head = (
        f"{_DECISION_WORDS[report.decision.value]} Baseline `{report.baseline}`, "
        f"{len(report.candidates)} candidate(s) on {len(report.benchmarks)} benchmark(s), "
        f"judged under {policy}; seed rule `{report.policy.seed_rule}` (the decision is the "
        f"worst candidate's)."
    )
    if not report.candidates:
        return f"{head} There were no candidates to judge."
    # BLOCKED first: it is what makes a decision BLOCKED.
    bad = sorted(
        (o for o in not_passing(report) if o.required), key=lambda o: o.status.value != "BLOCKED"
    )
    if not bad:
        return f"{head} Every required gate passed for every candidate."
    shown = "; ".join(
        f"`{o.candidate}` {o.gate}"
        f"{f' ({o.benchmark})' if o.benchmark else ''}: {o.status.value} {o.reason.value}"
        for o in bad[:6]
    )
    more = f"; and {len(bad) - 6} more" if len(bad) > 6 else ""
    return f"{head} Why: {shown}{more}."


def _benchmark_table(cand: CandidateReport, benchmarks: list[str]) -> list[str]:
    gate = {o.benchmark: o for o in cand.outcomes if o.gate == "per_benchmark"}
    rows = [
        "| benchmark | n | baseline acc | candidate acc | Δ pp | 95 % CI (pp) | McNemar p | gate |",
        "|---|---:|---:|---:|---:|---|---:|---|",
    ]
    for bench in benchmarks:
        o = gate.get(bench)
        verdict = f"{o.status.value} {o.reason.value}" if o else "n/a"
        st = cand.benchmarks.get(bench)
        if st is None:
            rows.append(f"| {bench} | – | – | – | – | – | – | {verdict} |")
            continue
        rows.append(
            f"| {bench} | {st.n} | {fmt_acc(st.baseline_acc)} | {fmt_acc(st.candidate_acc)} | "
            f"{fmt_pp(st.delta_pp)} | [{fmt_pp(st.ci_low_pp)}, {fmt_pp(st.ci_high_pp)}] | "
            f"{fmt_p(st.p_value)} | {verdict} |"
        )
    return rows


def _average_line(cand: CandidateReport) -> str:
    o = next((o for o in cand.outcomes if o.gate == "average_delta"), None)
    verdict = f"{o.status.value} {o.reason.value}" if o else "n/a"
    if cand.average is None:
        return f"Average gate: {verdict}: {o.message if o else 'not evaluated'}"
    a = cand.average
    return (
        f"Average gate: {verdict}: macro-average Δ {fmt_pp(a.delta_pp)} pp, "
        f"{a.confidence:.0%} CI [{fmt_pp(a.ci_low_pp)}, {fmt_pp(a.ci_high_pp)}] pp over "
        f"{len(a.benchmarks)} benchmark(s)."
    )


def _candidate_section(cid: str, cand: CandidateReport, benchmarks: list[str]) -> list[str]:
    lines = [f"## Candidate `{cid}`: {cand.decision.value}", ""]
    lines += _benchmark_table(cand, benchmarks)
    lines += ["", _average_line(cand), ""]
    return lines


def _actions(report: GateReport) -> list[str]:
    bad = not_passing(report)
    if not bad:
        return ["## Failed or blocked gates", "", "None.", ""]
    lines = [
        "## Failed or blocked gates",
        "",
        "| candidate | gate | benchmark | status | reason | required | detail | action |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in bad:
        lines.append(
            f"| {o.candidate or '–'} | {o.gate} | {o.benchmark or '–'} | {o.status.value} | "
            f"{o.reason.value} | {'yes' if o.required else 'no'} | {_cell(o.message)} | "
            f"{_cell(o.failure_response or 'see policy')} |"
        )
    return [*lines, ""]


def _method(report: GateReport) -> list[str]:
    m = report.method
    version = report.generated_by.get("promgate", "?")
    return [
        "## Method",
        "",
        "- Δ = candidate accuracy − baseline accuracy on the same items (paired by id), "
        "in percentage points; accuracy of fractional scores is their mean.",
        f"- Bootstrap: B = {m.resamples:,}, seed {m.seed}, {m.ci} {m.confidence:.0%} CI; "
        f"{m.bootstrap}.",
        f"- Macro average: {m.macro}.",
        f"- McNemar: {m.mcnemar} (0/1 outcomes only).",
        f"- Policy sha256 `{report.policy.sha256}`; promgate {version}.",
        "",
    ]


def render_promotion_md(report: GateReport) -> str:
    """Markdown for humans; reports/gate.json stays the source of truth."""
    lines = [f"# Promotion decision: {report.decision.value}", "", _summary(report), ""]
    for cid, cand in report.candidates.items():
        lines += _candidate_section(cid, cand, report.benchmarks)
    lines += _actions(report)
    lines += _method(report)
    return "\n".join(lines)
