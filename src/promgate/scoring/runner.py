"""Evaluate one model on the prepared benchmarks and write per-item results."""

from __future__ import annotations

from pathlib import Path

from promgate.config import EvalConfig
from promgate.data.schema import Item
from promgate.io import write_json
from promgate.models.hf import LoadedModel
from promgate.results import ItemResult, write_results
from promgate.scoring import code, multiple_choice
from promgate.scoring.extraction import extract_gsm8k
from promgate.scoring.generate import chat_prompt, generate_greedy

GSM8K_STOP = ["Question:", "<|im_end|>"]


def _base(item: Item, model_id: str) -> dict:
    return {
        "id": item.id,
        "benchmark": item.benchmark,
        "model_id": model_id,
        "stratum": item.metadata.stratum,
        "cluster": item.metadata.cluster,
        "target": item.target,
    }


def score_multiple_choice(
    loaded: LoadedModel, items: list[Item], cfg: EvalConfig, benchmark: str
) -> list[ItemResult]:
    scored = multiple_choice.score_items(
        loaded.model, loaded.tokenizer, items, cfg.batch_size, description=benchmark
    )
    results = []
    for item, choice in zip(items, scored, strict=True):
        assert item.choices is not None
        prediction = choice.prediction
        results.append(
            ItemResult(
                **_base(item, loaded.model_id),
                correct=prediction == item.answer_index,
                prediction=item.choices[prediction].strip(),
                choice_logprobs=choice.logprobs,
                confidence=choice.confidence,
            )
        )
    return results


def score_gsm8k(loaded: LoadedModel, items: list[Item], cfg: EvalConfig) -> list[ItemResult]:
    prompts = [chat_prompt(loaded.tokenizer, item.prompt) for item in items]
    outputs = generate_greedy(
        loaded.model,
        loaded.tokenizer,
        prompts,
        max_new_tokens=cfg.max_new_tokens.get("gsm8k", 256),
        batch_size=cfg.batch_size,
        stop=GSM8K_STOP,
        description="gsm8k",
    )
    results = []
    for item, output in zip(items, outputs, strict=True):
        answer = extract_gsm8k(output)
        results.append(
            ItemResult(
                **_base(item, loaded.model_id),
                correct=answer is not None and answer == extract_gsm8k(item.target),
                prediction=output,
                error=None if answer is not None else "no_answer_extracted",
            )
        )
    return results


def score_code(
    loaded: LoadedModel, items: list[Item], cfg: EvalConfig, benchmark: str
) -> list[ItemResult]:
    """HumanEval/MBPP: one greedy completion per item, run in the sandbox (pass@1 = correct)."""
    outputs = generate_greedy(
        loaded.model,
        loaded.tokenizer,
        [item.prompt for item in items],
        max_new_tokens=cfg.max_new_tokens.get(benchmark, 384),
        batch_size=cfg.batch_size,
        stop=code.stop_sequences(benchmark),
        description=benchmark,
    )
    completions = {item.id: [output] for item, output in zip(items, outputs, strict=True)}
    limits = code.limits_for(cfg.code_timeout_s)
    return code.score_items(items, completions, limits, model_id=loaded.model_id)


def score_benchmark(
    loaded: LoadedModel, benchmark: str, items: list[Item], cfg: EvalConfig
) -> list[ItemResult]:
    kinds = {item.kind for item in items}
    if kinds == {"multiple_choice"}:
        return score_multiple_choice(loaded, items, cfg, benchmark)
    if kinds == {"generate"} and benchmark == "gsm8k":
        return score_gsm8k(loaded, items, cfg)
    if kinds == {"code"}:
        return score_code(loaded, items, cfg, benchmark)
    raise ValueError(f"no scorer for benchmark '{benchmark}' with item kinds {sorted(kinds)}")


def summarize(results: list[ItemResult]) -> dict:
    n = len(results)
    summary = {"n": n, "accuracy": sum(r.value for r in results) / n if n else None}
    if results and all(r.n_correct is not None for r in results):  # executed code
        summary.update(code.pass_at_k_summary(results))
        summary["sandbox"] = code.sandbox_metadata()
    return summary


def evaluate_model(
    loaded: LoadedModel,
    items_by_benchmark: dict[str, list[Item]],
    cfg: EvalConfig,
    results_dir: Path,
    metrics_path: Path,
) -> dict:
    metrics: dict[str, dict] = {}
    for benchmark, items in items_by_benchmark.items():
        results = score_benchmark(loaded, benchmark, items, cfg)
        write_results(results_dir / f"{benchmark}.jsonl", results)
        metrics[benchmark] = summarize(results)
    accuracies = [m["accuracy"] for m in metrics.values() if m["accuracy"] is not None]
    summary = {
        "model_id": loaded.model_id,
        "benchmarks": metrics,
        "macro_accuracy": sum(accuracies) / len(accuracies) if accuracies else None,
    }
    write_json(metrics_path, summary)
    return summary
