"""Holm / BH adjustment across benchmarks, against statsmodels and by its properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from promgate.stats.multiplicity import _without_full_collect, adjust_pvalues

_P = st.floats(0.0, 1.0, allow_nan=False)
_FAMILY = st.dictionaries(st.text("abcdefgh", min_size=1, max_size=4), st.none() | _P, max_size=9)


def test_holm_by_hand():
    adj = adjust_pvalues({"arc": 0.01, "gsm": 0.04, "mmlu": 0.03}, "holm")
    # sorted 0.01, 0.03, 0.04 → 3·0.01, max(0.03, 2·0.03), max(0.06, 1·0.04)
    assert adj == pytest.approx({"arc": 0.03, "gsm": 0.06, "mmlu": 0.06})


def test_bh_by_hand():
    adj = adjust_pvalues({"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.20}, "bh")
    # ranks 1..4: 0.01·4/1, 0.03·4/2, 0.04·4/3, 0.20 → step-up minimum from the top
    # c: min(0.03·4/2, b's 0.04·4/3) = 0.0533
    assert adj == pytest.approx({"a": 0.04, "b": 0.04 * 4 / 3, "c": 0.04 * 4 / 3, "d": 0.20})


@pytest.mark.parametrize(("ours", "theirs"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_matches_multipletests_on_random_families(ours, theirs):
    rng = np.random.default_rng(3)
    for _ in range(300):
        m = int(rng.integers(1, 12))
        raw = rng.uniform(0, 1, m) ** rng.uniform(0.5, 6)  # many small p-values too
        names = [f"bench{i}" for i in range(m)]
        adj = adjust_pvalues(dict(zip(names, raw, strict=True)), ours)
        with _without_full_collect():  # the reference pays statsmodels' gc.collect() too
            expected = multipletests(raw, method=theirs)[1]
        assert [adj[k] for k in names] == pytest.approx(list(expected), rel=1e-12)


@pytest.mark.parametrize("method", ["none", "holm", "bh"])
def test_none_passes_through_and_is_not_in_the_family(method):
    with_gaps = {"a": 0.01, "swe": None, "b": 0.02, "c": None}
    without = {"a": 0.01, "b": 0.02}
    adj = adjust_pvalues(with_gaps, method)
    assert list(adj) == list(with_gaps)  # same keys, same order
    assert adj["swe"] is None and adj["c"] is None
    assert {k: adj[k] for k in without} == adjust_pvalues(without, method)


def test_holm_family_size_ignores_untestable_benchmarks():
    # Two tested benchmarks: Holm multiplies the smallest by 2, not by 4.
    adj = adjust_pvalues({"a": 0.02, "b": 0.5, "x": None, "y": None}, "holm")
    assert adj["a"] == pytest.approx(0.04)


def test_all_untestable_and_empty_families():
    assert adjust_pvalues({"a": None}, "holm") == {"a": None}
    assert adjust_pvalues({}, "bh") == {}


@pytest.mark.parametrize("bad", [float("nan"), -0.1, 1.5, True])
def test_invalid_p_values_are_refused_by_name(bad):
    with pytest.raises(ValueError, match="'gsm'"):
        adjust_pvalues({"arc": 0.5, "gsm": bad}, "holm")


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="method must be one of"):
        adjust_pvalues({"a": 0.1}, "bonferroni")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(family=_FAMILY, method=st.sampled_from(["none", "holm", "bh"]))
def test_adjusted_p_is_at_least_raw_at_most_one_and_order_preserving(family, method):
    adj = adjust_pvalues(family, method)
    tested = [k for k, p in family.items() if p is not None]
    for k in family:
        if family[k] is None:
            assert adj[k] is None
            continue
        assert family[k] <= adj[k] <= 1.0
    for i in tested:
        for j in tested:
            if family[i] <= family[j]:
                assert adj[i] <= adj[j]


@settings(max_examples=150, deadline=None)
@given(family=_FAMILY, data=st.data())
def test_holm_is_at_least_bh_and_order_of_keys_does_not_matter(family, data):
    holm, bh = adjust_pvalues(family, "holm"), adjust_pvalues(family, "bh")
    for k, p in family.items():
        if p is not None:
            assert holm[k] >= bh[k] - 1e-15
    keys = data.draw(st.permutations(list(family)))
    shuffled = adjust_pvalues({k: family[k] for k in keys}, "holm")
    assert all(
        (shuffled[k] is None and holm[k] is None) or math.isclose(shuffled[k], holm[k])
        for k in family
    )


def test_gc_state_is_left_as_found():
    import gc

    before = gc.get_freeze_count()  # other tests' imports may have frozen objects already
    adjust_pvalues({"a": 0.01, "b": 0.2}, "holm")
    assert gc.get_freeze_count() == before
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        adjust_pvalues({"a": 0.01, "b": 0.2}, "holm")
        assert gc.get_freeze_count() == frozen  # someone else's freeze is not undone
    finally:
        gc.unfreeze()
