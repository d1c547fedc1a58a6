"""Seed summaries and the certifiable rule (≥ 67 % of seeds pass, worst Δ ≥ −2.5 pp)."""

from __future__ import annotations

import pytest

from promgate.stats.seeds import SeedVerdict, certify, summarize_seeds


def _v(passed, delta, half=1.5):
    return SeedVerdict(passed=passed, delta_pp=delta, ci_half_width_pp=half)


def test_summary_numbers():
    s = summarize_seeds(
        {"42": _v(True, 3.1, 1.0), "123": _v(True, 2.5, 2.0), "456": _v(False, -1.0, 3.0)}
    )
    assert (s.n_seeds, s.n_passed) == (3, 2)
    assert s.pass_rate == pytest.approx(2 / 3)
    assert (s.worst_seed, s.worst_delta_pp) == ("456", -1.0)
    assert s.mean_delta_pp == pytest.approx(4.6 / 3)
    # sample SD of 3.1, 2.5, −1.0
    mean = 4.6 / 3
    sd = ((3.1 - mean) ** 2 + (2.5 - mean) ** 2 + (-1.0 - mean) ** 2) / 2
    assert s.sd_across_seeds_pp == pytest.approx(sd**0.5)
    assert s.mean_item_ci_half_width_pp == pytest.approx(2.0)


def test_two_of_three_seeds_meet_67_percent():
    two = summarize_seeds({"42": _v(True, 3), "123": _v(True, 3), "456": _v(False, -1)})
    one = summarize_seeds({"42": _v(True, 3), "123": _v(False, 0), "456": _v(False, -1)})
    assert certify(two) and not certify(one)


def test_worst_seed_below_minus_2_5_fails_even_when_most_pass():
    s = summarize_seeds({"42": _v(True, 4), "123": _v(True, 4), "456": _v(False, -2.6)})
    assert not certify(s)
    edge = summarize_seeds({"42": _v(True, 4), "123": _v(True, 4), "456": _v(False, -2.5)})
    assert certify(edge)


def test_custom_thresholds():
    s = summarize_seeds({"a": _v(True, 1), "b": _v(False, 0.5)})
    assert certify(s, min_pass_rate=0.5, min_worst_delta_pp=0.0)
    assert not certify(s, min_pass_rate=0.75)
    assert not certify(s, min_pass_rate=0.5, min_worst_delta_pp=1.0)


def test_single_seed_has_no_spread_and_ties_pick_the_first_name():
    one = summarize_seeds({"7": _v(True, 2.0)})
    assert one.sd_across_seeds_pp is None and one.pass_rate == 1.0
    tie = summarize_seeds({"b": _v(True, -1.0), "a": _v(True, -1.0), "c": _v(True, 3.0)})
    assert tie.worst_seed == "a"


@pytest.mark.parametrize(
    "per_seed",
    [{}, {"x": _v(True, float("nan"))}, {"x": _v(True, 1.0, float("inf"))}, {"x": _v(True, 1, -1)}],
)
def test_bad_inputs_are_refused(per_seed):
    with pytest.raises(ValueError):
        summarize_seeds(per_seed)
