"""Chat-formatted supervised examples, with the loss on the assistant's reply only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from promgate.errors import SchemaError
from promgate.io import iter_jsonl

IGNORE_INDEX = -100


@dataclass(frozen=True)
class Example:
    input_ids: list[int]
    labels: list[int]


def read_corpus(path: str | Path) -> list[dict]:
    rows = []
    for line, row in iter_jsonl(path):
        for key in ("id", "prompt", "response"):
            if not isinstance(row.get(key), str) or not row[key]:
                raise SchemaError("missing or empty string", path=path, line=line, field=key)
        rows.append(row)
    return rows


def encode_example(tokenizer, prompt: str, response: str, max_length: int) -> Example:
    user = [{"role": "user", "content": prompt}]
    prefix = tokenizer.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(
        [*user, {"role": "assistant", "content": response.strip()}], tokenize=False
    )
    prefix_ids = tokenizer(prefix, add_special_tokens=False).input_ids
    reply_ids = tokenizer(full, add_special_tokens=False).input_ids[len(prefix_ids) :]
    # Keep at least half the window (or the whole reply) for the reply: a prompt longer than
    # max_length would otherwise leave no supervised token and a NaN loss.
    reply_ids = reply_ids[: max(max_length - len(prefix_ids), max_length // 2)]
    prefix_ids = prefix_ids[max(0, len(prefix_ids) + len(reply_ids) - max_length) :]
    if not reply_ids:
        raise ValueError("example has an empty reply")
    return Example(
        input_ids=prefix_ids + reply_ids,
        labels=[IGNORE_INDEX] * len(prefix_ids) + reply_ids,
    )
