"""Functional correctness of generated code (HumanEval, MBPP) in the sandbox; unbiased pass@k.

Every sample runs as its own sandboxed program: the benchmark's program part (HumanEval: the
prompt plus the completion; MBPP: the completion, which is a whole program), then the
benchmark's tests in the same namespace, exactly as upstream composes them. A sample passes
only when the tests ran to their end (see ``promgate.sandbox``). An item with ``n`` samples of
which ``c`` passed scores the unbiased pass@k of Chen et al. (2021): ``score`` is pass@1 and
``pass_at`` holds every k in (1, 10) that n allows. How an item is asked (completion or chat
prompt) and how an answer becomes a completion is ``promgate.scoring.code_prompt``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from promgate.config import CodeSamplingConfig
from promgate.data.schema import Item
from promgate.models.backend import GenerationRequest
from promgate.results import ItemResult, pass_at_k  # pass_at_k lives beside pass_at
from promgate.sandbox import FAILURE_KINDS, Limits, RunResult, run_many, select_backend
from promgate.sandbox.runner import run_protections, uses_zygote
from promgate.scoring.code_prompt import (
    CHAT_STOP,
    PromptFormat,
    chat_message,
    completion_from_answer,
    family,
)

HUMANEVAL_STOP = ["\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert "]
MBPP_STOP = ["[DONE]", "\nassert ", "\nif __name__", "\n```"]
PASS_AT = (1, 10)


def stop_sequences(benchmark: str) -> list[str]:
    return HUMANEVAL_STOP if family(benchmark) == "humaneval" else MBPP_STOP


def program_and_tests(item: Item, completion: str) -> tuple[str, str]:
    """The untrusted program and the trusted tests for one sample, as upstream runs them."""
    if item.tests is None or item.entry_point is None:
        raise ValueError(f"{item.id} is not a code item")
    if family(item.benchmark) == "humaneval":
        return item.prompt + completion, f"{item.tests}\n\ncheck({item.entry_point})\n"
    return completion, item.tests


def sample_seed(seed: int, item_id: str, index: int) -> int:
    """The seed of one sample: fixed by the config's seed, the item and the sample's index
    alone, so it does not move when items are added, removed or batched differently."""
    digest = hashlib.sha256(f"{seed}\0{item_id}\0{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # below 2**63: every torch generator takes it


def generation_requests(
    items: Sequence[Item],
    benchmark: str,
    *,
    prompt_format: PromptFormat,
    sampling: CodeSamplingConfig,
    max_new_tokens: int,
) -> list[GenerationRequest]:
    """``sampling.n`` requests per item, item by item: one greedy answer, or n seeded samples.

    A chat answer is cut where its code block closes (``CHAT_STOP``), a completion by the
    benchmark's stop strings.
    """
    chat = prompt_format == "chat"
    stop = CHAT_STOP if chat else tuple(stop_sequences(benchmark))
    requests = []
    for item in items:
        prompt = chat_message(item) if chat else item.prompt
        if sampling.n == 1:
            requests.append(GenerationRequest(prompt, max_new_tokens, stop, chat, item.id))
            continue
        for index in range(sampling.n):
            requests.append(
                GenerationRequest(
                    prompt,
                    max_new_tokens,
                    stop,
                    chat,
                    item.id,
                    temperature=sampling.temperature,
                    top_p=sampling.top_p,
                    seed=sample_seed(sampling.seed, item.id, index),
                )
            )
    return requests


@dataclass(frozen=True)
class CodeScore:
    """All samples of one item: their verdicts, and the pass@k they give."""

    item_id: str
    runs: tuple[RunResult, ...]

    @property
    def n(self) -> int:
        return len(self.runs)

    @property
    def c(self) -> int:
        return sum(run.passed for run in self.runs)

    def pass_at(self, k: int) -> float | None:
        return pass_at_k(self.n, self.c, k) if self.n >= k else None

    @property
    def failure(self) -> str | None:
        """The most frequent failure kind among the samples (None when all passed)."""
        kinds = Counter(run.verdict for run in self.runs if not run.passed)
        if not kinds:
            return None
        return max(FAILURE_KINDS, key=lambda kind: (kinds[kind], -FAILURE_KINDS.index(kind)))


def score_completions(
    items: Sequence[Item],
    completions: Mapping[str, Sequence[str]],
    limits: Limits,
    *,
    workers: int | None = None,
) -> list[CodeScore]:
    """Run every completion of every item (all in one pool) and group the verdicts by item."""
    jobs, owners = [], []
    for item in items:
        samples = completions[item.id]
        if not samples:
            raise ValueError(f"no completions for {item.id}")
        for completion in samples:
            jobs.append(program_and_tests(item, completion))
            owners.append(item.id)
    runs = run_many(jobs, limits, workers=workers)
    grouped: dict[str, list[RunResult]] = {item.id: [] for item in items}
    for owner, run in zip(owners, runs, strict=True):
        grouped[owner].append(run)
    return [CodeScore(item.id, tuple(grouped[item.id])) for item in items]


def item_result(
    item: Item,
    score: CodeScore,
    completions: Sequence[str],
    model_id: str,
    answers: Sequence[str] | None = None,
) -> ItemResult:
    """The ItemResult of one item: score = unbiased pass@1; ``correct`` only when n = 1.

    ``prediction`` is the model's first raw answer (``answers``), else the first completion.
    """
    pass_at = {f"pass@{k}": value for k in PASS_AT if (value := score.pass_at(k)) is not None}
    return ItemResult(
        id=item.id,
        benchmark=item.benchmark,
        model_id=model_id,
        stratum=item.metadata.stratum,
        cluster=item.metadata.cluster,
        target=item.target,
        correct=score.c == 1 if score.n == 1 else None,
        score=score.pass_at(1),
        n_samples=score.n,
        n_correct=score.c,
        pass_at=pass_at,
        prediction=(answers or completions)[0],
        error=score.failure,
    )


def score_items(
    items: Sequence[Item],
    completions: Mapping[str, Sequence[str]],
    limits: Limits,
    *,
    model_id: str,
    workers: int | None = None,
    answers: Mapping[str, Sequence[str]] | None = None,
) -> list[ItemResult]:
    scores = score_completions(items, completions, limits, workers=workers)
    return [
        item_result(
            item, score, completions[item.id], model_id, answers[item.id] if answers else None
        )
        for item, score in zip(items, scores, strict=True)
    ]


def score_answers(
    items: Sequence[Item],
    answers: Sequence[str],
    prompt_format: PromptFormat,
    limits: Limits,
    *,
    model_id: str,
    workers: int | None = None,
) -> list[ItemResult]:
    """Score the answers to :func:`generation_requests` (n per item, in item order)."""
    if not items or len(answers) % len(items):
        raise ValueError(f"{len(answers)} answers do not split evenly over {len(items)} items")
    n = len(answers) // len(items)
    grouped = {item.id: answers[i * n : (i + 1) * n] for i, item in enumerate(items)}
    completions = {
        item.id: [
            completion_from_answer(item, answer, prompt_format) for answer in grouped[item.id]
        ]
        for item in items
    }
    return score_items(
        items, completions, limits, model_id=model_id, workers=workers, answers=grouped
    )


def pass_at_k_summary(results: Sequence[ItemResult], ks: Sequence[int] = PASS_AT) -> dict:
    """Mean unbiased pass@k over items; None for a k larger than some item's sample count."""
    summary: dict[str, float | None] = {}
    for k in ks:
        values = []
        for result in results:
            if result.n_correct is None or result.n_samples < k:
                values = None
                break
            values.append(pass_at_k(result.n_samples, result.n_correct, k))
        summary[f"pass@{k}"] = sum(values) / len(values) if values else None
    return summary


