"""The training corpus read in batches: JSONL, one document per line, validated as it streams."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promgate.contamination.views import View, record_view
from promgate.errors import SchemaError
from promgate.io import iter_jsonl


@dataclass(frozen=True)
class Document:
    index: int  # 0-based position among the corpus's records
    id: str
    record: dict[str, Any]  # written back unchanged to the cleaned corpus
    view: View


def _check(record: dict[str, Any], path: Path, line: int) -> None:
    if "prompt" in record:
        fields = ("prompt", "response")
    elif "text" in record:
        fields = ("text",)
    else:
        raise SchemaError(
            "a corpus record needs 'text', or 'prompt' and 'response'", path=path, line=line
        )
    for field in fields:
        if not isinstance(record.get(field), str):
            raise SchemaError("expected a string", path=path, line=line, field=field)
    if "id" in record and not isinstance(record["id"], str):
        raise SchemaError("expected a string", path=path, line=line, field="id")


def iter_batches(path: str | Path, batch_size: int) -> Iterator[list[Document]]:
    """Documents in file order, ``batch_size`` at a time; ids default to ``line:<n>``."""
    path = Path(path)
    batch: list[Document] = []
    for index, (line, record) in enumerate(iter_jsonl(path)):
        _check(record, path, line)
        doc_id = record.get("id") or f"line:{line}"
        batch.append(Document(index, doc_id, record, record_view(record)))
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch
