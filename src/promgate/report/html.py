"""reports/promotion.html: promotion.md's content as one self-contained page, with the plot.

Everything is inline (CSS, SVG), so the file can be mailed or attached to a CI run and still
render. Every piece of text from the report goes through ``html.escape``: messages quote
file contents and ids, which are not trusted markup.
"""

from __future__ import annotations

from html import escape

from promgate.gates.outcome import GateOutcome, Status
from promgate.gates.policy import Policy, policy_sha256
from promgate.gates.report import CandidateReport, GateReport

# Same number formatting as promotion.md, so the two reports read alike.
from promgate.report.format import fmt_acc, fmt_p, fmt_pp, not_passing
from promgate.report.plots import forest_plot_svg

_DECISION_WORDS = {
    "GO": "GO: the candidate may replace the baseline.",
    "NO_GO": "NO-GO: the candidate must not replace the baseline.",
    "BLOCKED": "BLOCKED: no decision can be made on the evidence at hand; do not promote.",
}
_BADGE_CLASS = {"GO": "go", "NO_GO": "nogo", "BLOCKED": "blocked"}
_STATUS_CLASS = {"PASS": "go", "FAIL": "nogo", "BLOCKED": "blocked", "WAIVED": "muted"}
_SUMMARY_LIMIT = 6

_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
       max-width: 68rem; margin: 2rem auto; padding: 0 1rem; }
h1, h2 { line-height: 1.25; }
code { font: 0.9em ui-monospace, SFMono-Regular, Menlo, monospace; background: #f6f8fa;
       padding: 0 0.25em; border-radius: 4px; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 0.1em 0.6em; border-radius: 1em; color: #fff;
         font-weight: 600; font-size: 0.85em; vertical-align: middle; }
