"""Labels: every prepared item carries a usable gold answer, and every stratum the manifest
lists (the strata the gate's stratified bootstrap uses) has labelled items in the file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from promgate.data.schema import Item
from promgate.errors import SchemaError
from promgate.io import iter_jsonl, sha256_file
from promgate.preflight.report import Finding, LabelSummary, StratumCount, blocker_sink


def missing_label(item: Item) -> str | None:
    """The field whose gold answer is absent, or None when the item can be scored."""
    if item.kind == "multiple_choice":
        ok = item.choices and item.answer_index is not None
        return None if ok and 0 <= item.answer_index < len(item.choices) else "answer_index"
    if item.kind == "code":
        if not (item.tests or "").strip():
            return "tests"
        return None if (item.entry_point or "").strip() else "entry_point"
    return None if item.target.strip() else "target"


def _manifest_strata(entry: Mapping[str, Any] | None) -> list[str]:
    """Strata with sampled items, from data/prepared's ({name: {sampled}}) or data/perturbed's
    ({name: count}) manifest."""
    strata = (entry or {}).get("strata") or {}
    out = []
    for name, value in strata.items():
        count = value.get("sampled", 0) if isinstance(value, Mapping) else value
        if isinstance(count, int) and count > 0:
            out.append(str(name))
    return sorted(out)


def check_labels(
    benchmark: str, path: Path, manifest_entry: Mapping[str, Any] | None, shown: str
) -> tuple[LabelSummary, list[Finding], list[Item]]:
    """Summary, findings and the items that match the schema (labelled or not)."""
    summary = LabelSummary(path=shown)
    findings: list[Finding] = []

    block = blocker_sink(findings, "labels", benchmark, shown)

    if not path.is_file():
        block("prepared file not found")
        return summary, findings, []
    summary.sha256 = sha256_file(path)
    items: list[Item] = []
    try:
        for line, row in iter_jsonl(path):
            try:
                item = Item.model_validate(row)
            except ValidationError as exc:
                err = exc.errors()[0]
                field = ".".join(str(p) for p in err["loc"]) or None
                block(f"item does not match the schema ({err['msg']})", line, field)
                continue
            summary.items += 1
            cell = summary.strata.setdefault(
                f"{item.split}/{item.metadata.stratum}", StratumCount()
            )
            cell.items += 1
            items.append(item)  # still paired with the baseline: one fault, one finding
            field = missing_label(item)
            if field is not None:
                block(f"item {item.id} has no label", line, field)
                continue
            cell.labelled += 1
            summary.labelled += 1
    except SchemaError as exc:
        block(exc.detail, exc.line, exc.field)
    if summary.items == 0 and not findings:
        block("no items")
    present = {key.split("/", 1)[1] for key, c in summary.strata.items() if c.labelled}
    for stratum in _manifest_strata(manifest_entry):
        if stratum not in present:
            block(f"stratum '{stratum}' (in the manifest) has no labelled item", field="stratum")
    return summary, findings, items
