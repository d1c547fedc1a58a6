"""Multiple choice with the options permuted, the gold option always moved.

A model that memorised "the answer is B" fails; one that knows the answer does not care.
MMLU's options live inside its prompt ("A. ...\\nB. ...") and are re-rendered there; ARC's
are separate choices. The permutation is drawn from ``(seed, item id)``, so it is stable.
"""

from __future__ import annotations

import hashlib

import numpy as np

from promgate.data.loaders.mmlu import LETTERS
from promgate.data.schema import Item


def rng_for(seed: int, item_id: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{item_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def moving_permutation(n: int, gold: int, rng: np.random.Generator) -> list[int]:
    """A random order of ``range(n)`` in which ``gold`` does not keep its position."""
    while True:
        order = rng.permutation(n).tolist()
        if order.index(gold) != gold:
            return order


def split_mmlu_prompt(prompt: str) -> tuple[str, list[str]] | None:
    """(text before the options, the four options) of an MMLU prompt, or None."""
    if not prompt.endswith("\nAnswer:"):
        return None
    body = prompt[: -len("\nAnswer:")]
    options: list[str] = []
    end = len(body)
    for letter in reversed(LETTERS):
        start = body.rfind(f"\n{letter}. ", 0, end)
        if start < 0:
            return None
        options.append(body[start + len(f"\n{letter}. ") : end])
        end = start
    return body[:end], options[::-1]


def permute(item: Item, benchmark: str, seed: int) -> Item | None:
    """The item with its options permuted, as ``benchmark``; None if its format is unknown."""
    if item.kind != "multiple_choice" or not item.choices or item.answer_index is None:
        return None
    rng = rng_for(seed, item.id)
    new_id = benchmark + item.id[len(item.benchmark) :]
    if item.benchmark == "mmlu":
        parts = split_mmlu_prompt(item.prompt)
        if parts is None:
            return None
        head, options = parts
        order = moving_permutation(len(options), item.answer_index, rng)
        lines = [f"{L}. {options[i]}" for L, i in zip(LETTERS, order, strict=True)]
        prompt = head + "\n" + "\n".join(lines) + "\nAnswer:"
        gold = order.index(item.answer_index)
        update = {"prompt": prompt, "answer_index": gold, "target": LETTERS[gold]}
    else:
        if item.contexts is not None:  # WinoGrande-style partial scoring: not permuted
            return None
        order = moving_permutation(len(item.choices), item.answer_index, rng)
        update = {
            "choices": [item.choices[i] for i in order],
            "answer_index": order.index(item.answer_index),
        }
    return Item.model_validate(
        {
            **item.model_dump(exclude={"content_hash"}),
            **update,
            "id": new_id,
            "benchmark": benchmark,
        }
    )
