"""MBPP (Austin et al., 2021): the full JSONL and the hand-verified "sanitized" JSON array.

Splits are task-id ranges, as ``mbpp/README.md`` defines them. The program a model writes
is a whole module; the Item's ``tests`` are what upstream runs after it: the setup code (or
the sanitized variant's ``test_imports``), then the ``assert`` lines (optionally the
``challenge_test_list`` too). Upstream code uses ``\\r\\n`` line breaks; they become ``\\n``.
The prompt is the paper's zero-shot format, ending where the model's code begins.
"""

from __future__ import annotations

import ast
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from promgate.data.loaders._common import UniqueIds, build_item, get_field
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.errors import SchemaError
from promgate.io import iter_jsonl

SPLITS = {"prompt": (1, 10), "test": (11, 510), "validation": (511, 600), "train": (601, 974)}
PROMPT = (
    "You are an expert Python programmer, and here is your task: {text} "
    "Your code should pass these tests:\n\n{tests}\n[BEGIN]\n"
)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise SchemaError(f"unknown MBPP split {split!r} (known: {sorted(SPLITS)})", field="split")


def _in_split(task_id: int, split: str) -> bool:
    low, high = SPLITS[split]
    return low <= task_id <= high


def entry_point(code: str, asserts: list[str]) -> str | None:
    """The function the tests exercise: the first name they call that the code defines."""
    try:
        with warnings.catch_warnings():  # upstream code has invalid escapes ('\w'): not ours
            warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
            body = ast.parse(code).body
    except SyntaxError:
        return None
    functions = [n.name for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    classes = [n.name for n in body if isinstance(n, ast.ClassDef)]
    called = []
    for line in asserts:
        try:
            tree = ast.parse(line)
        except SyntaxError:
            continue
        called += [
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        ]
    for candidates in (functions, classes):
        for name in called:
            if name in candidates:
                return name
    defined = functions + classes
    return defined[0] if defined else None


def _string_list(rec: dict[str, Any], key: str, *, path: Path, line: int) -> list[str]:
    values = get_field(rec, key, list, path=path, line=line)
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise SchemaError(
                f"expected str, got {type(value).__name__}",
                path=path,
                line=line,
                field=f"{key}.{index}",
            )
    return [_lf(v) for v in values]


def _item(
    *,
    benchmark: str,
    source: str,
    task_id: int,
    text: str,
    code: str,
    setup: str,
    asserts: list[str],
    split: str,
    license: str,
    path: Path,
    line: int,
) -> Item:
    if not asserts:
        raise SchemaError("no tests", path=path, line=line, field="test_list")
    name = entry_point(code, asserts)
    if name is None:
        raise SchemaError(
            "the reference code defines nothing the tests call", path=path, line=line, field="code"
        )
    tests = "\n".join([setup, *asserts]) if setup.strip() else "\n".join(asserts)
    fields = {
        "id": f"{benchmark}/{task_id}",
        "benchmark": benchmark,
        "split": split,
        "kind": "code",
        "prompt": PROMPT.format(text=text.strip(), tests="\n".join(asserts)),
        "target": code,
        "tests": tests + "\n",
        "entry_point": name,
        "metadata": {
            "difficulty": "unknown",
            "domain": "code",
            "source": source,
            "stratum": "default",
            "license": license,
        },
    }
    return build_item(fields, path=path, line=line)


def load_mbpp(
    path: str | Path,
    *,
    split: str = "test",
    license: str | None = None,
    include_challenge: bool = False,
) -> list[Item]:
    """Items of one split of ``mbpp.jsonl``; ``include_challenge`` adds the harder asserts."""
    path = Path(path)
    _check_split(split)
    license = license or get_source("mbpp").license
    ids = UniqueIds(path)
    items = []
    for line, rec in iter_jsonl(path):
        task_id = get_field(rec, "task_id", int, path=path, line=line)
        if not _in_split(task_id, split):
            continue
        asserts = _string_list(rec, "test_list", path=path, line=line)
        if include_challenge:
            asserts += _string_list(rec, "challenge_test_list", path=path, line=line)
        ids.add(f"mbpp/{task_id}", line, "task_id")
        items.append(
            _item(
                benchmark="mbpp",
                source="google_research_mbpp",
                task_id=task_id,
                text=get_field(rec, "text", str, path=path, line=line),
                code=_lf(get_field(rec, "code", str, path=path, line=line)),
                setup=_lf(get_field(rec, "test_setup_code", str, path=path, line=line)),
                asserts=asserts,
                split=split,
                license=license,
                path=path,
                line=line,
            )
        )
    return items


def _iter_json_array(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(1-based line where the object starts, object) for each element of a JSON array."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError("not valid UTF-8", path=path) from exc
    decoder = json.JSONDecoder()
    position = len(text) - len(text.lstrip())
    if not text.startswith("[", position):
        raise SchemaError("expected a JSON array", path=path, line=1)
    position += 1
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        line = text.count("\n", 0, position) + 1
        if position >= len(text):
            raise SchemaError("unterminated JSON array", path=path, line=line)
        if text[position] == "]":
            return
        try:
            obj, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"invalid JSON ({exc.msg})", path=path, line=exc.lineno) from exc
        if not isinstance(obj, dict):
            raise SchemaError("expected a JSON object", path=path, line=line)
        yield line, obj


def load_mbpp_sanitized(
    path: str | Path, *, split: str = "test", license: str | None = None
) -> list[Item]:
    """Items of one split of ``sanitized-mbpp.json`` (the authors' hand-verified subset)."""
    path = Path(path)
    _check_split(split)
    license = license or get_source("mbpp_sanitized").license
    ids = UniqueIds(path)
    items = []
    for line, rec in _iter_json_array(path):
        task_id = get_field(rec, "task_id", int, path=path, line=line)
        if not _in_split(task_id, split):
            continue
        ids.add(f"mbpp_sanitized/{task_id}", line, "task_id")
        items.append(
            _item(
                benchmark="mbpp_sanitized",
                source="google_research_mbpp_sanitized",
                task_id=task_id,
                text=get_field(rec, "prompt", str, path=path, line=line),
                code=_lf(get_field(rec, "code", str, path=path, line=line)),
                setup="\n".join(_string_list(rec, "test_imports", path=path, line=line)),
                asserts=_string_list(rec, "test_list", path=path, line=line),
                split=split,
                license=license,
                path=path,
                line=line,
            )
        )
    return items