def code_summary(results: Sequence[ItemResult]) -> dict:
    """pass@1 and pass@10 of a benchmark, the sample counts, and what could not be estimated.

    A pass@k that some item's n cannot support is None, and ``not_evaluable`` says why: the
    gate reading it is BLOCKED (MISSING_EVIDENCE), never passed.
    """
    counts = sorted({r.n_samples for r in results})
    summary: dict = {**pass_at_k_summary(results), "n_samples": counts}
    missing = {
        f"pass@{k}": f"needs n_samples >= {k} on every item; this run drew {counts[0]}"
        for k in PASS_AT
        if counts and summary[f"pass@{k}"] is None
    }
    if missing:
        summary["not_evaluable"] = missing
    return summary


def sandbox_metadata() -> dict:
    """What the sandbox enforces on this host and what it could not: for run metadata."""
    backend = select_backend()
    protections = run_protections(backend, guard=True, zygote=uses_zygote(backend))
    return {"backend": backend.name, "zygote": uses_zygote(backend), "protections": protections}


def limits_for(timeout_s: float) -> Limits:
    """Limits for a benchmark run from the eval config's per-program timeout."""
    cpu = max(1, int(timeout_s))
    return Limits(wall_timeout_s=timeout_s + 5.0, cpu_time_s=cpu)
