"""Batched greedy generation with a KV cache that drops rows as soon as they finish.

``transformers``' ``generate`` keeps decoding every row of a batch until the longest is done;
on a CPU that wastes most of the work when answers differ in length. Here a row leaves the
batch (and the cache) the step its answer ends — at the end-of-sequence token, a stop string
or the token budget — so each step costs only the rows still writing.
"""

from __future__ import annotations

from promgate.progress import progress_bar


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


def _decode_batch(
    model, tokenizer, prompts: list[str], max_new_tokens: int, stop: list[str], on_done
) -> list[str]:
    import torch
    from transformers import DynamicCache

    tokenizer.padding_side = "left"
    enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    mask = enc.attention_mask
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    cache = DynamicCache()
    stop_ids = _stop_token_ids(tokenizer)
    rows = list(range(len(prompts)))  # original index of each live row
    tokens: list[list[int]] = [[] for _ in prompts]
    outputs: list[str] = [""] * len(prompts)
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
        chosen = logits[:, -1, :].argmax(-1)
        keep = []
        for slot, index in enumerate(rows):
            token = int(chosen[slot])
            done = token in stop_ids
            if not done:
                tokens[index].append(token)
                # Decoding the tail is enough to see a stop string that just completed.
                text = tokenizer.decode(tokens[index][-16:], skip_special_tokens=True)
                done = any(marker in text for marker in stop) or step == max_new_tokens - 1
            if done:
                outputs[index] = truncate_at_stop(
                    tokenizer.decode(tokens[index], skip_special_tokens=True), stop
                )
                on_done()
            else:
                keep.append(slot)
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
    return outputs


def generate_greedy(
    model,
    tokenizer,
    prompts: list[str],
    *,
    max_new_tokens: int,
    batch_size: int,
    stop: list[str],
    description: str = "generating",
) -> list[str]:
    """Greedy continuations of ``prompts`` (in their order), cut at the first stop string."""
    import torch

    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
    outputs: list[str] = [""] * len(prompts)
    with progress_bar("prompts") as bar, torch.inference_mode():
        task = bar.add_task(description, total=len(prompts))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            texts = _decode_batch(
                model,
                tokenizer,
                [prompts[i] for i in chunk],
                max_new_tokens,
                stop,
                on_done=lambda: bar.advance(task),
            )
            for index, text in zip(chunk, texts, strict=True):
                outputs[index] = text
    return outputs