.badge.go { background: #1a7f37; } .badge.nogo { background: #cf222e; }
.badge.blocked { background: #bf8700; } .badge.muted { background: #6e7781; }
.lead { font-size: 1.15em; font-weight: 600; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.92em; }
th, td { border: 1px solid #d0d7de; padding: 0.3em 0.6em; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #59636e; font-size: 0.9em; }
"""


def _badge(value: str, classes: dict[str, str]) -> str:
    return f'<span class="badge {classes.get(value, "muted")}">{escape(value)}</span>'


def _code(text: str) -> str:
    return f"<code>{escape(text)}</code>"


def _why(report: GateReport) -> str:
    """The required gates that decided, BLOCKED first, as in promotion.md's summary."""
    if not report.candidates:
        return "<p>There were no candidates to judge.</p>"
    bad = sorted(
        (o for o in not_passing(report) if o.required), key=lambda o: o.status != Status.BLOCKED
    )
    if not bad:
        return "<p>Every required gate passed for every candidate.</p>"
    items = [
        f"<li>{_code(o.candidate or '–')} {escape(o.gate)}"
        f"{f' ({escape(o.benchmark)})' if o.benchmark else ''}: "
        f"{_badge(o.status.value, _STATUS_CLASS)} {escape(o.reason.value)}</li>"
        for o in bad[:_SUMMARY_LIMIT]
    ]
    if len(bad) > _SUMMARY_LIMIT:
        items.append(f"<li>and {len(bad) - _SUMMARY_LIMIT} more (see below)</li>")
    return "<p>Why:</p><ul>" + "".join(items) + "</ul>"


def _summary(report: GateReport) -> str:
    pol = report.policy
    decision = report.decision.value
    return (
        f"<h1>Promotion decision {_badge(decision, _BADGE_CLASS)}</h1>"
        f'<p class="lead">{escape(_DECISION_WORDS[decision])}</p>'
        f"<p>Baseline {_code(report.baseline)}, {len(report.candidates)} candidate(s) on "
        f"{len(report.benchmarks)} benchmark(s), judged under policy {_code(pol.name)} "
        f"v{escape(pol.version)} ({escape(pol.source)}); seed rule {_code(pol.seed_rule)} "
        f"(the decision is the worst candidate's).</p>"
        f"<p>Policy sha256 {_code(pol.sha256)}</p>" + _why(report)
    )


def _row(cells: list[str], numeric: set[int]) -> str:
    tds = "".join(
        f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
        for i, c in enumerate(cells)
    )
    return f"<tr>{tds}</tr>"


def _head(names: list[str]) -> str:
    return "<thead><tr>" + "".join(f"<th>{escape(n)}</th>" for n in names) + "</tr></thead>"


def _verdict(o: GateOutcome | None) -> str:
    if o is None:
        return "n/a"
    return f"{_badge(o.status.value, _STATUS_CLASS)} {escape(o.reason.value)}"


_BENCH_COLUMNS = [
    "benchmark",
    "n",
    "baseline acc",
    "candidate acc",
    "Δ pp",
    "95 % CI (pp)",
    "McNemar p",
    "gate",
]


def _benchmark_table(cand: CandidateReport, benchmarks: list[str]) -> str:
    gate = {o.benchmark: o for o in cand.outcomes if o.gate == "per_benchmark"}
    rows = []
    for bench in benchmarks:
        st = cand.benchmarks.get(bench)
        if st is None:
            cells = [escape(bench), *["–"] * 6, _verdict(gate.get(bench))]
        else:
            cells = [
                escape(bench),
                str(st.n),
                fmt_acc(st.baseline_acc),
                fmt_acc(st.candidate_acc),
                fmt_pp(st.delta_pp),
                f"[{fmt_pp(st.ci_low_pp)}, {fmt_pp(st.ci_high_pp)}]",
                fmt_p(st.p_value),
                _verdict(gate.get(bench)),
            ]
        rows.append(_row(cells, numeric={1, 2, 3, 4, 5, 6}))
    return f"<table>{_head(_BENCH_COLUMNS)}<tbody>{''.join(rows)}</tbody></table>"


def _average(cand: CandidateReport) -> str:
    o = next((o for o in cand.outcomes if o.gate == "average_delta"), None)
    if cand.average is None:
        detail = escape(o.message) if o else "not evaluated"
        return f"<p>Average gate: {_verdict(o)}: {detail}</p>"
    a = cand.average
    return (
        f"<p>Average gate: {_verdict(o)}: macro-average Δ {fmt_pp(a.delta_pp)} pp, "
        f"{a.confidence:.0%} CI [{fmt_pp(a.ci_low_pp)}, {fmt_pp(a.ci_high_pp)}] pp over "
        f"{len(a.benchmarks)} benchmark(s).</p>"
    )


def _candidate(cid: str, cand: CandidateReport, benchmarks: list[str]) -> str:
    return (
        f"<section><h2>Candidate {_code(cid)} {_badge(cand.decision.value, _BADGE_CLASS)}</h2>"
        f"{_benchmark_table(cand, benchmarks)}{_average(cand)}</section>"
    )


def _inline_svg(svg: str) -> str:
    # The XML declaration and DOCTYPE are not allowed inside an HTML body.
    return svg[svg.index("<svg") :]


def _plot(report: GateReport, policy: Policy) -> str:
    pb, avg = policy.gates.per_benchmark, policy.gates.average_delta
    caption = (
        f"Δ per benchmark with its {report.method.confidence:.0%} CI. Solid line: no change; "
        f"dashed: the per-benchmark gate (improve by {pb.min_improvement_pp:+g} pp or stay at or "
        f"above {pb.max_regression_pp:+g} pp); dotted on the average row: the average gate's "
        f"{avg.min_delta_pp:+g} pp."
    )
    svg = _inline_svg(forest_plot_svg(report, policy.gates))
    return (
        f"<section><h2>Forest plot</h2><figure>{svg}"
        f"<figcaption>{escape(caption)}</figcaption></figure></section>"
    )


_ACTION_COLUMNS = [
    "candidate",
    "gate",
    "benchmark",
    "status",
    "reason",
    "required",
    "detail",
    "action",
]


def _actions(report: GateReport) -> str:
    bad = not_passing(report)
    if not bad:
        return "<section><h2>Failed or blocked gates</h2><p>None.</p></section>"
    rows = [
        _row(
            [
                escape(o.candidate or "–"),
                escape(o.gate),
                escape(o.benchmark or "–"),
                _badge(o.status.value, _STATUS_CLASS),
                escape(o.reason.value),
                "yes" if o.required else "no",
                escape(o.message),
                escape(o.failure_response or "see policy"),
            ],
            numeric=set(),
        )
        for o in bad
    ]
    table = f"<table>{_head(_ACTION_COLUMNS)}<tbody>{''.join(rows)}</tbody></table>"
    return f"<section><h2>Failed or blocked gates</h2>{table}</section>"


def _method(report: GateReport) -> str:
    m = report.method
    version = report.generated_by.get("promgate", "?")
    items = [
        "Δ = candidate accuracy − baseline accuracy on the same items (paired by id), in "
        "percentage points; accuracy of fractional scores is their mean.",
        f"Bootstrap: B = {m.resamples:,}, seed {m.seed}, {m.ci} {m.confidence:.0%} CI; "
        f"{m.bootstrap}.",
        f"Macro average: {m.macro}.",
        f"McNemar: {m.mcnemar} (0/1 outcomes only).",
        f"promgate {version}; reports/gate.json is the source of truth.",
    ]
    lis = "".join(f"<li>{escape(i)}</li>" for i in items)
    return f"<section><h2>Method</h2><ul>{lis}</ul></section>"


def render_promotion_html(report: GateReport, policy: Policy) -> str:
    """The page for humans; reports/gate.json stays the source of truth.

    ``policy`` supplies the plot's thresholds. It must be the policy the report was judged
    under (checked by digest), so the lines drawn are the thresholds that were applied.
    """
    if policy_sha256(policy) != report.policy.sha256:
        raise ValueError(
            f"policy {policy.name}@{policy.version} is not the one the report was judged under"
        )
    title = f"Promotion decision: {report.decision.value}"
    body = "".join(
        [
            _summary(report),
            *(_candidate(cid, c, report.benchmarks) for cid, c in report.candidates.items()),
            _plot(report, policy),
            _actions(report),
            _method(report),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
