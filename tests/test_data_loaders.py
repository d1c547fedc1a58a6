"""Loaders against the real benchmark mirror, and corrupt-record reporting on tmp copies."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from promgate.data.fetch import resolve_files
from promgate.data.loaders import (
    load_arc,
    load_benchmark,
    load_gsm8k,
    load_humaneval,
    load_mmlu,
    load_piqa,
    load_winogrande,
)
from promgate.data.loaders.arc import exam_source
from promgate.data.loaders.gsm8k import difficulty_of, read_gsm8k, strip_calculations
from promgate.data.loaders.mmlu import SUBJECT_CATEGORY
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.errors import SchemaError

_CACHE: dict[tuple[str, str], list[Item]] = {}


def load(mirror: Path, benchmark: str, split: str | None = None) -> list[Item]:
    key = (benchmark, split or get_source(benchmark).eval_split)
    if key not in _CACHE:
        files = resolve_files(benchmark, mirror)
        _CACHE[key] = load_benchmark(benchmark, files, key[1])
    return _CACHE[key]


def assert_located(exc: SchemaError, path: Path, line: int, field: str | None) -> None:
    message = str(exc)
    assert str(path) in message
    assert f"line {line}" in message
    assert exc.path == str(path) and exc.line == line
    if field is not None:
        assert f"field '{field}'" in message
        assert exc.field == field


def copy_with_line(src: Path, dst: Path, line: int, new: str | None) -> Path:
    """Copy ``src`` to ``dst`` with 1-based ``line`` replaced by ``new`` (None: removed)."""
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    if new is None:
        del lines[line - 1]
    else:
        lines[line - 1] = new + "\n"
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text("".join(lines), encoding="utf-8")
    return dst


def edited_record(src: Path, line: int, edit: Callable[[dict[str, Any]], object]) -> str:
    rec = json.loads(src.read_text(encoding="utf-8").splitlines()[line - 1])
    edit(rec)
    return json.dumps(rec)


# --- counts on the real mirror ----------------------------------------------------------


@pytest.mark.parametrize(
    ("benchmark", "split", "count"),
    [
        ("arc_easy", "test", 2376),
        ("arc_challenge", "test", 1172),
        ("arc_easy", "train", 2251),
        ("arc_challenge", "train", 1119),
        ("mmlu", "test", 14042),
        ("winogrande", "dev", 1267),
        ("piqa", "valid", 1838),
        ("gsm8k", "test", 1319),
        ("gsm8k", "train", 7473),
        ("humaneval", "test", 164),
    ],
)
def test_counts_and_unique_ids(mirror: Path, benchmark: str, split: str, count: int) -> None:
    items = load(mirror, benchmark, split)
    assert len(items) == count
    assert len({it.id for it in items}) == count
    assert all(it.id.startswith(f"{benchmark}/") for it in items)
    assert all(it.benchmark == benchmark and it.split == split for it in items)
    assert all(it.content_hash for it in items)


def test_ids_are_stable_across_loads(mirror: Path) -> None:
    files = resolve_files("arc_challenge", mirror, splits=["test"])
    first = load_benchmark("arc_challenge", files)
    again = load_benchmark("arc_challenge", files)
    assert [(i.id, i.content_hash) for i in first] == [(i.id, i.content_hash) for i in again]


# --- ARC ------------------------------------------------------------------------------


def test_arc_format(mirror: Path) -> None:
    path = mirror / "arc/ARC-Easy/ARC-Easy-Test.jsonl"
    raw = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    item = load(mirror, "arc_easy")[0]
    assert item.id == f"arc_easy/{raw['id']}"
    assert item.prompt == f"Question: {raw['question']['stem']}\nAnswer:"
    assert item.choices == [" " + c["text"] for c in raw["question"]["choices"]]
    labels = [c["label"] for c in raw["question"]["choices"]]
    assert item.answer_index == labels.index(raw["answerKey"])
    assert item.target == raw["question"]["choices"][item.answer_index]["text"]
    assert item.metadata.difficulty == "easy" and item.metadata.domain == "science"
    assert load(mirror, "arc_challenge")[0].metadata.difficulty == "challenge"


def test_arc_numeric_labels(mirror: Path) -> None:
    path = mirror / "arc/ARC-Challenge/ARC-Challenge-Test.jsonl"
    raws = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    numeric = [r for r in raws if r["question"]["choices"][0]["label"] == "1"]
    assert numeric, "the mirror should hold NYSEDREGENTS items with labels 1-4"
    by_id = {it.id: it for it in load(mirror, "arc_challenge")}
    for raw in numeric:
        item = by_id[f"arc_challenge/{raw['id']}"]
        assert item.answer_index == int(raw["answerKey"]) - 1
        assert item.metadata.stratum == "NYSEDREGENTS"


def test_arc_three_and_five_choices(mirror: Path) -> None:
    sizes = {len(it.choices or []) for it in load(mirror, "arc_easy")}
    assert {3, 4, 5} <= sizes
    for item in load(mirror, "arc_easy"):
        assert 0 <= (item.answer_index or 0) < len(item.choices or [])


def test_arc_strata_from_id_prefix(mirror: Path) -> None:
    assert exam_source("Mercury_SC_401234") == "Mercury"
    assert exam_source("NYSEDREGENTS_2015_4_29") == "NYSEDREGENTS"
    assert exam_source("CSZ20679") == "CSZ"
    assert exam_source("NCEOGA2013_8_50") == "NCEOGA"
    assert exam_source("AKDE&ED_2008_4_25") == "AKDE&ED"
    strata = {it.metadata.stratum for it in load(mirror, "arc_easy")}
    assert {"Mercury", "NYSEDREGENTS", "MCAS", "CSZ"} <= strata
    assert not any(s[-1].isdigit() for s in strata)


# --- MMLU -----------------------------------------------------------------------------


def test_mmlu_format_and_categories(mirror: Path) -> None:
    items = load(mirror, "mmlu")
    assert len(SUBJECT_CATEGORY) == 57
    assert {it.metadata.domain for it in items} == set(SUBJECT_CATEGORY)
    assert {it.metadata.stratum for it in items} == {
        "STEM",
        "humanities",
        "social_sciences",
        "other",
    }
    first = next(it for it in items if it.id == "mmlu/abstract_algebra/0")
    assert first.prompt == (
        "The following are multiple choice questions (with answers) about abstract algebra.\n\n"
        "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\n"
        "A. 0\nB. 4\nC. 2\nD. 6\nAnswer:"
    )
    assert first.choices == [" A", " B", " C", " D"]
    assert first.target == "B" and first.answer_index == 1
    assert sum("\n" in it.prompt.split("\n\n", 1)[1].split("\nA. ")[0] for it in items) > 100


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def test_mmlu_reports_starting_line_of_multiline_record(tmp_path: Path) -> None:
    good = ["q1", "a", "b", "c", "d", "A"]
    multiline = ["line one\nline two\nline three", "a", "b", "c", "d", "C"]
    path = _write_csv(
        tmp_path / "anatomy_test.csv", [good, multiline, ["q3", "a", "b", "c", "d", "E"]]
    )
    with pytest.raises(SchemaError) as info:
        load_mmlu([path])
    assert_located(info.value, path, 5, "answer")  # q3 starts on line 5, after 1 + 3 lines

    path = _write_csv(tmp_path / "x" / "anatomy_test.csv", [good, multiline, ["q3", "a", "b"]])
    with pytest.raises(SchemaError) as info:
        load_mmlu([path])
    assert_located(info.value, path, 5, "C")

    ok = load_mmlu([_write_csv(tmp_path / "y" / "anatomy_test.csv", [good, multiline])])
    assert [it.id for it in ok] == ["mmlu/anatomy/0", "mmlu/anatomy/1"]
    assert ok[1].metadata.stratum == "STEM" and ok[1].target == "C"


def test_mmlu_unknown_subject_file(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "cooking_test.csv", [["q", "a", "b", "c", "d", "A"]])
    with pytest.raises(SchemaError, match="unknown MMLU subject"):
        load_mmlu([path])


# --- WinoGrande -------------------------------------------------------------------------


def test_winogrande_partial_scoring(mirror: Path) -> None:
    items = {it.id: it for it in load(mirror, "winogrande")}
    item = items["winogrande/3FCO4VKOZ4BJQ6IFC0VAIBK4KTWE7U-2"]
    assert (
        item.prompt
        == "Sarah was a much better surgeon than Maria so _ always got the easier cases."
    )
    assert item.contexts == [
        "Sarah was a much better surgeon than Maria so Sarah",
        "Sarah was a much better surgeon than Maria so Maria",
    ]
    assert item.continuation == " always got the easier cases."
    assert item.choices == ["Sarah", "Maria"] and item.answer_index == 1
    twin = items["winogrande/3FCO4VKOZ4BJQ6IFC0VAIBK4KTWE7U-1"]
    assert twin.metadata.cluster == item.metadata.cluster == "3FCO4VKOZ4BJQ6IFC0VAIBK4KTWE7U"
    assert twin.answer_index == 0


def test_winogrande_answers_match_label_file(mirror: Path) -> None:
    labels = (mirror / "winogrande/dev-labels.lst").read_text().split()
    items = load(mirror, "winogrande")
    assert [str(it.answer_index + 1) for it in items if it.answer_index is not None] == labels


# --- PIQA / GSM8K / HumanEval --------------------------------------------------------------


def test_piqa_format(mirror: Path) -> None:
    items = load(mirror, "piqa")
    labels = (mirror / "piqa/valid-labels.lst").read_text().split()
    assert [str(it.answer_index) for it in items] == labels
    raw = json.loads((mirror / "piqa/valid.jsonl").read_text(encoding="utf-8").splitlines()[1])
    assert items[1].id == "piqa/valid/1"
    assert items[1].prompt == f"Question: {raw['goal']}\nAnswer:"
    assert items[1].choices == [" " + raw["sol1"], " " + raw["sol2"]]


def test_gsm8k_targets_and_strata(mirror: Path) -> None:
    items = load(mirror, "gsm8k", "test")
    assert all(it.kind == "generate" and it.choices is None for it in items)
    assert all("," not in it.target for it in items)
    assert sum(it.target.startswith("-") for it in items) == 2
    assert items[0].id == "gsm8k/test/0" and items[0].target == "18"
    assert items[0].prompt.startswith("Question: Janet") and items[0].prompt.endswith("\nAnswer:")
    assert {it.metadata.stratum for it in items} == {"easy", "medium", "hard"}
    records = read_gsm8k(mirror / "gsm8k/test.jsonl")
    assert sum("," in r.solution.rsplit("####", 1)[1] for r in records) == 14


def test_gsm8k_difficulty_thresholds() -> None:
    def sol(k: int) -> str:
        return "".join(f"x <<1+{i}={i + 1}>>{i + 1}\n" for i in range(k)) + "#### 1"

    assert [difficulty_of(sol(k)) for k in range(7)] == [
        "easy",
        "easy",
        "easy",
        "medium",
        "medium",
        "hard",
        "hard",
    ]
    assert strip_calculations("2/2=<<2/2=1>>1 bolt\n#### 1") == "2/2=1 bolt\n#### 1"


def test_humaneval_format(mirror: Path) -> None:
    items = load(mirror, "humaneval")
    assert [it.id for it in items[:3]] == ["humaneval/0", "humaneval/1", "humaneval/2"]
    assert all(it.kind == "code" and "def check(" in (it.tests or "") for it in items)
    assert items[0].entry_point == "has_close_elements"
    assert items[0].prompt.startswith("from typing import List")


# --- corrupt records on tmp copies --------------------------------------------------------


def test_arc_corrupt_lines(mirror: Path, tmp_path: Path) -> None:
    src = mirror / "arc/ARC-Challenge/ARC-Challenge-Test.jsonl"
    cases = [
        (5, '{"id": "x", "question": ', None),
        (7, edited_record(src, 7, lambda r: r.update(answerKey="Z")), "answerKey"),
        (9, edited_record(src, 9, lambda r: r.pop("answerKey")), "answerKey"),
        (11, edited_record(src, 11, lambda r: r["question"].update(stem=3)), "question.stem"),
        (
            13,
            edited_record(src, 13, lambda r: r["question"]["choices"][1].pop("label")),
            "question.choices[1].label",
        ),
        (
            15,
            edited_record(src, 15, lambda r: r["question"].update(choices=[])),
            "question.choices",
        ),
    ]
    for line, new, field in cases:
        path = copy_with_line(src, tmp_path / f"c{line}.jsonl", line, new)
        with pytest.raises(SchemaError) as info:
            load_arc(path, benchmark="arc_challenge", split="test")
        assert_located(info.value, path, line, field)


def test_arc_duplicate_id(mirror: Path, tmp_path: Path) -> None:
    src = mirror / "arc/ARC-Challenge/ARC-Challenge-Test.jsonl"
    first = src.read_text(encoding="utf-8").splitlines()[0]
    path = copy_with_line(src, tmp_path / "dup.jsonl", 4, first)
    with pytest.raises(SchemaError, match="duplicate id") as info:
        load_arc(path, benchmark="arc_challenge", split="test")
    assert_located(info.value, path, 4, "id")


def test_winogrande_corrupt(mirror: Path, tmp_path: Path) -> None:
    data = mirror / "winogrande/dev.jsonl"
    labels = mirror / "winogrande/dev-labels.lst"

    two_blanks = edited_record(data, 3, lambda r: r.update(sentence=r["sentence"] + " _"))
    path = copy_with_line(data, tmp_path / "a/dev.jsonl", 3, two_blanks)
    with pytest.raises(SchemaError, match="exactly one '_'") as info:
        load_winogrande(path, labels)
    assert_located(info.value, path, 3, "sentence")

    int_answer = edited_record(data, 4, lambda r: r.update(answer=int(r["answer"])))
    path = copy_with_line(data, tmp_path / "b/dev.jsonl", 4, int_answer)
    with pytest.raises(SchemaError, match="expected str") as info:
        load_winogrande(path, labels)
    assert_located(info.value, path, 4, "answer")

    flipped = edited_record(data, 6, lambda r: r.update(answer="1" if r["answer"] == "2" else "2"))
    path = copy_with_line(data, tmp_path / "c/dev.jsonl", 6, flipped)
    with pytest.raises(SchemaError, match="disagrees") as info:
        load_winogrande(path, labels)
    assert_located(info.value, path, 6, "answer")

    short = copy_with_line(labels, tmp_path / "d/dev-labels.lst", 10, None)
    with pytest.raises(SchemaError, match="line-aligned") as info:
        load_winogrande(data, short)
    assert_located(info.value, short, 1267, "label")


def test_piqa_corrupt(mirror: Path, tmp_path: Path) -> None:
    data = mirror / "piqa/valid.jsonl"
    labels = mirror / "piqa/valid-labels.lst"
    path = copy_with_line(
        data, tmp_path / "valid.jsonl", 8, edited_record(data, 8, lambda r: r.pop("sol2"))
    )
    with pytest.raises(SchemaError, match="missing field") as info:
        load_piqa(path, labels)
    assert_located(info.value, path, 8, "sol2")

    bad = copy_with_line(labels, tmp_path / "valid-labels.lst", 12, "2")
    with pytest.raises(SchemaError) as info:
        load_piqa(data, bad)
    assert_located(info.value, bad, 12, "label")


def test_gsm8k_corrupt(mirror: Path, tmp_path: Path) -> None:
    src = mirror / "gsm8k/test.jsonl"
    no_answer = edited_record(src, 2, lambda r: r.update(answer=r["answer"].replace("####", "")))
    path = copy_with_line(src, tmp_path / "a.jsonl", 2, no_answer)
    with pytest.raises(SchemaError, match="####") as info:
        load_gsm8k(path)
    assert_located(info.value, path, 2, "answer")

    path = copy_with_line(
        src, tmp_path / "b.jsonl", 3, edited_record(src, 3, lambda r: r.pop("question"))
    )
    with pytest.raises(SchemaError) as info:
        load_gsm8k(path)
    assert_located(info.value, path, 3, "question")


def test_humaneval_corrupt(mirror: Path, tmp_path: Path) -> None:
    with gzip.open(mirror / "humaneval/HumanEval.jsonl.gz", "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    rec = json.loads(lines[20])
    rec["task_id"] = "HumanEval-20"
    lines[20] = json.dumps(rec)
    path = tmp_path / "HumanEval.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    with pytest.raises(SchemaError) as info:
        load_humaneval(path)
    assert_located(info.value, path, 21, "task_id")


def test_invalid_utf8_is_located(mirror: Path, tmp_path: Path) -> None:
    src = mirror / "gsm8k/test.jsonl"
    raw = src.read_bytes().splitlines(keepends=True)
    raw[6] = b'{"question": "\xff", "answer": "#### 1"}\n'
    path = tmp_path / "test.jsonl"
    path.write_bytes(b"".join(raw))
    with pytest.raises(SchemaError, match="UTF-8") as info:
        load_gsm8k(path)
    assert_located(info.value, path, 7, None)
