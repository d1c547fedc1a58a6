"""Number formats shared by the Markdown and HTML reports, so both say the same thing."""

from __future__ import annotations

from promgate.gates.outcome import GateOutcome, Status
from promgate.gates.report import GateReport


def fmt_pp(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def fmt_acc(value: float) -> str:
    return f"{100 * value:.1f} %"


def fmt_p(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2g}" if value < 0.001 else f"{value:.3f}"


def fmt_num(value: float | None, missing: str = "n/a", digits: int = 2) -> str:
    return missing if value is None else f"{value:.{digits}f}"


def fmt_rate(value: float) -> str:
    return f"{100 * value:.0f} %"


def not_passing(report: GateReport) -> list[GateOutcome]:
    return [o for o in report.outcomes if o.status in (Status.FAIL, Status.BLOCKED)]
