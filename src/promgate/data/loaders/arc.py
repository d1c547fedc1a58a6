"""AI2 ARC (Easy / Challenge) JSONL, in lm-eval-harness's ``arc_easy`` / ``arc_challenge`` form."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from promgate.data.loaders._common import UniqueIds, build_item, get_field
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.errors import SchemaError
from promgate.io import iter_jsonl

ArcBenchmark = Literal["arc_easy", "arc_challenge"]
_DIFFICULTY = {"arc_easy": "easy", "arc_challenge": "challenge"}
_TRAILING_DIGITS = re.compile(r"\d+$")


def exam_source(upstream_id: str) -> str:
    """The exam family from an ARC id: ``Mercury_417466`` -> ``Mercury``.

    Trailing digits are dropped too (``CSZ20679`` -> ``CSZ``, ``NCEOGA2013_8_50`` ->
    ``NCEOGA``); otherwise each such id is a one-item stratum that sampling must over-serve.
    """
    prefix = upstream_id.split("_", 1)[0]
    return _TRAILING_DIGITS.sub("", prefix) or prefix


def load_arc(
    path: str | Path, *, benchmark: ArcBenchmark, split: str, license: str | None = None
) -> list[Item]:
    path = Path(path)
    if benchmark not in _DIFFICULTY:
        raise ValueError(f"not an ARC benchmark: {benchmark}")
    license = license or get_source(benchmark).license
    ids = UniqueIds(path)
    items = []
    for line, rec in iter_jsonl(path):
        upstream_id = get_field(rec, "id", str, path=path, line=line)
        question = get_field(rec, "question", dict, path=path, line=line)
        stem = get_field(question, "stem", str, path=path, line=line, name="question.stem")
        choices = get_field(
            question, "choices", list, path=path, line=line, name="question.choices"
        )
        answer_key = get_field(rec, "answerKey", str, path=path, line=line)
        if len(choices) < 2:
            raise SchemaError(
                "need at least 2 choices", path=path, line=line, field="question.choices"
            )
        texts, labels = [], []
        for i, choice in enumerate(choices):
            name = f"question.choices[{i}]"
            if not isinstance(choice, dict):
                raise SchemaError("expected an object", path=path, line=line, field=name)
            texts.append(get_field(choice, "text", str, path=path, line=line, name=f"{name}.text"))
            labels.append(
                get_field(choice, "label", str, path=path, line=line, name=f"{name}.label")
            )
        if len(set(labels)) != len(labels):
            raise SchemaError(
                f"duplicate choice labels {labels}", path=path, line=line, field="question.choices"
            )
        # Labels are letters or, for NYSEDREGENTS, digits: match by position, never by letter.
        if answer_key not in labels:
            raise SchemaError(
                f"answerKey {answer_key!r} is not among the labels {labels}",
                path=path,
                line=line,
                field="answerKey",
            )
        answer_index = labels.index(answer_key)
        item_id = f"{benchmark}/{upstream_id}"
        ids.add(item_id, line, "id")
        exam = exam_source(upstream_id)
        fields = {
            "id": item_id,
            "benchmark": benchmark,
            "split": split,
            "kind": "multiple_choice",
            "prompt": f"Question: {stem}\nAnswer:",
            "target": texts[answer_index],
            "choices": [" " + text for text in texts],
            "answer_index": answer_index,
            "metadata": {
                "difficulty": _DIFFICULTY[benchmark],
                "domain": "science",
                "source": exam,
                "stratum": exam,
                "license": license,
            },
        }
        items.append(build_item(fields, path=path, line=line))
    return items
