"""Import a SWE-bench harness run report as per-instance results on SWE-bench Lite.

The harness (``swebench.harness.run_evaluation``) writes ``<model>.<run_id>.json`` with
``schema_version`` 2 and one id list per outcome. Each of the 300 Lite instances becomes one
ItemResult ``swebench_lite/<instance_id>``, stratified and clustered by repository:

- ``resolved_ids``: ``correct`` true;
- ``unresolved_ids``: false;
- ``error_ids`` (the harness could not evaluate the patch), ``empty_patch_ids`` and
  ``incomplete_ids`` (no prediction submitted): false, with ``error`` saying which — as the
  SWE-bench leaderboard counts them, unresolved out of all 300.

Fail closed: an instance that is not one of the 300 Lite ids, an instance in two lists, a
Lite instance the report accounts for in none of them, a count field that disagrees with its
list, or another schema version is an error naming the file and field; nothing is written.

The Lite ids ship with promgate (``swebench_lite_ids.txt``, sha256-pinned), so importing
needs neither the benchmark mirror nor a download.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promgate.errors import IntegrityError, SchemaError
from promgate.io import read_json, sha256_file, sha256_text, write_json
from promgate.results import ItemResult, write_results

BENCHMARK = "swebench_lite"
LITE_IDS_FILE = Path(__file__).with_name("swebench_lite_ids.txt")
LITE_IDS_SHA256 = "6b9850decb64f71aaed19d394195eb254b666a4abe7f113365195b3e4de2b450"
LITE_SIZE = 300
SCHEMA_VERSION = 2
# Report list -> (resolved, error code recorded on the ItemResult).
OUTCOMES: dict[str, tuple[bool, str | None]] = {
    "resolved_ids": (True, None),
    "unresolved_ids": (False, None),
    "error_ids": (False, "harness_error"),
    "empty_patch_ids": (False, "empty_patch"),
    "incomplete_ids": (False, "not_submitted"),
}
REQUIRED = ("resolved_ids", "unresolved_ids")
COUNTS = {
    "resolved_instances": "resolved_ids",
    "unresolved_instances": "unresolved_ids",
    "error_instances": "error_ids",
    "empty_patch_instances": "empty_patch_ids",
}


def lite_ids() -> list[str]:
    """The 300 SWE-bench Lite instance ids, sorted, checked against their pin."""
    text = LITE_IDS_FILE.read_text(encoding="utf-8")
    if sha256_text(text) != LITE_IDS_SHA256:
        raise IntegrityError("the SWE-bench Lite id list differs from its pin", path=LITE_IDS_FILE)
    return text.split()


def repository(instance_id: str) -> str:
    """``astropy__astropy-12907`` -> ``astropy/astropy``."""
    return instance_id.rsplit("-", 1)[0].replace("__", "/", 1)


@dataclass(frozen=True)
class SwebenchImport:
    path: Path
    outcomes: dict[str, str]  # instance id -> the report list it is in

    def results(self, model_id: str) -> list[ItemResult]:
        out = []
        for instance in sorted(self.outcomes):
            resolved, error = OUTCOMES[self.outcomes[instance]]
            repo = repository(instance)
            out.append(
                ItemResult(
                    id=f"{BENCHMARK}/{instance}",
                    benchmark=BENCHMARK,
                    model_id=model_id,
                    stratum=repo,
                    cluster=repo,
                    correct=resolved,
                    error=error,
                )
            )
        return out

    def count(self, key: str) -> int:
        return sum(1 for outcome in self.outcomes.values() if outcome == key)


def read_report(path: str | Path) -> SwebenchImport:
    path = Path(path)
    if not path.is_file():
        raise SchemaError("no such SWE-bench report", path=path)
    report = read_json(path)
    if not isinstance(report, dict):
        raise SchemaError("a SWE-bench report is a JSON object", path=path)
    version = report.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise SchemaError(
            f"schema_version {version!r}; the harness's version {SCHEMA_VERSION} is supported",
            path=path,
            field="schema_version",
        )
    lite = set(lite_ids())
    outcomes: dict[str, str] = {}
    for key in OUTCOMES:
        if key not in report:
            if key in REQUIRED:
                raise SchemaError("missing", path=path, field=key)
            continue
        for index, instance in enumerate(_id_list(report, key, path)):
            field = f"{key}[{index}]"
            if instance not in lite:
                raise SchemaError(
                    f"{instance!r} is not one of the {LITE_SIZE} SWE-bench Lite instances",
                    path=path,
                    field=field,
                )
            if instance in outcomes:
                raise SchemaError(
                    f"{instance!r} is also in {outcomes[instance]}", path=path, field=field
                )
            outcomes[instance] = key
    missing = sorted(lite - set(outcomes))
    if missing:
        shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
        raise SchemaError(
            f"{len(missing)} Lite instances are in none of {', '.join(OUTCOMES)} ({shown}); "
            "an instance the report does not account for is not assumed unresolved",
            path=path,
            field="resolved_ids",
        )
    _check_counts(report, outcomes, path)
    return SwebenchImport(path, outcomes)


def _id_list(report: dict[str, Any], key: str, path: Path) -> list[str]:
    value = report[key]
    if not isinstance(value, list):
        raise SchemaError("expected a list of instance ids", path=path, field=key)
    for index, instance in enumerate(value):
        if not isinstance(instance, str):
            raise SchemaError("an instance id is text", path=path, field=f"{key}[{index}]")
    return value


def _check_counts(report: dict[str, Any], outcomes: dict[str, str], path: Path) -> None:
    total = report.get("total_instances")
    if total is not None and total != LITE_SIZE:
        raise SchemaError(
            f"{total} instances; SWE-bench Lite has {LITE_SIZE} (a run on another split?)",
            path=path,
            field="total_instances",
        )
    for count_key, list_key in COUNTS.items():
        if count_key not in report:
            continue
        listed = sum(1 for outcome in outcomes.values() if outcome == list_key)
        if report[count_key] != listed:
            raise SchemaError(
                f"{report[count_key]!r} disagrees with the {listed} ids in {list_key}",
                path=path,
                field=count_key,
            )


def write_import(imported: SwebenchImport, out: str | Path, model_id: str) -> dict[str, Any]:
    """``<out>/swebench_lite.jsonl`` and ``<out>/swebench_import.json``."""
    out = Path(out)
    results = imported.results(model_id)
    write_results(out / f"{BENCHMARK}.jsonl", results)
    summary = {
        "source": "swebench-harness",
        "report": str(imported.path),
        "report_sha256": sha256_file(imported.path),
        "model_id": model_id,
        "n": len(results),
        "resolved": imported.count("resolved_ids"),
        "accuracy": imported.count("resolved_ids") / len(results),
        "outcomes": {key: imported.count(key) for key in OUTCOMES},
    }
    write_json(out / "swebench_import.json", summary)
    return summary
