"""One model's default-profile evaluation time, benchmark by benchmark; print JSON.

    python bench/eval_speed.py [--rounds 2] [--threads 2] [--out FILE]
        [--engines transformers,runner] [--benchmarks arc_easy,...]

Each benchmark of ``data/prepared`` is scored the way the hf backend does it (multiple
choice: log-likelihood of every choice; gsm8k and code: greedy answers with the eval
config's budgets and stop strings) by each engine in turn, round by round, so a busy machine
slows both alike:

- ``transformers``: the model's own forward (MC: ``eval.batch_size`` rows a batch; generation:
  rows leave the batch as they finish) — the evaluation as it ran before ``LlamaRunner``;
- ``runner``: ``LlamaRunner`` (token-budget MC batches, preallocated KV cache, oneDNN
  linears in MKL's summation order).

Reported: median seconds per benchmark and engine, the ratio, and whether the engines agree
(MC: same chosen answers and the largest log-likelihood difference; generation: identical
answers). Executing code answers in the sandbox is timed once: it does not depend on the
engine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from interleaved import interleaved, median_s  # noqa: E402
from promgate.config import load_params  # noqa: E402
from promgate.data.schema import Item, read_items  # noqa: E402
from promgate.scoring import code, multiple_choice  # noqa: E402
from promgate.scoring.generate import chat_prompt, generate_greedy  # noqa: E402
from promgate.scoring.runner import GSM8K_STOP  # noqa: E402


def mc_scores(model, tokenizer, items: list[Item], batch_size: int, engine: str) -> list[float]:
    """Every choice's log-likelihood, in item then choice order."""
    requests = []
    for item in items:
        for context, continuation in multiple_choice.choice_pairs(item):
            ctx, cont = multiple_choice.encode_pair(tokenizer, context, continuation)
            requests.append(multiple_choice.ChoiceRequest(len(requests), 0, ctx, cont))
    scores = multiple_choice.score_requests(
        model, tokenizer, requests, batch_size, "mc", engine=engine
    )
    return [scores[(i, 0)] for i in range(len(requests))]


def predictions(items: list[Item], logprobs: list[float]) -> list[int]:
    out, cursor = [], 0
    for item in items:
        count = len(multiple_choice.choice_pairs(item))
        scores = logprobs[cursor : cursor + count]
        out.append(max(range(count), key=scores.__getitem__))
        cursor += count
    return out


def generation_prompts(tokenizer, benchmark: str, items: list[Item], cfg):
    """Prompts, budget and stop strings as the hf backend sends them."""
    if benchmark == "gsm8k":
        budget = cfg.max_new_tokens.get("gsm8k", 256)
        return [chat_prompt(tokenizer, item.prompt) for item in items], budget, GSM8K_STOP
    budget = cfg.max_new_tokens.get(benchmark, 384)
    requests = code.generation_requests(
        items,
        benchmark,
        prompt_format=cfg.code_prompt,
        sampling=cfg.code_sampling,
        max_new_tokens=budget,
    )
    prompts = [chat_prompt(tokenizer, r.prompt) if r.chat else r.prompt for r in requests]
    return prompts, budget, list(requests[0].stop)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--engines", default="transformers,runner")
    parser.add_argument("--benchmarks", default=None, help="default: params.yaml data.benchmarks")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    import torch
    import transformers

    from promgate.models import hf

    params = load_params(ROOT / "params.yaml")
    cfg = params.eval
    if cfg.code_sampling.n != 1:
        sys.exit("this benchmark times greedy code answers (eval.code_sampling.n = 1)")
    benchmarks = args.benchmarks.split(",") if args.benchmarks else params.data.benchmarks
    missing = [b for b in benchmarks if not (ROOT / "data/prepared" / f"{b}.jsonl").exists()]
    if missing:
        print(f"not prepared, left out: {missing} (run the prepare stage)", file=sys.stderr)
        benchmarks = [b for b in benchmarks if b not in missing]
    engines = args.engines.split(",")
    started = time.perf_counter()
    loaded = hf.load(ROOT / "models/base", model_id="baseline", threads=args.threads)
    load_s = time.perf_counter() - started
    model, tokenizer = loaded.model, loaded.tokenizer
    items = {b: read_items(ROOT / "data/prepared" / f"{b}.jsonl") for b in benchmarks}

    def run(variant: tuple[str, str]):
        benchmark, engine = variant
        if {item.kind for item in items[benchmark]} == {"multiple_choice"}:
            return mc_scores(model, tokenizer, items[benchmark], cfg.batch_size, engine)
        prompts, budget, stop = generation_prompts(tokenizer, benchmark, items[benchmark], cfg)
        return generate_greedy(
            model,
            tokenizer,
            prompts,
            max_new_tokens=budget,
            batch_size=cfg.batch_size,
            stop=stop,
            description=f"{benchmark} ({engine})",
            engine=engine,
        )

    with torch.inference_mode():
        runs, outputs = interleaved(args.rounds, [(b, e) for b in benchmarks for e in engines], run)
    seconds = {b: {e: runs[(b, e)] for e in engines} for b in benchmarks}
    answers = {b: {e: outputs[(b, e)] for e in engines} for b in benchmarks}

    report_benchmarks = {}
    reference = engines[0]
    for benchmark in benchmarks:
        entry: dict = {"n": len(items[benchmark])}
        for engine in engines:
            entry[engine + "_s"] = median_s(seconds[benchmark][engine])
            entry[engine + "_runs_s"] = [round(s, 2) for s in seconds[benchmark][engine]]
        for engine in engines[1:]:
            entry[f"speedup_{engine}_vs_{reference}"] = round(
                entry[reference + "_s"] / entry[engine + "_s"], 2
            )
            ref, other = answers[benchmark][reference], answers[benchmark][engine]
            if {item.kind for item in items[benchmark]} == {"multiple_choice"}:
                same = predictions(items[benchmark], ref) == predictions(items[benchmark], other)
                entry[f"{engine}_same_answers"] = same
                entry[f"{engine}_max_abs_loglik_diff"] = max(
                    abs(a - b) for a, b in zip(ref, other, strict=True)
                )
            else:
                entry[f"{engine}_identical_answers"] = sum(
                    a == b for a, b in zip(ref, other, strict=True)
                )
                entry["answer_tokens"] = sum(
                    len(tokenizer(text, add_special_tokens=False).input_ids) for text in other
                )
        report_benchmarks[benchmark] = entry

    sandbox = {}
    for benchmark in benchmarks:
        if {item.kind for item in items[benchmark]} == {"code"}:
            began = time.perf_counter()
            code.score_answers(
                items[benchmark],
                answers[benchmark][engines[-1]],
                cfg.code_prompt,
                code.limits_for(cfg.code_timeout_s),
                model_id="baseline",
            )
            sandbox[benchmark] = round(time.perf_counter() - began, 2)

    totals = {e: round(sum(b[e + "_s"] for b in report_benchmarks.values()), 2) for e in engines}
    report = {
        "benchmark": "eval_speed",
        "profile": params.profile,
        "machine": {
            "cpus": os.cpu_count(),
            "threads": args.threads,
            "processor": platform.processor() or platform.machine(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "load_avg_1min_at_end": os.getloadavg()[0],
        },
        "rounds": args.rounds,
        "left_out": missing,
        "model_load_s": round(load_s, 2),
        "benchmarks": report_benchmarks,
        "sandbox_s": sandbox,
        "scoring_total_s": totals,
        "speedup_total": {e: round(totals[reference] / totals[e], 2) for e in engines[1:]},
    }
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
