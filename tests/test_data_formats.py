"""The remaining upstream formats: MATH (+ MATH-500), TruthfulQA (both), SST-2, AdvBench,
CodeXGLUE, SWE-bench Lite on the mirror; HellaSwag and DROP on files made here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from promgate.data.fetch import resolve_files, verify_file
from promgate.data.loaders import (
    load_advbench,
    load_benchmark,
    load_codexglue,
    load_drop,
    load_hellaswag,
    load_math,
    load_math500,
    load_sst2,
    load_swebench,
    load_truthfulqa,
)
from promgate.data.loaders.math import last_boxed
from promgate.data.schema import Item
from promgate.data.sources import all_sources, get_source, parse_sources
from promgate.errors import ConfigError, SchemaError

_CACHE: dict[tuple[str, str], list[Item]] = {}


def load(mirror: Path, benchmark: str, split: str | None = None) -> list[Item]:
    key = (benchmark, split or get_source(benchmark).eval_split)
    if key not in _CACHE:
        _CACHE[key] = load_benchmark(benchmark, resolve_files(benchmark, mirror), key[1])
    return _CACHE[key]


def located(exc: SchemaError, path: Path, line: int | None, field: str | None) -> None:
    assert exc.path == str(path), exc
    assert exc.line == line, exc
    assert exc.field == field, exc


@pytest.mark.parametrize(
    ("benchmark", "split", "count"),
    [
        ("math", "test", 5000),
        ("math500", "test", 500),
        ("truthfulqa", "validation", 790),
        ("truthfulqa_2021", "validation", 817),
        ("sst2", "dev", 872),
        ("sst2", "train", 67349),
        ("advbench", "test", 520),
        ("codexglue", "test", 1000),
        ("swebench_lite", "test", 300),
    ],
)
def test_mirror_counts_ids_and_pins(mirror: Path, benchmark: str, split: str, count: int) -> None:
    items = load(mirror, benchmark, split)
    assert len(items) == count == len({it.id for it in items})
    assert all(it.id.startswith(f"{benchmark}/") and it.split == split for it in items)
    for rel, path in resolve_files(benchmark, mirror, splits=[split]).items():
        verify_file(rel, path)


# --- MATH ------------------------------------------------------------------------------


def test_last_boxed_handles_nesting_and_variants() -> None:
    assert last_boxed(r"so $\boxed{\frac{1}{2}}$ and then \boxed{3}") == "3"
    assert (
        last_boxed(r"\boxed{\left( 3, \frac{\pi}{2} \right)}") == r"\left( 3, \frac{\pi}{2} \right)"
    )
    assert last_boxed(r"answer \boxed 5.") == "5."
    assert last_boxed(r"\fbox{x+1}") == "x+1"
    assert last_boxed(r"\boxed{2} then \boxed{unbalanced") == "2"
    assert last_boxed("no box here") is None


def test_math_items_agree_with_math500_answers(mirror: Path) -> None:
    full = {it.id.split("/", 1)[1]: it for it in load(mirror, "math")}
    subset = load(mirror, "math500")
    assert all(s.target == full[s.id.split("/", 1)[1]].target for s in subset)
    first = full["algebra/1"]
    assert first.target == "2" and first.metadata.difficulty == "level_3"
    assert first.metadata.stratum == "algebra/level_3"
    assert first.prompt.startswith("Problem:\nHow many vertical asymptotes")
    assert len({it.metadata.stratum for it in full.values()}) == 35  # 7 subjects x 5 levels


def test_math_file_errors(mirror: Path, tmp_path: Path) -> None:
    src = mirror / "math/MATH/test/algebra/1.json"
    rec = json.loads(src.read_text())
    bad = tmp_path / "algebra" / "1.json"
    bad.parent.mkdir()
    bad.write_text(json.dumps({**rec, "level": "Level 9"}, indent=4))
    with pytest.raises(SchemaError, match="Level") as info:
        load_math([bad])
    located(info.value, bad, 3, "level")
    bad.write_text(json.dumps({**rec, "solution": "no answer"}, indent=4))
    with pytest.raises(SchemaError, match="boxed") as info:
        load_math([bad])
    located(info.value, bad, 5, "solution")
    bad.write_text('{\n    "problem": "x",\n')
    with pytest.raises(SchemaError, match="invalid JSON"):
        load_math([bad])
    wrong_dir = tmp_path / "cooking" / "1.json"
    wrong_dir.parent.mkdir()
    shutil.copy(src, wrong_dir)
    with pytest.raises(SchemaError, match="math/MATH"):
        load_math([wrong_dir])


def test_math500_errors(mirror: Path, tmp_path: Path) -> None:
    lines = (mirror / "math/prm800k/math_splits/test.jsonl").read_text().splitlines()
    rec = json.loads(lines[3])
    rec["level"] = "3"
    lines[3] = json.dumps(rec)
    path = tmp_path / "test.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SchemaError, match="expected int") as info:
        load_math500(path)
    located(info.value, path, 4, "level")


# --- TruthfulQA / SST-2 / AdvBench ------------------------------------------------------


def test_truthfulqa_versions(mirror: Path) -> None:
    current, classic = load(mirror, "truthfulqa"), load(mirror, "truthfulqa_2021")
    assert all(len(it.choices or []) == 2 for it in current)
    assert all(len(it.choices or []) >= 2 for it in classic)
    for item in current + classic:
        assert item.choices and item.answer_index is not None
        assert item.choices[item.answer_index] == " " + item.target
        assert item.prompt.startswith("Q: ") and item.prompt.endswith("\nA:")
    positions = {it.answer_index for it in current}
    assert positions == {0, 1}  # the correct answer is not always first
    assert classic[0].metadata.stratum in {"Adversarial", "Non-Adversarial"}


def test_truthfulqa_errors(mirror: Path, tmp_path: Path) -> None:
    text = (mirror / "truthfulqa/TruthfulQA.csv").read_text(encoding="utf-8")
    path = tmp_path / "TruthfulQA.csv"
    path.write_text(text.replace(",Best Incorrect Answer,", ",Worst Answer,", 1))
    with pytest.raises(SchemaError, match="header") as info:
        load_truthfulqa(path)
    located(info.value, path, 1, None)
    # The 2021 file with its BOM read as the current version: its header lacks a column.
    with pytest.raises(SchemaError, match="header"):
        load_truthfulqa(mirror / "truthfulqa/original-2021/TruthfulQA.csv")


def test_sst2_format_and_errors(mirror: Path, tmp_path: Path) -> None:
    items = load(mirror, "sst2")
    assert items[0].prompt.endswith("\nQuestion: Is this sentence positive or negative?\nAnswer:")
    assert items[0].choices == [" negative", " positive"]
    assert not items[0].prompt.split("\n")[0].endswith(" ")
    lines = (mirror / "sst2/dev.tsv").read_text().splitlines()
    lines[5] = lines[5].rsplit("\t", 1)[0] + "\t2"
    path = tmp_path / "dev.tsv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SchemaError, match="label") as info:
        load_sst2(path)
    located(info.value, path, 6, "label")
    lines[5] = "no tab on this line"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SchemaError, match="columns") as info:
        load_sst2(path)
    located(info.value, path, 6, "label")


def test_advbench_target_is_the_unsafe_prefix(mirror: Path, tmp_path: Path) -> None:
    items = load(mirror, "advbench")
    assert all(it.target.startswith("Sure") for it in items)
    assert items[0].metadata.domain == "harmful_request"
    lines = (mirror / "advbench/harmful_behaviors.csv").read_text().splitlines()
    lines[9] = ',"Sure, here is"'
    path = tmp_path / "harmful_behaviors.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SchemaError) as info:
        load_advbench(path)
    located(info.value, path, 10, "goal")


# --- CodeXGLUE / SWE-bench Lite ----------------------------------------------------------


def test_codexglue_alignment(mirror: Path, tmp_path: Path) -> None:
    items = load(mirror, "codexglue")
    java = (mirror / "codexglue/code-to-code-trans/test.java-cs.txt.java").read_text()
    assert java.splitlines()[0].strip() in items[0].prompt
    cs_src = mirror / "codexglue/code-to-code-trans/test.java-cs.txt.cs"
    short = tmp_path / "short.cs"
    short.write_text("\n".join(cs_src.read_text().splitlines()[:-3]) + "\n")
    with pytest.raises(SchemaError, match="line-aligned") as info:
        load_codexglue(mirror / "codexglue/code-to-code-trans/test.java-cs.txt.java", short)
    located(info.value, short, 998, None)


def test_swebench_decodes_test_lists(mirror: Path, tmp_path: Path) -> None:
    items = load(mirror, "swebench_lite")
    assert len({it.metadata.stratum for it in items}) == 12
    assert all(it.target.startswith("diff --git") for it in items)
    records = json.loads((mirror / "swebench_lite/swe-bench-lite.json").read_text())
    records[2]["FAIL_TO_PASS"] = ["not", "encoded"]
    path = tmp_path / "lite.json"
    path.write_text(json.dumps(records, indent=1))
    opening = [i for i, text in enumerate(path.read_text().splitlines()) if text == " {"]
    start = opening[2] + 1  # the third object begins on this 1-based line
    with pytest.raises(SchemaError, match="expected str") as info:
        load_swebench(path)
    located(info.value, path, start, "FAIL_TO_PASS")
    records[2]["FAIL_TO_PASS"] = "[broken"
    path.write_text(json.dumps(records, indent=1))
    with pytest.raises(SchemaError, match="JSON-encoded"):
        load_swebench(path)


# --- HellaSwag and DROP, upstream formats on files made here -------------------------------


def hellaswag_record(ind: int, label: int = 0, **changes) -> dict:
    rec = {
        "ind": ind,
        "activity_label": "Removing ice from car",
        "ctx_a": "Then, the man writes over the snow covering the window of a car.",
        "ctx_b": "a woman wearing winter clothes",
        "ctx": "...",
        "split": "val",
        "split_type": "indomain" if ind % 2 else "zeroshot",
        "label": label,
        "endings": [
            ", the man adds wax to the windshield and cuts it.",
            ", a person board a ski lift, while two men [title] supporting the head.",
            ", the man puts on a christmas coat, knitted with netting.",
            ", the man continues removing the snow on his car.",
        ],
        "source_id": "activitynet~v_-1IBHYS3L-Y",
    }
    rec.update(changes)
    return rec


def test_hellaswag_upstream_format(tmp_path: Path) -> None:
    path = tmp_path / "hellaswag_val.jsonl"
    path.write_text("".join(json.dumps(hellaswag_record(i, label=3)) + "\n" for i in range(4)))
    items = load_hellaswag(path)
    assert [it.id for it in items] == [f"hellaswag/{i}" for i in range(4)]
    first = items[0]
    assert first.prompt == (
        "Removing ice from car: Then, the man writes over the snow covering the window of a "
        "car. A woman wearing winter clothes"
    )
    assert first.choices[1] == " , a person board a ski lift, while two men. supporting the head."
    assert first.answer_index == 3 and first.target == first.choices[3].strip()
    assert {it.metadata.stratum for it in items} == {"indomain", "zeroshot"}
    assert first.metadata.source == "activitynet"

    bad = tmp_path / "bad.jsonl"
    rows = [hellaswag_record(0), hellaswag_record(1, label=4), hellaswag_record(2)]
    bad.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(SchemaError, match="label") as info:
        load_hellaswag(bad)
    located(info.value, bad, 2, "label")
    rows[1] = hellaswag_record(1)
    del rows[1]["label"]  # the unlabelled test split cannot be an eval set
    bad.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(SchemaError, match="missing") as info:
        load_hellaswag(bad)
    located(info.value, bad, 2, "label")


def drop_file(tmp_path: Path, answer: dict) -> Path:
    empty = {"number": "", "date": {"day": "", "month": "", "year": ""}, "spans": []}
    doc = {
        "nfl_1184": {
            "passage": "The Bears scored 7 points in the first quarter and 3 in the second.",
            "qa_pairs": [
                {
                    "question": "How many points in total?",
                    "query_id": "q-1",
                    "answer": {**empty, "number": "10"},
                    "validated_answers": [],
                },
                {
                    "question": "Who scored?",
                    "query_id": "q-2",
                    "answer": {**empty, "spans": ["the Bears"]},
                    "validated_answers": [],
                },
            ],
            "wiki_url": "https://en.wikipedia.org/wiki/x",
        },
        "history_1": {
            "passage": "The treaty was signed on 4 July 1776 and again later.",
            "qa_pairs": [
                {
                    "question": "When was it signed?",
                    "query_id": "q-3",
                    "answer": {**empty, **answer},
                    "validated_answers": [],
                },
            ],
        },
    }
    path = tmp_path / "drop_dataset_dev.json"
    path.write_text(json.dumps(doc, indent=4))
    return path


def test_drop_upstream_format(tmp_path: Path) -> None:
    date = {"date": {"day": "4", "month": "July", "year": "1776"}}
    items = load_drop(drop_file(tmp_path, date))
    by_id = {it.id: it for it in items}
    assert set(by_id) == {"drop/q-1", "drop/q-2", "drop/q-3"}
    assert by_id["drop/q-1"].target == "10" and by_id["drop/q-1"].metadata.stratum == "number"
    assert by_id["drop/q-2"].target == "the Bears" and by_id["drop/q-2"].metadata.stratum == "span"
    assert (
        by_id["drop/q-3"].target == "4 July 1776" and by_id["drop/q-3"].metadata.stratum == "date"
    )
    assert by_id["drop/q-1"].prompt.endswith("second. How many points in total?")
    assert by_id["drop/q-1"].metadata.cluster == "nfl_1184"

    path = drop_file(tmp_path, {})
    with pytest.raises(SchemaError, match="empty answer") as info:
        load_drop(path)
    line = path.read_text().splitlines().index('                "query_id": "q-3",') + 1
    located(info.value, path, line, "history_1.qa_pairs[0].answer")


# --- pins ------------------------------------------------------------------------------


def test_every_benchmark_with_a_pin_has_a_loader() -> None:
    from promgate.data.loaders import LOADABLE

    assert set(all_sources()) <= set(LOADABLE)
    assert len(get_source("math").files) == 5000


def test_tampered_listing_is_refused() -> None:
    doc = {
        "benchmarks": {
            "math": {
                "license": "MIT",
                "repository": "x",
                "commit": "y",
                "eval_split": "test",
                "listings": [
                    {
                        "listing": "math_test.sha256",
                        "sha256": "0" * 64,
                        "split": "test",
                        "strip_prefix": "math/",
                        "url_prefix": "https://example.org/",
                    }
                ],
            }
        }
    }
    with pytest.raises(ConfigError, match="does not match its pin"):
        parse_sources(doc)
