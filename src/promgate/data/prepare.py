"""The prepare stage: pinned upstream files -> sampled Items + a manifest; and the training corpus.

Mirror files are parsed and validated before their sha256 is checked, so a corrupt record is
reported with its file, line and field rather than as a bare hash mismatch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

from promgate.data.fetch import resolve_files, verify_file
from promgate.data.loaders import load_benchmark
from promgate.data.loaders.gsm8k import prompt_for, read_gsm8k, strip_calculations
from promgate.data.sampling import stratified_sample
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.errors import ConfigError
from promgate.io import sha256_file, write_json, write_jsonl

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
EMPTY_BENCHMARK = "EMPTY_BENCHMARK"
TRAINING_SOURCES = ("arc_challenge", "arc_easy", "gsm8k")


def _check_args(benchmarks: list[str], n: int, n_overrides: Mapping[str, int]) -> None:
    if n < -1:
        raise ConfigError(f"n_per_benchmark must be -1 (all) or >= 0, got {n}", field="n")
    dupes = sorted(b for b, k in Counter(benchmarks).items() if k > 1)
    if dupes:
        raise ConfigError(f"benchmarks listed twice: {dupes}", field="benchmarks")
    for name in benchmarks:
        get_source(name)  # unknown names fail here, before any work
    for name, n in n_overrides.items():
        if n < -1:
            raise ConfigError(
                f"n for {name} must be -1 (all) or >= 0, got {n}", field="n_overrides"
            )
    stray = sorted(set(n_overrides) - set(benchmarks))
    if stray:
        raise ConfigError(f"n_overrides for benchmarks not prepared: {stray}", field="n_overrides")


def _verified_sources(files: Mapping[str, Path]) -> list[dict[str, str]]:
    return [{"path": rel, "sha256": verify_file(rel, files[rel])} for rel in sorted(files)]


def _prepare_one(
    benchmark: str,
    n: int,
    seed: int,
    out_dir: Path,
    mirror: Path | None,
    cache_dir: Path | None,
    base_url: str | None,
    progress: Progress,
) -> dict[str, Any]:
    source = get_source(benchmark)
    split = source.eval_split
    files = resolve_files(benchmark, mirror, cache_dir, base_url, splits=[split], progress=progress)
    items = load_benchmark(benchmark, files, split)
    sources = _verified_sources(files)
    if not items:
        return _empty_entry(benchmark, split, sources, n, out_dir)
    sampled = stratified_sample(items, n, seed)
    out_path = out_dir / f"{benchmark}.jsonl"
    write_jsonl(out_path, (item.model_dump(mode="json", exclude_none=True) for item in sampled))
    total = Counter(item.metadata.stratum for item in items)
    chosen = Counter(item.metadata.stratum for item in sampled)
    return {
        "split": split,
        "license": source.license,
        "upstream": {"repository": source.repository, "commit": source.commit},
        "sources": sources,
        "n_requested": n,
        "n_total": len(items),
        "n_sampled": len(sampled),
        "strata": {s: {"total": total[s], "sampled": chosen[s]} for s in sorted(total)},
        "output": {"path": out_path.name, "sha256": sha256_file(out_path)},
    }


def _empty_entry(
    benchmark: str, split: str, sources: list[dict[str, str]], n: int, out_dir: Path
) -> dict[str, Any]:
    """A benchmark whose files hold no items (the MGSM case): skipped, with a typed warning.

    An empty output file is still written so readers of ``<benchmark>.jsonl`` do not crash;
    the manifest's ``warning`` (and ``warnings``) says why it is empty, so it is never
    mistaken for a measured zero.
    """
    source = get_source(benchmark)
    out_path = out_dir / f"{benchmark}.jsonl"
    write_jsonl(out_path, [])
    return {
        "split": split,
        "license": source.license,
        "upstream": {"repository": source.repository, "commit": source.commit},
        "sources": sources,
        "n_requested": n,
        "n_total": 0,
        "n_sampled": 0,
        "strata": {},
        "warning": {
            "code": EMPTY_BENCHMARK,
            "message": f"the pinned {split} files of {benchmark} hold no items; skipped",
        },
        "output": {"path": out_path.name, "sha256": sha256_file(out_path)},
    }


def prepare(
    benchmarks: list[str],
    n_per_benchmark: int,
    n_overrides: dict[str, int],
    seed: int,
    out_dir: Path,
    mirror: Path | None = None,
    *,
    cache_dir: Path | None = None,
    base_url: str | None = None,
) -> dict[str, Any]:
    """Write ``out_dir/<benchmark>.jsonl`` per benchmark and ``out_dir/manifest.json``.

    ``n_per_benchmark`` (or the benchmark's entry in ``n_overrides``) is the sample size;
    -1 keeps every item. Returns the manifest. Nothing machine-specific (paths, times) goes
    into it, so the same inputs give a byte-identical manifest anywhere.
    """
    out_dir = Path(out_dir)
    _check_args(benchmarks, n_per_benchmark, n_overrides)
    entries: dict[str, Any] = {}
    with Progress(transient=True) as progress:
        task = progress.add_task("preparing benchmarks", total=len(benchmarks))
        for name in benchmarks:
            progress.update(task, description=f"preparing {name}")
            n = n_overrides.get(name, n_per_benchmark)
            entries[name] = _prepare_one(
                name, n, seed, out_dir, mirror, cache_dir, base_url, progress
            )
            progress.advance(task)
    manifest = {
        "version": MANIFEST_VERSION,
        "seed": seed,
        "n_per_benchmark": n_per_benchmark,
        "n_overrides": dict(sorted(n_overrides.items())),
        "benchmarks": entries,
        "warnings": [
            {"benchmark": name, **entry["warning"]}
            for name, entry in entries.items()
            if "warning" in entry
        ],
    }
    write_json(out_dir / MANIFEST_NAME, manifest)
    return manifest


# --- training corpus -------------------------------------------------------------------


def _arc_examples(items: list[Item], source: str) -> list[dict[str, str]]:
    return [
        {"id": it.id, "source": source, "prompt": it.prompt, "response": " " + it.target}
        for it in items
    ]


def _gsm8k_examples(path: Path, split: str) -> list[dict[str, str]]:
    return [
        {
            "id": f"gsm8k/{split}/{rec.index}",
            "source": "gsm8k",
            "prompt": prompt_for(rec.question),
            # Ends with the upstream '#### <answer>' line, which is what extraction looks for.
            "response": " " + strip_calculations(rec.solution),
        }
        for rec in read_gsm8k(path)
    ]


def balanced_quotas(sizes: Mapping[str, int], n: int) -> dict[str, int]:
    """Split ``n`` as evenly as possible; seats a small source cannot fill go to the others."""
    if n < 0:
        return dict(sizes)
    quotas: dict[str, int] = {}
    remaining = n
    order = sorted(sizes, key=lambda s: (sizes[s], s))  # smallest first: it may cap out
    for i, name in enumerate(order):
        left = len(order) - i
        share = -(-remaining // left)  # ceiling, so the total is exactly n
        quotas[name] = min(sizes[name], share)
        remaining -= quotas[name]
    return quotas


def prepare_training_corpus(
    sources: list[str],
    n: int,
    seed: int,
    out_path: Path,
    mirror: Path | None = None,
    *,
    cache_dir: Path | None = None,
    base_url: str | None = None,
) -> dict[str, Any]:
    """Supervised ``{"id", "source", "prompt", "response"}`` examples from TRAIN splits.

    ``n`` examples in total (-1: all), balanced across ``sources`` and drawn with ``seed``.
    Returns a summary: per source the files (with sha256), available and sampled counts.
    """
    unknown = sorted(set(sources) - set(TRAINING_SOURCES))
    if unknown or not sources:
        raise ConfigError(
            f"training sources must be among {list(TRAINING_SOURCES)}, got {sources}",
            field="sources",
        )
    if n < -1:
        raise ConfigError(f"n must be -1 (all) or >= 0, got {n}", field="n")
    pools: dict[str, list[dict[str, str]]] = {}
    files_by_source: dict[str, list[dict[str, str]]] = {}
    names = sorted(set(sources))
    with Progress(transient=True) as progress:
        task = progress.add_task("training corpus", total=len(names))
        for name in names:
            split = get_source(name).train_split
            if split is None:
                raise ConfigError(f"{name} has no pinned train split", field="sources")
            files = resolve_files(
                name, mirror, cache_dir, base_url, splits=[split], progress=progress
            )
            if name == "gsm8k":
                (path,) = files.values()
                pools[name] = _gsm8k_examples(path, split)
            else:
                pools[name] = _arc_examples(load_benchmark(name, files, split), name)
            files_by_source[name] = _verified_sources(files)
            progress.advance(task)

    quotas = balanced_quotas({s: len(p) for s, p in pools.items()}, n)
    rng = np.random.default_rng(seed)
    chosen: list[dict[str, str]] = []
    for name in sorted(pools):
        pool = sorted(pools[name], key=lambda ex: ex["id"])
        picks = rng.choice(len(pool), size=quotas[name], replace=False)
        chosen.extend(pool[i] for i in sorted(picks.tolist()))
    chosen.sort(key=lambda ex: ex["id"])
    out_path = Path(out_path)
    write_jsonl(out_path, chosen)
    return {
        "path": out_path.name,
        "sha256": sha256_file(out_path),
        "seed": seed,
        "n_requested": n,
        "n_written": len(chosen),
        "sources": {
            name: {
                "files": files_by_source[name],
                "available": len(pools[name]),
                "sampled": quotas[name],
            }
            for name in sorted(pools)
        },
    }
