"""Power and MDE: the normal approximation against simulation of the test promgate runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from promgate.stats.power import (
    detectable_effect,
    discordance,
    discordance_floor,
    mde_paired_binary,
    mde_paired_score,
    paired_sd,
    power_paired_binary,
    power_paired_score,
    simulate_power_paired_binary,
)


@pytest.mark.parametrize(
    ("n", "psi", "delta"),
    [
        (300, 0.15, 0.04),
        (500, 0.10, 0.03),
        (1_000, 0.15, 0.03),
        (1_000, 0.20, 0.02),
        (2_000, 0.12, 0.02),
        (400, 0.30, 0.08),
    ],
)
def test_analytic_power_matches_simulated_mcnemar(n, psi, delta):
    # 20,000 replicates: MC SD ≤ 0.0035. Where b + c is large the χ² path runs and the
    # continuity-corrected approximation should be within ~1.5 points of the real test.
    simulated = simulate_power_paired_binary(n, psi, delta, reps=20_000, seed=n)
    assert power_paired_binary(n, psi, delta) == pytest.approx(simulated, abs=0.015)


def test_connor_without_correction_is_optimistic_at_small_n():
    n, psi, delta = 200, 0.15, 0.04
    simulated = simulate_power_paired_binary(n, psi, delta, reps=20_000)
    plain = power_paired_binary(n, psi, delta, continuity=False)
    corrected = power_paired_binary(n, psi, delta)
    assert plain > corrected
    assert abs(corrected - simulated) < abs(plain - simulated)


def test_power_at_zero_is_alpha_without_correction_and_below_with_it():
    assert power_paired_binary(500, 0.2, 0.0, continuity=False) == pytest.approx(0.05)
    assert power_paired_binary(500, 0.2, 0.0) < 0.05
    sim = simulate_power_paired_binary(500, 0.2, 0.0, reps=20_000)
    assert sim < 0.06  # the real test holds its level


def test_connor_sample_size_formula_round_trip():
    # Connor (1987): n = (z_{α/2} √ψ + z_β √(ψ − Δ²))² / Δ², ignoring the wrong tail.
    psi, delta = 0.15, 0.03
    za, zb = norm.ppf(0.975), norm.ppf(0.8)
    n = (za * math.sqrt(psi) + zb * math.sqrt(psi - delta**2)) ** 2 / delta**2
    assert power_paired_binary(round(n), psi, delta, continuity=False) == pytest.approx(
        0.8, abs=0.002
    )
    assert mde_paired_binary(round(n), psi, continuity=False) == pytest.approx(delta, rel=0.01)


@pytest.mark.parametrize(("n", "psi"), [(100, 0.15), (500, 0.1), (1_000, 0.2), (50, 0.5)])
def test_mde_is_where_power_reaches_the_target(n, psi):
    mde = mde_paired_binary(n, psi, power=0.8)
    assert power_paired_binary(n, psi, mde) == pytest.approx(0.8, abs=1e-9)
    assert power_paired_binary(n, psi, 0.9 * mde) < 0.8


def test_mde_shrinks_with_n_and_grows_with_discordance():
    mdes = [mde_paired_binary(n, 0.15) for n in (100, 500, 1_000, 5_000)]
    assert mdes == sorted(mdes, reverse=True)
    assert mde_paired_binary(500, 0.1) < mde_paired_binary(500, 0.2)


def test_the_simulated_power_at_the_mde_is_about_the_target():
    n, psi = 800, 0.15
    mde = mde_paired_binary(n, psi)
    assert simulate_power_paired_binary(n, psi, mde, reps=20_000) == pytest.approx(0.8, abs=0.02)


def test_undetectable_when_even_all_discordance_one_way_falls_short():
    assert mde_paired_binary(100, 0.03) == math.inf  # three discordant items in 100


def test_discordance_floor_is_the_rule_of_three():
    zeros = np.zeros(200)
    assert discordance(zeros, zeros) == discordance_floor(200) == pytest.approx(3 / 200)
    one = np.r_[1.0, np.zeros(199)]
    assert discordance(zeros, one) == pytest.approx(3 / 200)  # 1 < 3: floored too
    many = np.r_[np.ones(20), np.zeros(180)]
    assert discordance(zeros, many) == pytest.approx(0.1)
    assert discordance_floor(2) == 1.0


def test_detectable_effect_from_binary_data():
    rng = np.random.default_rng(1)
    k = rng.choice(4, 1_000, p=[0.35, 0.08, 0.07, 0.5])
    base, cand = (k >= 2).astype(float), (k % 2).astype(float)
    eff = detectable_effect(base, cand)
    psi = float(np.mean(base != cand))
    assert eff.kind == "binary" and eff.discordance == pytest.approx(psi) and not eff.floored
    assert eff.mde == pytest.approx(mde_paired_binary(1_000, psi))
    same = detectable_effect(base, base)
    assert same.floored and same.discordance == pytest.approx(0.003)


def test_identical_models_are_not_declared_powerful():
    # No disagreements at all must not read as "any Δ is detectable".
    eff = detectable_effect(np.ones(100), np.ones(100))
    assert eff.mde == math.inf or eff.mde > 0.02


def test_score_power_is_the_paired_z_test():
    n, sd, delta = 400, 0.3, 0.05
    z = norm.ppf(0.975)
    expected = norm.cdf(delta * 20 / sd - z) + norm.cdf(-delta * 20 / sd - z)
    assert power_paired_score(n, sd, delta) == pytest.approx(expected)
    mde = mde_paired_score(n, sd)
    assert mde == pytest.approx((z + norm.ppf(0.8)) * sd / 20, rel=1e-4)


def test_score_power_against_simulated_t_tests():
    from scipy.stats import ttest_rel

    rng = np.random.default_rng(7)
    n, sd, delta = 150, 0.25, 0.05
    hits = 0
    reps = 3_000
    for _ in range(reps):
        base = rng.uniform(0.2, 0.8, n)
        cand = base + delta + rng.normal(0, sd, n)
        hits += ttest_rel(cand, base).pvalue < 0.05
    assert power_paired_score(n, sd, delta) == pytest.approx(hits / reps, abs=0.03)


def test_score_sd_floor_and_detectable_effect():
    base = np.full(50, 0.5)
    assert paired_sd(base, base) == pytest.approx(math.sqrt(3 / 50))
    eff = detectable_effect(base, base + 0.0)
    assert (
        eff.kind == "score"
        and eff.floored
        and eff.mde == pytest.approx(mde_paired_score(50, math.sqrt(3 / 50)))
    )
    scores = detectable_effect(base, np.full(50, 0.6))
    assert scores.kind == "score" and scores.floored and scores.sd == pytest.approx(0.2449, 1e-3)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: power_paired_binary(0, 0.1, 0.01), "n must"),
        (lambda: power_paired_binary(100, 0.0, 0.0), "discordance"),
        (lambda: power_paired_binary(100, 0.1, 0.2), "cannot exceed"),
        (lambda: power_paired_binary(100, 0.1, 0.01, alpha=1.0), "alpha"),
        (lambda: mde_paired_binary(100, 0.1, power=0.3), "power"),
        (lambda: power_paired_score(100, 0.0, 0.1), "sd_diff"),
    ],
)
def test_bad_arguments_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
