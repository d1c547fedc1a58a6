"""Find a benchmark's pinned files: in a local mirror, or downloaded into a verified cache.

Downloads are hashed while streaming and only moved into the cache when the sha256 matches
the pin, so the cache never holds a file that was not verified.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable
from http.client import HTTPException
from pathlib import Path
from ssl import SSLError
from typing import BinaryIO

from rich.progress import Progress

from promgate.data.sources import SourceFile, get_source, pinned_file
from promgate.errors import DataUnavailableError, IntegrityError
from promgate.io import sha256_file

MIRROR_ENV = "PROMGATE_MIRROR"
CACHE_ENV = "PROMGATE_CACHE"
DOWNLOAD_BASE_ENV = "PROMGATE_DOWNLOAD_BASE"
DOWNLOAD_TIMEOUT_S = 20.0
_CHUNK = 1 << 16

MIRROR_HINT = (
    f"To use a local copy instead, point promgate at a benchmark mirror: "
    f"export {MIRROR_ENV}=/path/to/benchmarks (same layout as the mirror's MANIFEST.md, "
    f"e.g. <mirror>/arc/ARC-Easy/ARC-Easy-Test.jsonl)."
)


def mirror_dir(mirror: Path | str | None) -> Path | None:
    """The argument, else $PROMGATE_MIRROR, else None (meaning: download)."""
    if mirror is not None:
        return Path(mirror)
    env = os.environ.get(MIRROR_ENV)
    return Path(env) if env else None


def default_cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "promgate" / "benchmarks"


def verify_file(rel: str, path: Path | str) -> str:
    """Check ``path`` against the pin for ``rel``; return the digest or raise IntegrityError."""
    expected = pinned_file(rel).sha256
    actual = sha256_file(path)
    if actual != expected:
        raise IntegrityError(
            f"sha256 mismatch for {rel}: expected {expected}, got {actual}", path=path
        )
    return actual


def resolve_files(
    benchmark: str,
    mirror: Path | None,
    cache_dir: Path | None = None,
    base_url: str | None = None,
    *,
    splits: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Map each pinned relative path of ``benchmark`` to a local file.

    ``splits`` narrows the files to those splits (default: all). Mirror files are returned
    as they are; callers validate their contents first and then call :func:`verify_file`,
    so that a corrupt record is reported by line before a hash mismatch is. Pass the
    caller's ``progress`` when one is already live (rich allows one live display at a time).
    """
    source = get_source(benchmark)
    wanted = set(splits) if splits is not None else None
    files = [f for f in source.files if wanted is None or f.split in wanted]
    root = mirror_dir(mirror)
    if root is not None:
        return {f.path: _from_mirror(root, f.path) for f in files}
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    base = base_url if base_url is not None else os.environ.get(DOWNLOAD_BASE_ENV)
    if progress is None:
        with Progress(transient=True) as own:
            return _download_all(benchmark, files, cache, base, own)
    return _download_all(benchmark, files, cache, base, progress)


def _download_all(
    benchmark: str, files: list[SourceFile], cache: Path, base: str | None, progress: Progress
) -> dict[str, Path]:
    task = progress.add_task(f"{benchmark}: fetching", total=len(files))
    out = {}
    for entry in files:
        out[entry.path] = _cached_download(entry, cache, base)
        progress.advance(task)
    progress.remove_task(task)
    return out


def _from_mirror(root: Path, rel: str) -> Path:
    path = root / rel
    if not path.is_file():
        gone = "" if root.is_dir() else " (the mirror directory does not exist)"
        raise DataUnavailableError(
            f"benchmark file {rel} is missing from the mirror {root}{gone}; expected at {path}. "
            f"The mirror must have the layout described in its MANIFEST.md."
        )
    return path


def _url_for(entry: SourceFile, base: str | None) -> str:
    return f"{base.rstrip('/')}/{entry.path}" if base else entry.url


def _cached_download(entry: SourceFile, cache: Path, base: str | None) -> Path:
    target = cache / entry.path
    if target.is_file() and sha256_file(target) == entry.sha256:
        return target
    url = _url_for(entry, base)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            actual = _download_to(url, handle, entry.path)
            handle.flush()
            os.fsync(handle.fileno())
        if actual != entry.sha256:
            raise IntegrityError(
                f"sha256 mismatch for {entry.path} downloaded from {url}: "
                f"expected {entry.sha256}, got {actual}; the file was not cached",
                path=entry.path,
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _download_to(url: str, handle: BinaryIO, rel: str) -> str:
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            while block := response.read(_CHUNK):
                digest.update(block)
                handle.write(block)
    # Local write errors (disk full) are not caught here: they are not a network problem.
    except (urllib.error.URLError, TimeoutError, ConnectionError, HTTPException, SSLError) as exc:
        if isinstance(exc, urllib.error.HTTPError):
            reason = f"HTTP {exc.code} {exc.reason}"
        else:
            reason = getattr(exc, "reason", None) or exc
        raise DataUnavailableError(
            f"could not download benchmark file {rel} from {url} ({reason}). {MIRROR_HINT}"
        ) from exc
    return digest.hexdigest()
