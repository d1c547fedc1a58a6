"""The prepare stage end to end on the mirror: manifest, check order, training corpus."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from promgate.data.prepare import balanced_quotas, prepare, prepare_training_corpus
from promgate.data.schema import read_items
from promgate.data.sources import get_source
from promgate.errors import ConfigError, DataUnavailableError, IntegrityError, SchemaError
from promgate.io import sha256_file

ARC_C_TEST = "arc/ARC-Challenge/ARC-Challenge-Test.jsonl"


def tmp_mirror(mirror: Path, dest: Path, rels: list[str]) -> Path:
    for rel in rels:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(mirror / rel, dest / rel)
    return dest


def test_manifest_contents(mirror: Path, tmp_path: Path) -> None:
    benches = ["arc_challenge", "winogrande", "gsm8k", "humaneval"]
    out = tmp_path / "prepared"
    manifest = prepare(benches, 40, {"humaneval": -1}, seed=42, out_dir=out, mirror=mirror)
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk == manifest
    assert manifest["seed"] == 42 and manifest["n_per_benchmark"] == 40
    assert manifest["n_overrides"] == {"humaneval": -1}
    assert list(manifest["benchmarks"]) == benches

    totals = {"arc_challenge": 1172, "winogrande": 1267, "gsm8k": 1319, "humaneval": 164}
    for name, entry in manifest["benchmarks"].items():
        source = get_source(name)
        assert entry["split"] == source.eval_split
        assert entry["license"] == source.license
        assert entry["upstream"] == {"repository": source.repository, "commit": source.commit}
        pins = sorted((f.path, f.sha256) for f in source.files if f.split == source.eval_split)
        assert entry["sources"] == [{"path": p, "sha256": h} for p, h in pins]
        assert entry["n_total"] == totals[name]
        expected_n = totals[name] if name == "humaneval" else 40
        assert entry["n_sampled"] == expected_n
        strata = entry["strata"]
        assert sum(s["total"] for s in strata.values()) == entry["n_total"]
        assert sum(s["sampled"] for s in strata.values()) == expected_n
        assert all(s["sampled"] >= 1 for s in strata.values())

        path = out / entry["output"]["path"]
        assert path == out / f"{name}.jsonl"
        assert entry["output"]["sha256"] == sha256_file(path)
        items = read_items(path)
        assert len(items) == expected_n
        assert [it.id for it in items] == sorted(it.id for it in items)
        assert Counter(it.metadata.stratum for it in items) == {
            s: v["sampled"] for s, v in strata.items() if v["sampled"]
        }
    for entry in manifest["benchmarks"].values():
        for src in entry["sources"]:
            assert src["sha256"] == sha256_file(mirror / src["path"])

    # Same inputs, same bytes: the manifest holds no paths or times.
    again = tmp_path / "again"
    prepare(benches, 40, {"humaneval": -1}, seed=42, out_dir=again, mirror=mirror)
    for name in [*benches, "manifest"]:
        suffix = "json" if name == "manifest" else "jsonl"
        assert (again / f"{name}.{suffix}").read_bytes() == (out / f"{name}.{suffix}").read_bytes()


def test_corrupt_mirror_file_is_schema_error_first(mirror: Path, tmp_path: Path) -> None:
    root = tmp_mirror(mirror, tmp_path / "m", [ARC_C_TEST])
    path = root / ARC_C_TEST
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    rec = json.loads(lines[2])
    rec["answerKey"] = "Q"
    lines[2] = json.dumps(rec) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(SchemaError) as info:  # the sha256 is wrong too, but reported second
        prepare(["arc_challenge"], 10, {}, seed=0, out_dir=tmp_path / "out", mirror=root)
    assert info.value.line == 3 and info.value.field == "answerKey"
    assert str(path) in str(info.value)
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_parseable_but_changed_file_is_integrity_error(mirror: Path, tmp_path: Path) -> None:
    root = tmp_mirror(mirror, tmp_path / "m", [ARC_C_TEST])
    path = root / ARC_C_TEST
    data = path.read_bytes()
    path.write_bytes(data.replace(b"Which", b"Whick", 1))
    with pytest.raises(IntegrityError) as info:
        prepare(["arc_challenge"], 10, {}, seed=0, out_dir=tmp_path / "out", mirror=root)
    assert ARC_C_TEST in str(info.value) and get_source("arc_challenge").files[0].sha256 in str(
        info.value
    )
    assert not (tmp_path / "out" / "arc_challenge.jsonl").exists()


def test_bad_names_and_missing_mirror_files(mirror: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown benchmark"):
        prepare(["not_a_benchmark"], 10, {}, 0, tmp_path, mirror=mirror)
    # HellaSwag is pinned but not in the shared mirror: named as missing, never guessed.
    with pytest.raises(DataUnavailableError, match=r"hellaswag_val\.jsonl is missing"):
        prepare(["hellaswag"], 10, {}, 0, tmp_path, mirror=mirror)
    with pytest.raises(ConfigError, match="n_overrides"):
        prepare(["piqa"], 10, {"mmlu": 5}, 0, tmp_path, mirror=mirror)
    with pytest.raises(ConfigError, match="twice"):
        prepare(["piqa", "piqa"], 10, {}, 0, tmp_path, mirror=mirror)
    with pytest.raises(DataUnavailableError, match="missing from the mirror"):
        prepare(["piqa"], 10, {}, 0, tmp_path / "out", mirror=tmp_path / "empty")


# --- training corpus ----------------------------------------------------------------------


def test_training_corpus_balanced_and_clean(mirror: Path, tmp_path: Path) -> None:
    out = tmp_path / "train.jsonl"
    summary = prepare_training_corpus(["arc_easy", "arc_challenge", "gsm8k"], 31, 3, out, mirror)
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == summary["n_written"] == 31
    counts = Counter(r["source"] for r in rows)
    assert sorted(counts.values()) == [10, 10, 11]
    assert summary["sources"]["gsm8k"]["available"] == 7473
    assert summary["sha256"] == sha256_file(out)
    for row in rows:
        assert set(row) == {"id", "source", "prompt", "response"}
        assert row["prompt"].startswith("Question: ") and row["prompt"].endswith("\nAnswer:")
        assert row["response"].startswith(" ")
        assert row["id"].startswith(f"{row['source']}/")
        if row["source"] == "gsm8k":
            assert "<<" not in row["response"] and ">>" not in row["response"]
            assert row["response"].splitlines()[-1].startswith("#### ")
            assert row["id"].startswith("gsm8k/train/")
    # No evaluation item leaks in: ARC train and test ids are disjoint upstream.
    test_ids = {
        json.loads(x)["id"]
        for x in (mirror / "arc/ARC-Easy/ARC-Easy-Test.jsonl").read_text().splitlines()
    }
    assert not any(r["id"].split("/", 1)[1] in test_ids for r in rows if r["source"] == "arc_easy")

    again = tmp_path / "again.jsonl"
    prepare_training_corpus(["gsm8k", "arc_challenge", "arc_easy"], 31, 3, again, mirror)
    assert again.read_bytes() == out.read_bytes()


def test_training_corpus_arc_response_is_correct_choice(mirror: Path, tmp_path: Path) -> None:
    out = tmp_path / "arc.jsonl"
    prepare_training_corpus(["arc_challenge"], -1, 0, out, mirror)
    rows = {json.loads(x)["id"]: json.loads(x) for x in out.read_text().splitlines()}
    assert len(rows) == 1119
    raw = json.loads(
        (mirror / "arc/ARC-Challenge/ARC-Challenge-Train.jsonl").read_text().split("\n")[0]
    )
    labels = [c["label"] for c in raw["question"]["choices"]]
    answer = raw["question"]["choices"][labels.index(raw["answerKey"])]["text"]
    assert rows[f"arc_challenge/{raw['id']}"]["response"] == " " + answer


def test_training_corpus_rejects_eval_only_sources(mirror: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="training sources"):
        prepare_training_corpus(["mmlu"], 10, 0, tmp_path / "t.jsonl", mirror)


def test_balanced_quotas() -> None:
    assert balanced_quotas({"a": 100, "b": 100, "c": 100}, 10) == {"a": 4, "b": 3, "c": 3}
    assert balanced_quotas({"a": 2, "b": 100, "c": 100}, 30) == {"a": 2, "b": 14, "c": 14}
    assert balanced_quotas({"a": 2, "b": 3}, 50) == {"a": 2, "b": 3}
    assert balanced_quotas({"a": 2, "b": 3}, -1) == {"a": 2, "b": 3}


def test_empty_benchmark_is_skipped_with_a_typed_warning(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import promgate.data.prepare as prep
    from promgate.data import card

    real = prep.load_benchmark

    def empty_piqa(name, files, split):
        return [] if name == "piqa" else real(name, files, split)

    monkeypatch.setattr(prep, "load_benchmark", empty_piqa)
    manifest = prepare(["piqa", "arc_easy"], 5, {}, seed=1, out_dir=tmp_path, mirror=mirror)
    entry = manifest["benchmarks"]["piqa"]
    assert entry["n_total"] == entry["n_sampled"] == 0
    assert entry["warning"]["code"] == "EMPTY_BENCHMARK"
    assert manifest["warnings"] == [{"benchmark": "piqa", **entry["warning"]}]
    assert (tmp_path / "piqa.jsonl").read_text() == ""
    assert manifest["benchmarks"]["arc_easy"]["n_sampled"] == 5
    assert "- **piqa**: `EMPTY_BENCHMARK`" in card.render(manifest, None)
