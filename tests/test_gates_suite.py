"""Gates on benchmarks beside the main family: contamination suite, SWE-bench, pass@k targets."""

from __future__ import annotations

import numpy as np
import pytest

from gate_helpers import BENCHES, policy_with, shifted, suite, write_results
from promgate.errors import ConfigError
from promgate.gates.evaluate import evaluate_promotion
from promgate.gates.outcome import Reason, Status

SUITE = ["mmlu_perturbed", "gsm8k_perturbed"]
CONTAMINATION = {
    "benchmarks": SUITE,
    "min_delta_pp": 1.0,
    "max_regression_pp": 0.0,
    "targets": {"gsm8k_perturbed": 1.0},
}


def _gate(report, name, cid="c"):
    return next(o for o in report.candidates[cid].outcomes if o.gate == name)


def _contamination(tmp_path, shifts):
    dirs = suite(tmp_path, {"c": {"arc": 24, "mmlu": 24}})
    base = np.arange(400) % 2 == 0
    for bench, k in shifts.items():
        write_results(tmp_path / "baseline", bench, base)
        write_results(dirs["c"], bench, shifted(base, k))
    policy = policy_with(gates={"contamination_suite": CONTAMINATION})
    return evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, policy)


@pytest.mark.parametrize(
    ("shifts", "status", "reason"),
    [
        ({"mmlu_perturbed": 4, "gsm8k_perturbed": 8}, Status.PASS, Reason.OK),
        ({"mmlu_perturbed": -2, "gsm8k_perturbed": 20}, Status.FAIL, Reason.DETERIORATION),
        ({"mmlu_perturbed": 8, "gsm8k_perturbed": 2}, Status.FAIL, Reason.DETERIORATION),
        ({"mmlu_perturbed": 0, "gsm8k_perturbed": 4}, Status.FAIL, Reason.BELOW_THRESHOLD),
        ({"mmlu_perturbed": 4}, Status.BLOCKED, Reason.MISSING_EVIDENCE),
    ],
)
def test_contamination_suite(tmp_path, shifts, status, reason):
    report = _contamination(tmp_path, shifts)
    o = _gate(report, "contamination_suite")
    assert (o.status, o.reason) == (status, reason)
    if status is Status.BLOCKED:
        assert "gsm8k_perturbed.jsonl" in o.message
    else:
        st = report.candidates["c"].benchmarks["gsm8k_perturbed"]
        assert o.evidence["delta_pp"]["gsm8k_perturbed"] == st.delta_pp
        assert st.p_adjusted is None  # outside the main family
    # The suite's benchmarks never join the main family or the average.
    assert report.candidates["c"].average.benchmarks == BENCHES
    assert report.other_benchmarks == {"contamination_suite": SUITE}


def test_a_benchmark_cannot_be_main_and_in_the_suite(tmp_path):
    dirs = suite(tmp_path, {"c": {"arc": 24}})
    policy = policy_with(gates={"contamination_suite": {"benchmarks": ["arc"]}})
    with pytest.raises(ConfigError, match="arc"):
        evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, policy)


def _swebench(tmp_path, fixed, broken):
    dirs = suite(tmp_path, {"c": {"arc": 24, "mmlu": 24}})
    base = np.arange(300) < 54  # 54 of 300 resolved, as in the MISO table
    cand = base.copy()
    cand[54 : 54 + fixed] = True
    cand[:broken] = False
    write_results(tmp_path / "baseline", "swebench_lite", base)
    write_results(dirs["c"], "swebench_lite", cand)
    policy = policy_with(gates={"swebench": {"min_additional_resolved": 5}})
    return _gate(evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, policy), "swebench")


@pytest.mark.parametrize(
    ("fixed", "broken", "status", "reason"),
    [
        (5, 0, Status.PASS, Reason.OK),
        (4, 0, Status.FAIL, Reason.BELOW_THRESHOLD),
        (9, 1, Status.FAIL, Reason.REGRESSION),  # "no regression in previously solved tickets"
    ],
)
def test_swebench_counts_resolved_issues(tmp_path, fixed, broken, status, reason):
    o = _swebench(tmp_path, fixed, broken)
    assert (o.status, o.reason) == (status, reason)
    assert o.evidence["resolved"]["baseline"] == 54
    assert o.evidence["additional_resolved"] == fixed - broken


def test_swebench_results_absent_block(tmp_path):
    dirs = suite(tmp_path, {"c": {"arc": 24, "mmlu": 24}})
    policy = policy_with(gates={"swebench": {}})
    o = _gate(evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, policy), "swebench")
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.MISSING_EVIDENCE)
    assert "swebench_lite.jsonl" in o.message


TARGETS = {
    "p1": {"benchmark": "mbpp", "k": 1, "min_pct": 20},
    "p10": {"benchmark": "mbpp", "k": 10, "min_pct": 35},
}


def test_pass_at_k_targets_use_the_unbiased_estimator(tmp_path):
    dirs = suite(tmp_path, {"c": {"arc": 24, "mmlu": 24}})
    # 100 problems: 25 solved in 5 of 10 samples, the rest never. pass@1 = 12.5 %, pass@10 =
    # 25 % exactly (every problem with a solved sample is solved within 10 draws of 10).
    samples = [(10, 5)] * 25 + [(10, 0)] * 75
    write_results(dirs["c"], "mbpp", [c / n for n, c in samples], samples=samples)
    policy = policy_with(gates={"absolute": TARGETS})
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, policy)
    p1, p10 = _gate(report, "p1"), _gate(report, "p10")
    assert p1.evidence["value_pct"] == 12.5 and p1.status is Status.FAIL
    assert p10.evidence["value_pct"] == 25.0 and p10.reason is Reason.BELOW_THRESHOLD
    assert p1.evidence["ci_low_pct"] < 12.5 < p1.evidence["ci_high_pct"]


def test_pass_at_10_without_ten_samples_is_missing_evidence(tmp_path):
    dirs = suite(tmp_path, {"c": {"arc": 24, "mmlu": 24}})
    write_results(dirs["c"], "mbpp", [True] * 30 + [False] * 70)  # greedy: one sample each
    policy = policy_with(gates={"absolute": TARGETS})
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, policy)
    assert _gate(report, "p1").status is Status.PASS  # 30 % ≥ 20 %
    o = _gate(report, "p10")
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.MISSING_EVIDENCE)
    assert "n_samples ≥ 10" in o.message and o.evidence["items_lacking"] == 100
