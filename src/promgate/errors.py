"""One exception type per kind of failure, each naming where the problem is.

The CLI prints any of these on one line and exits with its ``exit_code``.
"""

from __future__ import annotations

import sys
from pathlib import Path


class PromgateError(Exception):
    """Base class. ``exit_code`` is what the CLI returns for it."""

    exit_code = 2


class LocatedError(PromgateError):
    """An error tied to a place in a file: path, 1-based line, and field."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.detail = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.detail}" if prefix else self.detail


class SchemaError(LocatedError):
    """A record does not match its schema (bad JSON, missing or ill-typed field)."""


class AlignmentError(LocatedError):
    """Baseline and candidate results cannot be paired item by item."""


class MissingEvidenceError(LocatedError):
    """A file or value a stage or gate needs is absent."""


class DataUnavailableError(PromgateError):
    """Benchmark files could be found neither in a mirror nor upstream."""

    exit_code = 4


class IntegrityError(LocatedError):
    """A file's sha256 differs from the pinned one."""


class ConfigError(LocatedError):
    """Configuration is invalid or out of sync with conf/."""


def report(exc: PromgateError) -> int:
    """Print ``exc`` as the one line the CLI and stages show, and return its exit code."""
    print(f"promgate: {type(exc).__name__}: {exc}", file=sys.stderr)
    return exc.exit_code
