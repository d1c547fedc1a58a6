"""McNemar's test on paired binary outcomes, via statsmodels.

b = items the baseline got right and the candidate got wrong; c = the reverse. Only these
discordant pairs carry information about a difference. With few of them the chi-square
approximation is poor, so below ``EXACT_BELOW`` discordant pairs the exact binomial test is
used; above it, chi-square with continuity correction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from statsmodels.stats.contingency_tables import mcnemar as _sm_mcnemar

EXACT_BELOW = 25

McNemarMethod = Literal["exact", "chi2_cc"]


@dataclass(frozen=True)
class McNemarResult:
    b: int
    c: int
    statistic: float
    p_value: float
    method: McNemarMethod


def mcnemar_test(b: int, c: int, *, exact_below: int = EXACT_BELOW) -> McNemarResult:
    """Two-sided McNemar test from the discordant counts b and c."""
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be non-negative")
    exact = b + c < exact_below
    method: McNemarMethod = "exact" if exact else "chi2_cc"
    if b + c == 0:
        # No discordant pairs: no evidence of any difference.
        return McNemarResult(b=0, c=0, statistic=0.0, p_value=1.0, method=method)
    # statsmodels reads only the off-diagonal cells [0][1] and [1][0].
    table = [[0, b], [c, 0]]
    res = _sm_mcnemar(table, exact=exact, correction=True)
    return McNemarResult(
        b=int(b),
        c=int(c),
        statistic=float(res.statistic),
        p_value=min(1.0, float(res.pvalue)),
        method=method,
    )


def mcnemar_from_pairs(
    baseline: np.ndarray, candidate: np.ndarray, *, exact_below: int = EXACT_BELOW
) -> McNemarResult:
    """McNemar from paired 0/1 outcome arrays."""
    base = np.asarray(baseline)
    cand = np.asarray(candidate)
    if base.shape != cand.shape:
        raise ValueError("baseline and candidate must have the same length")
    both = np.concatenate([base, cand])
    if not np.all((both == 0) | (both == 1)):
        raise ValueError("McNemar needs binary (0/1) outcomes")
    b = int(np.sum((base == 1) & (cand == 0)))
    c = int(np.sum((base == 0) & (cand == 1)))
    return mcnemar_test(b, c, exact_below=exact_below)
