"""MMLU (hendrycks/test) per-subject CSVs, in lm-eval-harness's zero-shot ``mmlu`` format."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from promgate.data.loaders._common import UniqueIds, build_item
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.errors import SchemaError

LETTERS = ("A", "B", "C", "D")
_COLUMNS = ("question", "A", "B", "C", "D", "answer")

# lm-eval-harness's grouping (mmlu/_generate_configs.py). It follows hendrycks/test
# categories.py except for `anatomy`, which lm-eval files under STEM; we keep lm-eval's so
# per-category numbers compare with its mmlu_stem / mmlu_humanities / ... groups.
SUBJECT_CATEGORY: dict[str, str] = {
    "abstract_algebra": "STEM",
    "anatomy": "STEM",
    "astronomy": "STEM",
    "business_ethics": "other",
    "clinical_knowledge": "other",
    "college_biology": "STEM",
    "college_chemistry": "STEM",
    "college_computer_science": "STEM",
    "college_mathematics": "STEM",
    "college_medicine": "other",
    "college_physics": "STEM",
    "computer_security": "STEM",
    "conceptual_physics": "STEM",
    "econometrics": "social_sciences",
    "electrical_engineering": "STEM",
    "elementary_mathematics": "STEM",
    "formal_logic": "humanities",
    "global_facts": "other",
    "high_school_biology": "STEM",
    "high_school_chemistry": "STEM",
    "high_school_computer_science": "STEM",
    "high_school_european_history": "humanities",
    "high_school_geography": "social_sciences",
    "high_school_government_and_politics": "social_sciences",
    "high_school_macroeconomics": "social_sciences",
    "high_school_mathematics": "STEM",
    "high_school_microeconomics": "social_sciences",
    "high_school_physics": "STEM",
    "high_school_psychology": "social_sciences",
    "high_school_statistics": "STEM",
    "high_school_us_history": "humanities",
    "high_school_world_history": "humanities",
    "human_aging": "other",
    "human_sexuality": "social_sciences",
    "international_law": "humanities",
    "jurisprudence": "humanities",
    "logical_fallacies": "humanities",
    "machine_learning": "STEM",
    "management": "other",
    "marketing": "other",
    "medical_genetics": "other",
    "miscellaneous": "other",
    "moral_disputes": "humanities",
    "moral_scenarios": "humanities",
    "nutrition": "other",
    "philosophy": "humanities",
    "prehistory": "humanities",
    "professional_accounting": "other",
    "professional_law": "humanities",
    "professional_medicine": "other",
    "professional_psychology": "social_sciences",
    "public_relations": "social_sciences",
    "security_studies": "social_sciences",
    "sociology": "social_sciences",
    "us_foreign_policy": "social_sciences",
    "virology": "other",
    "world_religions": "humanities",
}


def subject_of(path: Path, split: str) -> str:
    suffix = f"_{split}"
    stem = path.stem
    if path.suffix != ".csv" or not stem.endswith(suffix):
        raise SchemaError(f"expected a file named <subject>{suffix}.csv", path=path)
    subject = stem[: -len(suffix)]
    if subject not in SUBJECT_CATEGORY:
        raise SchemaError(f"unknown MMLU subject {subject!r}", path=path)
    return subject


def format_prompt(subject: str, question: str, options: list[str]) -> str:
    header = (
        "The following are multiple choice questions (with answers) about "
        f"{subject.replace('_', ' ')}.\n\n"
    )
    lines = [question.strip()] + [f"{L}. {o}" for L, o in zip(LETTERS, options, strict=True)]
    return header + "\n".join(lines) + "\nAnswer:"


def load_mmlu_file(
    path: str | Path, *, split: str = "test", license: str | None = None
) -> list[Item]:
    path = Path(path)
    subject = subject_of(path, split)
    license = license or get_source("mmlu").license
    ids = UniqueIds(path)
    items = []
    try:
        with path.open("r", encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            start = 1
            for row_index, row in enumerate(reader):
                # A quoted field may span lines: report the line on which the record begins.
                line, start = start, reader.line_num + 1
                items.append(_row_item(row, row_index, subject, split, license, path, line, ids))
    except csv.Error as exc:
        raise SchemaError(f"bad CSV ({exc})", path=path, line=start) from exc
    except UnicodeDecodeError as exc:
        raise SchemaError("not valid UTF-8", path=path) from exc
    return items


def _row_item(
    row: list[str],
    row_index: int,
    subject: str,
    split: str,
    license: str,
    path: Path,
    line: int,
    ids: UniqueIds,
) -> Item:
    if len(row) != len(_COLUMNS):
        field = _COLUMNS[len(row)] if len(row) < len(_COLUMNS) else None
        raise SchemaError(
            f"expected {len(_COLUMNS)} columns, got {len(row)}", path=path, line=line, field=field
        )
    question, *options, answer = row
    if not question.strip():
        raise SchemaError("empty question", path=path, line=line, field="question")
    answer = answer.strip()
    if answer not in LETTERS:
        raise SchemaError(
            f"answer {answer!r} is not one of A-D", path=path, line=line, field="answer"
        )
    item_id = f"mmlu/{subject}/{row_index}"
    ids.add(item_id, line, "question")
    fields = {
        "id": item_id,
        "benchmark": "mmlu",
        "split": split,
        "kind": "multiple_choice",
        "prompt": format_prompt(subject, question, options),
        "target": answer,
        "choices": [f" {L}" for L in LETTERS],
        "answer_index": LETTERS.index(answer),
        "metadata": {
            "difficulty": "unknown",
            "domain": subject,
            "source": "hendrycks_test",
            "stratum": SUBJECT_CATEGORY[subject],
            "license": license,
        },
    }
    return build_item(fields, path=path, line=line)


def load_mmlu(
    paths: Iterable[str | Path], *, split: str = "test", license: str | None = None
) -> list[Item]:
    """All subjects' rows; ``paths`` are ``<subject>_<split>.csv`` files (order irrelevant)."""
    items: list[Item] = []
    for path in sorted(Path(p) for p in paths):
        items.extend(load_mmlu_file(path, split=split, license=license))
    return items
