"""HellaSwag upstream JSONL (rowanz/hellaswag ``data/hellaswag_{train,val}.jsonl``).

Formatted as lm-eval-harness's ``hellaswag`` task: the query is ``activity_label: ctx_a
Ctx_b``, the four endings are the choices, and both are cleaned of WikiHow's ``[title]`` /
``[header]`` markup the same way. Strata are ``split_type`` (in-domain vs zero-shot
activities); ``domain`` is the activity label.
"""

from __future__ import annotations

import re
from pathlib import Path

from promgate.data.loaders._common import UniqueIds, build_item, get_field
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.errors import SchemaError
from promgate.io import iter_jsonl

_MARKUP = re.compile(r"\[.*?\]")


def clean(text: str) -> str:
    text = text.strip().replace(" [title]", ". ")
    return _MARKUP.sub("", text).replace("  ", " ")


def load_hellaswag(
    path: str | Path, *, split: str = "validation", license: str | None = None
) -> list[Item]:
    path = Path(path)
    license = license or get_source("hellaswag").license
    ids = UniqueIds(path)
    items = []
    for line, rec in iter_jsonl(path):
        ind = get_field(rec, "ind", int, path=path, line=line)
        activity = get_field(rec, "activity_label", str, path=path, line=line)
        ctx_a = get_field(rec, "ctx_a", str, path=path, line=line)
        ctx_b = get_field(rec, "ctx_b", str, path=path, line=line)
        split_type = get_field(rec, "split_type", str, path=path, line=line)
        source_id = get_field(rec, "source_id", str, path=path, line=line)
        endings = get_field(rec, "endings", list, path=path, line=line)
        label = get_field(rec, "label", int, path=path, line=line)
        if len(endings) != 4 or not all(isinstance(e, str) for e in endings):
            raise SchemaError("expected 4 string endings", path=path, line=line, field="endings")
        if not 0 <= label < len(endings):
            raise SchemaError(
                f"label {label} is not an index into the endings",
                path=path,
                line=line,
                field="label",
            )
        item_id = f"hellaswag/{ind}"
        ids.add(item_id, line, "ind")
        choices = [clean(e) for e in endings]
        fields = {
            "id": item_id,
            "benchmark": "hellaswag",
            "split": split,
            "kind": "multiple_choice",
            "prompt": clean(f"{activity}: {ctx_a} {ctx_b.capitalize()}"),
            "target": choices[label],
            "choices": [" " + c for c in choices],
            "answer_index": label,
            "metadata": {
                "difficulty": "unknown",
                "domain": activity,
                "source": source_id.split("~", 1)[0],
                "stratum": split_type,
                "license": license,
            },
        }
        items.append(build_item(fields, path=path, line=line))
    return items
