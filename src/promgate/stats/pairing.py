"""Pair a baseline's and a candidate's per-item results on one benchmark by item id.

Pairing is where silent bias creeps in (a candidate that crashed on the hard items looks
better on the rest), so every mismatch is an AlignmentError: duplicate ids, baseline items
the candidate lacks, and items whose stratum differs between the two files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from promgate.errors import AlignmentError
from promgate.results import ItemResult

# How many offending ids an error message lists before it only gives the count.
_SHOW_IDS = 5


@dataclass(frozen=True)
class Coverage:
    """How much of each side took part in the pairing."""

    n_baseline: int
    n_candidate: int
    n_paired: int

    @property
    def candidate_only(self) -> int:
        """Candidate items with no baseline counterpart (reported, not compared)."""
        return self.n_candidate - self.n_paired


@dataclass(frozen=True)
class PairedSample:
    """Aligned per-item outcomes, sorted by item id so results never depend on file order.

    ``strata`` and ``clusters`` are string arrays; an item without one gets "".
    """

    benchmark: str
    ids: np.ndarray
    baseline: np.ndarray
    candidate: np.ndarray
    strata: np.ndarray
    clusters: np.ndarray
    coverage: Coverage

    @property
    def n(self) -> int:
        return int(self.ids.size)

    @property
    def is_binary(self) -> bool:
        """True when both sides are 0/1 outcomes (then the exact cell bootstrap applies)."""
        both = np.concatenate([self.baseline, self.candidate])
        return bool(np.all((both == 0.0) | (both == 1.0)))


def _few(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:_SHOW_IDS])
    more = f" (and {len(ids) - _SHOW_IDS} more)" if len(ids) > _SHOW_IDS else ""
    return f"{shown}{more}"


def _index(results: Sequence[ItemResult], source: str | Path) -> dict[str, ItemResult]:
    counts = Counter(r.id for r in results)
    dupes = sorted(i for i, k in counts.items() if k > 1)
    if dupes:
        raise AlignmentError(
            f"{len(dupes)} duplicate item id(s): {_few(dupes)}", path=source, field="id"
        )
    return {r.id: r for r in results}


def _check_benchmark(results: Sequence[ItemResult], benchmark: str, source: str | Path) -> None:
    wrong = sorted(r.id for r in results if r.benchmark != benchmark)
    if wrong:
        raise AlignmentError(
            f"{len(wrong)} item(s) are not from benchmark '{benchmark}': {_few(wrong)}",
            path=source,
            field="benchmark",
        )


def pair_results(
    baseline: Sequence[ItemResult],
    candidate: Sequence[ItemResult],
    *,
    benchmark: str,
    baseline_source: str | Path = "baseline",
    candidate_source: str | Path = "candidate",
) -> PairedSample:
    """Align two result lists of ``benchmark`` by id; the sources name files in errors."""
    _check_benchmark(baseline, benchmark, baseline_source)
    _check_benchmark(candidate, benchmark, candidate_source)
    base = _index(baseline, baseline_source)
    cand = _index(candidate, candidate_source)

    missing = sorted(set(base) - set(cand))
    if missing:
        raise AlignmentError(
            f"{len(missing)} baseline item id(s) missing from the candidate: {_few(missing)}",
            path=candidate_source,
            field="id",
        )
    ids = sorted(base)
    # The stratum is a property of the item, so both files must agree on it.
    clash = [i for i in ids if (base[i].stratum or "") != (cand[i].stratum or "")]
    if clash:
        raise AlignmentError(
            f"{len(clash)} item(s) have a different stratum than in {baseline_source}: "
            f"{_few(clash)}",
            path=candidate_source,
            field="stratum",
        )

    return PairedSample(
        benchmark=benchmark,
        ids=np.array(ids, dtype=str),
        baseline=np.array([base[i].value for i in ids], dtype=float),
        candidate=np.array([cand[i].value for i in ids], dtype=float),
        strata=np.array([base[i].stratum or "" for i in ids], dtype=str),
        clusters=np.array([base[i].cluster or "" for i in ids], dtype=str),
        coverage=Coverage(n_baseline=len(base), n_candidate=len(cand), n_paired=len(ids)),
    )
