"""evaluate_promotion on constructed results; outputs; the CI exit code."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from promgate.gates.evaluate import (
    GateReport,
    check_exit_code,
    evaluate_promotion,
    gate_metrics,
    write_gate_outputs,
)
from promgate.gates.outcome import Decision, Reason, Status
from promgate.gates.policy import Policy
from promgate.stats.bootstrap import paired_bootstrap

POLICY = Policy.model_validate(
    {
        "name": "test",
        "version": "1",
        "source": "unit test",
        "bootstrap": {"resamples": 2_000, "seed": 7},
        "failure_response": {
            "average_delta": "extend training",
            "per_benchmark": "investigate the regression",
            "blocked": "repair the evidence",
        },
    }
)
BENCHES = ["arc", "mmlu"]


def _write(path: Path, bench: str, outcomes, model: str = "m", strata=None) -> None:
    path.mkdir(parents=True, exist_ok=True)
    with (path / f"{bench}.jsonl").open("w") as f:
        for i, v in enumerate(outcomes):
            row = {"id": f"{bench}/{i}", "benchmark": bench, "model_id": model}
            if isinstance(v, (bool, np.bool_)):
                row["correct"] = bool(v)
            else:
                row["score"] = float(v)
            if strata is not None:
                row["stratum"] = strata[i]
            f.write(json.dumps(row) + "\n")


def _suite(root: Path, shifts: dict[str, dict[str, int]], n: int = 400) -> dict[str, Path]:
    """Baseline right on even items; each candidate flips ``k`` items per benchmark.

    k > 0 turns k baseline-wrong items right (Δ = +k/n); k < 0 turns |k| right items wrong.
    """
    base = np.arange(n) % 2 == 0
    for bench in BENCHES:
        _write(root / "baseline", bench, base)
    dirs = {}
    for cid, per_bench in shifts.items():
        for bench in BENCHES:
            cand = base.copy()
            k = per_bench.get(bench, 0)
            cand[np.flatnonzero(~base if k > 0 else base)[: abs(k)]] = k > 0
            _write(root / cid, bench, cand)
        dirs[cid] = root / cid
    return dirs


def _outcome(report: GateReport, cid: str, gate: str, bench: str | None = None):
    return next(
        o for o in report.candidates[cid].outcomes if o.gate == gate and o.benchmark == bench
    )


def test_clear_improvement_is_go(tmp_path):
    dirs = _suite(tmp_path, {"good": {"arc": 24, "mmlu": 20}})  # +6.0 and +5.0 pp
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
    dirs = _suite(tmp_path, {"bad": {"arc": 40, "mmlu": -8}})  # +10 and -2 pp
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
    dirs = _suite(tmp_path, {"c": {"arc": k, "mmlu": 40}})
    o = _outcome(
        evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY),
        "c",
        "per_benchmark",
        "arc",
    )
    assert (o.status, o.reason) == (status, reason)


def test_small_average_gain_fails_below_threshold(tmp_path):
    dirs = _suite(tmp_path, {"meh": {"arc": 8, "mmlu": 8}})  # +2.0 pp average
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
        _write(tmp_path / "baseline", bench, base)
        _write(tmp_path / "c", bench, cand)
    report = evaluate_promotion(tmp_path / "baseline", {"c": tmp_path / "c"}, BENCHES, POLICY)
    o = _outcome(report, "c", "average_delta")
    assert report.candidates["c"].average.delta_pp == 5.0
    assert (o.status, o.reason) == (Status.FAIL, Reason.CI_INCLUDES_ZERO)


def test_missing_results_file_blocks_that_candidate_without_raising(tmp_path):
    dirs = _suite(tmp_path, {"good": {"arc": 24, "mmlu": 24}})
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
    dirs = _suite(tmp_path, {"c": {"arc": 24, "mmlu": 24}})
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
    dirs = _suite(tmp_path, {"c": {"arc": 24, "mmlu": 24}})
    path = dirs["c"] / "arc.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-3]))
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    o = _outcome(report, "c", "per_benchmark", "arc")
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.ALIGNMENT)
    assert "arc/399" in o.message and o.evidence["field"] == "id"


def test_broken_baseline_blocks_every_candidate(tmp_path):
    dirs = _suite(tmp_path, {"a": {"arc": 24}, "b": {"arc": 24}})
    (tmp_path / "baseline" / "mmlu.jsonl").write_text("{not json\n")
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    for cid in ("a", "b"):
        o = _outcome(report, cid, "per_benchmark", "mmlu")
        assert o.reason is Reason.SCHEMA and o.message.startswith("baseline:")


def test_too_few_items_is_missing_evidence(tmp_path):
    dirs = _suite(tmp_path, {"c": {"arc": 2, "mmlu": 2}}, n=6)
    policy = POLICY.model_copy(update={"min_items_per_benchmark": 10})
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, policy)
    o = _outcome(report, "c", "per_benchmark", "arc")
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.MISSING_EVIDENCE)


def test_seed_rule_all_takes_the_worst_seed(tmp_path):
    dirs = _suite(tmp_path, {"s1": {"arc": 24, "mmlu": 24}, "s2": {"arc": 24, "mmlu": -8}})
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    assert report.candidates["s1"].decision is Decision.GO
    assert report.candidates["s2"].decision is Decision.NO_GO
    assert report.decision is Decision.NO_GO


def test_no_candidates_or_no_benchmarks_is_blocked(tmp_path):
    _suite(tmp_path, {})
    assert evaluate_promotion(tmp_path / "baseline", {}, BENCHES, POLICY).decision == "BLOCKED"
    dirs = _suite(tmp_path, {"c": {"arc": 24}})
    assert evaluate_promotion(tmp_path / "baseline", dirs, [], POLICY).decision == "BLOCKED"


def test_scores_are_bootstrapped_without_mcnemar(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 0.8, 100)
    for bench in BENCHES:
        _write(tmp_path / "baseline", bench, base)
        _write(tmp_path / "c", bench, base + 0.1)
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
        _write(tmp_path / "baseline", bench, base, strata=strata)
        _write(tmp_path / "c", bench, cand, strata=strata)
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


def test_outputs_round_trip_and_metrics_are_numbers_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dirs = _suite(Path("r"), {"good": {"arc": 24, "mmlu": 24}, "bad": {"mmlu": -8}})
    report = evaluate_promotion(Path("r/baseline"), dirs, BENCHES, POLICY)
    paths = write_gate_outputs(report, Path("reports"), Path("metrics/gate.json"))
    data = json.loads(paths["gate"].read_text())
    assert GateReport.model_validate(data) == report
    assert data["policy"]["sha256"] and data["generated_by"]["promgate"]
    assert "r/baseline/arc.jsonl" in data["inputs"]  # relative: stable across checkouts
    metrics = json.loads(paths["metrics"].read_text())
    assert metrics["decision_go"] == 0 and metrics["good"]["decision_go"] == 1
    assert metrics["bad"]["mmlu"]["delta_pp"] == -2.0

    def numbers_only(node):
        if isinstance(node, dict):
            return all(numbers_only(v) for v in node.values())
        return isinstance(node, (int, float)) and not isinstance(node, bool)

    assert numbers_only(metrics)
    assert paths["promotion_md"].read_text().startswith("# Promotion decision: NO_GO")


def test_the_same_inputs_give_byte_identical_reports(tmp_path):
    dirs = _suite(tmp_path, {"c": {"arc": 24, "mmlu": 3}})
    a = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    b = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    assert a.model_dump_json() == b.model_dump_json()
    assert gate_metrics(a) == gate_metrics(b)


@pytest.mark.parametrize(
    ("shifts", "code"),
    [
        ({"c": {"arc": 24, "mmlu": 24}}, 0),
        ({"c": {"arc": 24, "mmlu": -8}}, 1),
        ({"c": {"arc": 24, "mmlu": 24}, "gone": None}, 3),
    ],
)
def test_check_exit_code_follows_the_decision(tmp_path, shifts, code):
    dirs = _suite(tmp_path, {k: v for k, v in shifts.items() if v is not None})
    if "gone" in shifts:
        dirs["gone"] = tmp_path / "gone"
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    paths = write_gate_outputs(report, tmp_path / "reports", tmp_path / "metrics.json")
    out = io.StringIO()
    assert check_exit_code(paths["gate"], stream=out) == code
    assert report.decision.value in out.getvalue()


@pytest.mark.parametrize(
    "content",
    ["", "{truncated", '{"decision": "GO"}', "[]", '"GO"'],
)
def test_check_exit_code_fails_closed_on_a_corrupt_file(tmp_path, content):
    path = tmp_path / "gate.json"
    path.write_text(content)
    out = io.StringIO()
    assert check_exit_code(path, stream=out) == 3
    assert "fail closed" in out.getvalue()


def test_check_exit_code_fails_closed_on_missing_file_and_on_tampering(tmp_path):
    assert check_exit_code(tmp_path / "none.json", stream=io.StringIO()) == 3
    dirs = _suite(tmp_path, {"c": {"arc": 24, "mmlu": -8}})
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    data = report.model_dump(mode="json")
    data["decision"] = data["candidates"]["c"]["decision"] = "GO"  # outcomes still say FAIL
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(data))
    out = io.StringIO()
    assert check_exit_code(path, stream=out) == 3
    assert "outcomes say otherwise" in out.getvalue()
