"""Batched greedy generation with a KV cache that drops rows as soon as they finish.

``transformers``' ``generate`` keeps decoding every row of a batch until the longest is done;
on a CPU that wastes most of the work when answers differ in length. Here a row leaves the
batch (and the cache) the step its answer ends — at the end-of-sequence token, a stop string
or the token budget — so each step costs only the rows still writing.

Llama models run on ``promgate.models.llama_runner.LlamaRunner``: one preallocated cache per
batch (keys and values written in place; a finished row is overwritten by the last live
one), prompts prefilled in groups of similar length, large batches, and the same numbers as
the model's own forward. Other models take that forward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from promgate.progress import progress_bar

if TYPE_CHECKING:
    from promgate.models.llama_runner import LlamaRunner


@dataclass(frozen=True)
class Sampling:
    """Temperature, then nucleus (top-p) sampling: each row draws from its own seeded
    ``torch.Generator``, so a sample depends on its seed, not on its batch neighbours' draws."""

    temperature: float
    top_p: float = 1.0

    def __post_init__(self) -> None:
        if self.temperature <= 0 or not 0 < self.top_p <= 1:
            raise ValueError(f"need temperature > 0 and 0 < top_p <= 1, got {self}")


def _choose(last_logits, rows: list[int], sampling: Sampling | None, generators):
    """The next token of each live row: argmax, or a draw from its own generator."""
    if sampling is None:
        return last_logits.argmax(-1)
    import torch

    probs = torch.softmax(last_logits.float() / sampling.temperature, dim=-1)
    if sampling.top_p < 1.0:
        # Keep the most likely tokens until their mass reaches top_p (the first always stays).
        sorted_p, order = probs.sort(dim=-1, descending=True)
        sorted_p = sorted_p.masked_fill(sorted_p.cumsum(-1) - sorted_p >= sampling.top_p, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_p)
    draws = [
        torch.multinomial(probs[slot], 1, generator=generators[index])
        for slot, index in enumerate(rows)
    ]
    return torch.cat(draws)


def truncate_at_stop(text: str, stop: list[str]) -> str:
    cut = len(text)
    for marker in stop:
        index = text.find(marker)
        if index != -1:
            cut = min(cut, index)
    return text[:cut]


def chat_prompt(tokenizer, user_message: str) -> str:
    return tokenizer.apply_chat_template(
        [{"role": "user", "content": user_message}], tokenize=False, add_generation_prompt=True
    )


def _stop_token_ids(tokenizer) -> set[int]:
    ids = {tokenizer.eos_token_id}
    extra = getattr(tokenizer, "added_tokens_encoder", {})
    ids.update(extra[name] for name in ("<|im_end|>", "<|endoftext|>") if name in extra)
    return {i for i in ids if i is not None}


class _Answers:
    """The answers of one batch as its rows write them; a row ends at an end-of-sequence
    token (not kept), a stop string or the token budget."""

    def __init__(self, tokenizer, n: int, stop: list[str], budget: int, on_done) -> None:
        self.tokenizer, self.stop, self.budget, self.on_done = tokenizer, stop, budget, on_done
        self.stop_ids = _stop_token_ids(tokenizer)
        self.tokens: list[list[int]] = [[] for _ in range(n)]
        self.outputs: list[str] = [""] * n

    def _ends(self, index: int, token: int, step: int) -> bool:
        if token in self.stop_ids:
            return True
        tokens = self.tokens[index]
        tokens.append(token)
        # Decoding the tail is enough to see a stop string that just completed.
        text = self.tokenizer.decode(tokens[-16:], skip_special_tokens=True)
        return any(marker in text for marker in self.stop) or step == self.budget - 1

    def take(self, chosen, rows: list[int], step: int) -> list[int]:
        """Append each live row's token; the slots of the rows still writing."""
        keep = []
        for slot, index in enumerate(rows):
            if self._ends(index, int(chosen[slot]), step):
                text = self.tokenizer.decode(self.tokens[index], skip_special_tokens=True)
                self.outputs[index] = truncate_at_stop(text, self.stop)
                self.on_done()
            else:
                keep.append(slot)
        return keep


