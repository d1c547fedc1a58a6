"""CPU seconds per training step and peak memory of promgate's trainer, against a plain
peft + transformers loop on the same model, adapter, batches and threads; prints JSON.

    python bench/train_step.py [--steps 6] [--threads 2] [--out bench/results/train_step.json]

Config: params.yaml's ``train`` section (the default profile's LoRA probe). Corpus:
data/train/clean.jsonl (or corpus.jsonl); model: models/base. Each side runs in its own
process, so its peak RSS is its own. promgate's step covers what its trainer does per step
(batching, the divergence guard, the weights digest); the plain loop does forward, backward
and AdamW only. The first step is a warm-up, left out of the median. Both sides start from
the same seed, so their losses must agree: the comparison is like for like.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 42


def _corpus() -> Path:
    for name in ("clean.jsonl", "corpus.jsonl"):
        if (ROOT / "data/train" / name).is_file():
            return ROOT / "data/train" / name
    sys.exit("no training corpus: run `dvc repro prepare` first")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_promgate(steps: int, threads: int) -> dict:
    from promgate.config import load_params
    from promgate.train.lora import train_lora

    cfg = load_params(ROOT / "params.yaml").train
    with tempfile.TemporaryDirectory() as tmp:
        result = train_lora(
            ROOT / "models/base",
            _corpus(),
            cfg,
            SEED,
            Path(tmp),
            None,
            threads,
            max_steps=steps,
            checks=False,
        )
    return {
        "step_seconds": [r.seconds for r in result.curve],
        "losses": [r.loss for r in result.curve],
        "tokens": [r.tokens for r in result.curve],
        "peak_rss_mb": _peak_rss_mb(),
    }


def worker_plain(steps: int, threads: int) -> dict:
    """The textbook loop: get_peft_model, AdamW, forward/backward/step, nothing else."""
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    from promgate.config import load_params
    from promgate.train.batches import batches, collate, training_pad_id
    from promgate.train.examples import encode_example, read_corpus
    from promgate.train.lora import lora_config
    from promgate.train.validation import split_validation

    cfg = load_params(ROOT / "params.yaml").train
    torch.set_num_threads(threads)
    tokenizer = AutoTokenizer.from_pretrained(ROOT / "models/base")
    pad = training_pad_id(tokenizer)
    # The same training documents, batches and padding as promgate's run.
    rows, _ = split_validation(read_corpus(_corpus()), cfg.validation)
    examples = [encode_example(tokenizer, r["prompt"], r["response"], cfg.max_length) for r in rows]
    set_seed(SEED)
    model = AutoModelForCausalLM.from_pretrained(ROOT / "models/base", dtype=torch.float32)
    model = get_peft_model(model, lora_config(cfg))  # promgate's own adapter settings
    model.train()
    set_seed(SEED)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=cfg.learning_rate, weight_decay=0.0
    )
    times, losses, tokens = [], [], []
    for batch in batches(examples, cfg.batch_size, steps, SEED):
        start = time.perf_counter()
        ids, mask, labels = collate(batch, pad)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
        losses.append(float(loss))
        tokens.append(int(mask.sum()))
    return {
        "step_seconds": times,
        "losses": losses,
        "tokens": tokens,
        "peak_rss_mb": _peak_rss_mb(),
    }


WORKERS = {"promgate": worker_promgate, "plain_peft_transformers": worker_plain}


def _run_worker(name: str, steps: int, threads: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [sys.executable, __file__, "--worker", name, "--steps", str(steps)]
        cmd += ["--threads", str(threads), "--worker-out", out.name]
        started = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=ROOT)
        data = json.loads(Path(out.name).read_text())
    data["process_seconds"] = time.perf_counter() - started
    return data


def _summary(data: dict) -> dict:
    timed = data["step_seconds"][1:] or data["step_seconds"]  # step 0 warms up
    tokens = data["tokens"][1:] or data["tokens"]
    return {
        "step_seconds_median": statistics.median(timed),
        "step_seconds": [round(s, 4) for s in data["step_seconds"]],
        "tokens_per_s": sum(tokens) / sum(timed),
        "peak_rss_mb": round(data["peak_rss_mb"], 1),
        "process_seconds": round(data["process_seconds"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--worker", choices=sorted(WORKERS))
    parser.add_argument("--worker-out", type=Path)
    args = parser.parse_args()
    if args.worker:
        result = WORKERS[args.worker](args.steps, args.threads)
        args.worker_out.write_text(json.dumps(result))
        return
    if not (ROOT / "models/base").is_dir():
        sys.exit("no models/base: run `dvc repro base_model` first")
    from promgate.config import load_params

    cfg = load_params(ROOT / "params.yaml").train
    load_before = os.getloadavg()
    raw = {name: _run_worker(name, args.steps, args.threads) for name in WORKERS}
    ours, plain = _summary(raw["promgate"]), _summary(raw["plain_peft_transformers"])
    result = {
        "benchmark": "train_step",
        "config": {
            "steps": args.steps,
            "threads": args.threads,
            "batch_size": cfg.batch_size,
            "max_length": cfg.max_length,
            "lora_r": cfg.lora.r,
            "target_modules": cfg.lora.target_modules,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.machine(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "promgate": ours,
        "plain_peft_transformers": plain,
        "step_time_ratio": ours["step_seconds_median"] / plain["step_seconds_median"],
        "peak_rss_ratio": ours["peak_rss_mb"] / plain["peak_rss_mb"],
        # Same seed, batches and adapter: equal losses mean the two did the same work.
        "same_losses": raw["promgate"]["losses"] == raw["plain_peft_transformers"]["losses"],
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
