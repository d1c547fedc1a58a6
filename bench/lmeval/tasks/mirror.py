"""Load the benchmark mirror's upstream files into the rows of lm-eval's stock datasets.

The task YAMLs beside this file keep the stock tasks' prompt formats (doc_to_text,
doc_to_target, doc_to_choice); only where the rows come from changes: the files under
$PROMGATE_MIRROR (layout of the mirror's MANIFEST.md), read with the datasets json/csv
builders and reshaped to the fields the stock tasks expect. Nothing here imports promgate,
so the lm-eval side of a parity run shares no formatting code with the side it checks.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import datasets

MIRROR_ENV = "PROMGATE_MIRROR"
MMLU_LETTERS = ("A", "B", "C", "D")
# The fixed MMLU subset: per subject, the rows whose hash of "<subject>/<row>" sorts first.
MMLU_PER_SUBJECT = 20


def _mirror() -> Path:
    root = os.environ.get(MIRROR_ENV)
    if not root:
        raise RuntimeError(f"set {MIRROR_ENV} to the benchmark mirror (see its MANIFEST.md)")
    return Path(root)


def _resolve(data_files: dict[str, str]) -> dict[str, str]:
    root = _mirror()
    resolved = {}
    for split, rel in data_files.items():
        path = root / rel
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not in the mirror ({MIRROR_ENV}={root})")
        resolved[split] = str(path)
    return resolved


def load_json(data_files: dict[str, str], **_metadata) -> datasets.DatasetDict:
    """JSONL files of the mirror, one per split, as they are."""
    return datasets.load_dataset("json", data_files=_resolve(data_files))


def load_json_with_labels(
    data_files: dict[str, str], label_files: dict[str, str], **_metadata
) -> datasets.DatasetDict:
    """JSONL plus a line-aligned label file (PIQA): the label becomes the int column `label`."""
    loaded = load_json(data_files)
    labels = _resolve(label_files)
    out = {}
    for split, rows in loaded.items():
        lines = Path(labels[split]).read_text(encoding="utf-8").split()
        if len(lines) != len(rows):
            raise ValueError(f"{labels[split]}: {len(lines)} labels for {len(rows)} rows")
        out[split] = rows.add_column("label", [int(x) for x in lines])
    return datasets.DatasetDict(out)


def arc_docs(rows: datasets.Dataset) -> datasets.Dataset:
    """Mirror ARC rows (question.stem, question.choices[]) -> allenai/ai2_arc rows."""

    def reshape(row: dict) -> dict:
        choices = row["question"]["choices"]
        return {
            "id": row["id"],
            "question": row["question"]["stem"],
            "choices": {
                "text": [c["text"] for c in choices],
                "label": [c["label"] for c in choices],
            },
            "answerKey": row["answerKey"],
        }

    return rows.map(reshape, remove_columns=rows.column_names)


def _mmlu_subjects(split: str) -> dict[str, str]:
    folder = _mirror() / "mmlu" / split
    files = sorted(folder.glob(f"*_{split}.csv"))
    if not files:
        raise FileNotFoundError(f"{folder}: no <subject>_{split}.csv files")
    return {p.name[: -len(f"_{split}.csv")]: str(p) for p in files}


def mmlu_subset_keys(rows_per_subject: dict[str, int], per_subject: int) -> set[str]:
    """The fixed stratified subset: `per_subject` rows of each subject, chosen by hash."""
    keep = set()
    for subject, n in rows_per_subject.items():
        keys = [f"{subject}/{row}" for row in range(n)]
        keys.sort(key=lambda k: hashlib.sha256(k.encode()).hexdigest())
        keep.update(keys[:per_subject])
    return keep


def load_mmlu(split: str = "test", per_subject: int = MMLU_PER_SUBJECT, **_metadata):
    """The subject CSVs (no header) -> cais/mmlu rows (question, subject, choices, answer).

    Every cell is read as text (no NA or number parsing), as the upstream CSV holds it.
    `per_subject` <= 0 keeps every row.
    """
    names = ["question", "A", "B", "C", "D", "answer"]
    features = datasets.Features({n: datasets.Value("string") for n in names})
    by_subject = datasets.load_dataset(
        "csv",
        data_files=_mmlu_subjects(split),
        header=None,
        names=names,
        features=features,
        keep_default_na=False,
        na_filter=False,
    )
    sizes = {subject: len(rows) for subject, rows in by_subject.items()}
    keep = mmlu_subset_keys(sizes, per_subject) if per_subject > 0 else None
    parts = []
    for subject in sorted(by_subject):
        rows = by_subject[subject]
        picked = [i for i in range(len(rows)) if keep is None or f"{subject}/{i}" in keep]
        rows = rows.select(picked)

        def reshape(row: dict, subject: str = subject) -> dict:
            return {
                "question": row["question"],
                "subject": subject,
                "choices": [row[letter] for letter in MMLU_LETTERS],
                "answer": MMLU_LETTERS.index(row["answer"].strip()),
            }

        parts.append(rows.map(reshape, remove_columns=names))
    return datasets.DatasetDict({split: datasets.concatenate_datasets(parts)})
