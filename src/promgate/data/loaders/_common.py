"""Shared record readers for the loaders: every failure names path, line and field."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from promgate.data.schema import Item
from promgate.errors import SchemaError

T = TypeVar("T")


def get_field(
    obj: dict[str, Any],
    key: str,
    kind: type[T],
    *,
    path: str | Path,
    line: int,
    name: str | None = None,
) -> T:
    """``obj[key]`` checked to be of ``kind``; ``name`` is the dotted field name to report."""
    field = name or key
    if key not in obj:
        raise SchemaError("missing field", path=path, line=line, field=field)
    value = obj[key]
    # bool is an int subclass; a JSON true is never a valid count or index here.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SchemaError(
            f"expected {kind.__name__}, got {type(value).__name__}",
            path=path,
            line=line,
            field=field,
        )
    return value


def read_labels(
    path: str | Path, allowed: Sequence[str], expected: int, *, data_path: str | Path
) -> list[str]:
    """Read a line-aligned label file; its line count must equal the data file's records."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise SchemaError("not valid UTF-8", path=path) from exc
    while lines and not lines[-1].strip():
        lines.pop()  # a trailing blank line is formatting, not a label
    labels = []
    for number, raw in enumerate(lines, start=1):
        label = raw.strip()
        if label not in allowed:
            raise SchemaError(
                f"label {label!r} is not one of {list(allowed)}",
                path=path,
                line=number,
                field="label",
            )
        labels.append(label)
    if len(labels) != expected:
        raise SchemaError(
            f"{len(labels)} labels for {expected} records in {data_path}; "
            "the label file must be line-aligned with the data file",
            path=path,
            line=min(len(labels), expected) + 1,
            field="label",
        )
    return labels


def build_item(fields: dict[str, Any], *, path: str | Path, line: int) -> Item:
    try:
        return Item.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise SchemaError(err["msg"], path=path, line=line, field=field) from exc


class UniqueIds:
    """Refuses a second record with the same item id: ids are the pairing key downstream."""

    def __init__(self, path: str | Path) -> None:
        self._path = path
        self._seen: dict[str, int] = {}

    def add(self, item_id: str, line: int, field: str) -> None:
        first = self._seen.setdefault(item_id, line)
        if first != line:
            raise SchemaError(
                f"duplicate id {item_id!r} (first on line {first})",
                path=self._path,
                line=line,
                field=field,
            )
