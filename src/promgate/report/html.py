"""reports/promotion.html: promotion.md's content as one self-contained page, with the plot.

Everything is inline (CSS, SVG), so the file can be mailed or attached to a CI run and still
render. Every piece of text from the report goes through ``html.escape``: messages quote
file contents and ids, which are not trusted markup. The content comes from
``promgate.report.document``, the same tree promotion.md is written from.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from promgate.gates.policy import Policy, policy_sha256
from promgate.gates.report import GateReport
from promgate.report.document import Badge, Code, Inline, Line, Section, Table, build
from promgate.report.plots import forest_plot_svg

if TYPE_CHECKING:
    from promgate.gates.certification import Certification

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


def _inline(part: Inline) -> str:
    if isinstance(part, Code):
        return f"<code>{escape(part.text)}</code>"
    if isinstance(part, Badge):
        return f'<span class="badge {part.kind}">{escape(part.text)}</span>'
    return escape(part)


def _line(line: Line) -> str:
    return "".join(_inline(p) for p in line)


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
    rows = []
    for row in table.rows:
        cells = "".join(
            f'<td class="num">{_line(c)}</td>' if i in table.numeric else f"<td>{_line(c)}</td>"
            for i, c in enumerate(row)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _block(block: Line | Table | list[Line], lead: bool = False) -> str:
    if isinstance(block, Table):
        return _table(block)
    if block and isinstance(block[0], list):
        return "<ul>" + "".join(f"<li>{_line(i)}</li>" for i in block) + "</ul>"  # type: ignore[arg-type]
    css = ' class="lead"' if lead else ""
    return f"<p{css}>{_line(block)}</p>"  # type: ignore[arg-type]


def _section(section: Section) -> str:
    level = section.level
    body = "".join(_block(b, lead=level == 1 and i == 0) for i, b in enumerate(section.blocks))
    heading = f"<h{level}>{_line(section.title)}</h{level}>"
    return heading + body if level == 1 else f"<section>{heading}{body}</section>"


def _inline_svg(svg: str) -> str:
    # The XML declaration and DOCTYPE are not allowed inside an HTML body.
    return svg[svg.index("<svg") :]


def _plot(report: GateReport, policy: Policy) -> str:
    pb, avg = policy.gates.per_benchmark, policy.gates.average_delta
    caption = (
        f"Δ per benchmark with its {report.method.confidence:.0%} CI, coloured by its gate's "
        f"status. Solid line: no change; long dashes: the regression floor "
        f"({pb.max_regression_pp:+g} pp); short dashed tick per row: that benchmark's "
        f"improvement target; grey band: ±MDE at power {report.method.power:.0%}."
    )
    if avg is not None:
        caption += f" Dotted tick on the average row: the average gate's {avg.min_delta_pp:+g} pp."
    svg = _inline_svg(forest_plot_svg(report, policy.gates))
    return (
        f"<section><h2>Forest plot</h2><figure>{svg}"
        f"<figcaption>{escape(caption)}</figcaption></figure></section>"
    )


def render_promotion_html(
    report: GateReport, policy: Policy, certification: Certification | None = None
) -> str:
    """The page for humans; gate.json stays the source of truth.

    ``policy`` supplies the plot's thresholds. It must be the policy the report was judged
    under (checked by digest), so the lines drawn are the thresholds that were applied.
    """
    if policy_sha256(policy) != report.policy.sha256:
        raise ValueError(
            f"policy {policy.name}@{policy.version} is not the one the report was judged under"
        )
    sections = build(report, certification)
    # The summary, the certification (when given) and the candidates come before the plot.
    n_first = 1 + (certification is not None) + len(report.candidates)
    body = "".join(
        [
            *(_section(s) for s in sections[:n_first]),
            _plot(report, policy),
            *(_section(s) for s in sections[n_first:]),
        ]
    )
    title = f"Promotion decision: {report.decision.value}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
