"""Stratified sampling: deterministic, proportional, every stratum represented."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from promgate.data.sampling import allocate, stratified_sample
from promgate.data.schema import Item


def make_items(sizes: dict[str, int]) -> list[Item]:
    items = []
    for stratum, size in sizes.items():
        for i in range(size):
            items.append(
                Item(
                    id=f"toy/{stratum}-{i:04d}",
                    benchmark="toy",
                    split="test",
                    kind="generate",
                    prompt=f"q {stratum} {i}",
                    target=str(i),
                    metadata={"source": "toy", "stratum": stratum, "license": "MIT"},
                )
            )
    return items


SIZES = {"big": 600, "mid": 300, "small": 90, "tiny": 9, "one": 1}


def ids(items: list[Item]) -> list[str]:
    return [it.id for it in items]


def test_deterministic_for_a_seed_and_independent_of_input_order() -> None:
    items = make_items(SIZES)
    first = stratified_sample(items, 100, seed=7)
    shuffled = items[:]
    random.Random(3).shuffle(shuffled)
    assert ids(stratified_sample(shuffled, 100, seed=7)) == ids(first)
    assert ids(stratified_sample(items, 100, seed=8)) != ids(first)


def test_sorted_by_id_and_no_duplicates() -> None:
    out = stratified_sample(make_items(SIZES), 100, seed=1)
    assert ids(out) == sorted(ids(out))
    assert len(set(ids(out))) == len(out) == 100


def test_proportional_within_one_item() -> None:
    items = make_items(SIZES)
    total = len(items)
    for n in (10, 57, 100, 333, 999):
        counts = Counter(it.metadata.stratum for it in stratified_sample(items, n, seed=0))
        assert sum(counts.values()) == n
        for stratum, size in SIZES.items():
            quota = n * size / total
            # the >= 1 floor may lift a tiny stratum above its quota; nothing else moves by > 1
            assert counts[stratum] <= max(1, quota + 1)
            if stratum not in ("one", "tiny"):
                assert abs(counts[stratum] - quota) <= 1.5, (n, stratum, counts)


def test_every_stratum_gets_one_when_n_allows() -> None:
    items = make_items(SIZES)
    out = stratified_sample(items, len(SIZES), seed=0)
    assert Counter(it.metadata.stratum for it in out) == dict.fromkeys(SIZES, 1)
    out = stratified_sample(items, 20, seed=5)
    assert set(Counter(it.metadata.stratum for it in out)) == set(SIZES)


def test_fewer_items_than_strata_is_still_exact() -> None:
    out = stratified_sample(make_items(SIZES), 3, seed=0)
    assert len(out) == 3


@pytest.mark.parametrize("n", [-1, 1000, 5000])
def test_all_items_when_n_is_minus_one_or_large(n: int) -> None:
    items = make_items(SIZES)
    out = stratified_sample(list(reversed(items)), n, seed=0)
    assert ids(out) == sorted(ids(items))


def test_zero_and_invalid_n() -> None:
    assert stratified_sample(make_items(SIZES), 0, seed=0) == []
    with pytest.raises(ValueError):
        stratified_sample(make_items(SIZES), -2, seed=0)


def test_allocation_sums_to_n_and_respects_sizes() -> None:
    rng = random.Random(11)
    for _ in range(300):
        sizes = {f"s{i}": rng.randint(1, 50) for i in range(rng.randint(1, 12))}
        n = rng.randint(0, sum(sizes.values()))
        alloc = allocate(sizes, n)
        assert sum(alloc.values()) == n
        assert all(0 <= alloc[s] <= sizes[s] for s in sizes)
        if n >= len(sizes):
            assert all(v >= 1 for v in alloc.values())
