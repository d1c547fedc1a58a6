"""Map lm-eval-harness docs onto promgate items by what the model is asked.

A doc of a supported task is rendered into lm-eval's stock zero-shot requests, the
(context, continuation) pairs of its choices; promgate's item gives its pairs through
:func:`~promgate.scoring.multiple_choice.choice_pairs`. Equal pairs (and the same gold
answer) mean the same item, whatever the doc's row order or split layout: this is the
content hash the mapping uses. Docs from a few-shot or chat-templated run still map, because
the pairs are rendered from the doc, not taken from the requests lm-eval sent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from promgate.data.loaders.mmlu import LETTERS, SUBJECT_CATEGORY
from promgate.data.schema import Item
from promgate.scoring.multiple_choice import choice_pairs

Pairs = list[tuple[str, str]]


class DocError(ValueError):
    """A doc lacks a field its task needs; ``field`` is the dotted name within ``doc``."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _get(doc: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in doc:
        raise DocError("missing field", f"doc.{key}")
    value = doc[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise DocError(f"expected {names}, got {type(value).__name__}", f"doc.{key}")
    return value


def _index_of(values: list[Any], wanted: Any, name: str) -> int:
    if wanted not in values:
        raise DocError(f"{wanted!r} is not among {values}", name)
    return values.index(wanted)


def _arc(doc: dict[str, Any], _task: str) -> tuple[Pairs, int]:
    question = _get(doc, "question", str)
    choices = _get(doc, "choices", dict)
    texts, labels = choices.get("text"), choices.get("label")
    if not isinstance(texts, list) or not isinstance(labels, list) or len(texts) != len(labels):
        raise DocError("expected {text: [...], label: [...]} of equal length", "doc.choices")
    gold = _index_of(labels, _get(doc, "answerKey", str), "doc.answerKey")
    context = f"Question: {question}\nAnswer:"
    return [(context, f" {text}") for text in texts], gold


def _piqa(doc: dict[str, Any], _task: str) -> tuple[Pairs, int]:
    goal, sol1, sol2 = (_get(doc, k, str) for k in ("goal", "sol1", "sol2"))
    label = _get(doc, "label", (int, str))
    gold = _index_of([0, 1], int(label) if str(label) in ("0", "1") else label, "doc.label")
    context = f"Question: {goal}\nAnswer:"
    return [(context, f" {sol1}"), (context, f" {sol2}")], gold


def _winogrande(doc: dict[str, Any], _task: str) -> tuple[Pairs, int]:
    sentence = _get(doc, "sentence", str)
    options = [_get(doc, "option1", str), _get(doc, "option2", str)]
    gold = _index_of(["1", "2"], _get(doc, "answer", str), "doc.answer")
    if "_" not in sentence:
        raise DocError("no '_' blank in the sentence", "doc.sentence")
    blank = sentence.index("_")
    continuation = " " + sentence[blank + 1 :].strip()
    return [(sentence[:blank] + option, continuation) for option in options], gold


def _mmlu(doc: dict[str, Any], task: str) -> tuple[Pairs, int]:
    subject = doc.get("subject") or task.removeprefix("mmlu_")
    if subject not in SUBJECT_CATEGORY:
        raise DocError(f"unknown MMLU subject {subject!r}", "doc.subject")
    question = _get(doc, "question", str)
    choices = _get(doc, "choices", list)
    if len(choices) != len(LETTERS) or not all(isinstance(c, str) for c in choices):
        raise DocError(f"expected {len(LETTERS)} strings", "doc.choices")
    answer = _get(doc, "answer", (int, str))
    # cais/mmlu holds the index; a CSV-shaped doc the letter.
    if answer in LETTERS:
        gold = LETTERS.index(answer)
    else:
        gold = _index_of([0, 1, 2, 3], answer, "doc.answer")
    lines = [question.strip()] + [f"{L}. {c}" for L, c in zip(LETTERS, choices, strict=True)]
    context = (
        "The following are multiple choice questions (with answers) about "
        f"{subject.replace('_', ' ')}.\n\n" + "\n".join(lines) + "\nAnswer:"
    )
    return [(context, f" {L}") for L in LETTERS], gold


_RENDER: dict[str, Callable[[dict[str, Any], str], tuple[Pairs, int]]] = {
    "arc_easy": _arc,
    "arc_challenge": _arc,
    "piqa": _piqa,
    "winogrande": _winogrande,
    "mmlu": _mmlu,
}

# lm-eval task name -> promgate benchmark: the stock tasks and bench/lmeval/tasks/'s copies.
TASK_BENCHMARKS: dict[str, str] = {
    **{name: name for name in ("arc_easy", "arc_challenge", "piqa", "winogrande")},
    **{f"promgate_{name}": name for name in ("arc_easy", "arc_challenge", "piqa", "winogrande")},
    "promgate_mmlu": "mmlu",
    **{f"mmlu_{subject}": "mmlu" for subject in SUBJECT_CATEGORY},
}


def render_doc(benchmark: str, doc: dict[str, Any], task: str) -> tuple[Pairs, int]:
    """The stock zero-shot (context, continuation) pairs of ``doc`` and its gold index."""
    return _RENDER[benchmark](doc, task)


def pairs_key(pairs: Iterable[tuple[str, str]]) -> str:
    return hashlib.sha256(json.dumps([list(p) for p in pairs]).encode("utf-8")).hexdigest()


@dataclass
class ItemIndex:
    """Items of one benchmark by the hash of their pairs; equal items are handed out in order."""

    benchmark: str
    by_key: dict[str, list[Item]] = field(default_factory=dict)
    _taken: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, benchmark: str, items: Iterable[Item]) -> ItemIndex:
        index = cls(benchmark)
        for item in items:
            index.by_key.setdefault(pairs_key(choice_pairs(item)), []).append(item)
        return index

    def take(self, pairs: Pairs, gold: int) -> Item:
        """The next unused item with these pairs and gold answer; else a :class:`Unmapped`."""
        candidates = self.by_key.get(pairs_key(pairs), [])
        if not candidates:
            raise Unmapped(f"no {self.benchmark} item has this prompt and these choices")
        for item in candidates:
            if item.answer_index == gold and item.id not in self._taken:
                self._taken.add(item.id)
                return item
        if all(item.answer_index != gold for item in candidates):
            answers = sorted({item.answer_index for item in candidates})
            raise Unmapped(f"gold answer {gold} differs from {candidates[0].id}'s {answers}")
        raise Unmapped(f"a second doc for item {candidates[0].id} (duplicate doc)")


class Unmapped(LookupError):
    """A doc that matches no (unused) promgate item; the message says why."""