def _decode_batch(
    model,
    tokenizer,
    prompts: list[str],
    max_new_tokens: int,
    stop: list[str],
    on_done,
    sampling: Sampling | None = None,
    generators=None,
) -> list[str]:
    import torch
    from transformers import DynamicCache

    tokenizer.padding_side = "left"
    enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    mask = enc.attention_mask
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    cache = DynamicCache()
    rows = list(range(len(prompts)))  # original index of each live row
    answers = _Answers(tokenizer, len(prompts), stop, max_new_tokens, on_done)
    logits = model(
        input_ids=enc.input_ids,
        attention_mask=mask,
        position_ids=positions,
        past_key_values=cache,
        use_cache=True,
        logits_to_keep=1,
    ).logits
    next_pos = positions[:, -1:] + 1
    for step in range(max_new_tokens):
        chosen = _choose(logits[:, -1, :], rows, sampling, generators)
        keep = answers.take(chosen, rows, step)
        if not keep:
            break
        if len(keep) < len(rows):
            selected = torch.tensor(keep)
            cache.batch_select_indices(selected)
            mask, next_pos, chosen = mask[selected], next_pos[selected], chosen[selected]
            rows = [rows[slot] for slot in keep]
        mask = torch.cat([mask, torch.ones((len(rows), 1), dtype=mask.dtype)], dim=1)
        logits = model(
            input_ids=chosen[:, None],
            attention_mask=mask,
            position_ids=next_pos,
            past_key_values=cache,
            use_cache=True,
        ).logits
        next_pos = next_pos + 1
    return answers.outputs


PREFILL_TOKENS = 2048  # padded prompt tokens per prefill pass on the runner
MIN_SHARED_PREFIX = 8  # shared prompt tokens worth a prefill of their own


def _shared_prefix(ids: list[list[int]]) -> int:
    """Tokens every prompt starts with (a chat template's system turn), leaving each prompt
    at least one token of its own; 0 when fewer than ``MIN_SHARED_PREFIX``."""
    shortest = min(len(x) for x in ids)
    length = 0
    while length < shortest - 1 and all(x[length] == ids[0][length] for x in ids):
        length += 1
    return length if length >= MIN_SHARED_PREFIX and len(ids) > 1 else 0


def _prefill_prefix(runner, cache, prefix: list[int]) -> None:
    """Keys and values of the shared prefix, computed once, into columns ``0:len(prefix)`` of
    every cache row (positions 0.. for every row: the same numbers for all)."""
    import torch

    width = len(prefix)
    device = cache.valid.device
    own = runner.new_cache(1, width)
    causal = torch.ones((width, width), dtype=torch.bool, device=device).tril()
    runner.forward(
        torch.tensor([prefix], device=device),
        torch.arange(width, device=device)[None],
        causal[None, None],
        own,
        rows=slice(0, 1),
        column=0,
        first=0,
    )
    cache.data[:, :, :, :, :width] = own.data[:, :, 0:1]


