"""The ItemResult record: one model's outcome on one item; what every gate consumes."""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from promgate.io import read_models, write_json, write_jsonl


class ItemResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    benchmark: str
    model_id: str
    stratum: str | None = None
    cluster: str | None = None
    correct: bool | None = None
    score: float | None = None
    n_samples: int = 1
    n_correct: int | None = None
    prediction: str | None = None
    target: str | None = None
    choice_logprobs: list[float] | None = None
    confidence: float | None = None
    error: str | None = None
    # Executed code: unbiased pass@k from n_samples / n_correct ("pass@1", "pass@10"), each
    # k <= n_samples; checked against them, so it can never disagree with them.
    pass_at: dict[str, float] | None = None

    @field_validator("score", "confidence")
    @classmethod
    def _unit_interval(cls, value: float | None) -> float | None:
        if value is None:
            return value
        if math.isnan(value) or not 0.0 <= value <= 1.0:
            raise ValueError(f"must be a number in [0, 1], got {value!r}")
        return value

    @model_validator(mode="after")
    def _needs_outcome(self) -> ItemResult:
        if self.correct is None and self.score is None:
            raise ValueError("an ItemResult needs 'correct' or 'score'")
        return self

    @model_validator(mode="after")
    def _pass_at_agrees(self) -> ItemResult:
        for key, value in (self.pass_at or {}).items():
            k = key.removeprefix("pass@")
            if not k.isdigit() or self.n_correct is None or int(k) > self.n_samples:
                raise ValueError(f"pass_at.{key}: needs a 'pass@k' key, n_correct, k <= n_samples")
            if abs(value - pass_at_k(self.n_samples, self.n_correct, int(k))) > 1e-9:
                raise ValueError(f"pass_at.{key} = {value} disagrees with n_samples/n_correct")
        return self

    @property
    def value(self) -> float:
        """The outcome on [0, 1]: ``score`` when present, else ``correct`` as 0/1."""
        return float(self.score) if self.score is not None else float(bool(self.correct))


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c passed (Chen et al., 2021)."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if n < k:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def read_results(path: str | Path) -> list[ItemResult]:
    """Read and validate a results file; the first bad row is named by line and field."""
    return read_models(path, ItemResult)


def write_results(path: str | Path, results: list[ItemResult]) -> None:
    write_jsonl(path, (r.model_dump(exclude_none=True) for r in results))


UNAVAILABLE_FILE = "UNAVAILABLE.json"


class Unavailable(BaseModel):
    """``<results dir>/UNAVAILABLE.json``: a model that has no results, and why.

    Written instead of results when there is no model to evaluate (its training diverged,
    say). The gate reports every benchmark of that model BLOCKED with ``reason`` (a gate
    reason code) and ``message``; ``evidence`` maps each file that records the cause to its
    sha256.
    """

    model_config = ConfigDict(extra="forbid")

    model_id: str
    reason: str
    message: str
    evidence: dict[str, str]


def write_unavailable(results_dir: str | Path, marker: Unavailable) -> None:
    """Record why ``results_dir`` holds no results; results left from an earlier run go."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    for stale in results_dir.glob("*.jsonl"):
        stale.unlink()
    write_json(results_dir / UNAVAILABLE_FILE, marker.model_dump())
