"""Functional correctness of generated code (HumanEval, MBPP) in the sandbox; unbiased pass@k.

Every sample runs as its own sandboxed program: the benchmark's program part (HumanEval: the
prompt plus the completion; MBPP: the completion, which is a whole program), then the
benchmark's tests in the same namespace, exactly as upstream composes them. A sample passes
only when the tests ran to their end (see ``promgate.sandbox``). An item with ``n`` samples of
which ``c`` passed scores the unbiased pass@k of Chen et al. (2021).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import comb

from promgate.data.schema import Item
from promgate.results import ItemResult
from promgate.sandbox import FAILURE_KINDS, Limits, RunResult, run_many, select_backend

HUMANEVAL_STOP = ["\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert "]
MBPP_STOP = ["[DONE]", "\nassert ", "\nif __name__", "\n```"]
PASS_AT = (1, 10)


def stop_sequences(benchmark: str) -> list[str]:
    return HUMANEVAL_STOP if _family(benchmark) == "humaneval" else MBPP_STOP


def _family(benchmark: str) -> str:
    for family in ("humaneval", "mbpp"):
        if benchmark == family or benchmark.startswith(family + "_"):
            return family
    raise ValueError(f"no code-execution format for benchmark {benchmark!r}")


def program_and_tests(item: Item, completion: str) -> tuple[str, str]:
    """The untrusted program and the trusted tests for one sample, as upstream runs them."""
    if item.tests is None or item.entry_point is None:
        raise ValueError(f"{item.id} is not a code item")
    if _family(item.benchmark) == "humaneval":
        return item.prompt + completion, f"{item.tests}\n\ncheck({item.entry_point})\n"
    return completion, item.tests


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c passed (Chen et al., 2021)."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if n < k:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


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
    item: Item, score: CodeScore, completions: Sequence[str], model_id: str
) -> ItemResult:
    """The ItemResult of one item: score = unbiased pass@1; ``correct`` only when n = 1."""
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
        prediction=completions[0],
        error=score.failure,
    )


def score_items(
    items: Sequence[Item],
    completions: Mapping[str, Sequence[str]],
    limits: Limits,
    *,
    model_id: str,
    workers: int | None = None,
) -> list[ItemResult]:
    scores = score_completions(items, completions, limits, workers=workers)
    return [
        item_result(item, score, completions[item.id], model_id)
        for item, score in zip(items, scores, strict=True)
    ]


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


def sandbox_metadata() -> dict:
    """What the sandbox enforces on this host and what it could not: for run metadata."""
    backend = select_backend()
    protections = dict(backend.protections)
    protections["audit_guard"] = protections["pass_report_authenticated"] = "enforced"
    return {"backend": backend.name, "protections": protections}


def limits_for(timeout_s: float) -> Limits:
    """Limits for a benchmark run from the eval config's per-program timeout."""
    cpu = max(1, int(timeout_s))
    return Limits(wall_timeout_s=timeout_s + 5.0, cpu_time_s=cpu)
