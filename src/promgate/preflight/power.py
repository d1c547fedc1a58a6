"""Power before training: can each policy threshold be detected at the configured n?

No candidate exists yet, so the discordance McNemar's power depends on is planned from the
baseline alone: a candidate as accurate as the baseline whose errors are independent of its
errors disagrees on 2p(1 - p) of the items. A fine-tuned model agrees with its base more
often than that, and the MDE grows with the discordance, so this errs on the cautious side;
the gate recomputes power from the observed pairs.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from promgate.preflight.report import PowerSummary
from promgate.stats.power import (
    discordance_floor,
    mde_paired_binary,
    mde_paired_score,
)

EPS_PP = 1e-9


def _pp(x: float) -> float | None:
    return 100.0 * x if math.isfinite(x) else None


def planned_power(
    gate: str, values: np.ndarray, threshold_pp: float, alpha: float, power: float
) -> PowerSummary:
    """The planned MDE of one benchmark from its baseline outcomes (0/1 or scores)."""
    n = int(values.size)
    p = float(np.mean(values))
    binary = bool(np.all((values == 0.0) | (values == 1.0)))
    if binary:
        planning = max(2.0 * p * (1.0 - p), discordance_floor(n))
        mde = mde_paired_binary(n, min(planning, 1.0), alpha, power)
    else:
        # Independent errors: the SD of a difference is √2 times the baseline's SD.
        sd = float(np.std(values, ddof=1)) if n > 1 else 0.0
        planning = max(math.sqrt(2.0) * sd, math.sqrt(discordance_floor(n)))
        mde = mde_paired_score(n, planning, alpha, power)
    mde_pp = _pp(mde)
    return PowerSummary(
        gate=gate,
        threshold_pp=threshold_pp,
        n=n,
        alpha=alpha,
        power=power,
        kind="binary" if binary else "score",
        baseline_accuracy=p,
        planning_value=planning,
        mde_pp=mde_pp,
        detectable=mde_pp is not None and mde_pp <= threshold_pp + EPS_PP,
    )


def planned_average_power(
    gate: str, members: list[PowerSummary], threshold_pp: float, confidence: float, power: float
) -> PowerSummary:
    """The macro-average Δ over ``members``: a normal approximation, each benchmark's Δ with
    variance (planning discordance or SD²) / n, independent across benchmarks."""
    k = len(members)
    variance = sum(
        (m.planning_value if m.kind == "binary" else m.planning_value**2) / m.n for m in members
    )
    sd = math.sqrt(variance) / k
    alpha = 1.0 - confidence
    mde = (norm.ppf(1.0 - alpha / 2) + norm.ppf(power)) * sd
    mde_pp = _pp(mde) if mde <= 1.0 else None
    return PowerSummary(
        gate=gate,
        threshold_pp=threshold_pp,
        n=sum(m.n for m in members),
        alpha=alpha,
        power=power,
        kind="binary" if all(m.kind == "binary" for m in members) else "score",
        baseline_accuracy=float(np.mean([m.baseline_accuracy for m in members])),
        planning_value=sd,
        mde_pp=mde_pp,
        detectable=mde_pp is not None and mde_pp <= threshold_pp + EPS_PP,
    )
