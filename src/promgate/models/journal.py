"""A write-ahead journal of one call's answers: a crashed call resumes, counting each once.

Used by the openai backend: every answer is appended (flushed and fsynced) before it
counts, so a rerun of the same call after a crash — of the server or of promgate — reads
what was answered and asks only the rest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from promgate.errors import SchemaError
from promgate.models.backend import BackendIdentity, canonical_hash

JOURNAL_VERSION = 1


class Journal:
    """Answers of one call, appended as they arrive: ``<dir>/<fingerprint>.jsonl``.

    The fingerprint covers the backend identity and every request's content, so a journal
    is only ever replayed into the exact call that wrote it. The first line is a header;
    each further line is ``{"i": index, "key": content hash, "value": answer}``. A torn last
    line (a crash mid-write) is ignored; any other damage is an error, never a guess.
    """

    def __init__(self, path: Path | None, header: dict[str, Any], keys: list[str]) -> None:
        self.path = path
        self.header = header
        self.keys = keys
        self._handle = None

    @classmethod
    def open(cls, directory: Path | None, identity: BackendIdentity, keys: list[str]) -> Journal:
        fingerprint = canonical_hash({"identity": identity.as_dict(), "requests": keys})
        header = {"journal": JOURNAL_VERSION, "fingerprint": fingerprint, "n": len(keys)}
        path = directory / f"{fingerprint[:32]}.jsonl" if directory is not None else None
        return cls(path, header, keys)

    def replay(self) -> dict[int, Any]:
        if self.path is None or not self.path.exists():
            return {}
        data = self.path.read_bytes()
        # Only newline-terminated lines count: a torn final write is cut off, and that
        # answer is simply asked again.
        end = data.rfind(b"\n") + 1
        if end < len(data):
            os.truncate(self.path, end)
        answers: dict[int, Any] = {}
        for number, raw in enumerate(data[:end].split(b"\n")[:-1], start=1):
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise SchemaError(f"invalid JSON ({exc.msg})", path=self.path, line=number) from exc
            if number == 1:
                if row != self.header:
                    raise SchemaError("journal header does not match", path=self.path, line=1)
                continue
            self._check(row, number, answers)
            answers[row["i"]] = row["value"]
        return answers

    def _check(self, row: Any, number: int, answers: dict[int, Any]) -> None:
        if not isinstance(row, dict) or set(row) != {"i", "key", "value"}:
            raise SchemaError("expected keys i, key, value", path=self.path, line=number)
        index = row["i"]
        if not isinstance(index, int) or not 0 <= index < len(self.keys):
            raise SchemaError("index out of range", path=self.path, line=number, field="i")
        if row["key"] != self.keys[index]:
            raise SchemaError("request content differs", path=self.path, line=number, field="key")
        if index in answers and answers[index] != row["value"]:
            raise SchemaError(
                f"request {index} answered twice, differently", path=self.path, line=number
            )

    def append(self, index: int, key: str, value: Any) -> None:
        if self.path is None:
            return
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not self.path.exists() or self.path.stat().st_size == 0
            self._handle = self.path.open("ab")
            if fresh:
                self._write(self.header)
        self._write({"i": index, "key": key, "value": value})

    def _write(self, row: dict[str, Any]) -> None:
        self._handle.write(json.dumps(row).encode("utf-8") + b"\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def finish(self) -> None:
        self.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
