"""A content-addressed on-disk cache of backend answers: no work repeated across runs.

Key = sha256(backend identity, request content). The identity holds the model's hash (base
weights plus adapter) and the settings that change numbers (dtype, device, served model
name); the request content holds everything else that does: the context and continuation
scored, or the prompt, token budget, stop strings and chat flag of a generation. Item ids
are not part of the key: two benchmarks asking the same question share the answer, and a
renamed item keeps its. The batch size is not part of it either: batching changes a
log-likelihood by at most float rounding (checked against unbatched scoring in the tests of
``multiple_choice``), not by anything a decision rests on.

Storage is one SQLite file in WAL mode: each ``put_many`` is one transaction, so a crash
leaves either all of a batch's answers or none, and several processes (a DVC queue's
workers) can share the file.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promgate.models.backend import (
    BackendIdentity,
    GenerationRequest,
    LoglikelihoodRequest,
    Request,
    canonical_hash,
)

CACHE_FILE = "answers.sqlite"
SCHEMA_VERSION = 1


def request_key(identity: BackendIdentity, request: Request) -> str:
    return canonical_hash(
        {"v": SCHEMA_VERSION, "model": identity.as_dict(), "request": request.content()}
    )


class ResultCache:
    """key -> JSON value, in ``<directory>/answers.sqlite``."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / CACHE_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=60.0, check_same_thread=False)
        with self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )

    def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        with self._lock:
            # SQLite caps bound parameters per statement; 500 stays far below every build's cap.
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, value FROM answers WHERE key IN ({marks})", chunk
                ).fetchall()
                found.update((key, json.loads(value)) for key, value in rows)
        return found

    def put_many(self, entries: Iterable[tuple[str, Any]]) -> None:
        rows = [(key, json.dumps(value)) for key, value in entries]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO answers VALUES (?, ?)", rows)

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


class CachedBackend:
    """Any backend, asked only for what the cache does not hold yet."""

    def __init__(self, inner, cache: ResultCache) -> None:
        self.inner = inner
        self.cache = cache
        self.stats = CacheStats()

    @property
    def identity(self) -> BackendIdentity:
        return self.inner.identity

    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], description: str = "scoring"
    ) -> list[float]:
        values = self._answer(requests, lambda todo: self.inner.loglikelihood(todo, description))
        return [float(v) for v in values]

    def generate(
        self, requests: Sequence[GenerationRequest], description: str = "generating"
    ) -> list[str]:
        values = self._answer(requests, lambda todo: self.inner.generate(todo, description))
        return [str(v) for v in values]

    def _answer(self, requests, compute) -> list[Any]:
        keys = [request_key(self.identity, r) for r in requests]
        found = self.cache.get_many(keys)
        # Duplicated requests are computed once, and all of them read that one answer.
        todo: dict[str, Any] = {}
        for key, request in zip(keys, requests, strict=True):
            if key not in found and key not in todo:
                todo[key] = request
        self.stats.hits += len(requests) - len(todo)
        self.stats.misses += len(todo)
        if todo:
            computed = compute(list(todo.values()))
            if len(computed) != len(todo):
                raise RuntimeError(f"backend answered {len(computed)} of {len(todo)} requests")
            fresh = dict(zip(todo, computed, strict=True))
            self.cache.put_many(fresh.items())
            found.update(fresh)
        return [found[key] for key in keys]
