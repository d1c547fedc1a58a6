"""MBPP loaders: splits by task id, upstream test composition, and located errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promgate.data.fetch import resolve_files
from promgate.data.loaders import load_benchmark, load_mbpp, load_mbpp_sanitized
from promgate.data.loaders.mbpp import PROMPT, entry_point
from promgate.errors import SchemaError


def raw_mbpp(mirror: Path) -> dict[int, dict]:
    lines = (mirror / "mbpp/mbpp.jsonl").read_text(encoding="utf-8").splitlines()
    return {rec["task_id"]: rec for rec in map(json.loads, lines)}


@pytest.mark.parametrize(
    ("benchmark", "split", "count", "first"),
    [
        ("mbpp", "test", 500, 11),
        ("mbpp", "validation", 90, 511),
        ("mbpp", "train", 374, 601),
        ("mbpp", "prompt", 10, 1),
        ("mbpp_sanitized", "test", 257, 11),
        ("mbpp_sanitized", "validation", 43, 554),
        ("mbpp_sanitized", "train", 120, 602),
        ("mbpp_sanitized", "prompt", 7, 2),
    ],
)
def test_splits_by_task_id(mirror, benchmark, split, count, first):
    items = load_benchmark(benchmark, resolve_files(benchmark, mirror, splits=[split]), split)
    assert len(items) == count == len({it.id for it in items})
    assert items[0].id == f"{benchmark}/{first}"
    assert all(it.split == split and it.kind == "code" for it in items)


def test_record_to_item(mirror):
    raw = raw_mbpp(mirror)[11]
    item = load_mbpp(mirror / "mbpp/mbpp.jsonl")[0]
    assert item.id == "mbpp/11" and item.entry_point == "remove_Occ"
    assert item.target == raw["code"].replace("\r\n", "\n") and "\r" not in item.target
    assert item.tests == "\n".join(raw["test_list"]) + "\n"
    tests = "\n".join(raw["test_list"])
    assert item.prompt == PROMPT.format(text=raw["text"], tests=tests)
    assert item.prompt.endswith("[BEGIN]\n")
    assert item.metadata.source == "google_research_mbpp" and item.metadata.license


def test_setup_code_runs_before_the_asserts(mirror):
    item = next(it for it in load_mbpp(mirror / "mbpp/mbpp.jsonl") if it.id == "mbpp/367")
    assert item.tests.startswith("root = Node(1)") and "\r" not in item.tests
    assert item.entry_point == "is_tree_balanced"


def test_challenge_asserts_are_opt_in(mirror):
    plain = load_mbpp(mirror / "mbpp/mbpp.jsonl")[0]
    hard = load_mbpp(mirror / "mbpp/mbpp.jsonl", include_challenge=True)[0]
    extra = raw_mbpp(mirror)[11]["challenge_test_list"]
    assert len(extra) == 2 and hard.tests == plain.tests + "\n".join(extra) + "\n"
    assert hard.content_hash != plain.content_hash


def test_sanitized_test_imports_come_first(mirror):
    items = load_mbpp_sanitized(mirror / "mbpp/sanitized-mbpp.json", split="test")
    with_imports = [it for it in items if it.tests.startswith("import math\n")]
    assert with_imports and all(it.id.startswith("mbpp_sanitized/") for it in items)


@pytest.mark.parametrize(
    ("code", "asserts", "expected"),
    [
        ("def f(x):\n  return x", ["assert f(1) == 1"], "f"),
        ("def helper(): pass\ndef Find_Max(x): pass", ["assert Find_Max([1]) == 1"], "Find_Max"),
        ("class Pair: pass\ndef chain(p, n): pass", ["assert chain([Pair(1)], 1) == 1"], "chain"),
        ("class Node: pass", ["assert Node() is not None"], "Node"),
        ("def f(): pass", ["assert set(g()) == set()"], "f"),
        ("def f(:", ["assert f()"], None),
    ],
)
def test_entry_point(code, asserts, expected):
    assert entry_point(code, asserts) == expected


def test_bad_jsonl_record_is_located(mirror, tmp_path):
    lines = (mirror / "mbpp/mbpp.jsonl").read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[12])
    rec["test_list"] = ["assert ok()", 3]
    lines[12] = json.dumps(rec)
    path = tmp_path / "mbpp.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        load_mbpp(path)
    assert (err.value.line, err.value.field) == (13, "test_list.1")


def test_bad_sanitized_record_is_located_by_its_first_line(mirror, tmp_path):
    records = json.loads((mirror / "mbpp/sanitized-mbpp.json").read_text(encoding="utf-8"))
    del records[1]["code"]
    path = tmp_path / "sanitized.json"
    path.write_text(json.dumps(records, indent=4), encoding="utf-8")
    line = path.read_text(encoding="utf-8").splitlines().index("    {", 2) + 1
    with pytest.raises(SchemaError) as err:
        load_mbpp_sanitized(path, split="prompt")
    assert (err.value.line, err.value.field) == (line, "code")


def test_not_an_array_and_unknown_split(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"task_id": 1}', encoding="utf-8")
    with pytest.raises(SchemaError, match="expected a JSON array"):
        load_mbpp_sanitized(path)
    with pytest.raises(SchemaError, match="unknown MBPP split"):
        load_mbpp(path, split="dev")
