"""`promgate import swebench` on reports laid out as the SWE-bench harness writes them
(``make_run_report``, schema_version 2), checked against the 300 Lite instances."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promgate.cli import main
from promgate.data.loaders.swebench import load_swebench
from promgate.errors import SchemaError
from promgate.importers.swebench import lite_ids, read_report, repository
from promgate.results import read_results

REPO = Path(__file__).resolve().parent.parent
IDS = lite_ids()


def _report(
    path: Path,
    resolved: list[str],
    *,
    errors: int = 5,
    empty: int = 5,
    incomplete: int = 10,
    **changes,
) -> Path:
    """What the harness writes: counts, then the id lists, then schema_version."""
    rest = [i for i in IDS if i not in set(resolved)]
    empty_ids, error_ids = rest[:empty], rest[empty : empty + errors]
    incomplete_ids = rest[empty + errors : empty + errors + incomplete]
    unresolved = rest[empty + errors + incomplete :]
    report = {
        "total_instances": 300,
        "submitted_instances": 300 - incomplete,
        "completed_instances": len(resolved) + len(unresolved),
        "resolved_instances": len(resolved),
        "unresolved_instances": len(unresolved),
        "empty_patch_instances": len(empty_ids),
        "error_instances": len(error_ids),
        "completed_ids": sorted(resolved + unresolved),
        "incomplete_ids": sorted(incomplete_ids),
        "empty_patch_ids": sorted(empty_ids),
        "submitted_ids": sorted(set(IDS) - set(incomplete_ids)),
        "resolved_ids": sorted(resolved),
        "unresolved_ids": sorted(unresolved),
        "error_ids": sorted(error_ids),
        "schema_version": 2,
    }
    report.update(changes)
    path.write_text(json.dumps(report, indent=4))
    return path


def test_the_shipped_lite_ids_are_the_mirrors(mirror):
    items = load_swebench(mirror / "swebench_lite" / "swe-bench-lite.json")
    assert len(IDS) == len(set(IDS)) == 300
    assert sorted(i.id.removeprefix("swebench_lite/") for i in items) == IDS
    assert all(repository(i.id.removeprefix("swebench_lite/")) == i.metadata.stratum for i in items)


def test_every_lite_instance_once_with_its_outcome(tmp_path):
    imported = read_report(_report(tmp_path / "m.run.json", IDS[:60]))
    results = imported.results("m")
    assert len(results) == 300 and len({r.id for r in results}) == 300
    assert sum(r.correct for r in results) == 60
    errors = [r.error for r in results if r.error]
    assert sorted(set(errors)) == ["empty_patch", "harness_error", "not_submitted"]
    assert (errors.count("empty_patch"), errors.count("not_submitted")) == (5, 10)
    first = results[0]
    assert first.id == f"swebench_lite/{IDS[0]}" and first.stratum == first.cluster == repository(
        IDS[0]
    )


def test_import_then_gate_counts_resolved_instances(tmp_path, capsys):
    base = _report(tmp_path / "base.r1.json", IDS[:60])
    # All 60 kept, 7 more resolved: the miso_v1 SWE-bench gate asks for >= +5, no regression.
    cand = _report(tmp_path / "cand.r1.json", IDS[:60] + IDS[200:207])
    for name, report in (("baseline", base), ("candidate", cand)):
        argv = ["import", "swebench", str(report), "--out", str(tmp_path / name)]
        assert main([*argv, "--model-id", name]) == 0
    assert "swebench_lite: 67/300 resolved" in capsys.readouterr().out
    assert len(read_results(tmp_path / "candidate" / "swebench_lite.jsonl")) == 300

    gate = tmp_path / "gate" / "gate.json"
    argv = ["gate", "--root", str(REPO), "--baseline", str(tmp_path / "baseline")]
    argv += ["--candidate", str(tmp_path / "candidate"), "--policy", "miso_v1"]
    assert main([*argv, "--out", str(gate)]) == 0
    candidate = json.loads(gate.read_text())["candidates"]["candidate"]
    stats = candidate["benchmarks"]["swebench_lite"]
    assert (stats["baseline_acc"], stats["candidate_acc"]) == (0.2, 67 / 300)
    (outcome,) = [o for o in candidate["outcomes"] if o["gate"] == "swebench"]
    assert outcome["status"] == "PASS"
    assert outcome["evidence"]["resolved"] == {"baseline": 60, "candidate": 67}


@pytest.mark.parametrize(
    ("changes", "message", "field"),
    [
        (
            {"resolved_ids": ["octo__cat-1"]},
            "'octo__cat-1' is not one of the 300",
            "resolved_ids[0]",
        ),
        ({"error_ids": [IDS[0]]}, "is also in resolved_ids", "error_ids[0]"),
        ({"incomplete_ids": []}, "10 Lite instances are in none of", "resolved_ids"),
        ({"resolved_instances": 61}, "disagrees with the 60 ids", "resolved_instances"),
        ({"total_instances": 2294}, "another split", "total_instances"),
        ({"schema_version": 1}, "schema_version 1", "schema_version"),
        ({"unresolved_ids": "all"}, "expected a list", "unresolved_ids"),
        ({"resolved_ids": [3]}, "an instance id is text", "resolved_ids[0]"),
    ],
)
def test_bad_reports_are_refused_naming_the_field(tmp_path, changes, message, field):
    path = _report(tmp_path / "r.json", IDS[:60])
    data = json.loads(path.read_text())
    if changes.get("resolved_ids") == ["octo__cat-1"]:
        changes = {"resolved_ids": ["octo__cat-1", *data["resolved_ids"]]}
    data.update(changes)
    path.write_text(json.dumps(data))
    with pytest.raises(SchemaError, match=message) as err:
        read_report(path)
    assert err.value.field == field and err.value.path == str(path)


def test_a_report_without_the_required_lists_is_refused(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"resolved_ids": IDS}))
    with pytest.raises(SchemaError) as err:
        read_report(path)
    assert err.value.field == "unresolved_ids"
    path.write_text("[1, 2]")
    with pytest.raises(SchemaError, match="is a JSON object"):
        read_report(path)
