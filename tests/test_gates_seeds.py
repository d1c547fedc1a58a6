"""Multi-seed gates: recipes from candidate ids, per-seed verdicts, the all and certify rules."""

from __future__ import annotations

import pytest

from gate_helpers import BENCHES, policy_with, suite
from promgate.gates.evaluate import evaluate_promotion
from promgate.gates.outcome import Decision, Reason, Status
from promgate.gates.seed_gates import split_candidate

CERTIFY = {"seeds": {"rule": "certify", "expected": [42, 123, 456]}}


@pytest.mark.parametrize(
    ("cid", "recipe", "seed"),
    [
        ("lora-s42", "lora", 42),
        ("uniform_r20-s123", "uniform_r20", 123),
        ("per_layer_seed456", "per_layer", 456),
        ("s7", "", 7),
        ("seed-9", "", 9),
        ("models7", "models7", None),
        ("candidate", "candidate", None),
    ],
)
def test_candidate_ids_name_recipe_and_seed(cid, recipe, seed):
    assert split_candidate(cid) == (recipe, seed)


def _seeds(report, recipe="lora"):
    o = next(o for o in report.suite_outcomes if o.gate == "seeds" and o.candidate == recipe)
    return report.seeds[recipe], o


def test_rule_all_reports_the_spread_across_seeds_beside_the_spread_across_items(tmp_path):
    shifts = {f"lora-s{s}": {"arc": 24 + i, "mmlu": 24} for i, s in enumerate((42, 123, 456))}
    dirs = suite(tmp_path, shifts)
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, policy_with())
    rep, o = _seeds(report)
    assert [v.seed for v in rep.seeds] == [42, 123, 456]
    deltas = [report.candidates[v.candidate].average.delta_pp for v in rep.seeds]
    assert [v.delta_pp for v in rep.seeds] == deltas
    assert rep.worst_seed == "lora-s42" and rep.worst_delta_pp == min(deltas)
    assert rep.mean_delta_pp == pytest.approx(sum(deltas) / 3)
    assert rep.sd_across_seeds_pp == pytest.approx(0.125)  # 6.0, 6.125, 6.25 pp
    assert rep.mean_item_ci_half_width_pp > rep.sd_across_seeds_pp  # items dominate here
    assert (rep.n_passed, rep.pass_rate, rep.certified) == (3, 1.0, None)
    assert (o.status, o.reason) == (Status.PASS, Reason.OK) and o.required
    assert report.decision is Decision.GO


def test_rule_all_fails_with_one_bad_seed(tmp_path):
    shifts = {"lora-s1": {"arc": 24, "mmlu": 24}, "lora-s2": {"arc": 24, "mmlu": -8}}
    report = evaluate_promotion(
        tmp_path / "baseline", suite(tmp_path, shifts), BENCHES, policy_with()
    )
    rep, o = _seeds(report)
    assert o.status is Status.FAIL and rep.n_passed == 1
    assert report.decision is Decision.NO_GO


@pytest.mark.parametrize(
    ("third", "status", "decision"),
    [
        ({"arc": -8, "mmlu": -8}, Status.PASS, Decision.GO),  # 2 of 3 pass, worst -2.0 pp
        ({"arc": -12, "mmlu": -12}, Status.FAIL, Decision.NO_GO),  # worst seed -3.0 pp
    ],
)
def test_certify_needs_two_of_three_and_a_tolerable_worst_seed(tmp_path, third, status, decision):
    shifts = {
        "lora-s42": {"arc": 24, "mmlu": 24},
        "lora-s123": {"arc": 24, "mmlu": 20},
        "lora-s456": third,
    }
    report = evaluate_promotion(
        tmp_path / "baseline", suite(tmp_path, shifts), BENCHES, policy_with(**CERTIFY)
    )
    rep, o = _seeds(report)
    assert report.candidates["lora-s456"].decision is Decision.NO_GO  # a failed seed
    assert rep.n_passed == 2 and rep.certified is (status is Status.PASS)
    assert o.status is status and report.decision is decision


def test_certify_fails_when_only_one_seed_passes(tmp_path):
    shifts = {
        "lora-s42": {"arc": 24, "mmlu": 24},
        "lora-s123": {"arc": 24, "mmlu": -8},
        "lora-s456": {"arc": -4, "mmlu": 0},
    }
    report = evaluate_promotion(
        tmp_path / "baseline", suite(tmp_path, shifts), BENCHES, policy_with(**CERTIFY)
    )
    _, o = _seeds(report)
    assert (o.status, o.reason) == (Status.FAIL, Reason.BELOW_THRESHOLD)
    assert "pass rate 33%" in o.message and report.decision is Decision.NO_GO


def test_a_missing_expected_seed_blocks(tmp_path):
    shifts = {"lora-s42": {"arc": 24, "mmlu": 24}, "lora-s123": {"arc": 24, "mmlu": 24}}
    report = evaluate_promotion(
        tmp_path / "baseline", suite(tmp_path, shifts), BENCHES, policy_with(**CERTIFY)
    )
    rep, o = _seeds(report)
    assert rep.missing_seeds == [456]
    assert (o.status, o.reason) == (Status.BLOCKED, Reason.MISSING_EVIDENCE)
    assert "456" in o.message and report.decision is Decision.BLOCKED


def test_a_blocked_seed_blocks_certification_only_when_it_could_matter(tmp_path):
    shifts = {
        "lora-s42": {"arc": 24, "mmlu": 24},
        "lora-s123": {"arc": 24, "mmlu": 24},
        "lora-s456": {"arc": 24, "mmlu": 24},
    }
    dirs = suite(tmp_path, shifts)
    (dirs["lora-s456"] / "arc.jsonl").unlink()  # no average Δ: the worst seed is unknown
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, policy_with(**CERTIFY))
    _, o = _seeds(report)
    assert o.status is Status.BLOCKED and report.decision is Decision.BLOCKED


def test_each_recipe_certifies_on_its_own(tmp_path):
    shifts = {
        **{f"per_layer-s{s}": {"arc": 24, "mmlu": 24} for s in (42, 123, 456)},
        **{f"uniform_r16-s{s}": {"arc": -16, "mmlu": -16} for s in (42, 123, 456)},
    }
    report = evaluate_promotion(
        tmp_path / "baseline", suite(tmp_path, shifts), BENCHES, policy_with(**CERTIFY)
    )
    assert set(report.seeds) == {"per_layer", "uniform_r16"}
    assert _seeds(report, "per_layer")[1].status is Status.PASS
    assert _seeds(report, "uniform_r16")[1].status is Status.FAIL
    assert report.decision is Decision.NO_GO  # every recipe given must certify
