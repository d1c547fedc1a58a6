"""Constructed results suites and evidence for the gate, outputs, report and CLI tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from promgate.gates.policy import Policy, load_policy

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "conf" / "policy"

POLICY_DATA: dict[str, Any] = {
    "name": "test",
    "version": "1",
    "source": "unit test",
    "bootstrap": {"resamples": 2_000, "seed": 7},
    # Most constructed suites have few discordant items: warn, so verdicts stay visible.
    "testing": {"underpowered": "warn"},
    "failure_response": {
        "average_delta": "extend training",
        "per_benchmark": "investigate the regression",
        "blocked": "repair the evidence",
    },
}
POLICY = Policy.model_validate(POLICY_DATA)
BENCHES = ["arc", "mmlu"]


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` merged in, nested mappings key by key."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def policy_with(**changes: Any) -> Policy:
    return Policy.model_validate(merged(POLICY_DATA, changes))


def shipped(name: str, **changes: Any) -> Policy:
    """A shipped policy, optionally changed (e.g. fewer resamples to keep tests fast)."""
    policy = load_policy(SHIPPED / f"{name}.yaml")
    return Policy.model_validate(merged(policy.model_dump(mode="json"), changes))


def write_results(
    path: Path,
    bench: str,
    outcomes: Sequence[Any],
    model: str = "m",
    strata: Sequence[str] | None = None,
    *,
    clusters: Sequence[str] | None = None,
    confidence: Sequence[float] | None = None,
    samples: Sequence[tuple[int, int]] | None = None,
) -> None:
    """One ItemResult JSONL file: booleans become ``correct``, numbers ``score``.

    ``samples`` gives (n_samples, n_correct) per item, for pass@k.
    """
    path.mkdir(parents=True, exist_ok=True)
    with (path / f"{bench}.jsonl").open("w") as f:
        for i, v in enumerate(outcomes):
            row: dict[str, Any] = {"id": f"{bench}/{i}", "benchmark": bench, "model_id": model}
            if isinstance(v, (bool, np.bool_)):
                row["correct"] = bool(v)
            else:
                row["score"] = float(v)
            if strata is not None:
                row["stratum"] = strata[i]
            if clusters is not None:
                row["cluster"] = clusters[i]
            if confidence is not None:
                row["confidence"] = float(confidence[i])
            if samples is not None:
                row["n_samples"], row["n_correct"] = samples[i]
            f.write(json.dumps(row) + "\n")


def shifted(base: np.ndarray, k: int) -> np.ndarray:
    """k > 0 turns k baseline-wrong items right (Δ = +k/n); k < 0 turns |k| right items wrong."""
    cand = base.copy()
    cand[np.flatnonzero(~base if k > 0 else base)[: abs(k)]] = k > 0
    return cand


def suite(
    root: Path,
    shifts: dict[str, dict[str, int]],
    n: int = 400,
    benches: list[str] = BENCHES,
) -> dict[str, Path]:
    """Baseline right on even items; each candidate flips ``k`` items per benchmark."""
    base = np.arange(n) % 2 == 0
    for bench in benches:
        write_results(root / "baseline", bench, base)
    dirs = {}
    for cid, per_bench in shifts.items():
        for bench in benches:
            write_results(root / cid, bench, shifted(base, per_bench.get(bench, 0)))
        dirs[cid] = root / cid
    return dirs


def write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def miso_evidence(root: Path, candidates: Sequence[str], **changes: Any) -> None:
    """Every evidence file miso_v1 reads, all green unless ``changes`` (file -> dict) says."""
    files = {
        "metrics/repro.json": {"reproduced": True},
        "reports/preflight.json": {"passed": True, "blockers": 0},
        "metrics/contamination.json": {
            "dedupe_overlap_max": 0.01,
            "ngram8_overlap_max": 0.02,
            "semantic_similarity_max": 0.5,
        },
        "metrics/supply_chain.json": {
            "sbom_verified": True,
            "checkpoints_signed": True,
            "provenance_complete": True,
        },
        **{f"metrics/merge/{c}.json": {"max_abs_diff": 0.0} for c in candidates},
        **{
            f"metrics/safety/{c}.json": {
                "redteam_findings": 0,
                "jailbreak_smoke_failures": 0,
                "pii_tos_violations": 0,
            }
            for c in candidates
        },
    }
    for rel, data in files.items():
        write_json(root / rel, {**data, **changes.get(rel, {})})
