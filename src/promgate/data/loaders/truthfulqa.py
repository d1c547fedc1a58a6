"""TruthfulQA CSV, both versions, as multiple choice.

- ``truthfulqa`` (current, 790 questions): the binary-choice format the upstream README
  recommends, Best Answer vs Best Incorrect Answer.
- ``truthfulqa_2021`` (the classic 817): no Best Incorrect Answer column, so the choices
  are the Best Answer and every listed Incorrect Answer (an MC1-style question).

The correct choice's position is derived from the question's hash, so it is stable and not
always first (a model must not win by picking "A"). Strata are ``Type`` (Adversarial /
Non-Adversarial); ``domain`` is the category.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from promgate.data.loaders._common import UniqueIds, build_item
from promgate.data.loaders._records import iter_csv
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.errors import SchemaError

HEADER_2021 = (
    "Type",
    "Category",
    "Question",
    "Best Answer",
    "Correct Answers",
    "Incorrect Answers",
    "Source",
)
HEADER = (*HEADER_2021[:4], "Best Incorrect Answer", *HEADER_2021[4:])


def split_answers(field: str) -> list[str]:
    return [a.strip() for a in field.split(";") if a.strip()]


def _place(correct: str, wrong: list[str], key: str) -> tuple[list[str], int]:
    index = int(hashlib.sha256(key.encode()).hexdigest(), 16) % (len(wrong) + 1)
    return [*wrong[:index], correct, *wrong[index:]], index


def load_truthfulqa(
    path: str | Path,
    *,
    version: str = "current",
    split: str = "validation",
    license: str | None = None,
) -> list[Item]:
    if version not in ("current", "2021"):
        raise ValueError(f"unknown TruthfulQA version {version!r}")
    path = Path(path)
    benchmark = "truthfulqa" if version == "current" else "truthfulqa_2021"
    license = license or get_source(benchmark).license
    header = HEADER if version == "current" else HEADER_2021
    # The 2021 file begins with a UTF-8 BOM; utf-8-sig drops it (and is harmless without one).
    rows = iter_csv(path, header=header, encoding="utf-8-sig")
    ids = UniqueIds(path)
    items = []
    for index, (line, row) in enumerate(rows):
        assert isinstance(row, dict)
        for key in ("Type", "Category", "Question", "Best Answer"):
            if not row[key].strip():
                raise SchemaError("empty field", path=path, line=line, field=key)
        best = row["Best Answer"].strip()
        if version == "current":
            wrong = [row["Best Incorrect Answer"].strip()]
            if not wrong[0]:
                raise SchemaError(
                    "empty field", path=path, line=line, field="Best Incorrect Answer"
                )
        else:
            wrong = [a for a in split_answers(row["Incorrect Answers"]) if a != best]
            if not wrong:
                raise SchemaError(
                    "no incorrect answers", path=path, line=line, field="Incorrect Answers"
                )
        item_id = f"{benchmark}/{index}"
        ids.add(item_id, line, "Question")
        choices, answer_index = _place(best, wrong, row["Question"])
        fields = {
            "id": item_id,
            "benchmark": benchmark,
            "split": split,
            "kind": "multiple_choice",
            "prompt": f"Q: {row['Question'].strip()}\nA:",
            "target": best,
            "choices": [" " + c for c in choices],
            "answer_index": answer_index,
            "metadata": {
                "difficulty": "unknown",
                "domain": row["Category"].strip(),
                "source": row["Source"].strip() or "truthfulqa",
                "stratum": row["Type"].strip(),
                "license": license,
            },
        }
        items.append(build_item(fields, path=path, line=line))
    return items
