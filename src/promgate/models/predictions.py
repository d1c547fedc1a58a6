"""Predictions already written by another system, as a backend: promgate scores, nothing runs.

A folder holds ``<benchmark>.jsonl`` files, one line per item::

    {"id": "arc_easy/Mercury_7175875", "choice_logprobs": [-4.1, -2.3, -6.0, -5.2]}
    {"id": "gsm8k/17", "prediction": "... so she pays 18 dollars. #### 18"}

``choice_logprobs`` answers multiple-choice items (one summed log-likelihood per choice, in
the item's choice order); ``prediction`` is the generated text of a generative or code item,
which promgate then extracts, matches or runs in the sandbox exactly as it does its own
generations. An item the evaluation asks for and no file holds is an error naming the item:
a missing prediction never becomes a wrong answer or a skipped item.

Answers are looked up by item id, so this backend is never cached (two items with the same
text may have different predictions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from promgate.errors import MissingEvidenceError, SchemaError
from promgate.io import iter_jsonl, sha256_tree
from promgate.models.backend import BackendIdentity, GenerationRequest, LoglikelihoodRequest


class PredictionRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    benchmark: str | None = None
    choice_logprobs: list[float] | None = None
    prediction: str | None = None


@dataclass(frozen=True)
class _Located:
    row: PredictionRow
    path: Path
    line: int


class PredictionsBackend:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise MissingEvidenceError("no predictions folder here", path=self.directory)
        self._index: dict[str, _Located] | None = None
        self._identity = BackendIdentity(
            "predictions", None, {"files_sha256": sha256_tree(self.directory)}
        )

    @property
    def identity(self) -> BackendIdentity:
        return self._identity

    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], description: str = "scoring"
    ) -> list[float]:
        asked: dict[str, int] = {}
        for request in requests:
            asked[request.item_id] = max(asked.get(request.item_id, 0), request.choice_index + 1)
        for item_id, n_choices in asked.items():
            found = self._find(item_id)
            values = found.row.choice_logprobs
            if values is None:
                raise SchemaError(
                    f"item {item_id} is multiple choice and needs choice_logprobs",
                    path=found.path,
                    line=found.line,
                    field="choice_logprobs",
                )
            if len(values) != n_choices:
                raise SchemaError(
                    f"item {item_id} has {n_choices} choices, the file {len(values)} log-probs",
                    path=found.path,
                    line=found.line,
                    field="choice_logprobs",
                )
        return [self._find(r.item_id).row.choice_logprobs[r.choice_index] for r in requests]

    def generate(
        self, requests: Sequence[GenerationRequest], description: str = "generating"
    ) -> list[str]:
        outputs = []
        for request in requests:
            found = self._find(request.item_id)
            if found.row.prediction is None:
                raise SchemaError(
                    f"item {request.item_id} is generative and needs a prediction",
                    path=found.path,
                    line=found.line,
                    field="prediction",
                )
            outputs.append(found.row.prediction)
        return outputs

    def _find(self, item_id: str) -> _Located:
        index = self._load()
        if item_id not in index:
            raise MissingEvidenceError(
                f"no prediction for item {item_id!r} in any *.jsonl file", path=self.directory
            )
        return index[item_id]

    def _load(self) -> dict[str, _Located]:
        if self._index is not None:
            return self._index
        files = sorted(self.directory.glob("*.jsonl"))
        if not files:
            raise MissingEvidenceError(
                "no <benchmark>.jsonl predictions files", path=self.directory
            )
        index: dict[str, _Located] = {}
        for path in files:
            for line, raw in iter_jsonl(path):
                row = _validate(raw, path, line)
                if row.id in index:
                    first = index[row.id]
                    raise SchemaError(
                        f"duplicate id {row.id!r} (first at {first.path}:{first.line})",
                        path=path,
                        line=line,
                        field="id",
                    )
                index[row.id] = _Located(row, path, line)
        self._index = index
        return index


def _validate(raw: dict, path: Path, line: int) -> PredictionRow:
    try:
        return PredictionRow.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise SchemaError(err["msg"], path=path, line=line, field=field) from exc
