"""DATA_CARD.md: sources, licences, counts per split and stratum, sha256 and seed, reproducibly."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from promgate.data import card
from promgate.data.prepare import prepare, prepare_training_corpus
from promgate.io import sha256_file

ROOT = Path(__file__).resolve().parent.parent


def test_card_lists_what_was_prepared(mirror: Path, tmp_path: Path) -> None:
    out = tmp_path / "prepared"
    manifest = prepare(
        ["arc_challenge", "mmlu", "gsm8k"], 12, {}, seed=99, out_dir=out, mirror=mirror
    )
    corpus = prepare_training_corpus(
        ["gsm8k"], 10, seed=99, out_path=tmp_path / "c.jsonl", mirror=mirror
    )
    text = card.render(manifest, corpus)
    assert "- sampling seed: 99" in text
    assert "| arc_challenge | test | CC-BY-SA-4.0 | 12 | 1172 |" in text
    assert "| mmlu | test | MIT | 12 | 14042 | 4 |" in text
    assert f"`gsm8k.jsonl` sha256 `{sha256_file(out / 'gsm8k.jsonl')}`" in text
    assert f"sha256 `{sha256_file(mirror / 'gsm8k/test.jsonl')}`" in text
    # Per stratum: every stratum's totals and draws, e.g. MMLU's four categories.
    for stratum, counts in manifest["benchmarks"]["mmlu"]["strata"].items():
        assert f"| {stratum} | {counts['total']} | {counts['sampled']} |" in text
    # 57 MMLU files are summarised by the digest `sha256sum` output would have.
    listing = "".join(
        f"{s['sha256']}  {s['path']}\n"
        for s in sorted(manifest["benchmarks"]["mmlu"]["sources"], key=lambda s: s["path"])
    )
    assert hashlib.sha256(listing.encode()).hexdigest() in text
    assert "57 files" in text
    assert f"`data/train/c.jsonl` sha256 `{corpus['sha256']}`" in text
    assert card.render(manifest, corpus) == text  # no clock, no paths: same bytes


def test_card_reports_skipped_benchmarks() -> None:
    manifest = {
        "seed": 1,
        "n_per_benchmark": 5,
        "n_overrides": {},
        "benchmarks": {},
        "warnings": [{"benchmark": "mgsm", "code": "EMPTY", "message": "no items"}],
    }
    assert "- **mgsm**: `EMPTY`: no items" in card.render(manifest, None)


def test_card_is_a_prepare_output() -> None:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    outs = stages["prepare"]["outs"]
    assert {"DATA_CARD.md": {"cache": False}} in outs
    assert "DATA_CARD.md" in (ROOT / "stages/prepare.py").read_text()
