"""Properties of the gate (hypothesis): bad evidence never yields GO; item order never matters."""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gate_helpers import BENCHES, policy_with, shifted, write_results
from promgate.gates.evaluate import evaluate_promotion
from promgate.gates.outcome import Decision

# A policy that says GO on the clean suite below, so any non-GO comes from the corruption.
POLICY = policy_with(bootstrap={"resamples": 1_000})
N = 120
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _clean(root: Path) -> None:
    base = np.arange(N) % 2 == 0
    for bench in BENCHES:
        write_results(root / "baseline", bench, base, strata=["a", "b"] * (N // 2))
        write_results(root / "c", bench, shifted(base, 12), strata=["a", "b"] * (N // 2))


def _rows(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _put(path: Path, rows: list[str]) -> None:
    path.write_text("".join(r + "\n" for r in rows))


def _edit_row(path: Path, index: int, **changes) -> None:
    rows = _rows(path)
    row = json.loads(rows[index % len(rows)])
    row.update(changes)
    rows[index % len(rows)] = json.dumps(row).replace('"__nan__"', "NaN")
    _put(path, rows)


def _corrupt(root: Path, kind: str, side: str, bench: str, index: int) -> None:
    path = root / side / f"{bench}.jsonl"
    rows = _rows(path)
    i = index % len(rows)
    if kind == "missing_file":
        path.unlink()
    elif kind == "empty_file":
        path.write_text("")
    elif kind == "drop_candidate_item":  # the candidate lacks an item the baseline has
        _put(
            root / "c" / f"{bench}.jsonl",
            [r for j, r in enumerate(_rows(root / "c" / f"{bench}.jsonl")) if j != i],
        )
    elif kind == "duplicate_id":
        _put(path, [*rows, rows[i]])
    elif kind == "malformed_json":
        _put(path, [*rows[:i], rows[i][: len(rows[i]) // 2], *rows[i + 1 :]])
    elif kind == "not_an_object":
        _put(path, [*rows[:i], "[1, 2]", *rows[i + 1 :]])
    elif kind == "nan_score":
        _edit_row(path, i, correct=None, score="__nan__")
    elif kind == "score_out_of_range":
        _edit_row(path, i, correct=None, score=1.5)
    elif kind == "no_outcome":
        _edit_row(path, i, correct=None)
    elif kind == "wrong_benchmark":
        _edit_row(path, i, benchmark="other")
    elif kind == "stratum_mismatch":
        _edit_row(path, i, stratum="zzz")
    elif kind == "unknown_field":
        _edit_row(path, i, vibes=1)
    elif kind == "binary_garbage":
        path.write_bytes(b"\xff\xfe\x00garbage")
    else:  # pragma: no cover
        raise AssertionError(kind)


KINDS = [
    "missing_file",
    "empty_file",
    "drop_candidate_item",
    "duplicate_id",
    "malformed_json",
    "not_an_object",
    "nan_score",
    "score_out_of_range",
    "no_outcome",
    "wrong_benchmark",
    "stratum_mismatch",
    "unknown_field",
    "binary_garbage",
]


def test_the_clean_suite_is_go():
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _clean(root)
        report = evaluate_promotion(root / "baseline", {"c": root / "c"}, BENCHES, POLICY)
        assert report.decision is Decision.GO


@FAST
@given(
    corruptions=st.lists(
        st.tuples(
            st.sampled_from(KINDS),
            st.sampled_from(["baseline", "c"]),
            st.sampled_from(BENCHES),
            st.integers(min_value=0, max_value=10_000),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_missing_misaligned_or_malformed_evidence_is_never_go(corruptions):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _clean(root)
        done: set[tuple[str, str]] = set()
        for kind, side, bench, index in corruptions:
            # Both are relations between the files: made on the candidate's side only, so
            # the same edit on both sides cannot cancel out.
            side = "c" if kind in ("drop_candidate_item", "stratum_mismatch") else side
            if (side, bench) in done:
                continue  # a file corrupted once stays corrupt; one fault per file is enough
            _corrupt(root, kind, side, bench, index)
            done.add((side, bench))
        report = evaluate_promotion(root / "baseline", {"c": root / "c"}, BENCHES, POLICY)
        assert report.decision is not Decision.GO, corruptions
        assert report.decision is Decision.BLOCKED


def _random_suite(root: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for bench in BENCHES:
        n = int(rng.integers(20, 80))
        strata = [f"s{k}" for k in rng.integers(0, 3, n)]
        clusters = [f"{strata[i]}-k{int(rng.integers(0, n // 2))}" for i in range(n)]
        conf = rng.uniform(0, 1, n)
        base = rng.random(n) < 0.5
        cand = np.where(rng.random(n) < 0.2, ~base, base)
        kwargs = {"strata": strata, "clusters": clusters, "confidence": conf}
        if bench == "mmlu" and seed % 2:  # fractional scores on some draws
            write_results(root / "baseline", bench, rng.uniform(0, 1, n), **kwargs)
            write_results(root / "c", bench, rng.uniform(0, 1, n), **kwargs)
        else:
            write_results(root / "baseline", bench, base, **kwargs)
            write_results(root / "c", bench, cand, **kwargs)


def _shuffle_lines(root: Path, seed: int) -> None:
    rng = random.Random(seed)
    for path in sorted(root.rglob("*.jsonl")):
        rows = _rows(path)
        rng.shuffle(rows)
        _put(path, rows)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data_seed=st.integers(0, 2**31), order_seed=st.integers(0, 2**31))
def test_shuffling_item_order_never_changes_gate_json(data_seed, order_seed):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _random_suite(root, data_seed)
        before = evaluate_promotion(root / "baseline", {"c": root / "c"}, BENCHES, POLICY)
        _shuffle_lines(root, order_seed)
        after = evaluate_promotion(root / "baseline", {"c": root / "c"}, BENCHES, POLICY)
        assert after.model_dump_json() == before.model_dump_json()
