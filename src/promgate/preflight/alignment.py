"""Alignment: the baseline's per-item results pair one to one with the prepared items (ids,
benchmark and stratum), so every candidate can later be paired with the same baseline."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from promgate.data.schema import Item
from promgate.errors import SchemaError
from promgate.io import sha256_file
from promgate.preflight.report import AlignmentSummary, Finding, blocker_sink
from promgate.results import ItemResult, read_results

_SHOW = 3  # ids named in a message


def _some(ids: list[str]) -> str:
    head = ", ".join(sorted(ids)[:_SHOW])
    return head + (f" (+{len(ids) - _SHOW} more)" if len(ids) > _SHOW else "")


def check_alignment(
    benchmark: str, items: list[Item], path: Path, shown: str
) -> tuple[AlignmentSummary, list[Finding], list[ItemResult]]:
    """Summary, findings and the results read (empty when the file is unusable)."""
    summary = AlignmentSummary(path=shown)
    findings: list[Finding] = []

    block = blocker_sink(findings, "alignment", benchmark, shown)

    if not path.is_file():
        block("baseline results file not found")
        return summary, findings, []
    summary.sha256 = sha256_file(path)
    try:
        results = read_results(path)
    except SchemaError as exc:
        block(exc.detail, exc.line, exc.field)
        return summary, findings, []
    summary.results = len(results)
    counts = Counter(r.id for r in results)
    dupes = [i for i, c in counts.items() if c > 1]
    by_id = {i.id: i for i in items}
    missing = [i for i in by_id if i not in counts]
    extra = [i for i in counts if i not in by_id]
    summary.duplicates, summary.missing, summary.extra = len(dupes), len(missing), len(extra)
    if dupes:
        block(f"{len(dupes)} id(s) appear more than once: {_some(dupes)}", field="id")
    if missing:
        block(
            f"{len(missing)} prepared item(s) have no baseline result: {_some(missing)}", field="id"
        )
    if extra:
        block(f"{len(extra)} result(s) name no prepared item: {_some(extra)}", field="id")
    other = [r.id for r in results if r.benchmark != benchmark]
    if other:
        block(
            f"{len(other)} result(s) are for another benchmark: {_some(other)}", None, "benchmark"
        )
    wrong = [
        r.id
        for r in results
        if r.id in by_id and r.stratum is not None and r.stratum != by_id[r.id].metadata.stratum
    ]
    summary.stratum_mismatches = len(wrong)
    if wrong:
        block(
            f"{len(wrong)} result(s) carry another stratum than their item: {_some(wrong)}",
            field="stratum",
        )
    summary.aligned = not findings
    return summary, findings, results
