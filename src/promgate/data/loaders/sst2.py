"""GLUE SST-2 TSV (``sentence<TAB>label``), in lm-eval-harness's ``sst2`` format.

Sentences are kept as upstream tokenised them (lower case, ``it 's``), trailing space
stripped. The label is the stratum, so a sample keeps the class balance.
"""

from __future__ import annotations

import csv
from pathlib import Path

from promgate.data.loaders._common import build_item
from promgate.data.loaders._records import iter_csv
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.errors import SchemaError

LABELS = ("negative", "positive")


def load_sst2(path: str | Path, *, split: str = "dev", license: str | None = None) -> list[Item]:
    path = Path(path)
    license = license or get_source("sst2").license
    items = []
    rows = iter_csv(path, header=("sentence", "label"), delimiter="\t", quoting=csv.QUOTE_NONE)
    for index, (line, row) in enumerate(rows):
        assert isinstance(row, dict)
        sentence = row["sentence"].strip()
        if not sentence:
            raise SchemaError("empty sentence", path=path, line=line, field="sentence")
        if row["label"] not in ("0", "1"):
            raise SchemaError(
                f"label {row['label']!r} is not 0 or 1", path=path, line=line, field="label"
            )
        label = int(row["label"])
        fields = {
            "id": f"sst2/{split}/{index}",
            "benchmark": "sst2",
            "split": split,
            "kind": "multiple_choice",
            "prompt": f"{sentence}\nQuestion: Is this sentence positive or negative?\nAnswer:",
            "target": LABELS[label],
            "choices": [" " + name for name in LABELS],
            "answer_index": label,
            "metadata": {
                "difficulty": "unknown",
                "domain": "sentiment",
                "source": "glue_sst2",
                "stratum": LABELS[label],
                "license": license,
            },
        }
        items.append(build_item(fields, path=path, line=line))
    return items
