"""The four shipped policies on constructed evidence: each gives the decision its source asks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gate_helpers import miso_evidence, shifted, shipped, suite, write_json, write_results
from promgate.gates.evaluate import evaluate_promotion
from promgate.gates.outcome import Decision, Reason, Status

FAST = {"bootstrap": {"resamples": 2_000}}
MAIN = ["arc_easy", "mmlu"]
PERTURBED = ["mmlu_perturbed", "gsm8k_perturbed", "humaneval_perturbed"]
# miso_v1's gates whose evidence no stage writes yet (the seeds gate follows them).
NEEDS_EVIDENCE = {
    "contamination_suite",
    "swebench",
    "repro",
    "preflight",
    "merge_check",
    "dedupe",
    "safety",
    "supply_chain",
    "seeds",
}


def _by_gate(report, cid):
    return {(o.gate, o.benchmark): o for o in report.candidates[cid].outcomes}


def _miso_project(root: Path, cid: str = "lora-s42") -> dict[str, Path]:
    shifts = {
        "arc_easy": 24,
        "mmlu": 24,
        "mmlu_perturbed": 8,
        "gsm8k_perturbed": 8,
        "humaneval_perturbed": 4,
    }
    dirs = suite(root / "results", {cid: shifts}, n=400, benches=MAIN + PERTURBED)
    resolved = np.arange(300) < 54
    write_results(root / "results/baseline", "swebench_lite", resolved)
    write_results(dirs[cid], "swebench_lite", resolved | (np.arange(300) < 59))  # +5
    miso_evidence(root, [cid])
    return dirs


def _miso(root: Path, dirs):
    policy = shipped("miso_v1", **FAST)
    return evaluate_promotion(root / "results/baseline", dirs, MAIN, policy, evidence_root=root)


def test_miso_go_needs_every_gate_of_the_contract(tmp_path):
    report = _miso(tmp_path, _miso_project(tmp_path))
    gates = {o.gate for o in report.outcomes}
    assert {"results_schema", "per_benchmark", "average_delta", *NEEDS_EVIDENCE} <= gates
    assert all(o.status is Status.PASS for o in report.outcomes), [
        o.message for o in report.outcomes if o.status is not Status.PASS
    ]
    assert report.decision is Decision.GO


def test_miso_contaminated_training_data_is_no_go_with_the_protocols_action(tmp_path):
    dirs = _miso_project(tmp_path)
    miso_evidence(
        tmp_path, ["lora-s42"], **{"metrics/contamination.json": {"ngram8_overlap_max": 0.2}}
    )
    report = _miso(tmp_path, dirs)
    o = next(o for o in report.outcomes if o.gate == "dedupe")
    assert (o.status, o.reason) == (Status.FAIL, Reason.CONTAMINATED)
    assert "adjust deduplication" in o.failure_response
    assert report.decision is Decision.NO_GO


def test_miso_without_the_mandatory_evidence_is_blocked(tmp_path):
    # The default pipeline today: main results only, nothing else the contract needs.
    dirs = suite(tmp_path / "results", {"lora-s42": {"arc_easy": 24, "mmlu": 24}}, benches=MAIN)
    report = _miso(tmp_path, dirs)
    blocked = {o.gate for o in report.outcomes if o.status is Status.BLOCKED}
    assert blocked == NEEDS_EVIDENCE
    assert all(
        o.reason is Reason.MISSING_EVIDENCE for o in report.outcomes if o.status is Status.BLOCKED
    )
    assert report.decision is Decision.BLOCKED


def test_miso_below_its_minimum_sample_size_is_blocked(tmp_path):
    dirs = _miso_project(tmp_path)
    write_results(tmp_path / "results/baseline", "gsm8k", [True, False] * 25)
    write_results(dirs["lora-s42"], "gsm8k", [True, False] * 25)
    policy = shipped("miso_v1", **FAST)
    report = evaluate_promotion(
        tmp_path / "results/baseline", dirs, [*MAIN, "gsm8k"], policy, evidence_root=tmp_path
    )
    o = _by_gate(report, "lora-s42")[("per_benchmark", "gsm8k")]
    assert o.status is Status.BLOCKED and "at least 100" in o.message


def test_certifiable_two_of_three_seeds_certify(tmp_path):
    shifts = {
        "lora-s42": {"arc_easy": 24, "mmlu": 24},
        "lora-s123": {"arc_easy": 20, "mmlu": 16},
        "lora-s456": {"arc_easy": -8, "mmlu": -12},
    }
    dirs = suite(tmp_path, shifts, benches=MAIN)
    policy = shipped("certifiable_v0_1", **FAST)
    report = evaluate_promotion(tmp_path / "baseline", dirs, MAIN, policy)
    rep = report.seeds["lora"]
    assert (rep.n_passed, rep.worst_seed, rep.worst_delta_pp) == (2, "lora-s456", -2.5)
    assert rep.certified is True and report.decision is Decision.GO
    worse = {**shifts, "lora-s456": {"arc_easy": -8, "mmlu": -16}}  # worst seed -3.0 pp
    dirs = suite(tmp_path / "worse", worse, benches=MAIN)
    report = evaluate_promotion(tmp_path / "worse" / "baseline", dirs, MAIN, policy)
    assert report.seeds["lora"].certified is False and report.decision is Decision.NO_GO


def _phase3_project(root: Path, cid: str = "lora-s42", **train) -> dict[str, Path]:
    dirs = suite(root / "results", {cid: {"mbpp": 0}}, n=100, benches=["mbpp"])
    # pass@1 = (30 · 0.9 + 10 · 0.1) / 100 = 28 %; with 10 samples, pass@10 is the share of
    # problems solved at least once: 40 %.
    samples = [(10, 9)] * 30 + [(10, 1)] * 10 + [(10, 0)] * 60
    values = [c / n for n, c in samples]
    write_results(root / "results/baseline", "mbpp", values, samples=samples)
    write_results(dirs[cid], "mbpp", values, samples=samples)
    metrics = {
        "nonfinite_steps": 0,
        "gradient_errors": 0,
        "epochs_completed": 3,
        "val_loss_first": 2.0,
        "val_loss_final": 1.3,
        "val_loss_epochs": 3,
        "val_loss_best_in_window": 1.3,
        "convergence_window_epochs": 3.0,
        "tokens_per_s": 600.0,
        "peak_rss_mb": 3712.0,
    }
    run = cid.split("-per_layer")[0]  # a variant's training metrics are its seed run's
    write_json(root / f"metrics/train/{run}.json", {**metrics, **train})
    write_json(root / "metrics/tests.json", {"passed": 412, "failed": 0})
    return dirs


def _phase3(root: Path, dirs):
    policy = shipped("phase3_codegen", **FAST)
    return evaluate_promotion(root / "results/baseline", dirs, ["mbpp"], policy, evidence_root=root)


def test_phase3_go_on_every_mvp_target_with_stretch_reported(tmp_path):
    report = _phase3(tmp_path, _phase3_project(tmp_path))
    gates = _by_gate(report, "lora-s42")
    assert gates[("pass_at_1_mvp", "mbpp")].evidence["value_pct"] == 28.0
    assert gates[("pass_at_10_mvp", "mbpp")].evidence["value_pct"] == 40.0
    stretch = gates[("stretch", None)]
    # Met: pass@1 ≥ 30? no (28); pass@10 ≥ 45? no; convergence -35 % ≤ -40 %? no; 600 ≥ 650?
    # no; memory ≤ 12 GB yes: 1 of 5.
    assert stretch.status is Status.FAIL and stretch.evidence["met"] == ["memory_stretch"]
    assert not stretch.required and report.decision is Decision.GO


def test_phase3_blocks_without_validation_loss_and_fails_on_slow_training(tmp_path):
    dirs = _phase3_project(tmp_path, val_loss_first=None, val_loss_best_in_window=None)
    report = _phase3(tmp_path, dirs)
    o = _by_gate(report, "lora-s42")[("convergence_mvp", None)]
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.MISSING_EVIDENCE)
    assert report.decision is Decision.BLOCKED
    dirs = _phase3_project(tmp_path / "slow", tokens_per_s=130.4)
    report = _phase3(tmp_path / "slow", dirs)
    o = _by_gate(report, "lora-s42")[("throughput_mvp", None)]
    assert (o.status, o.reason) == (Status.FAIL, Reason.BELOW_THRESHOLD)
    assert report.decision is Decision.NO_GO


def test_phase3_judges_a_variant_on_the_training_run_it_was_cut_from(tmp_path):
    dirs = _phase3_project(tmp_path, cid="lora-s42-per_layer", tokens_per_s=130.4)
    assert not (tmp_path / "metrics/train/lora-s42-per_layer.json").exists()
    gates = _by_gate(_phase3(tmp_path, dirs), "lora-s42-per_layer")
    stability = gates[("training_stability", None)]
    assert stability.status is Status.PASS
    assert stability.evidence["path"].endswith("metrics/train/lora-s42.json")
    assert gates[("throughput_mvp", None)].status is Status.FAIL  # the seed run's 130 tok/s


@pytest.mark.parametrize(
    ("n", "shifts", "decision", "claim"),
    [
        (4_000, {"arc_easy": 200, "mmlu": 200}, Decision.GO, Status.PASS),
        (4_000, {"arc_easy": 200, "mmlu": None}, Decision.NO_GO, Status.FAIL),
        (400, {"arc_easy": 20, "mmlu": 20}, Decision.BLOCKED, Status.BLOCKED),
    ],
)
def test_claim_gate_needs_two_powered_significant_benchmarks(tmp_path, n, shifts, decision, claim):
    dirs = suite(tmp_path, {"c": {b: k or 0 for b, k in shifts.items()}}, n=n, benches=MAIN)
    if shifts["mmlu"] is None:  # 60 fixed, 60 broken: no change, and powered to see one
        cand = np.arange(n) % 2 == 0
        cand[1:121:2], cand[0:120:2] = True, False
        write_results(dirs["c"], "mmlu", cand)
    report = evaluate_promotion(tmp_path / "baseline", dirs, MAIN, shipped("claim_gate", **FAST))
    o = _by_gate(report, "c")[("claim", None)]
    assert o.status is claim and report.decision is decision
    if claim is Status.BLOCKED:
        assert o.reason is Reason.UNDERPOWERED
        assert o.evidence["not_evaluable"] == {"arc_easy": "UNDERPOWERED", "mmlu": "UNDERPOWERED"}
        pb = _by_gate(report, "c")[("per_benchmark", "arc_easy")]
        assert pb.reason is Reason.UNDERPOWERED and "evaluate more items" in pb.failure_response


def test_an_unchanged_candidate_is_never_go_under_any_policy(tmp_path):
    base = np.arange(400) % 3 == 0
    for name in ("miso_v1", "certifiable_v0_1", "phase3_codegen", "claim_gate"):
        for bench in MAIN:
            write_results(tmp_path / "baseline", bench, base)
            write_results(tmp_path / "lora-s42", bench, shifted(base, 0))
        policy = shipped(name, **FAST)
        report = evaluate_promotion(
            tmp_path / "baseline",
            {"lora-s42": tmp_path / "lora-s42"},
            MAIN,
            policy,
            evidence_root=tmp_path,
        )
        assert report.decision is not Decision.GO, name
