"""GSM8K JSONL, in lm-eval-harness's zero-shot ``gsm8k`` prompt format.

The worked solution is kept in :class:`GSM8KRecord` (the Item holds only the final answer)
so the training corpus can be built from the same validated reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from promgate.data.loaders._common import build_item, get_field
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.errors import SchemaError
from promgate.io import iter_jsonl

_CALCULATOR = re.compile(r"<<[^<>]*>>")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class GSM8KRecord:
    index: int  # 0-based position in the file: GSM8K has no upstream id
    line: int
    question: str
    solution: str  # upstream worked solution, calculator annotations included
    answer: str  # text after the last ####, stripped, thousands separators removed


def count_calculations(solution: str) -> int:
    return len(_CALCULATOR.findall(solution))


def strip_calculations(solution: str) -> str:
    """Remove ``<<48/2=24>>`` annotations: they are tool calls, not text a model should learn."""
    return _CALCULATOR.sub("", solution)


def difficulty_of(solution: str) -> str:
    steps = count_calculations(solution)
    return "easy" if steps <= 2 else "medium" if steps <= 4 else "hard"


def read_gsm8k(path: str | Path) -> list[GSM8KRecord]:
    path = Path(path)
    records = []
    for index, (line, rec) in enumerate(iter_jsonl(path)):
        question = get_field(rec, "question", str, path=path, line=line)
        solution = get_field(rec, "answer", str, path=path, line=line)
        if "####" not in solution:
            raise SchemaError(
                "worked solution has no '#### <answer>' line", path=path, line=line, field="answer"
            )
        answer = solution.rsplit("####", 1)[1].strip().replace(",", "")
        if not _NUMBER.match(answer):
            raise SchemaError(
                f"final answer {answer!r} is not a number", path=path, line=line, field="answer"
            )
        records.append(GSM8KRecord(index, line, question, solution, answer))
    return records


def prompt_for(question: str) -> str:
    return f"Question: {question}\nAnswer:"


def load_gsm8k(path: str | Path, *, split: str = "test", license: str | None = None) -> list[Item]:
    path = Path(path)
    license = license or get_source("gsm8k").license
    items = []
    for rec in read_gsm8k(path):
        level = difficulty_of(rec.solution)
        fields = {
            "id": f"gsm8k/{split}/{rec.index}",
            "benchmark": "gsm8k",
            "split": split,
            "kind": "generate",
            "prompt": prompt_for(rec.question),
            "target": rec.answer,
            "metadata": {
                "difficulty": level,
                "domain": "math",
                "source": "grade_school_math",
                "stratum": level,
                "license": license,
            },
        }
        items.append(build_item(fields, path=path, line=rec.line))
    return items
