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
