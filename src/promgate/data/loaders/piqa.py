"""PIQA JSONL + line-aligned labels, in lm-eval-harness's ``piqa`` format.

Fields are kept byte-for-byte (irregular whitespace included) so log-likelihoods match
lm-eval's, which does not normalise them either.
"""

from __future__ import annotations

from pathlib import Path

from promgate.data.loaders._common import build_item, get_field, read_labels
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.io import iter_jsonl


def load_piqa(
    path: str | Path,
    labels_path: str | Path,
    *,
    split: str = "valid",
    license: str | None = None,
) -> list[Item]:
    path, labels_path = Path(path), Path(labels_path)
    license = license or get_source("piqa").license
    rows = []
    for line, rec in iter_jsonl(path):
        goal = get_field(rec, "goal", str, path=path, line=line)
        sol1 = get_field(rec, "sol1", str, path=path, line=line)
        sol2 = get_field(rec, "sol2", str, path=path, line=line)
        rows.append((line, goal, sol1, sol2))

    labels = read_labels(labels_path, ("0", "1"), len(rows), data_path=path)
    items = []
    # PIQA has no upstream id: the record's position in the split is its id.
    for index, ((line, goal, sol1, sol2), label) in enumerate(zip(rows, labels, strict=True)):
        answer_index = int(label)
        fields = {
            "id": f"piqa/{split}/{index}",
            "benchmark": "piqa",
            "split": split,
            "kind": "multiple_choice",
            "prompt": f"Question: {goal}\nAnswer:",
            "target": (sol1, sol2)[answer_index],
            "choices": [" " + sol1, " " + sol2],
            "answer_index": answer_index,
            "metadata": {
                "difficulty": "unknown",
                "domain": "physical_commonsense",
                "source": "piqa",
                "stratum": "default",
                "license": license,
            },
        }
        items.append(build_item(fields, path=path, line=line))
    return items