def _prefill_group(
    runner, cache, ids: list[list[int]], rows: range, pad_id: int, end: int, shared: int
):
    """Run the prompts of cache rows ``rows`` (longest first; past their first ``shared``
    tokens, already in the cache), left-padded to the group's longest, into columns
    ``end - longest:end``; the last position's logits of each."""
    import torch

    width = len(ids[rows[0]]) - shared
    first = end - width  # the first query column
    keys_from = 0 if shared else first
    batch = torch.full((len(rows), width), pad_id, dtype=torch.long)
    for r, row in enumerate(rows):
        own = ids[row][shared:]
        batch[r, width - len(own) :] = torch.tensor(own)
    device = cache.valid.device
    start = cache.start[rows.start : rows.stop, None]
    positions = (torch.arange(first, end, device=device)[None, :] - start).clamp(min=0)
    keys_ok = cache.valid[rows.start : rows.stop, keys_from:end]
    query_columns = torch.arange(first, end, device=device)[:, None]
    key_columns = torch.arange(keys_from, end, device=device)[None, :]
    mask = (key_columns <= query_columns)[None] & keys_ok[:, None, :]
    # A pad query must see something or its keys and values turn into NaN; it sees itself.
    pad_query = ~cache.valid[rows.start : rows.stop, first:end]
    mask |= (key_columns == query_columns)[None] & pad_query[:, :, None]
    hidden = runner.forward(
        batch.to(device),
        positions,
        mask[:, None],
        cache,
        rows=slice(rows.start, rows.stop),
        column=first,
        first=keys_from,
    )
    return runner.logits(hidden[:, -1, :])


def _decode_batch_runner(
    runner,
    tokenizer,
    prompt_ids: list[list[int]],
    max_new_tokens: int,
    stop: list[str],
    on_done,
    sampling: Sampling | None = None,
    generators=None,
) -> list[str]:
    """``_decode_batch`` on ``LlamaRunner`` for prompts already tokenized: one preallocated
    cache for the whole batch, keys and values written in place, finished rows replaced by
    the last live ones.

    Prompts end at one column (``end``) and answers are written after it. A prefix all prompts
    share (the chat template's system turn) is computed once and sits at columns
    ``0:shared`` of every row; each prompt's own tokens end at ``end``, after a masked gap.
    """
    import torch

    order = sorted(range(len(prompt_ids)), key=lambda i: len(prompt_ids[i]), reverse=True)
    ids = [prompt_ids[i] for i in order]
    shared = _shared_prefix(ids)
    end = len(ids[0])
    cache = runner.new_cache(len(ids), end + max_new_tokens)
    for row, tokens_ in enumerate(ids):
        # ``start``: how far the row's positions lag its columns (its gap or left padding).
        cache.start[row] = end - len(tokens_)
        cache.valid[row, end - len(tokens_) + shared :] = True
        cache.valid[row, :shared] = True
    if shared:
        _prefill_prefix(runner, cache, ids[0][:shared])
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    # Prompts of similar length are prefilled together, so padding costs little.
    groups, first = [], 0
    for row in range(1, len(ids) + 1):
        longest = len(ids[first]) - shared
        if row == len(ids) or (row - first + 1) * longest > PREFILL_TOKENS:
            groups.append(range(first, row))
            first = row
    logits = torch.cat([_prefill_group(runner, cache, ids, g, pad_id, end, shared) for g in groups])
    rows = list(order)  # original index of the prompt in each live cache row
    answers = _Answers(tokenizer, len(prompt_ids), stop, max_new_tokens, on_done)
    for step in range(max_new_tokens):
        chosen = _choose(logits, rows, sampling, generators)
        keep = answers.take(chosen, rows, step)
        if not keep:
            break
        if len(keep) < len(rows):
            # Live rows beyond the new count move into the freed rows below it: only they
            # are copied, not the whole cache.
            live = len(keep)
            kept = set(keep)
            holes = [slot for slot in range(live) if slot not in kept]
            movers = [slot for slot in keep if slot >= live]
            if holes:
                device = cache.valid.device
                cache.move_rows(
                    torch.tensor(holes, device=device), torch.tensor(movers, device=device)
                )
            slots = list(range(live))
            for hole, mover in zip(holes, movers, strict=True):
                slots[hole] = mover
            chosen = chosen[torch.tensor(slots, device=chosen.device)]
            rows = [rows[slot] for slot in slots]
        live = len(rows)
        column = end + step
        first = 0 if shared else int(cache.start[:live].min())
        positions = (column - cache.start[:live])[:, None]
        mask = cache.valid[:live, None, None, first : column + 1]
        hidden = runner.forward(
            chosen[:, None], positions, mask, cache, rows=slice(0, live), column=column, first=first
        )
        logits = runner.logits(hidden[:, -1, :])
    return answers.outputs


