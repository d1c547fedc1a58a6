"""Atomic writes and line-numbered JSONL reading.

Every file promgate writes goes through a temporary file in the same directory and an
``os.replace``, so a crash never leaves a half-written artifact behind.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

from pydantic import BaseModel, ValidationError

from promgate.errors import SchemaError

ModelT = TypeVar("ModelT", bound=BaseModel)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates 0600; give the file the mode a plain open() would have.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False) + "\n")


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    lines = [json.dumps(row, ensure_ascii=False, sort_keys=False) for row in rows]
    atomic_write_text(path, "".join(line + "\n" for line in lines))


def _open_bytes(path: Path) -> IO[bytes]:
    # HumanEval ships gzip-compressed; line numbers then count decompressed lines.
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (1-based line, object) per non-blank line of a JSONL (or .jsonl.gz) file.

    Bad UTF-8, bad JSON and non-object lines raise SchemaError naming the file and line.
    """
    path = Path(path)
    number = 0
    try:
        with _open_bytes(path) as handle:
            for number, raw in enumerate(handle, start=1):
                # Decode per line so a bad byte is reported on its own line.
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise SchemaError("not valid UTF-8", path=path, line=number) from exc
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SchemaError(f"invalid JSON ({exc.msg})", path=path, line=number) from exc
                if not isinstance(obj, dict):
                    raise SchemaError("expected a JSON object", path=path, line=number)
                yield number, obj
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise SchemaError(f"bad gzip data ({exc})", path=path, line=number + 1) from exc


def read_models(path: str | Path, model: type[ModelT]) -> list[ModelT]:
    """Read a JSONL file of pydantic records; the first invalid one is named by line and field."""
    rows = []
    for line, row in iter_jsonl(path):
        try:
            rows.append(model.model_validate(row))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or None
            raise SchemaError(err["msg"], path=path, line=line, field=field) from exc
    return rows


def read_json(path: str | Path) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SchemaError(f"invalid JSON ({exc.msg})", path=path, line=exc.lineno) from exc


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_tree(root: str | Path) -> str:
    """Digest of a directory: sorted relative paths and their file digests."""
    root = Path(root)
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(file.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(sha256_file(file).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
