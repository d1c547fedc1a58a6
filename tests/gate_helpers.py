"""Constructed results suites for the gate, outputs and report tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from promgate.gates.policy import Policy

POLICY = Policy.model_validate(
    {
        "name": "test",
        "version": "1",
        "source": "unit test",
        "bootstrap": {"resamples": 2_000, "seed": 7},
        "failure_response": {
            "average_delta": "extend training",
            "per_benchmark": "investigate the regression",
            "blocked": "repair the evidence",
        },
    }
)
BENCHES = ["arc", "mmlu"]


def write_results(path: Path, bench: str, outcomes, model: str = "m", strata=None) -> None:
    """One ItemResult JSONL file: booleans become ``correct``, numbers ``score``."""
    path.mkdir(parents=True, exist_ok=True)
    with (path / f"{bench}.jsonl").open("w") as f:
        for i, v in enumerate(outcomes):
            row = {"id": f"{bench}/{i}", "benchmark": bench, "model_id": model}
            if isinstance(v, (bool, np.bool_)):
                row["correct"] = bool(v)
            else:
                row["score"] = float(v)
            if strata is not None:
                row["stratum"] = strata[i]
            f.write(json.dumps(row) + "\n")


def suite(
    root: Path,
    shifts: dict[str, dict[str, int]],
    n: int = 400,
    benches: list[str] = BENCHES,
) -> dict[str, Path]:
    """Baseline right on even items; each candidate flips ``k`` items per benchmark.

    k > 0 turns k baseline-wrong items right (Δ = +k/n); k < 0 turns |k| right items wrong.
    """
    base = np.arange(n) % 2 == 0
    for bench in benches:
        write_results(root / "baseline", bench, base)
    dirs = {}
    for cid, per_bench in shifts.items():
        for bench in benches:
            cand = base.copy()
            k = per_bench.get(bench, 0)
            cand[np.flatnonzero(~base if k > 0 else base)[: abs(k)]] = k > 0
            write_results(root / cid, bench, cand)
        dirs[cid] = root / cid
    return dirs
