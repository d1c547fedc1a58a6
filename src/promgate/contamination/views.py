"""What of an eval item or a corpus document is compared, with prompt scaffolding removed.

Templates shared by every item of a benchmark ("The following are multiple choice questions
(with answers) about ...", "Question: ... Answer:") are not evidence of contamination, and
their n-grams would match any corpus formatted the same way, so they are cut first.

- ``segments``: the texts whose n-grams are checked (question, then the gold answer for
  generative and code items and the gold choice for multiple choice); n-grams never span two
  segments.
- ``query``: the question alone, for near-duplicate and embedding similarity, because a
  training document and an eval item only look alike in what they ask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from promgate.data.schema import Item

_SCAFFOLDING = (
    re.compile(r"^The following are multiple choice questions \(with answers\) about [^\n]*\n\n"),
    re.compile(r"^\s*(?:Question|Q):\s*"),
    re.compile(r"\s*(?:Answer|A):\s*$"),
)


def strip_scaffolding(prompt: str) -> str:
    for pattern in _SCAFFOLDING:
        prompt = pattern.sub("", prompt, count=1)
    return prompt.strip()


@dataclass(frozen=True)
class View:
    segments: tuple[str, ...]
    query: str


def item_view(item: Item) -> View:
    question = strip_scaffolding(item.prompt)
    if item.kind == "multiple_choice" and item.choices and item.answer_index is not None:
        answer = item.choices[item.answer_index].strip()
    else:
        answer = item.target.strip()
    # MMLU's target is a letter and already sits in the prompt with its choice text.
    segments = (question, answer) if len(answer) > 1 else (question,)
    return View(segments=segments, query=question)


def record_view(record: dict[str, Any]) -> View:
    """A corpus record: ``{"prompt", "response"}`` (supervised) or ``{"text"}`` (plain)."""
    if "prompt" in record:
        question = strip_scaffolding(str(record["prompt"]))
        response = str(record.get("response", "")).strip()
        return View(segments=(question, response), query=question)
    text = str(record["text"]).strip()
    return View(segments=(text,), query=text)
