"""OpenAI HumanEval (gzip JSONL): code items run against their upstream ``check`` tests."""

from __future__ import annotations

import re
from pathlib import Path

from promgate.data.loaders._common import UniqueIds, build_item, get_field
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.errors import SchemaError
from promgate.io import iter_jsonl

_TASK_ID = re.compile(r"^HumanEval/(\d+)$")


def load_humaneval(
    path: str | Path, *, split: str = "test", license: str | None = None
) -> list[Item]:
    path = Path(path)
    license = license or get_source("humaneval").license
    ids = UniqueIds(path)
    items = []
    for line, rec in iter_jsonl(path):
        task_id = get_field(rec, "task_id", str, path=path, line=line)
        match = _TASK_ID.match(task_id)
        if not match:
            raise SchemaError(
                f"task_id {task_id!r} is not 'HumanEval/<n>'", path=path, line=line, field="task_id"
            )
        prompt = get_field(rec, "prompt", str, path=path, line=line)
        solution = get_field(rec, "canonical_solution", str, path=path, line=line)
        test = get_field(rec, "test", str, path=path, line=line)
        entry_point = get_field(rec, "entry_point", str, path=path, line=line)
        if not entry_point.isidentifier():
            raise SchemaError(
                f"entry_point {entry_point!r} is not a Python identifier",
                path=path,
                line=line,
                field="entry_point",
            )
        item_id = f"humaneval/{match.group(1)}"
        ids.add(item_id, line, "task_id")
        fields = {
            "id": item_id,
            "benchmark": "humaneval",
            "split": split,
            "kind": "code",
            "prompt": prompt,
            "target": solution,
            "tests": test,
            "entry_point": entry_point,
            "metadata": {
                "difficulty": "unknown",
                "domain": "code",
                "source": "openai_humaneval",
                "stratum": "default",
                "license": license,
            },
        }
        items.append(build_item(fields, path=path, line=line))
    return items
