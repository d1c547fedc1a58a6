"""DROP upstream JSON (``drop_dataset_{train,dev}.json``): passages, each with QA pairs.

One Item per question (id ``drop/<query_id>``), in lm-eval-harness's ``drop`` layout
(``passage question``). The target is the gold answer as text: the number, the spans joined
by ", ", or the date's non-empty parts. Strata are the answer type (number, span, spans,
date): DROP's own breakdown, which differs a lot in difficulty.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from promgate.data.loaders._common import UniqueIds, build_item, get_field
from promgate.data.loaders._records import read_json_object, read_text
from promgate.data.schema import Item
from promgate.errors import SchemaError

# allenai publishes DROP under CC BY-SA 4.0. There is no pin in sources.yaml: no sha256 of
# the upstream drop_dataset_dev.json could be sourced, so load it from an explicit path.
LICENSE = "CC-BY-SA-4.0"


def answer_text(answer: dict[str, Any]) -> tuple[str, str]:
    """(answer type, text) of a DROP answer object; type '' when the answer is empty."""
    number = str(answer.get("number") or "").strip()
    if number:
        return "number", number
    spans = [s.strip() for s in answer.get("spans") or [] if isinstance(s, str) and s.strip()]
    if spans:
        return ("span" if len(spans) == 1 else "spans"), ", ".join(spans)
    date = answer.get("date") or {}
    parts = [str(date.get(k) or "").strip() for k in ("day", "month", "year")]
    text = " ".join(p for p in parts if p)
    return ("date", text) if text else ("", "")


def _line_finder(text: str):
    def line_of(query_id: str) -> int:
        pos = text.find(json.dumps(query_id))
        return text.count("\n", 0, pos) + 1 if pos >= 0 else 1

    return line_of


def load_drop(
    path: str | Path, *, split: str = "validation", license: str | None = None
) -> list[Item]:
    path = Path(path)
    license = license or LICENSE
    line_of = _line_finder(read_text(path))
    ids = UniqueIds(path)
    items = []
    for passage_id, entry in read_json_object(path).items():
        if not isinstance(entry, dict):
            raise SchemaError("expected a passage object", path=path, field=passage_id)
        where = {"path": path, "line": line_of(passage_id)}
        passage = get_field(entry, "passage", str, name=f"{passage_id}.passage", **where)
        pairs = get_field(entry, "qa_pairs", list, name=f"{passage_id}.qa_pairs", **where)
        for k, qa in enumerate(pairs):
            name = f"{passage_id}.qa_pairs[{k}]"
            if not isinstance(qa, dict):
                raise SchemaError("expected an object", field=name, **where)
            query_id = get_field(qa, "query_id", str, name=f"{name}.query_id", **where)
            at = {"path": path, "line": line_of(query_id)}
            question = get_field(qa, "question", str, name=f"{name}.question", **at)
            answer = get_field(qa, "answer", dict, name=f"{name}.answer", **at)
            kind, target = answer_text(answer)
            if not target:
                raise SchemaError("empty answer", field=f"{name}.answer", **at)
            item_id = f"drop/{query_id}"
            ids.add(item_id, at["line"], f"{name}.query_id")
            fields = {
                "id": item_id,
                "benchmark": "drop",
                "split": split,
                "kind": "generate",
                "prompt": f"{passage.strip()} {question.strip()}",
                "target": target,
                "metadata": {
                    "difficulty": "unknown",
                    "domain": "reading_comprehension",
                    "source": passage_id.split("_", 1)[0],
                    "stratum": kind,
                    "cluster": passage_id,
                    "license": license,
                },
            }
            items.append(build_item(fields, path=path, line=at["line"]))
    return items
