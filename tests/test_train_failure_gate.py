"""A candidate whose training failed: the evaluate stage's marker becomes BLOCKED outcomes
that name the failure and its file; the decision is never GO, and nothing crashes."""

from __future__ import annotations

import json
import os
from contextlib import chdir

from gate_helpers import POLICY, miso_evidence, shipped, suite
from promgate.gates.evaluate import evaluate_promotion
from promgate.gates.outcome import Decision, Reason, Status
from promgate.results import UNAVAILABLE_FILE
from promgate.train.candidate import FAILED_FILE, TrainingFailure, mark_unevaluated
from promgate.train.metrics import Failure

BENCHES = ["arc", "mmlu"]


def _failed_candidate(root, cid="lora-s42"):
    """What stage train writes for a diverged run, then what stage evaluate makes of it."""
    failure = TrainingFailure(
        status="diverged",
        candidate=cid,
        seed=42,
        error="TrainingDivergedError",
        failure=Failure(
            kind="diverged",
            phase="train",
            cause="nonfinite_loss",
            step=3,
            loss=None,
            loss_text="nan",
            message="seed 42: training diverged: loss is nan at step 3 of training",
        ),
        metrics_file=f"metrics/train/{cid}.json",
    )
    folder = root / "models/candidates" / cid
    folder.mkdir(parents=True)
    (folder / FAILED_FILE).write_text(json.dumps(failure.model_dump(mode="json")))
    (root / "metrics/train").mkdir(parents=True)
    (root / f"metrics/train/{cid}.json").write_text('{"status": "diverged"}')
    return mark_unevaluated(
        failure,
        folder,
        results_dir=root / "results" / cid,
        metrics_path=root / "metrics/eval" / f"{cid}.json",
        root=root,
    )


def test_a_diverged_candidate_is_blocked_naming_the_failure(tmp_path):
    dirs = suite(tmp_path / "results", {"lora-s123": {"arc": 24, "mmlu": 24}}, benches=BENCHES)
    marker = _failed_candidate(tmp_path)
    assert set(marker.evidence) == {
        "models/candidates/lora-s42/FAILED.json",
        "metrics/train/lora-s42.json",
    }
    eval_metrics = json.loads((tmp_path / "metrics/eval/lora-s42.json").read_text())
    assert eval_metrics["status"] == "unavailable" and eval_metrics["reason"] == "DIVERGED"
    dirs["lora-s42"] = tmp_path / "results/lora-s42"
    with chdir(tmp_path):
        report = evaluate_promotion(tmp_path / "results/baseline", dirs, BENCHES, POLICY)
    failed = report.candidates["lora-s42"]
    assert failed.decision is Decision.BLOCKED and report.decision is Decision.BLOCKED
    per_bench = [o for o in failed.outcomes if o.gate == "per_benchmark"]
    assert [o.reason for o in per_bench] == [Reason.DIVERGED, Reason.DIVERGED]
    assert all(o.status is Status.BLOCKED for o in per_bench)
    message = per_bench[0].message
    assert "training diverged" in message and "models/candidates/lora-s42/FAILED.json" in message
    assert per_bench[0].evidence["marker"] == os.path.join("results/lora-s42", UNAVAILABLE_FILE)
    # The seed that did train is judged as usual.
    assert report.candidates["lora-s123"].decision is not Decision.BLOCKED


def test_under_miso_a_diverged_seed_blocks_even_with_every_other_gate_green(tmp_path):
    dirs = suite(tmp_path / "results", {"lora-s123": {"arc": 24, "mmlu": 24}}, benches=BENCHES)
    _failed_candidate(tmp_path)
    dirs["lora-s42"] = tmp_path / "results/lora-s42"
    miso_evidence(tmp_path, list(dirs))
    policy = shipped("miso_v1", bootstrap={"resamples": 2_000})
    with chdir(tmp_path):
        report = evaluate_promotion(
            tmp_path / "results/baseline", dirs, BENCHES, policy, evidence_root=tmp_path
        )
    assert report.decision is Decision.BLOCKED
    assert any(o.reason is Reason.DIVERGED for o in report.candidates["lora-s42"].outcomes)


def test_a_marker_with_a_reason_outside_the_list_is_a_schema_fault(tmp_path):
    dirs = suite(tmp_path / "results", {}, benches=BENCHES)
    folder = tmp_path / "results/lora-s1"
    folder.mkdir()
    bad = {"model_id": "lora-s1", "reason": "OK", "message": "fine, really", "evidence": {}}
    (folder / UNAVAILABLE_FILE).write_text(json.dumps(bad))
    dirs["lora-s1"] = folder
    report = evaluate_promotion(tmp_path / "results/baseline", dirs, BENCHES, POLICY)
    outcomes = [o for o in report.candidates["lora-s1"].outcomes if o.gate == "per_benchmark"]
    assert {o.reason for o in outcomes} == {Reason.SCHEMA}
    assert report.decision is Decision.BLOCKED
