"""evaluate_promotion on constructed results: statistics, gate outcomes, fail-closed inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gate_helpers import BENCHES, POLICY, policy_with, suite, write_results
from promgate.gates.evaluate import evaluate_promotion
from promgate.gates.outcome import Decision, Reason, Status
from promgate.gates.report import FLIP_IDS_SHOWN, GateReport
from promgate.stats.bootstrap import METHOD_CELLS, METHOD_CLUSTER, paired_bootstrap
from promgate.stats.calibration import calibration


def _outcome(report: GateReport, cid: str, gate: str, bench: str | None = None):
    return next(
        o for o in report.candidates[cid].outcomes if o.gate == gate and o.benchmark == bench
    )


def _mixed(n: int, fixed: int, broken: int) -> tuple[np.ndarray, np.ndarray]:
    """Baseline right on even items; the candidate fixes ``fixed`` and breaks ``broken``."""
    base = np.arange(n) % 2 == 0
    cand = base.copy()
    cand[np.flatnonzero(~base)[:fixed]] = True
    cand[np.flatnonzero(base)[:broken]] = False
    return base, cand


def _write_pair(root, benches, base, cand, **kwargs):
    for bench in benches:
        write_results(root / "baseline", bench, base, **kwargs)
        write_results(root / "c", bench, cand, **kwargs)
    return {"c": root / "c"}


def test_clear_improvement_is_go(tmp_path):
    dirs = suite(tmp_path, {"good": {"arc": 24, "mmlu": 20}})  # +6.0 and +5.0 pp
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    assert report.decision is Decision.GO
    st = report.candidates["good"].benchmarks["arc"]
    assert (st.delta_pp, st.baseline_acc, st.mcnemar_b, st.mcnemar_c) == (6.0, 0.5, 0, 24)
    assert st.p_adjusted is not None and st.p_adjusted < 0.05 and st.test == "mcnemar"
    assert report.candidates["good"].average.delta_pp == 5.5
    assert _outcome(report, "good", "per_benchmark", "arc").reason is Reason.IMPROVED
    assert _outcome(report, "good", "average_delta").status is Status.PASS


def test_regression_is_no_go_with_its_failure_response(tmp_path):
    dirs = suite(tmp_path, {"bad": {"arc": 40, "mmlu": -8}})  # +10 and -2 pp
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    assert report.decision is Decision.NO_GO
    o = _outcome(report, "bad", "per_benchmark", "mmlu")
    assert (o.status, o.reason) == (Status.FAIL, Reason.REGRESSION)
    assert o.failure_response == "investigate the regression"


@pytest.mark.parametrize(
    ("k", "status", "reason"),
    [
        (8, Status.PASS, Reason.IMPROVED),  # exactly +2.0 pp, exact p = 0.008
        (7, Status.PASS, Reason.NO_REGRESSION),  # +1.75
        (-4, Status.PASS, Reason.NO_REGRESSION),  # exactly -1.0 pp
        (-5, Status.FAIL, Reason.REGRESSION),  # -1.25
    ],
)
def test_per_benchmark_boundaries_follow_the_contract(tmp_path, k, status, reason):
    dirs = suite(tmp_path, {"c": {"arc": k, "mmlu": 40}})
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    o = _outcome(report, "c", "per_benchmark", "arc")
    assert (o.status, o.reason) == (status, reason)


def test_a_large_gain_that_is_not_significant_is_not_improved(tmp_path):
    base, cand = _mixed(40, fixed=10, broken=8)  # +5 pp from 18 discordant pairs
    dirs = _write_pair(tmp_path, BENCHES, base, cand)
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    o = _outcome(report, "c", "per_benchmark", "arc")
    assert o.evidence["delta_pp"] == 5.0 and not o.evidence["significant"]
    assert (o.status, o.reason) == (Status.PASS, Reason.NO_REGRESSION)
    assert "not significant" in o.message


def test_holm_can_take_away_what_raw_p_values_give(tmp_path):
    base, cand = _mixed(400, fixed=20, broken=8)  # +3 pp, chi-square p = 0.038 on each
    dirs = _write_pair(tmp_path, BENCHES, base, cand)
    holm = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    none = evaluate_promotion(
        tmp_path / "baseline", dirs, BENCHES, policy_with(testing={"multiplicity": "none"})
    )
    st = holm.candidates["c"].benchmarks["arc"]
    assert st.p_value == pytest.approx(0.0376, abs=1e-3)
    assert st.p_adjusted == pytest.approx(2 * st.p_value)
    assert st.alpha_tested == pytest.approx(0.025)  # α / m, the level Holm starts at
    assert _outcome(holm, "c", "per_benchmark", "arc").reason is Reason.NO_REGRESSION
    assert _outcome(none, "c", "per_benchmark", "arc").reason is Reason.IMPROVED
    assert none.candidates["c"].benchmarks["arc"].p_adjusted == st.p_value


def test_a_missing_benchmark_stays_in_the_family_as_p_1(tmp_path):
    base, cand = _mixed(400, fixed=20, broken=8)
    dirs = _write_pair(tmp_path, BENCHES, base, cand)
    (dirs["c"] / "mmlu.jsonl").unlink()
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    st = report.candidates["c"].benchmarks["arc"]
    assert st.p_adjusted == pytest.approx(2 * st.p_value)  # m = 2 still


def test_underpowered_gate_blocks_or_warns_as_the_policy_says(tmp_path):
    dirs = suite(tmp_path, {"c": {"arc": 8, "mmlu": 40}})  # few discordant items
    warned = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    o = _outcome(warned, "c", "per_benchmark", "arc")
    st = warned.candidates["c"].benchmarks["arc"]
    assert st.underpowered and (st.mde_pp is None or st.mde_pp > 2.0)
    assert st.power_at_threshold < 0.8
    assert o.status is Status.PASS and o.warnings and "underpowered" in o.warnings[0]
    blocking = policy_with(
        testing={"underpowered": "block"}, failure_response={"underpowered": "evaluate more items"}
    )
    blocked = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, blocking)
    o = _outcome(blocked, "c", "per_benchmark", "arc")
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.UNDERPOWERED)
    assert o.evidence["verdict_if_powered"] == "PASS IMPROVED"
    assert o.failure_response == "evaluate more items"
    assert blocked.decision is Decision.BLOCKED


def test_a_powered_benchmark_is_not_underpowered(tmp_path):
    base, cand = _mixed(4_000, fixed=200, broken=0)  # +5 pp, discordance 0.05
    dirs = _write_pair(tmp_path, BENCHES, base, cand)
    report = evaluate_promotion(
        tmp_path / "baseline", dirs, BENCHES, policy_with(testing={"underpowered": "block"})
    )
    st = report.candidates["c"].benchmarks["arc"]
    assert st.mde_pp < 2.0 and st.power_at_threshold > 0.8 and st.underpowered is False
    assert st.discordance == 0.05
    assert report.decision is Decision.GO


def test_small_average_gain_fails_below_threshold(tmp_path):
    dirs = suite(tmp_path, {"meh": {"arc": 8, "mmlu": 8}})  # +2.0 pp average
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    o = _outcome(report, "meh", "average_delta")
    assert (o.status, o.reason) == (Status.FAIL, Reason.BELOW_THRESHOLD)
    assert o.failure_response == "extend training"
    assert report.decision is Decision.NO_GO


def test_large_but_noisy_gain_fails_on_the_ci(tmp_path):
    base, cand = _mixed(40, fixed=10, broken=8)
    dirs = _write_pair(tmp_path, BENCHES, base, cand)
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
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
    assert _outcome(report, "absent", "average_delta").status is Status.BLOCKED


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
    assert "policy needs at least 10" in o.message
    # The estimate is still reported; only the gates that read it are blocked.
    assert report.candidates["c"].benchmarks["arc"].n == 6
    assert report.candidates["c"].average is not None
    assert _outcome(report, "c", "average_delta").status is Status.BLOCKED


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
    report = evaluate_promotion(tmp_path / "baseline", dirs, [], POLICY)
    assert report.decision == "BLOCKED"
    o = _outcome(report, "c", "per_benchmark")
    assert o.reason is Reason.MISSING_EVIDENCE and "no benchmarks" in o.message


def test_scores_get_a_paired_t_test(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 0.8, 100)
    noise = rng.normal(0.0, 0.05, 100)
    dirs = _write_pair(tmp_path, BENCHES, base, np.clip(base + 0.1 + noise, 0, 1))
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    st = report.candidates["c"].benchmarks["arc"]
    assert not st.binary and st.test == "paired_t" and st.mcnemar_b is None
    assert st.p_value < 1e-10 and st.flips is None and st.mde_pp is not None
    assert st.delta_pp == pytest.approx(10.0, abs=1.5)
    assert report.decision is Decision.GO


def test_per_benchmark_ci_is_the_keyed_bootstrap_with_strata(tmp_path):
    strata = ["easy" if i < 150 else "hard" for i in range(400)]
    rng = np.random.default_rng(1)
    base, cand = rng.random(400) < 0.5, rng.random(400) < 0.6
    dirs = _write_pair(tmp_path, BENCHES, base, cand, strata=strata)
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
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
    assert [r.stratum for r in st.strata] == ["easy", "hard"]
    assert sum(r.n for r in st.strata) == 400 and st.strata[0].n == 150


def test_clusters_are_resampled_whole_unless_the_policy_says_no(tmp_path):
    base, cand = _mixed(400, fixed=30, broken=4)
    twins = [f"t{i // 2}" for i in range(400)]
    dirs = _write_pair(tmp_path, BENCHES, base, cand, clusters=twins)
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    st = report.candidates["c"].benchmarks["arc"]
    assert (st.bootstrap_method, st.n_clusters) == (METHOD_CLUSTER, 200)
    flat = evaluate_promotion(
        tmp_path / "baseline", dirs, BENCHES, policy_with(bootstrap={"clusters": False})
    )
    assert flat.candidates["c"].benchmarks["arc"].bootstrap_method == METHOD_CELLS


def test_a_cluster_across_strata_is_a_schema_blocker(tmp_path):
    base, cand = _mixed(40, fixed=10, broken=0)
    strata = ["a" if i < 21 else "b" for i in range(40)]
    twins = [f"t{i // 2}" for i in range(40)]  # t10 holds items 20 (a) and 21 (b)
    dirs = _write_pair(tmp_path, BENCHES, base, cand, strata=strata, clusters=twins)
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    o = _outcome(report, "c", "per_benchmark", "arc")
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.SCHEMA) and "t10" in o.message


def test_bca_intervals_on_request(tmp_path):
    dirs = suite(tmp_path, {"c": {"arc": 24, "mmlu": 20}})
    report = evaluate_promotion(
        tmp_path / "baseline", dirs, BENCHES, policy_with(bootstrap={"ci": "bca"})
    )
    assert report.candidates["c"].benchmarks["arc"].ci_type == "bca"
    assert report.candidates["c"].average.ci_type == "bca" and report.method.ci == "bca"


def test_calibration_of_confidence_against_correctness(tmp_path):
    rng = np.random.default_rng(3)
    base, cand = _mixed(200, fixed=20, broken=5)
    conf = rng.uniform(0.2, 0.9, 200)
    dirs = _write_pair(tmp_path, BENCHES, base, cand, confidence=conf)
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    cal = report.candidates["c"].benchmarks["arc"].calibration
    order = np.argsort([f"arc/{i}" for i in range(200)])  # the report pairs in id order
    ref = calibration(conf[order], cand[order].astype(float))
    assert cal.candidate.ece == pytest.approx(ref.ece) and cal.candidate.brier == ref.brier
    assert cal.candidate.roc_auc == pytest.approx(ref.roc_auc) and len(cal.candidate.bins) == 10
    assert cal.baseline is not None
    plain = suite(tmp_path / "plain", {"c": {"arc": 24}})
    no_conf = evaluate_promotion(tmp_path / "plain" / "baseline", plain, BENCHES, POLICY)
    assert no_conf.candidates["c"].benchmarks["arc"].calibration is None


def test_flips_count_everything_and_list_a_capped_number_of_ids(tmp_path):
    base, cand = _mixed(400, fixed=70, broken=3)
    dirs = _write_pair(tmp_path, BENCHES, base, cand)
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    flips = report.candidates["c"].benchmarks["arc"].flips
    assert (flips.fixed, flips.broken) == (70, 3)
    assert len(flips.fixed_ids) == FLIP_IDS_SHOWN and flips.ids_truncated
    assert flips.fixed_ids == sorted(flips.fixed_ids) and flips.broken_ids == sorted(
        f"arc/{i}" for i in (0, 2, 4)
    )


def test_the_same_inputs_give_byte_identical_reports(tmp_path):
    dirs = suite(tmp_path, {"c": {"arc": 24, "mmlu": 3}})
    a = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    b = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    assert a.model_dump_json() == b.model_dump_json()
    assert set(a.inputs) == {
        str(tmp_path / m / f"{b}.jsonl") for m in ("baseline", "c") for b in BENCHES
    }


def test_clean_subset_delta_excludes_flagged_items(tmp_path):
    # The candidate's whole gain on arc sits on items the contamination stage flagged.
    dirs = _write_pair(tmp_path, BENCHES, *_mixed(400, fixed=20, broken=0))
    flagged = frozenset(f"arc/{i}" for i in range(1, 41, 2))  # the 20 fixed (odd) items
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY, contaminated=flagged)
    arc = report.candidates["c"].benchmarks["arc"]
    assert arc.delta_pp == 5.0
    assert arc.clean is not None and (arc.clean.n, arc.clean.n_excluded) == (380, 20)
    assert arc.clean.delta_pp == 0.0 and arc.clean.ci_low_pp <= 0.0 <= arc.clean.ci_high_pp
    mmlu = report.candidates["c"].benchmarks["mmlu"]
    assert mmlu.clean.n == 400 and mmlu.clean.delta_pp == mmlu.delta_pp
    without = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    assert without.candidates["c"].benchmarks["arc"].clean is None
