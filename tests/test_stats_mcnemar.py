"""McNemar's test against independent scipy computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest, chi2

from promgate.stats.mcnemar import EXACT_BELOW, mcnemar_from_pairs, mcnemar_test


def test_small_counts_use_the_exact_binomial():
    pairs = [(b, c) for b in range(EXACT_BELOW) for c in range(EXACT_BELOW) if 0 < b + c < 25]
    for b, c in pairs:
        res = mcnemar_test(b, c)
        assert res.method == "exact"
        assert res.p_value == pytest.approx(binomtest(b, b + c, 0.5).pvalue, rel=1e-9), (b, c)


@pytest.mark.parametrize(("b", "c"), [(10, 15), (20, 40), (0, 30), (55, 45), (300, 250)])
def test_large_counts_use_corrected_chi_square(b, c):
    res = mcnemar_test(b, c)
    stat = (abs(b - c) - 1) ** 2 / (b + c)
    assert res.method == "chi2_cc"
    assert res.statistic == pytest.approx(stat)
    assert res.p_value == pytest.approx(chi2.sf(stat, df=1), rel=1e-9)


def test_switches_method_at_25_discordant_pairs():
    assert mcnemar_test(12, 12).method == "exact"
    assert mcnemar_test(12, 13).method == "chi2_cc"


def test_no_discordant_pairs_means_p_one():
    res = mcnemar_test(0, 0)
    assert res.p_value == 1.0 and res.b == res.c == 0


def test_counts_from_pairs_have_the_documented_orientation():
    base = np.array([1, 1, 1, 0, 0, 1])
    cand = np.array([0, 0, 1, 1, 0, 1])
    res = mcnemar_from_pairs(base, cand)
    assert (res.b, res.c) == (2, 1)  # b: baseline right, candidate wrong


def test_non_binary_outcomes_are_refused():
    with pytest.raises(ValueError):
        mcnemar_from_pairs(np.array([0.5, 1.0]), np.array([1.0, 0.0]))


def test_agrees_with_statsmodels_on_many_random_tables():
    # Full 2×2 tables (baseline rows, candidate columns), diagonal included, across the
    # exact / chi-square switch; statsmodels is given the table as a user would build it.
    from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

    rng = np.random.default_rng(2024)
    for _ in range(600):
        n = int(rng.choice([10, 40, 150, 1_000]))
        cells = rng.multinomial(n, rng.dirichlet([1.0, 0.4, 0.4, 1.0]))
        table = cells.reshape(2, 2)  # [[wrong/wrong, wrong/right], [right/wrong, right/right]]
        b, c = int(table[1, 0]), int(table[0, 1])
        ours = mcnemar_test(b, c)
        if b + c == 0:
            assert ours.p_value == 1.0
            continue
        exact = b + c < EXACT_BELOW
        ref = sm_mcnemar(table, exact=exact, correction=True)
        assert ours.method == ("exact" if exact else "chi2_cc")
        assert ours.p_value == pytest.approx(min(1.0, ref.pvalue), rel=1e-12, abs=1e-300)
        assert ours.statistic == pytest.approx(ref.statistic, rel=1e-12)
        base = np.repeat([0, 0, 1, 1], cells)
        cand = np.repeat([0, 1, 0, 1], cells)
        assert mcnemar_from_pairs(base, cand) == ours
