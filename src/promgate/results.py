"""The ItemResult record: one model's outcome on one item; what every gate consumes."""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from promgate.io import read_models, write_jsonl


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

    @property
    def value(self) -> float:
        """The outcome on [0, 1]: ``score`` when present, else ``correct`` as 0/1."""
        return float(self.score) if self.score is not None else float(bool(self.correct))


def read_results(path: str | Path) -> list[ItemResult]:
    """Read and validate a results file; the first bad row is named by line and field."""
    return read_models(path, ItemResult)


def write_results(path: str | Path, results: list[ItemResult]) -> None:
    write_jsonl(path, (r.model_dump(exclude_none=True) for r in results))
