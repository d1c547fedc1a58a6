"""MATH (Hendrycks et al., 2021): per-problem JSON files, and OpenAI's 500-problem subset.

The gold answer is the content of the last ``\\boxed{...}`` (or ``\\fbox{...}``) in the
solution, braces balanced. Strata are subject x level, the two axes MATH is built on, so a
sample keeps both mixes; ``difficulty`` is the level.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from promgate.data.loaders._common import UniqueIds, build_item, get_field
from promgate.data.loaders._records import key_line, read_text
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.errors import SchemaError
from promgate.io import iter_jsonl

SUBJECTS = {
    "algebra": "Algebra",
    "counting_and_probability": "Counting & Probability",
    "geometry": "Geometry",
    "intermediate_algebra": "Intermediate Algebra",
    "number_theory": "Number Theory",
    "prealgebra": "Prealgebra",
    "precalculus": "Precalculus",
}
_LEVEL = re.compile(r"^Level ([1-5])$")
_BOX = re.compile(r"\\(?:boxed|fbox)\s*")
_UNIQUE_ID = re.compile(r"^test/([a-z_]+)/(\d+)\.json$")


def last_boxed(solution: str) -> str | None:
    """Content of the last ``\\boxed{...}``, nested braces kept; ``\\boxed 5`` gives ``5``."""
    starts = [m.end() for m in _BOX.finditer(solution)]
    for start in reversed(starts):
        if start < len(solution) and solution[start] == "{":
            depth = 0
            for pos in range(start, len(solution)):
                depth += {"{": 1, "}": -1}.get(solution[pos], 0)
                if depth == 0:
                    return solution[start + 1 : pos].strip()
            continue  # unbalanced: try an earlier box
        token = re.match(r"[^\s$]+", solution[start:])
        if token:
            return token.group(0)
    return None


def prompt_for(problem: str) -> str:
    # lm-eval-harness's minerva_math zero-shot layout.
    return f"Problem:\n{problem}\n\nSolution:"


def _item(
    benchmark: str,
    item_id: str,
    split: str,
    problem: str,
    answer: str,
    subject: str,
    level: int | None,
    license: str,
    path: Path,
    line: int,
) -> Item:
    level_name = f"level_{level}" if level is not None else "unknown"
    fields = {
        "id": item_id,
        "benchmark": benchmark,
        "split": split,
        "kind": "generate",
        "prompt": prompt_for(problem),
        "target": answer,
        "metadata": {
            "difficulty": level_name,
            "domain": subject,
            "source": "hendrycks_math",
            "stratum": f"{subject}/{level_name}",
            "license": license,
        },
    }
    return build_item(fields, path=path, line=line)


def load_math_problem(path: Path, split: str, license: str) -> Item:
    subject = path.parent.name
    if subject not in SUBJECTS or not path.stem.isdigit() or path.suffix != ".json":
        raise SchemaError("expected math/MATH/<split>/<subject>/<n>.json", path=path)
    text = read_text(path)
    try:
        rec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"invalid JSON ({exc.msg})", path=path, line=exc.lineno) from exc
    if not isinstance(rec, dict):
        raise SchemaError("expected a JSON object", path=path, line=1)

    def field(key: str) -> str:
        return get_field(rec, key, str, path=path, line=key_line(text, key))

    problem, level, kind, solution = (
        field("problem"),
        field("level"),
        field("type"),
        field("solution"),
    )
    match = _LEVEL.match(level)
    if not match:
        raise SchemaError(
            f"level {level!r} is not 'Level 1'..'Level 5'",
            path=path,
            line=key_line(text, "level"),
            field="level",
        )
    if kind != SUBJECTS[subject]:
        raise SchemaError(
            f"type {kind!r} does not match the directory {subject!r}",
            path=path,
            line=key_line(text, "type"),
            field="type",
        )
    answer = last_boxed(solution)
    if not answer:
        raise SchemaError(
            "solution has no \\boxed{...} answer",
            path=path,
            line=key_line(text, "solution"),
            field="solution",
        )
    return _item(
        "math",
        f"math/{subject}/{path.stem}",
        split,
        problem,
        answer,
        subject,
        int(match.group(1)),
        license,
        path,
        1,
    )


def load_math(
    paths: Iterable[str | Path], *, split: str = "test", license: str | None = None
) -> list[Item]:
    """One Item per problem file; ids are ``math/<subject>/<n>``, sorted."""
    license = license or get_source("math").license
    items = [load_math_problem(Path(p), split, license) for p in paths]
    return sorted(items, key=lambda it: it.id)


def load_math500(
    path: str | Path, *, split: str = "test", license: str | None = None
) -> list[Item]:
    """MATH-500 JSONL; ids ``math500/<subject>/<n>`` match the problem's MATH file."""
    path = Path(path)
    license = license or get_source("math500").license
    ids = UniqueIds(path)
    items = []
    for line, rec in iter_jsonl(path):
        problem = get_field(rec, "problem", str, path=path, line=line)
        answer = get_field(rec, "answer", str, path=path, line=line)
        subject_name = get_field(rec, "subject", str, path=path, line=line)
        level = get_field(rec, "level", int, path=path, line=line)
        unique_id = get_field(rec, "unique_id", str, path=path, line=line)
        get_field(rec, "solution", str, path=path, line=line)
        match = _UNIQUE_ID.match(unique_id)
        if not match or match.group(1) not in SUBJECTS:
            raise SchemaError(
                f"unique_id {unique_id!r} is not test/<subject>/<n>.json",
                path=path,
                line=line,
                field="unique_id",
            )
        subject = match.group(1)
        if SUBJECTS[subject] != subject_name:
            raise SchemaError(
                f"subject {subject_name!r} does not match {unique_id!r}",
                path=path,
                line=line,
                field="subject",
            )
        if not 1 <= level <= 5:
            raise SchemaError(f"level {level} is not 1..5", path=path, line=line, field="level")
        if not answer.strip():
            raise SchemaError("empty answer", path=path, line=line, field="answer")
        item_id = f"math500/{subject}/{match.group(2)}"
        ids.add(item_id, line, "unique_id")
        items.append(
            _item(
                "math500",
                item_id,
                split,
                problem,
                answer.strip(),
                subject,
                level,
                license,
                path,
                line,
            )
        )
    return items
