"""Evidence gates (JSON artifacts of other stages), the results-schema gate and share gates."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate_helpers import BENCHES, policy_with, suite, write_json
from promgate.gates.evaluate import evaluate_promotion
from promgate.gates.outcome import Decision, Reason, Status
from promgate.gates.report import GateReport

TRAIN = {
    "file": "metrics/train/{candidate}.json",
    "checks": [
        {"field": "peak_rss_mb", "le": 16384},
        {"field": "val_loss_final", "relative_to": "val_loss_first", "le": -0.30},
    ],
    "clause": "memory and convergence",
}
REPRO = {"file": "metrics/repro.json", "checks": [{"field": "reproduced", "eq": True}]}


def _run(root: Path, evidence: dict, shifts=None, share=None) -> GateReport:
    dirs = suite(root, shifts or {"lora-s42": {"arc": 24, "mmlu": 24}})
    policy = policy_with(gates={"evidence": evidence, "share": share or {}})
    return evaluate_promotion(root / "baseline", dirs, BENCHES, policy, evidence_root=root)


def _gate(report: GateReport, name: str):
    return next(o for o in report.outcomes if o.gate == name)


def test_absent_evidence_file_blocks_and_names_it(tmp_path):
    report = _run(tmp_path, {"repro": REPRO})
    o = _gate(report, "repro")
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.MISSING_EVIDENCE)
    assert o.candidate is None and o in report.suite_outcomes  # one suite-level gate
    assert o.evidence["path"] == str(tmp_path / "metrics/repro.json")
    assert o.failure_response == "repair the evidence"
    assert report.decision is Decision.BLOCKED


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        ({"reproduced": True}, Status.PASS, Reason.OK),
        ({"reproduced": False}, Status.FAIL, Reason.MISMATCH),
        ({"reproduced": 1}, Status.FAIL, Reason.MISMATCH),  # 1 is not true
        ({"reproduced": None}, Status.BLOCKED, Reason.MISSING_EVIDENCE),
        ({"other": True}, Status.BLOCKED, Reason.MISSING_EVIDENCE),
    ],
)
def test_flag_checks(tmp_path, data, status, reason):
    write_json(tmp_path / "metrics/repro.json", data)
    o = _gate(_run(tmp_path, {"repro": REPRO}), "repro")
    assert (o.status, o.reason) == (status, reason)


def test_a_malformed_evidence_file_is_a_schema_blocker(tmp_path):
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/repro.json").write_text("{broken")
    o = _gate(_run(tmp_path, {"repro": REPRO}), "repro")
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.SCHEMA)
    (tmp_path / "metrics/repro.json").write_text("[1, 2]")
    o = _gate(_run(tmp_path, {"repro": REPRO}), "repro")
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.SCHEMA)


def test_per_candidate_evidence_reads_each_candidates_file(tmp_path):
    good = {"peak_rss_mb": 3712.2, "val_loss_first": 2.0, "val_loss_final": 1.2}  # -40 %
    write_json(tmp_path / "metrics/train/lora-s42.json", good)
    write_json(tmp_path / "metrics/train/lora-s123.json", {**good, "val_loss_final": 1.8})
    shifts = {"lora-s42": {"arc": 24, "mmlu": 24}, "lora-s123": {"arc": 24, "mmlu": 24}}
    report = _run(tmp_path, {"training": TRAIN}, shifts)
    ok = next(o for o in report.candidates["lora-s42"].outcomes if o.gate == "training")
    slow = next(o for o in report.candidates["lora-s123"].outcomes if o.gate == "training")
    assert ok.status is Status.PASS
    assert (slow.status, slow.reason) == (Status.FAIL, Reason.ABOVE_LIMIT)
    assert slow.evidence["failed"] == ["(val_loss_final − val_loss_first) / val_loss_first ≤ -0.3"]
    assert slow.evidence["sha256"] == report.artifacts[slow.evidence["path"]]
    assert report.decision is Decision.NO_GO


def test_a_definite_failure_outranks_a_missing_field(tmp_path):
    write_json(tmp_path / "metrics/train/lora-s42.json", {"peak_rss_mb": 99_999})
    o = _gate(_run(tmp_path, {"training": TRAIN}), "training")
    assert (o.status, o.reason) == (Status.FAIL, Reason.ABOVE_LIMIT)
    assert o.evidence["missing"] == ["val_loss_final"]


def test_fields_that_are_not_numbers_are_schema_blockers(tmp_path):
    for bad in ("lots", float("nan"), True):
        write_json(tmp_path / "metrics/train/lora-s42.json", {"peak_rss_mb": bad})
        spec = {**TRAIN, "checks": TRAIN["checks"][:1]}
        o = _gate(_run(tmp_path, {"training": spec}), "training")
        assert (o.status, o.reason) == (Status.BLOCKED, Reason.SCHEMA), bad


def test_a_policy_chosen_fail_reason(tmp_path):
    write_json(tmp_path / "metrics/contamination.json", {"ngram8_overlap_max": 0.2})
    spec = {
        "file": "metrics/contamination.json",
        "fail_reason": "CONTAMINATED",
        "checks": [{"field": "ngram8_overlap_max", "lt": 0.10}],
    }
    o = _gate(_run(tmp_path, {"dedupe": spec}), "dedupe")
    assert (o.status, o.reason) == (Status.FAIL, Reason.CONTAMINATED)


def test_optional_evidence_is_reported_but_does_not_decide(tmp_path):
    report = _run(tmp_path, {"repro": {**REPRO, "required": False}})
    assert _gate(report, "repro").status is Status.BLOCKED
    assert report.decision is Decision.GO


def test_results_schema_gate_names_the_invalid_file(tmp_path):
    dirs = suite(tmp_path, {"c": {"arc": 24, "mmlu": 24}})
    policy = policy_with(gates={"results_schema": {"clause": "schema"}})
    ok = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, policy)
    assert _gate(ok, "results_schema").status is Status.PASS
    (dirs["c"] / "mmlu.jsonl").write_text('{"id": "mmlu/0"}\n')
    bad = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, policy)
    o = _gate(bad, "results_schema")
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.SCHEMA)
    assert o.evidence["invalid_files"] == [str(dirs["c"] / "mmlu.jsonl")]


def _share_policy(min_share: float):
    spec = {"file": "m/{candidate}.json", "required": False}
    evidence = {f"g{i}": {**spec, "checks": [{"field": f"v{i}", "ge": 1}]} for i in range(4)}
    share = {"stretch": {"gates": list(evidence), "min_share": min_share, "required": False}}
    return evidence, share


@pytest.mark.parametrize(
    ("values", "status"),
    [
        ({"v0": 1, "v1": 1, "v2": 1, "v3": 0}, Status.PASS),  # 3 of 4 = 75 %
        ({"v0": 1, "v1": 1, "v2": 0, "v3": 0}, Status.FAIL),
        ({"v0": 1, "v1": 1, "v2": 0}, Status.BLOCKED),  # v3 absent could still make it 75 %
        ({"v0": 1, "v1": 0, "v2": 0}, Status.FAIL),  # even a met v3 would be 50 %
    ],
)
def test_share_gate_counts_its_members(tmp_path, values, status):
    write_json(tmp_path / "m/lora-s42.json", values)
    evidence, share = _share_policy(0.75)
    report = _run(tmp_path, evidence, share=share)
    o = next(o for o in report.candidates["lora-s42"].outcomes if o.gate == "stretch")
    assert o.status is status
    assert report.decision is Decision.GO  # optional: reported only
