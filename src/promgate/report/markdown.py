"""reports/promotion.md: the decision in words, then the evidence behind it.

The content comes from ``promgate.report.document``; this module only writes it as Markdown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from promgate.gates.report import GateReport
from promgate.report.document import Badge, Code, Inline, Line, Section, Table, build

if TYPE_CHECKING:
    from promgate.gates.certification import Certification


def _inline(part: Inline, *, cell: bool) -> str:
    if isinstance(part, Code):
        text = "`" + part.text.replace("`", "'") + "`"
    elif isinstance(part, Badge):
        text = part.text
    else:
        text = part
    return text.replace("|", "\\|").replace("\n", " ") if cell else text


def _line(line: Line, *, cell: bool = False) -> str:
    return "".join(_inline(p, cell=cell) for p in line)


def _table(table: Table) -> list[str]:
    align = ["---:" if i in table.numeric else "---" for i in range(len(table.columns))]
    out = [f"| {' | '.join(table.columns)} |", f"|{'|'.join(align)}|"]
    out += [f"| {' | '.join(_line(c, cell=True) for c in row)} |" for row in table.rows]
    return out


def _section(section: Section) -> list[str]:
    lines = [f"{'#' * section.level} {_line(section.title)}", ""]
    for block in section.blocks:
        if isinstance(block, Table):
            lines += [*_table(block), ""]
        elif block and isinstance(block[0], list):
            lines += [f"- {_line(item)}" for item in block]  # type: ignore[arg-type]
            lines.append("")
        elif block:
            lines += [_line(block), ""]  # type: ignore[arg-type]
    return lines


def render_promotion_md(report: GateReport, certification: Certification | None = None) -> str:
    """Markdown for humans; gate.json stays the source of truth."""
    lines = [f"# Promotion decision: {report.decision.value}", ""]
    sections = build(report, certification)
    # The summary's own heading repeats the title; its blocks follow the title directly.
    for block in sections[0].blocks:
        if block and isinstance(block[0], list):
            lines += [f"- {_line(item)}" for item in block]  # type: ignore[arg-type]
        else:
            lines.append(_line(block))  # type: ignore[arg-type]
        lines.append("")
    for section in sections[1:]:
        lines += _section(section)
    return "\n".join(lines).rstrip("\n") + "\n"
