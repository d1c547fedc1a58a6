"""Calibration of a model's confidence against its correctness: ECE, Brier, ROC-AUC.

- ECE (expected calibration error): items are binned by confidence into ``n_bins``
  equal-width bins on [0, 1] (the last bin closed, so a confidence of 1.0 counts); ECE is
  Σ_bins (n_bin / n) · |accuracy_bin − mean confidence_bin|.
- Brier score: mean (confidence − correct)², 0 is perfect, 0.25 is a constant 0.5.
- ROC-AUC: the probability that a correct item gets a higher confidence than an incorrect
  one, ties counting half; computed as the Mann–Whitney U of the correct items' confidences
  against the incorrect ones' (scipy), divided by n_correct · n_incorrect. None when every
  item is correct or every item is wrong (no ranking exists).

Every bin is listed, empty ones with n = 0 and None for their means, so reliability
diagrams of different models share their axes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.stats import mannwhitneyu

_EDGE_TOLERANCE = 1e-9


class CalibrationBin(NamedTuple):
    lo: float
    hi: float
    n: int
    mean_conf: float | None
    accuracy: float | None


@dataclass(frozen=True)
class Calibration:
    ece: float
    brier: float
    roc_auc: float | None
    bins: list[CalibrationBin]
    n: int


def _inputs(confidence: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    conf = np.asarray(confidence, dtype=float)
    raw = np.asarray(correct)
    if conf.ndim != 1 or raw.shape != conf.shape:
        raise ValueError("confidence and correct must be 1-D arrays of the same length")
    if conf.size == 0:
        raise ValueError("calibration needs at least one item")
    if not np.all((conf >= 0.0) & (conf <= 1.0)):  # NaN fails this too
        raise ValueError("confidence must be numbers in [0, 1]")
    hit = raw.astype(float)
    if not np.all((hit == 0.0) | (hit == 1.0)):
        raise ValueError("correct must be booleans or 0/1")
    return conf, hit


def calibration(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> Calibration:
    """ECE, Brier and ROC-AUC of ``confidence`` (in [0, 1]) against ``correct`` (0/1)."""
    if isinstance(n_bins, bool) or int(n_bins) != n_bins or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    conf, hit = _inputs(confidence, correct)
    n = conf.size
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Bin i holds [i/n_bins, (i+1)/n_bins); the last also holds 1.0. The small tolerance
    # keeps a decimal confidence that sits on an edge (0.3 with 10 bins) in the bin that
    # starts there, whatever its binary rounding.
    which = np.minimum(np.floor(conf * n_bins + _EDGE_TOLERANCE).astype(np.intp), n_bins - 1)
    counts = np.bincount(which, minlength=n_bins)
    conf_sum = np.bincount(which, weights=conf, minlength=n_bins)
    hit_sum = np.bincount(which, weights=hit, minlength=n_bins)
    bins = []
    ece = 0.0
    for i in range(n_bins):
        k = int(counts[i])
        if k == 0:
            bins.append(CalibrationBin(float(edges[i]), float(edges[i + 1]), 0, None, None))
            continue
        mean_conf, acc = float(conf_sum[i] / k), float(hit_sum[i] / k)
        bins.append(CalibrationBin(float(edges[i]), float(edges[i + 1]), k, mean_conf, acc))
        ece += k / n * abs(acc - mean_conf)
    brier = float(np.mean((conf - hit) ** 2))
    right, wrong = conf[hit == 1.0], conf[hit == 0.0]
    auc = None
    if right.size and wrong.size:
        u = mannwhitneyu(right, wrong, alternative="two-sided", method="asymptotic").statistic
        auc = float(u) / (right.size * wrong.size)
    return Calibration(ece=float(ece), brier=brier, roc_auc=auc, bins=bins, n=n)
