"""Pairing baseline and candidate results by item id."""

from __future__ import annotations

import numpy as np
import pytest

from promgate.errors import AlignmentError
from promgate.results import ItemResult
from promgate.stats.pairing import pair_results


def _r(i: str, value: float | bool, stratum: str | None = None, bench: str = "arc") -> ItemResult:
    outcome = {"correct": value} if isinstance(value, bool) else {"score": value}
    return ItemResult(id=i, benchmark=bench, model_id="m", stratum=stratum, **outcome)


def test_pairs_by_id_in_sorted_order_whatever_the_file_order():
    base = [_r("arc/2", True, "hard"), _r("arc/1", False, "easy"), _r("arc/3", True)]
    cand = [_r("arc/3", False), _r("arc/1", True, "easy"), _r("arc/2", True, "hard")]
    s = pair_results(base, cand, benchmark="arc")
    assert s.ids.tolist() == ["arc/1", "arc/2", "arc/3"]
    assert s.baseline.tolist() == [0.0, 1.0, 1.0]
    assert s.candidate.tolist() == [1.0, 1.0, 0.0]
    assert s.strata.tolist() == ["easy", "hard", ""]
    assert s.n == 3 and s.is_binary
    assert (s.coverage.n_baseline, s.coverage.n_candidate, s.coverage.n_paired) == (3, 3, 3)


def test_extra_candidate_items_are_counted_not_compared():
    base = [_r("arc/1", True)]
    cand = [_r("arc/1", True), _r("arc/9", False)]
    s = pair_results(base, cand, benchmark="arc")
    assert s.n == 1
    assert s.coverage.n_candidate == 2 and s.coverage.candidate_only == 1


def test_scores_make_a_non_binary_sample():
    s = pair_results([_r("arc/1", 0.25)], [_r("arc/1", 1.0)], benchmark="arc")
    assert not s.is_binary
    assert s.candidate[0] - s.baseline[0] == pytest.approx(0.75)


def test_missing_candidate_item_names_file_ids_and_count():
    base = [_r(f"arc/{i}", True) for i in range(10)]
    cand = [_r("arc/0", True), _r("arc/1", True)]
    with pytest.raises(AlignmentError) as info:
        pair_results(base, cand, benchmark="arc", candidate_source="results/c/arc.jsonl")
    err = info.value
    assert err.path == "results/c/arc.jsonl" and err.field == "id"
    assert "8 baseline item id(s) missing" in str(err)
    assert "arc/2" in str(err) and "(and 3 more)" in str(err)


@pytest.mark.parametrize("side", ["baseline", "candidate"])
def test_duplicate_ids_name_the_file_they_are_in(side):
    good = [_r("arc/1", True), _r("arc/2", False)]
    dup = [*good, _r("arc/2", True)]
    base, cand = (dup, good) if side == "baseline" else (good, dup)
    with pytest.raises(AlignmentError) as info:
        pair_results(
            base, cand, benchmark="arc", baseline_source="B.jsonl", candidate_source="C.jsonl"
        )
    assert info.value.path == ("B.jsonl" if side == "baseline" else "C.jsonl")
    assert "duplicate" in str(info.value) and "arc/2" in str(info.value)


def test_stratum_disagreement_is_an_alignment_error():
    with pytest.raises(AlignmentError) as info:
        pair_results([_r("arc/1", True, "a")], [_r("arc/1", True, "b")], benchmark="arc")
    assert info.value.field == "stratum"


def test_results_of_another_benchmark_are_rejected():
    with pytest.raises(AlignmentError) as info:
        pair_results([_r("x/1", True, bench="mmlu")], [_r("x/1", True)], benchmark="arc")
    assert info.value.field == "benchmark"


def test_empty_inputs_give_an_empty_sample():
    s = pair_results([], [], benchmark="arc")
    assert s.n == 0 and isinstance(s.baseline, np.ndarray)
