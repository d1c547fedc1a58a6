"""ECE, Brier, ROC-AUC: hand-checked values and brute-force references (no sklearn)."""

from __future__ import annotations

import numpy as np
import pytest

from promgate.stats.calibration import calibration


def test_hand_checked_example():
    conf = [0.9, 0.8, 0.3, 0.6, 1.0, 0.05]
    hit = [1, 1, 0, 0, 1, 1]
    cal = calibration(conf, hit, n_bins=4)
    # bins [0,.25) {.05 ✓}, [.25,.5) {.3 ✗}, [.5,.75) {.6 ✗}, [.75,1] {.9 ✓, .8 ✓, 1.0 ✓}
    assert [b.n for b in cal.bins] == [1, 1, 1, 3]
    assert cal.bins[3].mean_conf == pytest.approx(0.9) and cal.bins[3].accuracy == 1.0
    assert cal.ece == pytest.approx((0.95 + 0.3 + 0.6 + 3 * 0.1) / 6)
    # Brier: .01 .04 .09 .36 0 .9025
    assert cal.brier == pytest.approx((0.01 + 0.04 + 0.09 + 0.36 + 0.0 + 0.9025) / 6)
    # AUC: correct {.9 .8 1 .05} vs wrong {.3 .6}: 6 of 8 pairs ranked right
    assert cal.roc_auc == pytest.approx(0.75)
    assert cal.n == 6


def _brute_auc(conf, hit):
    pos, neg = conf[hit == 1], conf[hit == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (pos.size * neg.size)


def _brute_ece(conf, hit, n_bins):
    total = 0.0
    for i in range(n_bins):
        lo, hi = i / n_bins, (i + 1) / n_bins
        inside = (conf >= lo) & ((conf < hi) if i < n_bins - 1 else (conf <= hi))
        if inside.any():
            total += inside.mean() * abs(hit[inside].mean() - conf[inside].mean())
    return total


@pytest.mark.parametrize("seed", range(5))
def test_matches_brute_force_references_with_ties(seed):
    rng = np.random.default_rng(seed)
    conf = np.round(rng.beta(2, 2, 300), 2)  # rounded: many ties across classes
    hit = (rng.random(300) < conf**0.7).astype(int)
    cal = calibration(conf, hit, n_bins=15)
    assert cal.roc_auc == pytest.approx(_brute_auc(conf, hit), rel=1e-12)
    assert cal.ece == pytest.approx(_brute_ece(conf, hit, 15), rel=1e-12)
    assert cal.brier == pytest.approx(np.mean((conf - hit) ** 2))
    assert sum(b.n for b in cal.bins) == 300


def test_perfect_calibration_and_perfect_ranking():
    conf = np.repeat([0.25, 0.75], 400)
    hit = np.r_[np.repeat([1, 0, 0, 0], 100), np.repeat([1, 1, 1, 0], 100)]
    cal = calibration(conf, hit, n_bins=10)
    assert cal.ece == pytest.approx(0.0, abs=1e-12)
    sep = calibration([0.1, 0.2, 0.8, 0.9], [False, False, True, True])
    assert sep.roc_auc == 1.0
    assert calibration([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]).roc_auc == 0.0


def test_auc_is_none_when_a_class_is_missing():
    assert calibration([0.2, 0.9], [1, 1]).roc_auc is None
    assert calibration([0.2, 0.9], [0, 0]).roc_auc is None


def test_decimal_confidences_on_edges_fall_in_the_bin_that_starts_there():
    conf = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    cal = calibration(conf, np.ones(11), n_bins=10)
    assert [b.n for b in cal.bins] == [1] * 9 + [2]
    assert cal.bins[3].lo == pytest.approx(0.3) and cal.bins[3].mean_conf == pytest.approx(0.3)


def test_empty_bins_are_listed_with_none():
    cal = calibration([0.95, 0.97], [1, 0], n_bins=5)
    assert [b.n for b in cal.bins] == [0, 0, 0, 0, 2]
    assert cal.bins[0].mean_conf is None and cal.bins[0].accuracy is None
    assert cal.bins[0] == (0.0, 0.2, 0, None, None)  # a plain tuple too


@pytest.mark.parametrize(
    ("conf", "hit", "bins"),
    [
        ([], [], 10),
        ([0.5, np.nan], [1, 0], 10),
        ([0.5, 1.2], [1, 0], 10),
        ([0.5, 0.4], [1, 2], 10),
        ([0.5], [1, 0], 10),
        ([0.5], [1], 0),
    ],
)
def test_bad_inputs_are_refused(conf, hit, bins):
    with pytest.raises(ValueError):
        calibration(np.array(conf, dtype=float), np.array(hit), n_bins=bins)
