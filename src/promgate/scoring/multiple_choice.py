"""Multiple-choice scoring by log-likelihood, as lm-eval-harness does, one context pass per item.

Each (context, continuation) pair is tokenised as lm-eval-harness does: the context alone,
the continuation as the rest of the whole string's tokens. All continuations that share a
context are packed into one sequence after it: a 4-D attention mask lets each continuation
see the context and itself but not its siblings, and position ids restart after the context.
The context is therefore computed once per item instead of once per choice, and choices of
one token (MMLU's letters) cost nothing beyond the context. The LM head runs only on the
positions that are scored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from promgate.data.schema import Item
from promgate.progress import progress_bar

if TYPE_CHECKING:
    from promgate.models.llama_runner import LlamaRunner


@dataclass
class ChoiceRequest:
    item_index: int
    choice_index: int
    context_ids: list[int]
    continuation_ids: list[int]


@dataclass
class PackedRow:
    """One context followed by the (last-token-dropped) continuations that share it."""

    context: tuple[int, ...]
    requests: list[ChoiceRequest] = field(default_factory=list)

    @property
    def length(self) -> int:
        return len(self.context) + sum(len(r.continuation_ids) - 1 for r in self.requests)

    @property
    def scored(self) -> int:
        """Trailing positions whose logits are needed: the context's last, then every segment."""
        return self.length - len(self.context) + 1


@dataclass(frozen=True)
class ChoiceScores:
    logprobs: list[float]
    continuation_chars: list[int]

    @property
    def prediction(self) -> int:
        return max(range(len(self.logprobs)), key=lambda i: self.logprobs[i])

    @property
    def prediction_norm(self) -> int:
        """acc_norm as lm-eval computes it: log-likelihood per character of the choice."""
        norm = [
            lp / max(n, 1) for lp, n in zip(self.logprobs, self.continuation_chars, strict=True)
        ]
        return max(range(len(norm)), key=lambda i: norm[i])

    @property
    def confidence(self) -> float:
        top = max(self.logprobs)
        weights = [math.exp(lp - top) for lp in self.logprobs]
        return weights[self.prediction] / sum(weights)


def choice_length(continuation: str) -> int:
    """lm-eval's acc_norm length: characters of the choice, without the " " target delimiter."""
    return len(continuation.removeprefix(" "))


def encode_pair(tokenizer, context: str, continuation: str) -> tuple[list[int], list[int]]:
    # Trailing spaces of the context belong to the continuation, as in lm-eval-harness.
    stripped = context.rstrip(" ")
    if len(stripped) != len(context):
        continuation = context[len(stripped) :] + continuation
        context = stripped
    whole = tokenizer(context + continuation, add_special_tokens=False).input_ids
    ctx = tokenizer(context, add_special_tokens=False).input_ids
    return ctx, whole[len(ctx) :]


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


def pack_requests(requests: list[ChoiceRequest], max_length: int) -> list[PackedRow]:
    rows: dict[tuple[int, ...], PackedRow] = {}
    for request in requests:
        row = rows.setdefault(tuple(request.context_ids), PackedRow(tuple(request.context_ids)))
        row.requests.append(request)
    for row in rows.values():
        if row.length > max_length:
            raise ValueError(
                f"item {row.requests[0].item_index}: {row.length} tokens exceed the model's "
                f"{max_length}-token window"
            )
    # Longest first: the slowest batches show up early and padding stays small.
    return sorted(rows.values(), key=lambda r: r.length, reverse=True)


