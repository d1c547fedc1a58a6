"""Multiple-choice scoring by log-likelihood, in lm-eval-harness's manner.

Each (context, continuation) pair is tokenised as a whole and split, so a continuation's
tokens are exactly those the model would produce after the context. Requests whose model
inputs are identical (MMLU's one-token letter answers) are computed once, and the LM head
runs only on the positions that are scored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from promgate.data.schema import Item
from promgate.progress import progress_bar


@dataclass
class ChoiceRequest:
    item_index: int
    choice_index: int
    context_ids: list[int]
    continuation_ids: list[int]


@dataclass
class _UniqueInput:
    tokens: tuple[int, ...]
    keep: int = 1  # how many trailing positions must be scored
    requests: list[ChoiceRequest] = field(default_factory=list)


@dataclass(frozen=True)
class ChoiceScores:
    logprobs: list[float]
    continuation_chars: list[int]

    @property
    def prediction(self) -> int:
        return max(range(len(self.logprobs)), key=lambda i: self.logprobs[i])

    @property
    def prediction_norm(self) -> int:
        """acc_norm: log-likelihood per byte of the continuation."""
        norm = [
            lp / max(n, 1) for lp, n in zip(self.logprobs, self.continuation_chars, strict=True)
        ]
        return max(range(len(norm)), key=lambda i: norm[i])

    @property
    def confidence(self) -> float:
        top = max(self.logprobs)
        weights = [math.exp(lp - top) for lp in self.logprobs]
        return weights[self.prediction] / sum(weights)


def encode_pair(tokenizer, context: str, continuation: str) -> tuple[list[int], list[int]]:
    # Trailing spaces of the context belong to the continuation, as in lm-eval-harness.
    stripped = context.rstrip(" ")
    if len(stripped) != len(context):
        continuation = context[len(stripped) :] + continuation
        context = stripped
    whole = tokenizer(context + continuation, add_special_tokens=False).input_ids
    ctx = tokenizer(context, add_special_tokens=False).input_ids
    return whole[: len(ctx)], whole[len(ctx) :]


def choice_pairs(item: Item) -> list[tuple[str, str]]:
    assert item.choices is not None
    if item.contexts is not None:
        # Partial scoring (WinoGrande): each option completes its own context and the shared
        # continuation is what gets scored.
        return [(ctx, item.continuation or "") for ctx in item.contexts]
    return [(item.prompt, choice) for choice in item.choices]


def build_requests(tokenizer, items: list[Item]) -> list[ChoiceRequest]:
    requests = []
    for item_index, item in enumerate(items):
        for choice_index, (context, continuation) in enumerate(choice_pairs(item)):
            ctx, cont = encode_pair(tokenizer, context, continuation)
            if not cont:
                raise ValueError(f"{item.id}: choice {choice_index} encodes to no tokens")
            requests.append(ChoiceRequest(item_index, choice_index, ctx, cont))
    return requests


def _unique_inputs(requests: list[ChoiceRequest], max_length: int) -> list[_UniqueInput]:
    by_tokens: dict[tuple[int, ...], _UniqueInput] = {}
    for request in requests:
        full = (request.context_ids + request.continuation_ids)[-(max_length + 1) :]
        tokens = tuple(full[:-1])
        entry = by_tokens.setdefault(tokens, _UniqueInput(tokens))
        entry.keep = max(entry.keep, len(request.continuation_ids))
        entry.requests.append(request)
    # Longest first: the slowest batches show up early and padding stays small.
    return sorted(by_tokens.values(), key=lambda u: len(u.tokens), reverse=True)


def score_requests(
    model, tokenizer, requests: list[ChoiceRequest], batch_size: int, description: str = "scoring"
) -> dict[tuple[int, int], float]:
    """Sum of continuation log-probabilities for every (item, choice) request."""
    import torch

    max_length = int(getattr(model.config, "max_position_embeddings", 2048))
    uniques = _unique_inputs(requests, max_length)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    scores: dict[tuple[int, int], float] = {}
    with progress_bar("seq") as bar, torch.inference_mode():
        task = bar.add_task(description, total=len(uniques))
        for start in range(0, len(uniques), batch_size):
            batch = uniques[start : start + batch_size]
            width = max(len(u.tokens) for u in batch)
            keep = max(u.keep for u in batch)
            ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, unique in enumerate(batch):
                # Left padding aligns every row's scored positions at the end.
                ids[row, width - len(unique.tokens) :] = torch.tensor(unique.tokens)
                mask[row, width - len(unique.tokens) :] = 1
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            logits = model(
                input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=keep
            ).logits
            logprobs = torch.log_softmax(logits.float(), dim=-1)
            for row, unique in enumerate(batch):
                for request in unique.requests:
                    cont = request.continuation_ids
                    offset = keep - len(cont)
                    picked = logprobs[row, offset + torch.arange(len(cont)), torch.tensor(cont)]
                    scores[(request.item_index, request.choice_index)] = float(picked.sum())
            bar.advance(task, len(batch))
    return scores


def score_items(
    model, tokenizer, items: list[Item], batch_size: int, description: str = "multiple choice"
) -> list[ChoiceScores]:
    requests = build_requests(tokenizer, items)
    scores = score_requests(model, tokenizer, requests, batch_size, description)
    out = []
    for index, item in enumerate(items):
        pairs = choice_pairs(item)
        out.append(
            ChoiceScores(
                logprobs=[scores[(index, c)] for c in range(len(pairs))],
                continuation_chars=[len(cont.encode("utf-8")) for _, cont in pairs],
            )
        )
    return out
