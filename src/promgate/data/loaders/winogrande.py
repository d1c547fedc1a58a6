"""WinoGrande JSONL + line-aligned labels, scored like lm-eval-harness's ``winogrande``.

lm-eval uses partial scoring: each option fills the blank to form its own context, and the
log-likelihood of the shared continuation (the text after the blank) decides.
"""

from __future__ import annotations

import re
from pathlib import Path

from promgate.data.loaders._common import (
    UniqueIds,
    build_item,
    get_field,
    read_labels,
)
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.errors import SchemaError
from promgate.io import iter_jsonl

_TWIN_SUFFIX = re.compile(r"-[12]$")


def twin_cluster(qid: str) -> str:
    """Twin questions share a qID prefix and end in -1 / -2; keep them in one cluster."""
    return _TWIN_SUFFIX.sub("", qid)


def load_winogrande(
    path: str | Path,
    labels_path: str | Path,
    *,
    split: str = "dev",
    license: str | None = None,
) -> list[Item]:
    path, labels_path = Path(path), Path(labels_path)
    license = license or get_source("winogrande").license
    ids = UniqueIds(path)
    rows = []
    for line, rec in iter_jsonl(path):
        qid = get_field(rec, "qID", str, path=path, line=line)
        sentence = get_field(rec, "sentence", str, path=path, line=line)
        option1 = get_field(rec, "option1", str, path=path, line=line)
        option2 = get_field(rec, "option2", str, path=path, line=line)
        answer = get_field(rec, "answer", str, path=path, line=line)
        if sentence.count("_") != 1:
            raise SchemaError(
                f"sentence must contain exactly one '_' blank, found {sentence.count('_')}",
                path=path,
                line=line,
                field="sentence",
            )
        if answer not in ("1", "2"):
            raise SchemaError(
                f"answer must be '1' or '2', got {answer!r}", path=path, line=line, field="answer"
            )
        ids.add(f"winogrande/{qid}", line, "qID")
        rows.append((line, qid, sentence, option1, option2, answer))

    labels = read_labels(labels_path, ("1", "2"), len(rows), data_path=path)
    items = []
    for (line, qid, sentence, option1, option2, answer), label in zip(rows, labels, strict=True):
        if label != answer:
            raise SchemaError(
                f"answer {answer!r} disagrees with {labels_path.name} ({label!r})",
                path=path,
                line=line,
                field="answer",
            )
        blank = sentence.index("_")
        fields = {
            "id": f"winogrande/{qid}",
            "benchmark": "winogrande",
            "split": split,
            "kind": "multiple_choice",
            "prompt": sentence,
            "target": option1 if answer == "1" else option2,
            "choices": [option1, option2],
            "answer_index": int(answer) - 1,
            "contexts": [sentence[:blank] + option1, sentence[:blank] + option2],
            "continuation": " " + sentence[blank + 1 :].strip(),
            "metadata": {
                "difficulty": "unknown",
                "domain": "commonsense",
                "source": "winogrande_1.1",
                "stratum": "default",
                "cluster": twin_cluster(qid),
                "license": license,
            },
        }
        items.append(build_item(fields, path=path, line=line))
    return items
