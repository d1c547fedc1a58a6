"""Item flips (fixed / broken) and the per-stratum error profile."""

from __future__ import annotations

import pytest

from promgate.results import ItemResult
from promgate.stats.flips import item_flips, stratum_profile
from promgate.stats.mcnemar import mcnemar_from_pairs
from promgate.stats.pairing import pair_results


def _r(i, value, stratum=None):
    outcome = {"correct": value} if isinstance(value, bool) else {"score": value}
    return ItemResult(id=f"arc/{i}", benchmark="arc", model_id="m", stratum=stratum, **outcome)


def _sample():
    # (id, stratum, baseline, candidate)
    rows = [
        (1, "easy", True, True),
        (2, "easy", False, True),  # fixed
        (3, "easy", False, True),  # fixed
        (4, "easy", True, False),  # broken
        (5, "hard", True, False),  # broken
        (6, "hard", False, False),
        (7, "hard", True, True),
        (8, None, False, True),  # fixed
    ]
    base = [_r(i, b, s) for i, s, b, _ in rows]
    cand = [_r(i, c, s) for i, s, _, c in reversed(rows)]
    return pair_results(base, cand, benchmark="arc")


def test_fixed_and_broken_ids():
    flips = item_flips(_sample())
    assert flips.fixed == ("arc/2", "arc/3", "arc/8")
    assert flips.broken == ("arc/4", "arc/5")
    assert flips.net == 1 and flips.n == 8


def test_flip_counts_are_mcnemars_discordant_cells():
    s = _sample()
    flips, test = item_flips(s), mcnemar_from_pairs(s.baseline, s.candidate)
    assert (len(flips.broken), len(flips.fixed)) == (test.b, test.c)


def test_stratum_profile():
    rows = {p.stratum: p for p in stratum_profile(_sample())}
    assert list(rows) == ["", "easy", "hard"]
    easy = rows["easy"]
    assert (easy.n, easy.baseline, easy.candidate) == (4, 0.5, 0.75)
    assert (easy.delta, easy.fixed, easy.broken) == (0.25, 2, 1)
    hard = rows["hard"]
    assert hard.baseline == pytest.approx(2 / 3) and hard.candidate == pytest.approx(1 / 3)
    assert (hard.fixed, hard.broken) == (0, 1)
    assert (rows[""].n, rows[""].delta) == (1, 1.0)
    # The strata add back up to the whole.
    total = sum(p.n * p.delta for p in rows.values()) / 8
    s = _sample()
    assert total == pytest.approx(s.candidate.mean() - s.baseline.mean())


def test_scores_get_a_profile_without_flips():
    base = [_r(1, 0.2, "a"), _r(2, 0.4, "a"), _r(3, 1.0, "b")]
    cand = [_r(1, 0.6, "a"), _r(2, 0.4, "a"), _r(3, 0.5, "b")]
    s = pair_results(base, cand, benchmark="arc")
    rows = stratum_profile(s)
    assert [(p.stratum, p.fixed, p.broken) for p in rows] == [("a", None, None), ("b", None, None)]
    assert rows[0].delta == pytest.approx(0.2) and rows[1].delta == pytest.approx(-0.5)
    with pytest.raises(ValueError, match="binary"):
        item_flips(s)


def test_empty_sample():
    s = pair_results([], [], benchmark="arc")
    assert item_flips(s).fixed == () and stratum_profile(s) == []
