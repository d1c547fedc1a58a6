"""Batched greedy generation with stop strings."""

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

    tokenizer.padding_side = "left"
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
    outputs: list[str] = [""] * len(prompts)
    with progress_bar("prompts") as bar, torch.inference_mode():
        task = bar.add_task(description, total=len(prompts))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            encoded = tokenizer(
                [prompts[i] for i in chunk],
                return_tensors="pt",
                padding=True,
                add_special_tokens=False,
            )
            generated = model.generate(
                **encoded,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                stop_strings=stop or None,
                tokenizer=tokenizer,
                pad_token_id=tokenizer.pad_token_id,
            )
            new_tokens = generated[:, encoded.input_ids.shape[1] :]
            for row, index in enumerate(chunk):
                text = tokenizer.decode(new_tokens[row], skip_special_tokens=True)
                outputs[index] = truncate_at_stop(text, stop)
            bar.advance(task, len(chunk))
    return outputs
