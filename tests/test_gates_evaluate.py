"""evaluate_promotion on constructed results: statistics, gate outcomes, fail-closed inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gate_helpers import BENCHES, POLICY, suite, write_results
from promgate.gates.evaluate import evaluate_promotion
from promgate.gates.outcome import Decision, Reason, Status
from promgate.gates.report import GateReport
from promgate.stats.bootstrap import paired_bootstrap


def _outcome(report: GateReport, cid: str, gate: str, bench: str | None = None):
    return next(
        o for o in report.candidates[cid].outcomes if o.gate == gate and o.benchmark == bench
    )


def test_clear_improvement_is_go(tmp_path):
    dirs = suite(tmp_path, {"good": {"arc": 24, "mmlu": 20}})  # +6.0 and +5.0 pp
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    assert report.decision is Decision.GO
    cand = report.candidates["good"]
    assert cand.benchmarks["arc"].delta_pp == 6.0
    assert cand.benchmarks["arc"].baseline_acc == 0.5
    assert cand.benchmarks["arc"].mcnemar_c == 24 and cand.benchmarks["arc"].mcnemar_b == 0
    assert cand.average.delta_pp == 5.5 and cand.average.ci_low_pp > 0
    assert _outcome(report, "good", "per_benchmark", "arc").reason is Reason.IMPROVED
    assert _outcome(report, "good", "average_delta").status is Status.PASS


def test_regression_is_no_go_with_its_failure_response(tmp_path):
    dirs = suite(tmp_path, {"bad": {"arc": 40, "mmlu": -8}})  # +10 and -2 pp
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    assert report.decision is Decision.NO_GO
    o = _outcome(report, "bad", "per_benchmark", "mmlu")
    assert (o.status, o.reason) == (Status.FAIL, Reason.REGRESSION)
    assert o.failure_response == "investigate the regression"
    assert _outcome(report, "bad", "average_delta").status is Status.PASS


@pytest.mark.parametrize(
    ("k", "status", "reason"),
    [
        (8, Status.PASS, Reason.IMPROVED),  # exactly +2.0 pp
        (7, Status.PASS, Reason.NO_REGRESSION),  # +1.75
        (-4, Status.PASS, Reason.NO_REGRESSION),  # exactly -1.0 pp
        (-5, Status.FAIL, Reason.REGRESSION),  # -1.25
    ],
)
def test_per_benchmark_boundaries_follow_the_contract(tmp_path, k, status, reason):
    dirs = suite(tmp_path, {"c": {"arc": k, "mmlu": 40}})
    o = _outcome(
        evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY),
        "c",
        "per_benchmark",
        "arc",
    )
    assert (o.status, o.reason) == (status, reason)


def test_small_average_gain_fails_below_threshold(tmp_path):
    dirs = suite(tmp_path, {"meh": {"arc": 8, "mmlu": 8}})  # +2.0 pp average
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    o = _outcome(report, "meh", "average_delta")
    assert (o.status, o.reason) == (Status.FAIL, Reason.BELOW_THRESHOLD)
    assert o.failure_response == "extend training"
    assert report.decision is Decision.NO_GO


def test_large_but_noisy_gain_fails_on_the_ci(tmp_path):
    # +5 pp on 40 items per benchmark with many discordant pairs: the CI reaches below zero.
    base = np.arange(40) % 2 == 0
    cand = base.copy()
    cand[np.flatnonzero(base)[:8]] = False
    cand[np.flatnonzero(~base)[:10]] = True
    for bench in BENCHES:
        write_results(tmp_path / "baseline", bench, base)
        write_results(tmp_path / "c", bench, cand)
    report = evaluate_promotion(tmp_path / "baseline", {"c": tmp_path / "c"}, BENCHES, POLICY)
    o = _outcome(report, "c", "average_delta")
    assert report.candidates["c"].average.delta_pp == 5.0
    assert (o.status, o.reason) == (Status.FAIL, Reason.CI_INCLUDES_ZERO)


def test_missing_results_file_blocks_that_candidate_without_raising(tmp_path):
    dirs = suite(tmp_path, {"good": {"arc": 24, "mmlu": 24}})
    dirs["absent"] = tmp_path / "nowhere"
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    assert report.candidates["good"].decision is Decision.GO
    assert report.candidates["absent"].decision is Decision.BLOCKED
    assert report.decision is Decision.BLOCKED
    o = _outcome(report, "absent", "per_benchmark", "arc")
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.MISSING_EVIDENCE)
    assert "arc.jsonl" in o.message and o.failure_response == "repair the evidence"
    avg = _outcome(report, "absent", "average_delta")
    assert avg.status is Status.BLOCKED and report.candidates["absent"].average is None


def test_nan_score_blocks_with_schema_naming_line_and_field(tmp_path):
    dirs = suite(tmp_path, {"c": {"arc": 24, "mmlu": 24}})
    path = dirs["c"] / "mmlu.jsonl"
    lines = path.read_text().splitlines()
    lines[2] = json.dumps({"id": "mmlu/2", "benchmark": "mmlu", "model_id": "m"})[:-1]
    lines[2] += ', "score": NaN}'
    path.write_text("\n".join(lines) + "\n")
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    o = _outcome(report, "c", "per_benchmark", "mmlu")
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.SCHEMA)
    assert "line 3" in o.message and "score" in o.message
    assert o.evidence["line"] == 3 and o.evidence["field"] == "score"
    assert report.decision is Decision.BLOCKED


def test_candidate_missing_items_blocks_with_alignment(tmp_path):
    dirs = suite(tmp_path, {"c": {"arc": 24, "mmlu": 24}})
    path = dirs["c"] / "arc.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-3]))
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    o = _outcome(report, "c", "per_benchmark", "arc")
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.ALIGNMENT)
    assert "arc/399" in o.message and o.evidence["field"] == "id"


def test_broken_baseline_blocks_every_candidate(tmp_path):
    dirs = suite(tmp_path, {"a": {"arc": 24}, "b": {"arc": 24}})
    (tmp_path / "baseline" / "mmlu.jsonl").write_text("{not json\n")
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    for cid in ("a", "b"):
        o = _outcome(report, cid, "per_benchmark", "mmlu")
        assert o.reason is Reason.SCHEMA and o.message.startswith("baseline:")


def test_too_few_items_is_missing_evidence(tmp_path):
    dirs = suite(tmp_path, {"c": {"arc": 2, "mmlu": 2}}, n=6)
    policy = POLICY.model_copy(update={"min_items_per_benchmark": 10})
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, policy)
    o = _outcome(report, "c", "per_benchmark", "arc")
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.MISSING_EVIDENCE)


def test_seed_rule_all_takes_the_worst_seed(tmp_path):
    dirs = suite(tmp_path, {"s1": {"arc": 24, "mmlu": 24}, "s2": {"arc": 24, "mmlu": -8}})
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    assert report.candidates["s1"].decision is Decision.GO
    assert report.candidates["s2"].decision is Decision.NO_GO
    assert report.decision is Decision.NO_GO


def test_no_candidates_or_no_benchmarks_is_blocked(tmp_path):
    suite(tmp_path, {})
    assert evaluate_promotion(tmp_path / "baseline", {}, BENCHES, POLICY).decision == "BLOCKED"
    dirs = suite(tmp_path, {"c": {"arc": 24}})
    assert evaluate_promotion(tmp_path / "baseline", dirs, [], POLICY).decision == "BLOCKED"


def test_scores_are_bootstrapped_without_mcnemar(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 0.8, 100)
    for bench in BENCHES:
        write_results(tmp_path / "baseline", bench, base)
        write_results(tmp_path / "c", bench, base + 0.1)
    report = evaluate_promotion(tmp_path / "baseline", {"c": tmp_path / "c"}, BENCHES, POLICY)
    st = report.candidates["c"].benchmarks["arc"]
    assert not st.binary and st.p_value is None
    assert st.delta_pp == pytest.approx(10.0)
    assert report.decision is Decision.GO


def test_per_benchmark_ci_is_the_keyed_bootstrap_with_strata(tmp_path):
    strata = ["easy" if i < 150 else "hard" for i in range(400)]
    rng = np.random.default_rng(1)
    base, cand = rng.random(400) < 0.5, rng.random(400) < 0.6
    for bench in BENCHES:
        write_results(tmp_path / "baseline", bench, base, strata=strata)
        write_results(tmp_path / "c", bench, cand, strata=strata)
    report = evaluate_promotion(tmp_path / "baseline", {"c": tmp_path / "c"}, BENCHES, POLICY)
    st = report.candidates["c"].benchmarks["arc"]
    ref = paired_bootstrap(
        base.astype(float),
        cand.astype(float),
        np.array(strata),
        resamples=2_000,
        seed=7,
        key="arc",
    )
    assert (st.ci_low, st.ci_high) == (ref.ci_low, ref.ci_high)


def test_the_same_inputs_give_byte_identical_reports(tmp_path):
    dirs = suite(tmp_path, {"c": {"arc": 24, "mmlu": 3}})
    a = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    b = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    assert a.model_dump_json() == b.model_dump_json()
