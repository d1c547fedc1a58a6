"""Evaluate one model on the prepared benchmarks and write per-item results.

The model is reached only through the ``Backend`` interface (``promgate.models.backend``):
this module turns items into requests and answers into ItemResults, the same way for every
backend.
"""

from __future__ import annotations

from pathlib import Path

from promgate.config import EvalConfig
from promgate.data.schema import Item
from promgate.errors import ConfigError
from promgate.io import write_json
from promgate.models.backend import Backend, GenerationRequest, LoglikelihoodRequest
from promgate.results import ItemResult, write_results
from promgate.scoring import code, multiple_choice
from promgate.scoring.extraction import extract_gsm8k

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


def choice_scores(
    backend: Backend, items: list[Item], benchmark: str
) -> list[multiple_choice.ChoiceScores]:
    """Each item's choice log-likelihoods, asked of the backend in one call."""
    pairs = [multiple_choice.choice_pairs(item) for item in items]
    requests = [
        LoglikelihoodRequest(context, continuation, item.id, c)
        for item, item_pairs in zip(items, pairs, strict=True)
        for c, (context, continuation) in enumerate(item_pairs)
    ]
    values = iter(backend.loglikelihood(requests, description=benchmark))
    return [
        multiple_choice.ChoiceScores(
            logprobs=[next(values) for _ in item_pairs],
            continuation_chars=[multiple_choice.choice_length(cont) for _, cont in item_pairs],
        )
        for item_pairs in pairs
    ]


def score_multiple_choice(
    backend: Backend, items: list[Item], cfg: EvalConfig, benchmark: str, model_id: str
) -> list[ItemResult]:
    scored = choice_scores(backend, items, benchmark)
    results = []
    for item, choice in zip(items, scored, strict=True):
        assert item.choices is not None
        prediction = choice.prediction
        results.append(
            ItemResult(
                **_base(item, model_id),
                correct=prediction == item.answer_index,
                prediction=item.choices[prediction].strip(),
                choice_logprobs=choice.logprobs,
                confidence=choice.confidence,
            )
        )
    return results


def score_gsm8k(
    backend: Backend, items: list[Item], cfg: EvalConfig, model_id: str
) -> list[ItemResult]:
    budget = cfg.max_new_tokens.get("gsm8k", 256)
    requests = [
        GenerationRequest(item.prompt, budget, tuple(GSM8K_STOP), chat=True, item_id=item.id)
        for item in items
    ]
    outputs = backend.generate(requests, description="gsm8k")
    results = []
    for item, output in zip(items, outputs, strict=True):
        answer = extract_gsm8k(output)
        results.append(
            ItemResult(
                **_base(item, model_id),
                correct=answer is not None and answer == extract_gsm8k(item.target),
                prediction=output,
                error=None if answer is not None else "no_answer_extracted",
            )
        )
    return results


def score_code(
    backend: Backend, items: list[Item], cfg: EvalConfig, benchmark: str, model_id: str
) -> list[ItemResult]:
    """HumanEval/MBPP: ``eval.code_sampling.n`` answers per item (one greedy answer, or n
    seeded samples), each run in the sandbox; unbiased pass@1 and pass@10 from them."""
    sampling = cfg.code_sampling
    if sampling.n > 1 and backend.identity.backend == "predictions":
        raise ConfigError(
            "the predictions backend holds one answer per item; pass@k from n samples needs a "
            "model (or results that carry n_samples and n_correct)",
            field="eval.code_sampling.n",
        )
    requests = code.generation_requests(
        items,
        benchmark,
        prompt_format=cfg.code_prompt,
        sampling=sampling,
        max_new_tokens=cfg.max_new_tokens.get(benchmark, 384),
    )
    answers = backend.generate(requests, description=benchmark)
    limits = code.limits_for(cfg.code_timeout_s)
    return code.score_answers(items, answers, cfg.code_prompt, limits, model_id=model_id)


def score_benchmark(
    backend: Backend, benchmark: str, items: list[Item], cfg: EvalConfig, model_id: str
) -> list[ItemResult]:
    kinds = {item.kind for item in items}
    if kinds == {"multiple_choice"}:
        return score_multiple_choice(backend, items, cfg, benchmark, model_id)
    if kinds == {"generate"} and benchmark == "gsm8k":
        return score_gsm8k(backend, items, cfg, model_id)
    if kinds == {"code"}:
        return score_code(backend, items, cfg, benchmark, model_id)
    raise ValueError(f"no scorer for benchmark '{benchmark}' with item kinds {sorted(kinds)}")


def summarize(results: list[ItemResult]) -> dict:
    n = len(results)
    summary = {"n": n, "accuracy": sum(r.value for r in results) / n if n else None}
    if results and all(r.n_correct is not None for r in results):  # executed code
        summary.update(code.code_summary(results))
        summary["sandbox"] = code.sandbox_metadata()
    return summary


def evaluate_model(
    backend: Backend,
    items_by_benchmark: dict[str, list[Item]],
    cfg: EvalConfig,
    results_dir: Path,
    metrics_path: Path,
    *,
    model_id: str,
) -> dict:
    metrics: dict[str, dict] = {}
    for benchmark, items in items_by_benchmark.items():
        results = score_benchmark(backend, benchmark, items, cfg, model_id)
        write_results(results_dir / f"{benchmark}.jsonl", results)
        metrics[benchmark] = summarize(results)
    accuracies = [m["accuracy"] for m in metrics.values() if m["accuracy"] is not None]
    summary = {
        "model_id": model_id,
        "backend": backend.identity.backend,
        "model_sha256": backend.identity.model_hash,
        "benchmarks": metrics,
        "macro_accuracy": sum(accuracies) / len(accuracies) if accuracies else None,
    }
    write_json(metrics_path, summary)
    return summary
