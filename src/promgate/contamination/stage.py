"""The contamination stage: prepared eval sets + training corpus -> flags, metrics, clean corpus."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from promgate.config import ContaminationConfig
from promgate.contamination import report
from promgate.contamination.corpus import Document, iter_batches
from promgate.contamination.embedding import Encoder, MiniLMEncoder
from promgate.contamination.scan import scan
from promgate.contamination.views import item_view
from promgate.data.schema import Item, read_items
from promgate.errors import MissingEvidenceError
from promgate.io import read_json, sha256_file, write_json, write_jsonl

FLAGS_NAME = "flags.jsonl"
PAIRS_NAME = "pairs.jsonl"
REVIEW_NAME = "review_sample.jsonl"


def read_prepared(prepared_dir: Path) -> list[Item]:
    """Every prepared item, in manifest order; a listed file that is missing is an error."""
    manifest_path = prepared_dir / "manifest.json"
    if not manifest_path.is_file():
        raise MissingEvidenceError("prepared manifest not found", path=manifest_path)
    items: list[Item] = []
    for name, entry in read_json(manifest_path)["benchmarks"].items():
        output = entry.get("output")
        if output is None:  # a benchmark prepare skipped (its warning is in the manifest)
            continue
        path = prepared_dir / output["path"]
        if not path.is_file():
            raise MissingEvidenceError(f"prepared file of {name} not found", path=path)
        items.extend(read_items(path))
    return items


@contextmanager
def _atomic_lines(path: Path) -> Iterator[IO[str]]:
    """A text file written line by line, moved into place only when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def run(
    prepared_dir: Path,
    corpus_path: Path,
    clean_path: Path,
    out_dir: Path,
    metrics_path: Path,
    cfg: ContaminationConfig,
    encoder_factory: Callable[[ContaminationConfig], Encoder | None] | None = None,
) -> dict[str, Any]:
    """Scan ``corpus_path`` against the prepared items and write every output; returns metrics."""
    items = read_prepared(Path(prepared_dir))
    views = [item_view(item) for item in items]
    factory = encoder_factory or default_encoder
    encoder = factory(cfg)
    corpus_path = Path(corpus_path)
    if not corpus_path.is_file():
        raise MissingEvidenceError("training corpus not found", path=corpus_path)

    with _atomic_lines(Path(clean_path)) as clean:

        def keep(docs: Sequence[Document]) -> None:
            for doc in docs:
                clean.write(json.dumps(doc.record, ensure_ascii=False) + "\n")

        result = scan(views, iter_batches(corpus_path, cfg.batch_docs), cfg, encoder, keep)

    out_dir = Path(out_dir)
    write_jsonl(out_dir / FLAGS_NAME, report.flag_rows(items, result, cfg))
    pairs = report.pair_rows(items, views, result.pairs)
    write_jsonl(out_dir / PAIRS_NAME, pairs)
    write_jsonl(
        out_dir / REVIEW_NAME, report.review_sample(pairs, cfg.review_fraction, cfg.review_seed)
    )
    corpus = {
        "path": corpus_path.name,
        "sha256": sha256_file(corpus_path),
        "clean_sha256": sha256_file(clean_path),
    }
    summary = report.metrics(items, result, cfg, corpus, encoder.name if encoder else None)
    write_json(metrics_path, summary)
    return summary


def default_encoder(cfg: ContaminationConfig) -> Encoder | None:
    if not cfg.embedding.enabled:
        return None
    return MiniLMEncoder(
        batch_size=cfg.embedding.batch_size, max_seq_length=cfg.embedding.max_seq_length
    )
