"""Line-numbered readers for the non-JSONL formats: CSV/TSV, JSON arrays, single JSON files.

Like :func:`promgate.io.iter_jsonl`, each yields ``(1-based line, record)`` where the line is
where the record begins, so a loader can name the line of a bad field.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from promgate.errors import SchemaError


def read_text(path: Path, encoding: str = "utf-8") -> str:
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise SchemaError("not valid UTF-8", path=path) from exc


def iter_csv(
    path: str | Path,
    *,
    header: tuple[str, ...] | None,
    delimiter: str = ",",
    quoting: int = csv.QUOTE_MINIMAL,
    encoding: str = "utf-8",
) -> Iterator[tuple[int, dict[str, str] | list[str]]]:
    """Rows of a CSV/TSV. With ``header`` the first row must equal it and rows come as dicts.

    A quoted field may span lines; the reported line is the one on which the record begins.
    """
    path = Path(path)
    start = 1
    try:
        with path.open("r", encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter, quoting=quoting)
            names: list[str] | None = None
            for row in reader:
                line, start = start, reader.line_num + 1
                if header is not None and names is None:
                    names = [c.strip() for c in row]
                    if tuple(names) != header:
                        raise SchemaError(
                            f"header {names} is not {list(header)}", path=path, line=line
                        )
                    continue
                if not row:
                    continue  # csv yields [] for a blank line
                if names is None:
                    yield line, row
                    continue
                if len(row) != len(names):
                    field = names[len(row)] if len(row) < len(names) else None
                    raise SchemaError(
                        f"expected {len(names)} columns, got {len(row)}",
                        path=path,
                        line=line,
                        field=field,
                    )
                yield line, dict(zip(names, row, strict=True))
    except csv.Error as exc:
        raise SchemaError(f"bad CSV ({exc})", path=path, line=start) from exc
    except UnicodeDecodeError as exc:
        raise SchemaError("not valid UTF-8", path=path) from exc


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def iter_json_array(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Objects of a file holding one JSON array, each with the line on which it begins."""
    path = Path(path)
    text = read_text(path)
    decoder = json.JSONDecoder()
    pos = len(text) - len(text.lstrip())
    if not text.startswith("[", pos):
        raise SchemaError("expected a JSON array", path=path, line=_line_of(text, pos))
    pos += 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            raise SchemaError("unterminated JSON array", path=path, line=_line_of(text, pos))
        if text[pos] == "]":
            return
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise SchemaError(
                f"invalid JSON ({exc.msg})", path=path, line=_line_of(text, exc.pos)
            ) from exc
        if not isinstance(obj, dict):
            raise SchemaError("expected a JSON object", path=path, line=_line_of(text, pos))
        yield _line_of(text, pos), obj
        pos = end


def read_json_object(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    text = read_text(path)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"invalid JSON ({exc.msg})", path=path, line=exc.lineno) from exc
    if not isinstance(obj, dict):
        raise SchemaError("expected a JSON object", path=path, line=1)
    return obj


def key_line(text: str, key: str, start: int = 0) -> int:
    """The line of ``"key":`` in pretty-printed JSON (first occurrence at or after ``start``)."""
    pos = text.find(json.dumps(key) + ":", start)
    return _line_of(text, pos) if pos >= 0 else 1
