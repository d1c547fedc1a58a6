"""Mirror lookup, verified downloads from a loopback HTTP server, and the pinned sources."""

from __future__ import annotations

import functools
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from promgate.data.fetch import resolve_files, verify_file
from promgate.data.prepare import prepare
from promgate.data.sources import all_sources, get_source, parse_sources
from promgate.errors import ConfigError, DataUnavailableError, IntegrityError
from promgate.io import sha256_file

SERVED = ["winogrande/dev.jsonl", "winogrande/dev-labels.lst", "humaneval/HumanEval.jsonl.gz"]


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PROMGATE_MIRROR", "PROMGATE_CACHE", "PROMGATE_DOWNLOAD_BASE"):
        monkeypatch.delenv(name, raising=False)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(mirror: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, served root): a real HTTP server on 127.0.0.1 over a tmp copy of files."""
    root = tmp_path / "upstream"
    for rel in SERVED:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(mirror / rel, root / rel)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more


# --- downloads ----------------------------------------------------------------------------


def test_download_verifies_and_caches(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    cache = tmp_path / "cache"
    files = resolve_files("winogrande", None, cache_dir=cache, base_url=base)
    assert set(files) == {"winogrande/dev.jsonl", "winogrande/dev-labels.lst"}
    for rel, path in files.items():
        assert path == cache / rel
        verify_file(rel, path)
    # Second call: a dead server is fine, because verified cached files are reused.
    again = resolve_files("winogrande", None, cache_dir=cache, base_url=closed_port_url())
    assert again == files


def test_gzip_file_downloaded_as_bytes(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    files = resolve_files("humaneval", None, cache_dir=tmp_path / "c", base_url=base)
    verify_file("humaneval/HumanEval.jsonl.gz", files["humaneval/HumanEval.jsonl.gz"])


def test_env_vars_select_cache_and_base(
    served: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = served
    monkeypatch.setenv("PROMGATE_CACHE", str(tmp_path / "envcache"))
    monkeypatch.setenv("PROMGATE_DOWNLOAD_BASE", base)
    files = resolve_files("humaneval", None)
    assert files["humaneval/HumanEval.jsonl.gz"].is_relative_to(tmp_path / "envcache")


def test_wrong_hash_is_refused_and_not_cached(served: tuple[str, Path], tmp_path: Path) -> None:
    base, root = served
    labels = root / "winogrande/dev-labels.lst"
    labels.write_bytes(labels.read_bytes().replace(b"1\n", b"2\n", 1))
    cache = tmp_path / "cache"
    with pytest.raises(IntegrityError) as info:
        resolve_files("winogrande", None, cache_dir=cache, base_url=base)
    message = str(info.value)
    expected = get_source("winogrande").files_for("dev", "labels")[0].sha256
    assert "winogrande/dev-labels.lst" in message
    assert expected in message and sha256_file(labels) in message
    leftovers = [p.name for p in (cache / "winogrande").iterdir()]
    assert leftovers == ["dev.jsonl"]  # the good file stays; no bad file, no temp file


def test_stale_cached_file_is_replaced(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    cache = tmp_path / "cache"
    stale = cache / "humaneval/HumanEval.jsonl.gz"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"not the pinned file")
    files = resolve_files("humaneval", None, cache_dir=cache, base_url=base)
    verify_file("humaneval/HumanEval.jsonl.gz", files["humaneval/HumanEval.jsonl.gz"])


def test_unreachable_server_gives_one_clear_message(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(DataUnavailableError) as info:
        resolve_files("humaneval", None, cache_dir=cache, base_url=closed_port_url())
    message = str(info.value)
    assert "could not download" in message and "humaneval/HumanEval.jsonl.gz" in message
    assert "export PROMGATE_MIRROR=" in message
    assert not list(cache.rglob("*.part"))


def test_missing_upstream_file_is_data_unavailable(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    base, root = served
    (root / "winogrande/dev.jsonl").unlink()
    with pytest.raises(DataUnavailableError, match="HTTP 404") as info:
        resolve_files("winogrande", None, cache_dir=tmp_path / "c", base_url=base)
    assert "PROMGATE_MIRROR" in str(info.value)


# --- mirror -----------------------------------------------------------------------------


def test_mirror_argument_and_env(mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = resolve_files("piqa", mirror)
    assert files == {rel: mirror / rel for rel in ("piqa/valid.jsonl", "piqa/valid-labels.lst")}
    monkeypatch.setenv("PROMGATE_MIRROR", str(mirror))
    assert resolve_files("piqa", None) == files
    assert set(resolve_files("gsm8k", None, splits=["train"])) == {"gsm8k/train.jsonl"}


def test_mirror_missing_file_names_file_and_mirror(tmp_path: Path) -> None:
    (tmp_path / "piqa").mkdir()
    (tmp_path / "piqa/valid.jsonl").write_text("{}\n")
    with pytest.raises(DataUnavailableError) as info:
        resolve_files("piqa", tmp_path)
    assert "piqa/valid-labels.lst" in str(info.value) and str(tmp_path) in str(info.value)


def test_verify_file(mirror: Path, tmp_path: Path) -> None:
    rel = "piqa/valid-labels.lst"
    assert (
        verify_file(rel, mirror / rel) == get_source("piqa").files_for("valid", "labels")[0].sha256
    )
    copy = tmp_path / "labels.lst"
    copy.write_bytes((mirror / rel).read_bytes() + b"\n")
    with pytest.raises(IntegrityError, match="expected"):
        verify_file(rel, copy)
    with pytest.raises(ConfigError):
        verify_file("piqa/train.jsonl", copy)


# --- the pins themselves -----------------------------------------------------------------


def test_pins_match_mirror_sha256sums(mirror: Path) -> None:
    sums = {}
    for line in (mirror / "SHA256SUMS").read_text().splitlines():
        digest, rel = line.split(None, 1)
        sums[rel.strip()] = digest
    # HellaSwag is pinned from an upstream record but has no copy in the mirror.
    pinned = [f for name, b in all_sources().items() if name != "hellaswag" for f in b.files]
    for entry in pinned:
        assert sums[entry.path] == entry.sha256, entry.path
    assert len(get_source("mmlu").files_for("test")) == 57
    assert len(get_source("math").files_for("test")) == 5000


def test_urls_are_pinned_to_commits() -> None:
    for bench in all_sources().values():
        assert re.fullmatch(r"[0-9a-f]{40}", bench.commit)
        for entry in bench.files:
            assert f"/{bench.repository}/{bench.commit}/" in entry.url, entry.url
    for name in ("arc_easy", "arc_challenge"):  # Git LFS upstream: media URLs, not raw
        assert all(
            f.url.startswith("https://media.githubusercontent.com/media/")
            for f in get_source(name).files
        )


def test_bad_sources_are_rejected() -> None:
    entry = {"path": "../x.jsonl", "split": "test", "role": "data", "sha256": "0" * 64}
    doc = {
        "benchmarks": {
            "toy": {
                "license": "MIT",
                "repository": "o/r",
                "commit": "0" * 40,
                "eval_split": "test",
                "files": [{**entry, "url": "https://example.org/x"}],
            }
        }
    }
    with pytest.raises(ConfigError, match="relative"):
        parse_sources(doc)
    doc["benchmarks"]["toy"]["files"][0].update(path="x.jsonl", sha256="abc")
    with pytest.raises(ConfigError, match="sha256"):
        parse_sources(doc)
    with pytest.raises(ConfigError, match="unknown benchmark"):
        get_source("not_a_benchmark")


def test_prepare_downloads_when_no_mirror(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    manifest = prepare(
        ["humaneval", "winogrande"],
        5,
        {},
        seed=1,
        out_dir=tmp_path / "out",
        cache_dir=tmp_path / "cache",
        base_url=base,
    )
    assert manifest["benchmarks"]["humaneval"]["n_sampled"] == 5
    assert (tmp_path / "cache/humaneval/HumanEval.jsonl.gz").is_file()