def _batch_tensors(batch: list[PackedRow], pad_id: int):
    """Left-padded ids, position ids and the block-causal 4-D mask for a batch of rows."""
    import torch

    width = max(row.length for row in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    positions = torch.zeros((len(batch), width), dtype=torch.long)
    # Segment of each token: 0 = context (visible to all), k = k-th continuation, -1 = pad.
    segment = torch.full((len(batch), width), -1, dtype=torch.long)
    for r, row in enumerate(batch):
        tokens, pos, seg = list(row.context), list(range(len(row.context))), [0] * len(row.context)
        for k, request in enumerate(row.requests, start=1):
            part = request.continuation_ids[:-1]
            tokens += part
            pos += range(len(row.context), len(row.context) + len(part))
            seg += [k] * len(part)
        offset = width - len(tokens)
        ids[r, offset:] = torch.tensor(tokens)
        positions[r, offset:] = torch.tensor(pos)
        segment[r, offset:] = torch.tensor(seg)
    causal = torch.ones((width, width), dtype=torch.bool).tril()
    seg_q, seg_k = segment[:, :, None], segment[:, None, :]
    visible = (seg_k == 0) | (seg_k == seg_q)
    mask = causal & visible & (seg_q >= 0) & (seg_k >= 0)
    # A pad query must see something or softmax returns NaN; it sees itself and is never read.
    mask |= torch.eye(width, dtype=torch.bool) & (seg_q < 0)
    return ids, positions, mask[:, None]


def batches(rows: list[PackedRow], max_rows: int, max_tokens: int) -> list[list[PackedRow]]:
    """Consecutive rows (longest first) while the padded batch stays within ``max_tokens``.

    A fixed number of rows pads every row to the batch's longest; a token budget puts few
    long rows or many short ones together, so the padded size follows the real one.
    """
    out: list[list[PackedRow]] = []
    for row in rows:
        if out and len(out[-1]) < max_rows and (len(out[-1]) + 1) * out[-1][0].length <= max_tokens:
            out[-1].append(row)
        else:
            out.append([row])
    return out


def _targets(batch: list[PackedRow]):
    """For every request, where its log-probabilities are read in the batch's scored
    positions (rows' trailing ``scored`` positions, concatenated) and which tokens."""
    where, offset = [], 0
    for row in batch:
        cursor = offset + 1  # offset is the row's last context token
        for request in row.requests:
            cont = request.continuation_ids
            where.append((request, [offset, *range(cursor, cursor + len(cont) - 1)], cont))
            cursor += len(cont) - 1
        offset += row.scored
    return where


def _score_batch_runner(runner, batch: list[PackedRow], pad_id: int, scores: dict) -> None:
    import torch

    ids, positions, mask = (t.to(runner.device) for t in _batch_tensors(batch, pad_id))
    hidden = runner.forward(ids, positions, mask)
    width = ids.shape[1]
    # The LM head and the softmax over the vocabulary run on the scored positions only.
    scored = torch.cat([hidden[r, width - row.scored :] for r, row in enumerate(batch)])
    logprobs = torch.cat(
        [
            torch.log_softmax(runner.logits(chunk).float(), dim=-1)
            for chunk in scored.split(_LOGIT_CHUNK)
        ]
    )
    for request, where, cont in _targets(batch):
        picked = logprobs[torch.tensor(where), torch.tensor(cont)]
        scores[(request.item_index, request.choice_index)] = float(picked.sum())


def _score_batch_transformers(model, batch: list[PackedRow], pad_id: int, scores: dict) -> None:
    import torch

    device = next(model.parameters()).device
    ids, positions, mask = (t.to(device) for t in _batch_tensors(batch, pad_id))
    keep = max(row.scored for row in batch)
    logits = model(
        input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=keep
    ).logits
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    for r, row in enumerate(batch):
        # Index in the kept logits of this row's last context token.
        last_context = keep - row.scored
        cursor = last_context + 1
        for request in row.requests:
            cont = request.continuation_ids
            where = [last_context, *range(cursor, cursor + len(cont) - 1)]
            cursor += len(cont) - 1
            picked = logprobs[r, torch.tensor(where), torch.tensor(cont)]
            scores[(request.item_index, request.choice_index)] = float(picked.sum())


_LOGIT_CHUNK = 512  # scored positions per LM-head call: 512 x 49k fp32 logits is ~100 MB
BATCH_TOKENS = 2048  # padded tokens per forward pass on the runner


def score_requests(
    model,
    tokenizer,
    requests: list[ChoiceRequest],
    batch_size: int,
    description: str = "scoring",
    engine: str | LlamaRunner = "auto",
) -> dict[tuple[int, int], float]:
    """Sum of continuation log-probabilities for every (item, choice) request.

    ``engine`` as in ``promgate.scoring.generate.generate_greedy``. On ``LlamaRunner`` a batch
    holds as many rows as fit in ``BATCH_TOKENS`` padded tokens (a longer row goes alone); on
    the model's own forward, ``batch_size`` rows.
    """
    import torch

    from promgate.models.llama_runner import LlamaRunner

    runner = LlamaRunner.select(model, engine)
    max_length = int(getattr(model.config, "max_position_embeddings", 2048))
    rows = pack_requests(requests, max_length)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    if runner is None:
        groups = [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]
    else:
        groups = batches(rows, max_rows=len(rows), max_tokens=BATCH_TOKENS)
    scores: dict[tuple[int, int], float] = {}
    with progress_bar("seq") as bar, torch.inference_mode():
        task = bar.add_task(description, total=len(rows))
        for batch in groups:
            if runner is None:
                _score_batch_transformers(model, batch, pad_id, scores)
            else:
                _score_batch_runner(runner, batch, pad_id, scores)
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
                continuation_chars=[choice_length(cont) for _, cont in pairs],
            )
        )
    return out
