"""Build the contamination-resistant suite from the prepared eval sets.

Writes ``<out>/<benchmark>_perturbed.jsonl`` (Items in the unified schema, ids
``<benchmark>_perturbed/<upstream id>`` so each pairs with its original) and a manifest in
the prepare stage's layout, with per-benchmark skip counts by reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from promgate.contamination.perturb import choices, numeric, rename
from promgate.data.fetch import resolve_files
from promgate.data.loaders.gsm8k import GSM8KRecord, prompt_for, read_gsm8k
from promgate.data.schema import Item, read_items
from promgate.io import read_json, sha256_file, write_json, write_jsonl
from promgate.scoring.code import program_and_tests

SUFFIX = "_perturbed"
CHOICE_BENCHMARKS = ("mmlu", "arc_easy", "arc_challenge")
CODE_BENCHMARKS = ("humaneval", "mbpp", "mbpp_sanitized")
# (program, tests) pairs -> pass/fail per pair; the sandbox in production, a stub in tests.
Verifier = Callable[[Sequence[tuple[str, str]]], list[bool]]


def sandbox_verifier(jobs: Sequence[tuple[str, str]]) -> list[bool]:
    from promgate.sandbox import run_many

    return [result.passed for result in run_many(list(jobs))]


def _permuted(items: Sequence[Item], seed: int, skipped: Counter[str]) -> list[Item]:
    out = []
    for item in items:
        variant = choices.permute(item, item.benchmark + SUFFIX, seed)
        if variant is None:
            skipped["unknown_format"] += 1
        else:
            out.append(variant)
    return out


def _gsm8k(
    items: Sequence[Item], records: dict[int, GSM8KRecord], seed: int, skipped: Counter[str]
) -> list[Item]:
    out = []
    for item in items:
        index = int(item.id.rsplit("/", 1)[1])
        rec = records.get(index)
        if rec is None or prompt_for(rec.question) != item.prompt or rec.answer != item.target:
            skipped["source_mismatch"] += 1  # the upstream record is not the prepared one
            continue
        try:
            variant = numeric.perturb(
                rec.question, rec.solution, rec.answer, choices.rng_for(seed, item.id)
            )
        except numeric.Skip as skip:
            skipped[skip.reason] += 1
            continue
        fields = item.model_dump(exclude={"content_hash"})
        fields.update(
            id="gsm8k" + SUFFIX + item.id[len("gsm8k") :],
            benchmark="gsm8k" + SUFFIX,
            prompt=prompt_for(variant.question),
            target=variant.answer,
        )
        out.append(Item.model_validate(fields))
    return out


def _renamed(items: Sequence[Item], verify: Verifier, skipped: Counter[str]) -> list[Item]:
    candidates = []
    for item in items:
        try:
            candidates.append(rename.rename(item, item.benchmark + SUFFIX).item)
        except rename.Skip as skip:
            skipped[skip.reason] += 1
    jobs = [program_and_tests(c, c.target) for c in candidates]
    passed = verify(jobs) if jobs else []
    skipped["fails_after_rename"] += sum(not ok for ok in passed)
    return [c for c, ok in zip(candidates, passed, strict=True) if ok]


def build_suite(
    prepared_dir: Path,
    out_dir: Path,
    seed: int,
    mirror: Path | None = None,
    verify: Verifier = sandbox_verifier,
) -> dict[str, Any]:
    prepared_dir, out_dir = Path(prepared_dir), Path(out_dir)
    manifest = read_json(prepared_dir / "manifest.json")
    entries: dict[str, Any] = {}
    for name, entry in manifest["benchmarks"].items():
        if "output" not in entry or name not in (*CHOICE_BENCHMARKS, "gsm8k", *CODE_BENCHMARKS):
            continue
        items = read_items(prepared_dir / entry["output"]["path"])
        skipped: Counter[str] = Counter()
        if name in CHOICE_BENCHMARKS:
            variants = _permuted(items, seed, skipped)
        elif name == "gsm8k":
            split = entry["split"]
            (path,) = resolve_files("gsm8k", mirror, splits=[split]).values()
            records = {rec.index: rec for rec in read_gsm8k(path)}
            variants = _gsm8k(items, records, seed, skipped)
        else:
            variants = _renamed(items, verify, skipped)
        out_path = out_dir / f"{name}{SUFFIX}.jsonl"
        write_jsonl(out_path, (v.model_dump(mode="json", exclude_none=True) for v in variants))
        entries[name + SUFFIX] = {
            "source_benchmark": name,
            "split": entry["split"],
            "license": entry["license"],
            "n_source": len(items),
            "n_written": len(variants),
            "skipped": dict(sorted(skipped.items())),
            "strata": dict(sorted(Counter(v.metadata.stratum for v in variants).items())),
            "output": {"path": out_path.name, "sha256": sha256_file(out_path)},
        }
    suite = {"version": 1, "seed": seed, "benchmarks": entries}
    write_json(out_dir / "manifest.json", suite)
    return suite
