"""Across seeds: per-seed verdicts, pass rate, worst seed, and seed-to-seed spread.

A candidate trained with three seeds is three draws of the training process; a promotion
should survive the worst of them. The summary puts the spread across seeds (SD of the
per-seed Δ) beside the spread across items (the mean per-seed CI half-width): when the
first is comparable to or larger than the second, seed variance is a real part of the
uncertainty that a single-seed CI does not show.

Units are percentage points throughout (the policies are written in pp).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

# The certifiable standard's "≥ 67 % of seeds" means 2 of 3 (66.7 %); a rate counts as
# reaching a threshold when it does so at the whole-percent precision the policy is
# written in, i.e. within half a percentage point.
RATE_TOLERANCE = 0.005


@dataclass(frozen=True)
class SeedVerdict:
    passed: bool
    delta_pp: float
    ci_half_width_pp: float


@dataclass(frozen=True)
class SeedSummary:
    n_seeds: int
    n_passed: int
    pass_rate: float
    worst_seed: str
    worst_delta_pp: float
    mean_delta_pp: float
    sd_across_seeds_pp: float | None  # sample SD (ddof=1); None with a single seed
    mean_item_ci_half_width_pp: float


def summarize_seeds(per_seed: Mapping[str, SeedVerdict]) -> SeedSummary:
    """Pass rate, worst seed (ties: the first seed name in sorted order), spreads."""
    if not per_seed:
        raise ValueError("summarize_seeds needs at least one seed")
    names = sorted(per_seed)
    for name in names:
        v = per_seed[name]
        if not (math.isfinite(v.delta_pp) and math.isfinite(v.ci_half_width_pp)):
            raise ValueError(f"seed {name}: delta and CI half-width must be finite")
        if v.ci_half_width_pp < 0:
            raise ValueError(f"seed {name}: a CI half-width cannot be negative")
    deltas = np.array([per_seed[k].delta_pp for k in names])
    widths = np.array([per_seed[k].ci_half_width_pp for k in names])
    n_passed = sum(bool(per_seed[k].passed) for k in names)
    worst = names[int(np.argmin(deltas))]  # argmin returns the first minimum
    return SeedSummary(
        n_seeds=len(names),
        n_passed=n_passed,
        pass_rate=n_passed / len(names),
        worst_seed=worst,
        worst_delta_pp=float(per_seed[worst].delta_pp),
        mean_delta_pp=float(deltas.mean()),
        sd_across_seeds_pp=float(deltas.std(ddof=1)) if deltas.size > 1 else None,
        mean_item_ci_half_width_pp=float(widths.mean()),
    )


def certify(
    summary: SeedSummary, min_pass_rate: float = 0.67, min_worst_delta_pp: float = -2.5
) -> bool:
    """The certifiable rule: enough seeds pass and even the worst seed does not regress much.

    ``min_pass_rate`` is read at whole-percent precision (``RATE_TOLERANCE``), so 0.67
    admits 2 of 3 seeds, as the Bench v0.1 standard intends.
    """
    if not 0.0 <= min_pass_rate <= 1.0:
        raise ValueError(f"min_pass_rate must lie in [0, 1], got {min_pass_rate!r}")
    return (
        summary.pass_rate >= min_pass_rate - RATE_TOLERANCE
        and summary.worst_delta_pp >= min_worst_delta_pp
    )
