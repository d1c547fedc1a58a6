"""Reading the gate's evidence: per-item results files and JSON artifacts of other stages.

Nothing here raises on bad evidence: a missing, malformed or unreadable file comes back as
``Unusable``, carrying the reason code a BLOCKED outcome will show and where the problem is.
Every file read is recorded with a digest, so gate.json names the exact evidence it used.

Results files are digested by content, not by bytes: the sha256 of their records in id
order (canonical JSON), so reordering the lines of a file changes nothing in gate.json.
JSON artifacts are digested by their bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from promgate.errors import PromgateError, SchemaError
from promgate.gates.outcome import Reason
from promgate.io import read_json, sha256_file
from promgate.results import UNAVAILABLE_FILE, ItemResult, Unavailable, read_results

# Why a model may have no results at all; any other code in a marker is a schema error.
_UNAVAILABLE_REASONS = (Reason.DIVERGED, Reason.TRAINING_FAILED, Reason.MISSING_EVIDENCE)


class Unusable(Exception):
    """Evidence that cannot be used, with the reason code a BLOCKED outcome will carry."""

    def __init__(self, reason: Reason, message: str, evidence: dict[str, Any]) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.evidence = evidence


def located(exc: PromgateError) -> dict[str, Any]:
    fields = {k: getattr(exc, k, None) for k in ("path", "line", "field")}
    return {k: v for k, v in fields.items() if v is not None}


def shown(path: Path) -> Path:
    """The path relative to the working directory when it lies below it.

    Stages run from the repository root, so gate.json then names ``results/...`` and does
    not change with where the repository is checked out. Symlinks are not followed: DVC may
    link outputs into its cache, and the report should name the workspace path.
    """
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(Path.cwd()))
    except ValueError:
        return path


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def records_sha256(results: list[ItemResult]) -> str:
    """sha256 of the records as canonical JSON lines, sorted: independent of file order."""
    lines = sorted(_CANONICAL.encode(r.model_dump(mode="json", exclude_none=True)) for r in results)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


@dataclass
class EvidenceStore:
    """Reads each file once and remembers what it read: path -> digest."""

    results_digests: dict[str, str] = field(default_factory=dict)
    artifact_digests: dict[str, str] = field(default_factory=dict)
    _results: dict[str, list[ItemResult] | Unusable] = field(default_factory=dict)
    _artifacts: dict[str, dict[str, Any] | Unusable] = field(default_factory=dict)

    def results(self, path: Path) -> list[ItemResult] | Unusable:
        path = shown(path)
        key = str(path)
        if key not in self._results:
            self._results[key] = self._read_results(path)
        return self._results[key]

    def _read_results(self, path: Path) -> list[ItemResult] | Unusable:
        if not path.is_file():
            marker = path.parent / UNAVAILABLE_FILE
            if marker.is_file():
                return self._unavailable(path, marker)
            return Unusable(
                Reason.MISSING_EVIDENCE, f"{path}: results file not found", {"path": str(path)}
            )
        try:
            rows = read_results(path)
        except SchemaError as exc:
            self.results_digests[str(path)] = sha256_file(path)
            return Unusable(Reason.SCHEMA, str(exc), located(exc))
        except UnicodeDecodeError as exc:
            self.results_digests[str(path)] = sha256_file(path)
            msg = f"{path}: not UTF-8 text ({exc.reason})"
            return Unusable(Reason.SCHEMA, msg, {"path": str(path)})
        except OSError as exc:
            msg = f"{path}: unreadable ({exc.strerror})"
            return Unusable(Reason.MISSING_EVIDENCE, msg, {"path": str(path)})
        self.results_digests[str(path)] = records_sha256(rows)
        return rows

    def _unavailable(self, path: Path, marker: Path) -> Unusable:
        """The model's results folder says why it has none (e.g. its training diverged)."""
        data = self.artifact(marker)
        if isinstance(data, Unusable):
            return data
        try:
            record = Unavailable.model_validate(data)
            reason = Reason(record.reason)
        except (ValidationError, ValueError):
            reason = None
        if reason not in _UNAVAILABLE_REASONS:
            msg = f"{marker}: not a valid record of why {path.parent} holds no results"
            return Unusable(Reason.SCHEMA, msg, {"path": str(marker)})
        evidence = {"path": str(path), "marker": str(marker), "evidence": record.evidence}
        return Unusable(reason, f"{path}: no results: {record.message}", evidence)

    def artifact(self, path: Path) -> dict[str, Any] | Unusable:
        """A JSON object written by another stage (metrics/contamination.json, ...)."""
        path = shown(path)
        key = str(path)
        if key not in self._artifacts:
            self._artifacts[key] = self._read_artifact(path)
        return self._artifacts[key]

    def _read_artifact(self, path: Path) -> dict[str, Any] | Unusable:
        where = {"path": str(path)}
        if not path.is_file():
            return Unusable(Reason.MISSING_EVIDENCE, f"{path}: evidence file not found", where)
        try:
            self.artifact_digests[str(path)] = sha256_file(path)
            data = read_json(path)
        except SchemaError as exc:
            return Unusable(Reason.SCHEMA, str(exc), located(exc))
        except (UnicodeDecodeError, ValueError) as exc:
            return Unusable(Reason.SCHEMA, f"{path}: not JSON ({exc})", where)
        except OSError as exc:
            return Unusable(Reason.MISSING_EVIDENCE, f"{path}: unreadable ({exc.strerror})", where)
        if not isinstance(data, dict):
            return Unusable(Reason.SCHEMA, f"{path}: expected a JSON object", where)
        return data


def field_value(data: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted path; KeyError when any part is absent or null."""
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or node.get(part) is None:
            raise KeyError(dotted)
        node = node[part]
    return node


def finite_number(value: Any) -> float | None:
    """The value as a float when it is a finite JSON number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None
