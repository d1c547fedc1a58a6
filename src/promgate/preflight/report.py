"""The preflight report (``reports/preflight.json``) and the error that stops the pipeline.

A finding is a ``blocker`` (training would be wasted: the gate could not judge the result)
or a ``warning`` (recorded, shown beside the gate's own numbers). The report is written
before any error is raised, so a stopped pipeline always leaves the file that says why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from promgate.errors import LocatedError
from promgate.io import read_json

Severity = Literal["blocker", "warning"]
Check = Literal["labels", "alignment", "power"]


class PreflightError(LocatedError):
    """A preflight blocker: missing labels, misaligned baseline results, unreadable data."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Finding(_Model):
    check: Check
    severity: Severity
    benchmark: str | None = None
    message: str
    path: str | None = None
    line: int | None = None
    field: str | None = None


def blocker_sink(findings: list[Finding], check: Check, benchmark: str, path: str):
    """A function that records a blocker of ``check`` on ``path`` into ``findings``."""

    def block(message: str, line: int | None = None, field: str | None = None) -> None:
        findings.append(
            Finding(
                check=check,
                severity="blocker",
                benchmark=benchmark,
                message=message,
                path=path,
                line=line,
                field=field,
            )
        )

    return block


class StratumCount(_Model):
    items: int = 0
    labelled: int = 0


class LabelSummary(_Model):
    path: str
    sha256: str | None = None
    items: int = 0
    labelled: int = 0
    # "<split>/<stratum>" -> counts; every stratum the manifest lists appears here.
    strata: dict[str, StratumCount] = Field(default_factory=dict)


class AlignmentSummary(_Model):
    path: str
    sha256: str | None = None
    results: int = 0
    missing: int = 0  # prepared items without a baseline result
    extra: int = 0  # baseline results without a prepared item
    duplicates: int = 0
    stratum_mismatches: int = 0
    aligned: bool = False


class PowerSummary(_Model):
    """Can a gate threshold be detected at this n? Planned before any candidate exists."""

    gate: str
    threshold_pp: float
    n: int
    alpha: float
    power: float
    kind: Literal["binary", "score"]
    baseline_accuracy: float
    # Binary: the discordance assumed (a candidate as accurate as the baseline whose errors
    # are independent of it: 2p(1 - p), floored at 3/n). Score: the SD of differences. An
    # average gate: the SD of the average Δ.
    planning_value: float
    mde_pp: float | None  # null: no effect up to 100 pp is detectable
    detectable: bool


class BenchmarkPreflight(_Model):
    role: Literal["main", "contamination_suite"]
    labels: LabelSummary
    baseline: AlignmentSummary | None = None
    power: PowerSummary | None = None


class PreflightReport(_Model):
    schema_version: int = 1
    passed: bool
    blockers: int
    warnings: int
    policy: str
    benchmarks: dict[str, BenchmarkPreflight]
    suite_power: list[PowerSummary] = Field(
        default_factory=list, description="average gates: the macro-average Δ thresholds"
    )
    findings: list[Finding]


def read_report(path: str | Path) -> PreflightReport:
    path = Path(path)
    if not path.is_file():
        raise PreflightError("no preflight report; run the preflight stage first", path=path)
    try:
        return PreflightReport.model_validate(read_json(path))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise PreflightError(
            f"not a preflight report ({err['msg']})", path=path, field=field
        ) from exc


def error_for(report: PreflightReport, report_path: Path) -> PreflightError:
    """One error naming the first blocker's file (line, field) and how many there are."""
    blockers = [f for f in report.findings if f.severity == "blocker"]
    first = blockers[0]
    more = f" (+{len(blockers) - 1} more)" if len(blockers) > 1 else ""
    where = f"{first.benchmark}: " if first.benchmark else ""
    message = f"preflight {first.check}: {where}{first.message}{more}; see {report_path}"
    return PreflightError(message, path=first.path, line=first.line, field=first.field)


def require_passed(path: str | Path) -> PreflightReport:
    """For the stages after preflight: fail closed unless the report exists and passed."""
    report = read_report(path)
    if not report.passed:
        raise error_for(report, Path(path))
    return report
