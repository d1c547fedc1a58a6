"""Aggregate greedy-generation speed on GSM8K prompts; print JSON (medians over rounds).

    python bench/generate_speed.py [--prompts 64] [--rounds 3] [--threads 2]
        [--variants hf_generate@8,transformers@16,runner@16,runner@64] [--out FILE]

Variants run interleaved, round by round, on the same prompts (the chat-wrapped GSM8K
prompts of ``data/prepared``, repeated to ``--prompts``), so a busy machine slows all alike:

- ``hf_generate@B``: plain ``model.generate`` (greedy, stop strings), batches of B;
- ``transformers@B``: promgate's decoding on the model's own forward (rows leave as they finish);
- ``runner@B``, ``runner-aten@B``: promgate's decoding on ``LlamaRunner`` (preallocated cache,
  the prompts' shared prefix prefilled once) with oneDNN linears, or with torch's own linear;
  ``runner-noshare@B``: the runner prefilling every prompt whole. The runner batches up to
  its cache budget (``promgate.scoring.generate.CACHE_TOKENS``), not B.

Tokens are those of the kept answers (the end-of-sequence token is not counted), the same
measure for every variant. ``--random-weights`` builds the model from the folder's
config.json with random weights (same shapes and speed, for a machine without the weights);
its answers never meet a stop string, so every row writes the whole budget.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from interleaved import interleaved, median_s  # noqa: E402

GSM8K_STOP = ["Question:", "<|im_end|>"]


def load_model(folder: Path, random_weights: bool):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    if random_weights:
        torch.manual_seed(0)
        config = AutoConfig.from_pretrained(folder)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    else:
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    return model.eval(), tokenizer


def gsm8k_prompts(tokenizer, path: Path, count: int) -> list[str]:
    from promgate.scoring.generate import chat_prompt

    questions = [json.loads(line)["prompt"] for line in path.read_text().splitlines() if line]
    return [chat_prompt(tokenizer, questions[i % len(questions)]) for i in range(count)]


def hf_generate(model, tokenizer, prompts, batch_size, max_new_tokens, stop):
    """Plain transformers: ``model.generate`` per batch, every row until the batch is done."""
    import torch

    from promgate.scoring.generate import truncate_at_stop

    tokenizer.padding_side = "left"
    texts = []
    for start in range(0, len(prompts), batch_size):
        enc = tokenizer(
            prompts[start : start + batch_size],
            return_tensors="pt",
            padding=True,
            add_special_tokens=False,
        )
        with torch.inference_mode():
            out = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                stop_strings=stop,
                tokenizer=tokenizer,
            )
        for row in out[:, enc.input_ids.shape[1] :]:
            texts.append(truncate_at_stop(tokenizer.decode(row, skip_special_tokens=True), stop))
    return texts


def run_variant(name: str, model, tokenizer, prompts, max_new_tokens, stop) -> list[str]:
    from promgate.models.llama_runner import LlamaRunner
    from promgate.scoring import generate

    engine, batch = name.rsplit("@", 1)
    batch_size = int(batch)
    if engine == "hf_generate":
        return hf_generate(model, tokenizer, prompts, batch_size, max_new_tokens, stop)
    if engine == "transformers":
        chosen = "transformers"
    elif engine in ("runner", "runner-aten", "runner-noshare"):
        chosen = LlamaRunner(model, kernel="aten" if engine == "runner-aten" else "onednn")
    else:
        raise SystemExit(f"unknown variant {name!r}")
    shared = generate.MIN_SHARED_PREFIX
    generate.MIN_SHARED_PREFIX = 10**9 if engine == "runner-noshare" else shared
    try:
        return generate.generate_greedy(
            model,
            tokenizer,
            prompts,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            stop=stop,
            engine=chosen,
            description=name,
        )
    finally:
        generate.MIN_SHARED_PREFIX = shared


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=ROOT / "models/base")
    parser.add_argument("--data", type=Path, default=ROOT / "data/prepared/gsm8k.jsonl")
    parser.add_argument("--random-weights", action="store_true")
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--variants", default="hf_generate@8,transformers@16,runner-aten@16,runner@16,runner@64"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    import torch
    import transformers

    torch.set_num_threads(args.threads)
    model, tokenizer = load_model(args.model, args.random_weights)
    prompts = gsm8k_prompts(tokenizer, args.data, args.prompts)
    variants = args.variants.split(",")
    seconds, texts = interleaved(
        args.rounds,
        variants,
        lambda name: run_variant(name, model, tokenizer, prompts, args.max_new_tokens, GSM8K_STOP),
    )
    reference = variants[0]
    results = {}
    for name in variants:
        tokens = sum(len(tokenizer(t, add_special_tokens=False).input_ids) for t in texts[name])
        median = median_s(seconds[name])
        results[name] = {
            "seconds": [round(s, 2) for s in seconds[name]],
            "median_s": round(median, 2),
            "tokens": tokens,
            "tokens_per_s": round(tokens / median, 1),
            "same_text_as_" + reference: sum(
                a == b for a, b in zip(texts[name], texts[reference], strict=True)
            ),
        }
    base = results[reference]["tokens_per_s"]
    for name in variants:
        results[name]["speedup_vs_" + reference] = round(results[name]["tokens_per_s"] / base, 2)
    report = {
        "benchmark": "generate_speed",
        "workload": {
            "prompts": args.prompts,
            "max_new_tokens": args.max_new_tokens,
            "stop": GSM8K_STOP,
            "random_weights": args.random_weights,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "threads": args.threads,
            "processor": platform.processor() or platform.machine(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
        "rounds": args.rounds,
        "variants": results,
    }
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