CACHE_TOKENS = 16384  # cache positions (prompt + budget, per row) a runner batch may hold


def _cache_batches(lengths: list[int], max_new_tokens: int) -> list[list[int]]:
    """Prompt indices, longest first, in batches whose cache stays within ``CACHE_TOKENS``.

    On a CPU a decoding step costs about the same for 16 rows as for 64 (the weights are
    read once either way), so a batch takes as many rows as its cache allows.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    chunks: list[list[int]] = []
    for index in order:
        if chunks:
            chunk = chunks[-1]
            if (len(chunk) + 1) * (lengths[chunk[0]] + max_new_tokens) <= CACHE_TOKENS:
                chunk.append(index)
                continue
        chunks.append([index])
    return chunks


def generate_greedy(
    model,
    tokenizer,
    prompts: list[str],
    *,
    max_new_tokens: int,
    batch_size: int,
    stop: list[str],
    description: str = "generating",
    sampling: Sampling | None = None,
    seeds: Sequence[int] | None = None,
    engine: str | LlamaRunner = "auto",
) -> list[str]:
    """Greedy continuations of ``prompts`` (in their order), cut at the first stop string.

    With ``sampling`` (see :func:`generate_sampled`) each prompt is drawn with its own seed.
    ``engine``: "runner" decodes with ``LlamaRunner`` (preallocated cache, oneDNN linears on
    CPU), "transformers" with the model's own forward, "auto" with the runner when the model
    is one it supports, on the CPU; a ``LlamaRunner`` instance is used as given.
    ``batch_size`` prompts are decoded together on the model's forward; the runner fills a
    batch up to ``CACHE_TOKENS`` cache positions instead.
    """
    import torch

    from promgate.models.llama_runner import LlamaRunner

    if sampling is not None and (seeds is None or len(seeds) != len(prompts)):
        raise ValueError("sampling needs one seed per prompt")
    runner = LlamaRunner.select(model, engine)
    if runner is None:
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
        chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    else:
        # Tokenized once: the batch plan needs the lengths, the runner the ids.
        prompt_ids = tokenizer(prompts, add_special_tokens=False).input_ids
        chunks = _cache_batches([len(x) for x in prompt_ids], max_new_tokens)
    outputs: list[str] = [""] * len(prompts)
    with progress_bar("prompts") as bar, torch.inference_mode():
        task = bar.add_task(description, total=len(prompts))
        for chunk in chunks:
            generators = None
            if sampling is not None and seeds is not None:
                device = getattr(model, "device", "cpu")  # draws happen where the logits are
                generators = [torch.Generator(device).manual_seed(seeds[i]) for i in chunk]
            decode = partial(
                _decode_batch if runner is None else _decode_batch_runner,
                max_new_tokens=max_new_tokens,
                stop=stop,
                on_done=lambda: bar.advance(task),
                sampling=sampling,
                generators=generators,
            )
            if runner is None:
                texts = decode(model, tokenizer, [prompts[i] for i in chunk])
            else:
                texts = decode(runner, tokenizer, [prompt_ids[i] for i in chunk])
            for index, text in zip(chunk, texts, strict=True):
                outputs[index] = text
    return outputs


def generate_sampled(
    model,
    tokenizer,
    prompts: list[str],
    seeds: Sequence[int],
    *,
    sampling: Sampling,
    max_new_tokens: int,
    batch_size: int,
    stop: list[str],
    description: str = "sampling",
) -> list[str]:
    """One sampled continuation per prompt; the same prompt and seed give the same text.

    n samples of a prompt are n entries of ``prompts`` with n seeds.
    """
    return generate_greedy(
        model,
        tokenizer,
        prompts,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        stop=stop,
        description=description,
        sampling=sampling,
        seeds=seeds,
    )
