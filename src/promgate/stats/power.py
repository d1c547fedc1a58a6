"""Power and minimum detectable effect (MDE) of the paired tests, before any gate runs.

A gate that asks for Δ ≥ +2 pp on 100 items cannot tell +2 pp from noise; it should say
so (UNDERPOWERED) rather than fail or pass by luck. Everything here is two-sided and in
proportion units (0.02 = 2 pp).

Binary outcomes, McNemar's test: Connor's (1987) normal approximation. With discordance
ψ = P(the two models disagree on an item) = p01 + p10 and Δ = p01 − p10, the estimate
Δ̂ = (c − b)/n has SD √(ψ/n) under H0 and √((ψ − Δ²)/n) under H1. The test promgate runs
(``promgate.stats.mcnemar``) is the χ² with continuity correction, which rejects when
|Δ̂| > z₁₋α/₂ √(ψ/n) + 1/n, so by default the correction is carried into the power:

    power = Φ((|Δ|√n − z√ψ − cc) / √(ψ − Δ²)) + Φ((−|Δ|√n − z√ψ − cc) / √(ψ − Δ²)),

cc = 1/√n (``continuity=True``) or 0 (Connor's formula as published). The second term, the
wrong tail, is kept, so without the correction power(0) = α exactly. Few discordant pairs
get the exact binomial in the real test, where no normal formula is exact:
``simulate_power_paired_binary`` gives the power of the test exactly as it runs, by
simulation, and the tests check the formula against it. |Δ| can never exceed ψ; when even
Δ = ψ cannot reach the target power the MDE is ``math.inf`` (undetectable).

Discordance from data is (b + c)/n, floored at 3/n (the "rule of three": the 95 % upper
bound on a rate when none was seen). The MDE grows with ψ, so the floor is the cautious
side; and it applies below three discordant pairs, not only at zero, so one or two
observed disagreements never look more powerful than three.

Scores (pass@k, partial credit): a paired z-test on the item differences, SD σ:
power = Φ(|Δ|√n/σ − z) + Φ(−|Δ|√n/σ − z). σ from data is the sample SD of the differences,
floored at √(3/n), the SD of a 0/±1 difference with three discordant items in n.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm

from promgate.stats.mcnemar import mcnemar_test

FLOOR_EVENTS = 3  # the rule of three


@dataclass(frozen=True)
class DetectableEffect:
    """The MDE of one benchmark at its n, with the quantities it came from."""

    kind: Literal["binary", "score"]
    n: int
    alpha: float
    power: float
    mde: float  # proportion units; math.inf when no possible Δ reaches the power
    discordance: float | None = None  # binary: the ψ used (after the floor)
    sd: float | None = None  # score: the σ used (after the floor)
    floored: bool = False  # the floor replaced the observed value


def _check_n(n: int) -> None:
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")


def _check_power(power: float) -> None:
    if not 0.5 <= power < 1.0:
        raise ValueError(f"power must lie in [0.5, 1), got {power!r}")


def _check_discordance(discordance: float) -> None:
    if not 0.0 < discordance <= 1.0:
        raise ValueError(f"discordance must lie in (0, 1], got {discordance!r}")


def discordance_floor(n: int) -> float:
    """The least discordance the power calculations use at n items: 3/n (capped at 1)."""
    _check_n(n)
    return min(1.0, FLOOR_EVENTS / n)


def discordance(baseline: np.ndarray, candidate: np.ndarray) -> float:
    """(b + c)/n from paired 0/1 outcomes, floored at ``discordance_floor(n)``."""
    base = np.asarray(baseline, dtype=float)
    cand = np.asarray(candidate, dtype=float)
    if base.shape != cand.shape or base.ndim != 1 or base.size == 0:
        raise ValueError("baseline and candidate must be non-empty 1-D arrays of one length")
    both = np.concatenate([base, cand])
    if not np.all((both == 0.0) | (both == 1.0)):
        raise ValueError("discordance needs binary (0/1) outcomes")
    return max(float(np.mean(base != cand)), discordance_floor(base.size))


def power_paired_binary(
    n: int, discordance: float, delta: float, alpha: float = 0.05, *, continuity: bool = True
) -> float:
    """Power of two-sided McNemar at level alpha (Connor's normal approximation)."""
    _check_n(n)
    _check_discordance(discordance)
    _check_alpha(alpha)
    d = abs(float(delta))
    if d > discordance + 1e-12:
        raise ValueError(f"|delta| = {d} cannot exceed the discordance {discordance}")
    z = norm.ppf(1.0 - alpha / 2)
    null_sd = math.sqrt(discordance)
    alt_sd = math.sqrt(max(discordance - d * d, 0.0))
    signal = d * math.sqrt(n)
    bar = z * null_sd + (1.0 / math.sqrt(n) if continuity else 0.0)
    if alt_sd == 0.0:  # every item discordant, all one way: no sampling noise at all
        return 1.0 if signal > bar else 0.0
    upper = norm.cdf((signal - bar) / alt_sd)
    lower = norm.cdf((-signal - bar) / alt_sd)
    return float(min(1.0, upper + lower))


def mde_paired_binary(
    n: int,
    discordance: float,
    alpha: float = 0.05,
    power: float = 0.8,
    *,
    continuity: bool = True,
) -> float:
    """Smallest |Δ| that McNemar detects with the given power; ``math.inf`` if none can."""
    _check_power(power)

    def shortfall(d: float) -> float:
        return power_paired_binary(n, discordance, d, alpha, continuity=continuity) - power

    if shortfall(discordance) < 0.0:
        return math.inf
    return float(brentq(shortfall, 0.0, discordance, xtol=1e-12))


def paired_sd(baseline: np.ndarray, candidate: np.ndarray) -> float:
    """Sample SD (ddof=1) of the item differences, floored at √(3/n)."""
    diff = np.asarray(candidate, dtype=float) - np.asarray(baseline, dtype=float)
    if diff.ndim != 1 or diff.size == 0 or not np.all(np.isfinite(diff)):
        raise ValueError("paired_sd needs non-empty 1-D arrays of finite outcomes")
    observed = float(np.std(diff, ddof=1)) if diff.size > 1 else 0.0
    return max(observed, math.sqrt(discordance_floor(diff.size)))


def power_paired_score(n: int, sd_diff: float, delta: float, alpha: float = 0.05) -> float:
    """Power of the two-sided paired z-test on score differences with SD ``sd_diff``."""
    _check_n(n)
    _check_alpha(alpha)
    if not sd_diff > 0.0:
        raise ValueError(f"sd_diff must be positive, got {sd_diff!r}")
    z = norm.ppf(1.0 - alpha / 2)
    shift = abs(float(delta)) * math.sqrt(n) / sd_diff
    return float(min(1.0, norm.cdf(shift - z) + norm.cdf(-shift - z)))


def mde_paired_score(n: int, sd_diff: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest |Δ| the paired z-test detects with the given power; ``math.inf`` past 1."""
    _check_power(power)

    def shortfall(d: float) -> float:
        return power_paired_score(n, sd_diff, d, alpha) - power

    if shortfall(1.0) < 0.0:
        return math.inf  # scores live in [0, 1]: no Δ beyond 1 exists
    return float(brentq(shortfall, 0.0, 1.0, xtol=1e-12))


def detectable_effect(
    baseline: np.ndarray, candidate: np.ndarray, *, alpha: float = 0.05, power: float = 0.8
) -> DetectableEffect:
    """The MDE of one benchmark from its paired outcomes (binary → McNemar, else scores)."""
    base = np.asarray(baseline, dtype=float)
    cand = np.asarray(candidate, dtype=float)
    n = int(base.size)
    both = np.concatenate([base, cand])
    if n and np.all((both == 0.0) | (both == 1.0)):
        psi = discordance(base, cand)
        return DetectableEffect(
            kind="binary",
            n=n,
            alpha=alpha,
            power=power,
            mde=mde_paired_binary(n, psi, alpha, power),
            discordance=psi,
            floored=bool(np.mean(base != cand) < psi),
        )
    sd = paired_sd(base, cand)
    observed = float(np.std(cand - base, ddof=1)) if n > 1 else 0.0
    return DetectableEffect(
        kind="score",
        n=n,
        alpha=alpha,
        power=power,
        mde=mde_paired_score(n, sd, alpha, power),
        sd=sd,
        floored=observed < sd,
    )


def simulate_power_paired_binary(
    n: int,
    discordance: float,
    delta: float,
    alpha: float = 0.05,
    *,
    min_delta: float | None = None,
    reps: int = 20_000,
    seed: int = 0,
) -> float:
    """Power of McNemar exactly as promgate runs it (exact or χ² with correction), simulated.

    Each replicate draws n pairs with P(discordant) = ``discordance`` and
    P(candidate-only right) − P(baseline-only right) = ``delta``; the test rejects when
    p < alpha and, with ``min_delta``, the observed Δ is also at least ``min_delta`` (a
    policy's "Δ ≥ +2 pp and significant" rule).
    """
    _check_n(n)
    _check_discordance(discordance)
    _check_alpha(alpha)
    if abs(delta) > discordance + 1e-12:
        raise ValueError(f"|delta| = {abs(delta)} cannot exceed the discordance {discordance}")
    p01 = (discordance + delta) / 2
    p10 = (discordance - delta) / 2
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, [max(p10, 0.0), max(p01, 0.0), 1.0 - discordance], size=reps)
    b, c = draws[:, 0], draws[:, 1]
    key = b * (n + 1) + c
    uniq, inverse = np.unique(key, return_inverse=True)
    p = np.array([mcnemar_test(int(k // (n + 1)), int(k % (n + 1))).p_value for k in uniq])
    reject = p[inverse.reshape(-1)] < alpha
    if min_delta is not None:
        reject &= (c - b) / n >= min_delta - 1e-12
    return float(np.mean(reject))
