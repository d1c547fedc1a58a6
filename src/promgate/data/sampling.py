"""Seeded, stratified subsampling of prepared items.

Proportional allocation keeps each stratum's share of the sample close to its share of the
benchmark, so a small profile still measures the same mix the full benchmark does.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from promgate.data.schema import Item


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Split ``n`` over strata in proportion to ``sizes`` (largest remainder method).

    When ``n`` is at least the number of non-empty strata, every one gets at least one item;
    the extra seats come from the strata served most above their exact quota.
    """
    names = sorted(s for s, size in sizes.items() if size > 0)
    total = sum(sizes[s] for s in names)
    if n <= 0 or total == 0:
        return {s: 0 for s in names}
    if n >= total:
        return {s: sizes[s] for s in names}
    quota = {s: n * sizes[s] / total for s in names}
    alloc = {s: math.floor(quota[s]) for s in names}
    # Ties go to the larger stratum, then by name, so the result never depends on dict order.
    by_remainder = sorted(names, key=lambda s: (-(quota[s] - alloc[s]), -sizes[s], s))
    for s in by_remainder[: n - sum(alloc.values())]:
        alloc[s] += 1
    if n >= len(names):
        for s in names:
            if alloc[s] == 0:
                donor = max(
                    (d for d in names if alloc[d] > 1),
                    key=lambda d: (alloc[d] - quota[d], alloc[d], d),
                )
                alloc[donor] -= 1
                alloc[s] = 1
    return alloc


def stratified_sample(items: Sequence[Item] | Iterable[Item], n: int, seed: int) -> list[Item]:
    """``n`` items drawn per stratum (``metadata.stratum``); ``n == -1`` keeps all.

    The draw depends only on the set of items and the seed, not on their input order, and
    the result is sorted by id so written files are stable.
    """
    items = list(items)
    if n < -1:
        raise ValueError(f"n must be -1 (all) or >= 0, got {n}")
    if n == -1 or n >= len(items):
        return sorted(items, key=lambda it: it.id)
    strata: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        strata[item.metadata.stratum].append(item)
    alloc = allocate({s: len(members) for s, members in strata.items()}, n)
    rng = np.random.default_rng(seed)
    chosen: list[Item] = []
    for name in sorted(strata):
        members = sorted(strata[name], key=lambda it: it.id)
        k = alloc[name]
        if k == len(members):
            chosen.extend(members)
        elif k > 0:
            picks = rng.choice(len(members), size=k, replace=False)
            chosen.extend(members[i] for i in sorted(picks.tolist()))
    return sorted(chosen, key=lambda it: it.id)
