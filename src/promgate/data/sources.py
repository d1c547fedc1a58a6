"""The pinned upstream files of each benchmark, read from the packaged ``sources.yaml``.

Pins live in data, not code, so a reviewer can diff them against a mirror's SHA256SUMS.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import PurePosixPath
from typing import Any

import yaml

from promgate.errors import ConfigError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ROLES = ("data", "labels")
_SOURCES_NAME = "sources.yaml"


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative to a mirror root, posix separators
    split: str
    role: str  # "data" (records) or "labels" (line-aligned label file)
    sha256: str
    url: str


@dataclass(frozen=True)
class BenchmarkSource:
    name: str
    license: str
    license_note: str
    repository: str
    commit: str
    eval_split: str
    train_split: str | None
    files: tuple[SourceFile, ...]

    def files_for(self, split: str, role: str = "data") -> list[SourceFile]:
        return [f for f in self.files if f.split == split and f.role == role]

    @property
    def splits(self) -> list[str]:
        return sorted({f.split for f in self.files})


def _require(mapping: dict[str, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise ConfigError(f"missing key in {where}", path=_SOURCES_NAME, field=key)
    return mapping[key]


def _parse_file(raw: dict[str, Any], where: str) -> SourceFile:
    entry = SourceFile(
        path=str(_require(raw, "path", where)),
        split=str(_require(raw, "split", where)),
        role=str(_require(raw, "role", where)),
        sha256=str(_require(raw, "sha256", where)).lower(),
        url=str(_require(raw, "url", where)),
    )
    rel = PurePosixPath(entry.path)
    # A pinned path is joined onto mirror and cache roots, so it must stay inside them.
    if rel.is_absolute() or ".." in rel.parts or "\\" in entry.path:
        raise ConfigError(f"path must be relative: {entry.path}", path=_SOURCES_NAME, field="path")
    if not _SHA256.match(entry.sha256):
        raise ConfigError(f"bad sha256 for {entry.path}", path=_SOURCES_NAME, field="sha256")
    if entry.role not in _ROLES:
        raise ConfigError(f"bad role for {entry.path}", path=_SOURCES_NAME, field="role")
    if not entry.url.startswith("https://"):
        raise ConfigError(f"url must be https for {entry.path}", path=_SOURCES_NAME, field="url")
    return entry


def read_listing(name: str) -> bytes:
    """A packaged listing (``sha256sum`` format) under ``promgate/data/listings/``."""
    return resources.files("promgate.data").joinpath("listings", name).read_bytes()


def _parse_listing(
    raw: dict[str, Any], where: str, reader: Callable[[str], bytes]
) -> list[SourceFile]:
    """Expand a pinned listing into one pinned file per line.

    MATH ships as 5,000 small files; listing them in this YAML would make it slow to read.
    The listing is pinned by its own sha256, so its lines are as trusted as an inline pin.
    """
    name = str(_require(raw, "listing", where))
    expected = str(_require(raw, "sha256", where)).lower()
    data = reader(name)
    if hashlib.sha256(data).hexdigest() != expected:
        raise ConfigError(f"listing {name} does not match its pin", path=name, field="sha256")
    strip = str(raw.get("strip_prefix", ""))
    url_prefix = str(_require(raw, "url_prefix", where))
    files = []
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        digest, _, rel = line.partition("  ")
        if not rel.startswith(strip):
            raise ConfigError(f"path outside {strip!r}", path=name, line=number, field="path")
        entry = {
            "path": rel,
            "split": raw.get("split"),
            "role": raw.get("role", "data"),
            "sha256": digest,
            "url": url_prefix + rel[len(strip) :],
        }
        files.append(_parse_file(entry, f"{where}, {name} line {number}"))
    return files


def parse_sources(
    doc: dict[str, Any], listing_reader: Callable[[str], bytes] = read_listing
) -> dict[str, BenchmarkSource]:
    out: dict[str, BenchmarkSource] = {}
    for name, raw in _require(doc, "benchmarks", "top level").items():
        where = f"benchmark {name}"
        inline = [_parse_file(f, where) for f in raw.get("files", [])]
        listed = [
            f for lst in raw.get("listings", []) for f in _parse_listing(lst, where, listing_reader)
        ]
        files = tuple(inline + listed)
        if not files:
            raise ConfigError(f"{name}: no files or listings", path=_SOURCES_NAME, field="files")
        bench = BenchmarkSource(
            name=name,
            license=str(_require(raw, "license", where)),
            license_note=str(raw.get("license_note", "")),
            repository=str(_require(raw, "repository", where)),
            commit=str(_require(raw, "commit", where)),
            eval_split=str(_require(raw, "eval_split", where)),
            train_split=raw.get("train_split"),
            files=files,
        )
        for split in filter(None, (bench.eval_split, bench.train_split)):
            if not bench.files_for(split):
                raise ConfigError(f"{name}: no data file for split {split!r}", path=_SOURCES_NAME)
        out[name] = bench
    return out


@cache
def all_sources() -> dict[str, BenchmarkSource]:
    text = resources.files("promgate.data").joinpath(_SOURCES_NAME).read_text(encoding="utf-8")
    return parse_sources(yaml.safe_load(text))


def get_source(benchmark: str) -> BenchmarkSource:
    sources = all_sources()
    if benchmark not in sources:
        known = ", ".join(sorted(sources))
        raise ConfigError(f"unknown benchmark {benchmark!r} (known: {known})", field="benchmark")
    return sources[benchmark]


@cache
def _pins() -> dict[str, SourceFile]:
    return {f.path: f for bench in all_sources().values() for f in bench.files}


def pinned_file(rel: str) -> SourceFile:
    """The pin for a relative path; unknown paths are refused (fail closed)."""
    try:
        return _pins()[rel]
    except KeyError:
        raise ConfigError(f"{rel} is not a pinned benchmark file", field="path") from None
