"""Item-level flips and the error profile by stratum: where the Δ comes from.

A +1 pp net gain can be 10 items fixed and 9 broken, or 1 fixed and 0 broken; the two call
for different reviews. ``item_flips`` names the items (sorted ids, as PairedSample keeps
them): fixed = baseline wrong → candidate right (McNemar's c), broken = right → wrong (b).

``stratum_profile`` breaks the paired sample down by stratum (difficulty, domain, ...): n,
baseline and candidate accuracy (mean score for non-binary outcomes), Δ, and the fixed and
broken counts (None for non-binary outcomes, where right and wrong are not defined). A
candidate that gains on easy items and loses on hard ones shows up here even when the
overall Δ is flat: that is the drift of the error profile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from promgate.stats.pairing import PairedSample


@dataclass(frozen=True)
class Flips:
    fixed: tuple[str, ...]  # baseline wrong, candidate right
    broken: tuple[str, ...]  # baseline right, candidate wrong
    n: int

    @property
    def net(self) -> int:
        return len(self.fixed) - len(self.broken)


@dataclass(frozen=True)
class StratumProfile:
    stratum: str  # "" for items without a stratum
    n: int
    baseline: float
    candidate: float
    delta: float  # candidate − baseline, proportion units
    fixed: int | None
    broken: int | None


def item_flips(sample: PairedSample) -> Flips:
    """The ids the candidate fixed and broke; binary outcomes only."""
    if sample.n and not sample.is_binary:
        raise ValueError(
            f"{sample.benchmark}: flips need binary outcomes (correct right/wrong), not scores"
        )
    fixed = (sample.baseline == 0.0) & (sample.candidate == 1.0)
    broken = (sample.baseline == 1.0) & (sample.candidate == 0.0)
    return Flips(
        fixed=tuple(str(i) for i in sample.ids[fixed]),
        broken=tuple(str(i) for i in sample.ids[broken]),
        n=sample.n,
    )


def stratum_profile(sample: PairedSample) -> list[StratumProfile]:
    """Per stratum, sorted by label: n, accuracies, Δ, and fixed / broken counts."""
    binary = sample.is_binary
    rows = []
    for label in np.unique(sample.strata):
        mask = sample.strata == label
        base, cand = sample.baseline[mask], sample.candidate[mask]
        rows.append(
            StratumProfile(
                stratum=str(label),
                n=int(mask.sum()),
                baseline=float(base.mean()),
                candidate=float(cand.mean()),
                delta=float(np.mean(cand - base)),
                fixed=int(np.sum((base == 0.0) & (cand == 1.0))) if binary else None,
                broken=int(np.sum((base == 1.0) & (cand == 0.0))) if binary else None,
            )
        )
    return rows
