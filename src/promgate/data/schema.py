"""The Item record: one evaluation example in promgate's unified schema."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from promgate.io import read_models, sha256_text

TaskKind = Literal["multiple_choice", "generate", "code"]


class ItemMetadata(BaseModel):
    model_config = ConfigDict(extra="forbid")

    difficulty: str = "unknown"
    domain: str = "general"
    source: str
    stratum: str
    cluster: str | None = None
    license: str


class Item(BaseModel):
    """One prepared example. ``id`` is ``<benchmark>/<upstream id>`` and never changes."""

    model_config = ConfigDict(extra="forbid")

    id: str
    benchmark: str
    split: str
    kind: TaskKind
    prompt: str
    target: str
    choices: list[str] | None = None
    answer_index: int | None = None
    # WinoGrande-style partial scoring: each choice completes its own context and the shared
    # continuation is scored. Absent for ordinary multiple choice.
    contexts: list[str] | None = None
    continuation: str | None = None
    tests: str | None = None
    entry_point: str | None = None
    metadata: ItemMetadata
    content_hash: str = Field(default="")

    @model_validator(mode="after")
    def _check_kind(self) -> Item:
        if self.kind == "multiple_choice":
            if not self.choices or self.answer_index is None:
                raise ValueError("multiple_choice items need choices and answer_index")
            if not 0 <= self.answer_index < len(self.choices):
                raise ValueError("answer_index out of range")
            if self.contexts is not None and len(self.contexts) != len(self.choices):
                raise ValueError("contexts must have one entry per choice")
        if self.kind == "code" and (not self.tests or not self.entry_point):
            raise ValueError("code items need tests and entry_point")
        if not self.content_hash:
            self.content_hash = self.compute_hash()
        return self

    def compute_hash(self) -> str:
        payload = self.model_dump(exclude={"content_hash", "metadata"})
        return sha256_text(repr(sorted(payload.items())))


def read_items(path: str | Path) -> list[Item]:
    return read_models(path, Item)
