"""The typed promotion report: what reports/gate.json holds and every renderer reads.

Units: accuracies and ``delta``/``ci_*`` are proportions (0.03); every ``*_pp`` field is
percentage points (3.0).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from promgate.gates.outcome import Decision, GateOutcome
from promgate.stats.bootstrap import CI_TYPE
from promgate.stats.mcnemar import EXACT_BELOW


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BenchmarkStats(_Model):
    """One candidate against the baseline on one benchmark."""

    benchmark: str
    n: int = Field(description="paired items")
    n_baseline: int
    n_candidate: int
    binary: bool
    baseline_acc: float
    candidate_acc: float
    delta: float
    ci_low: float
    ci_high: float
    delta_pp: float
    ci_low_pp: float
    ci_high_pp: float
    confidence: float
    bootstrap_method: str
    # McNemar applies to 0/1 outcomes only; None for fractional scores.
    mcnemar_b: int | None = None
    mcnemar_c: int | None = None
    mcnemar_statistic: float | None = None
    p_value: float | None = None
    mcnemar_method: str | None = None


class AverageStats(_Model):
    """Macro average of the per-benchmark Δs, with a jointly bootstrapped CI."""

    benchmarks: list[str]
    delta: float
    ci_low: float
    ci_high: float
    delta_pp: float
    ci_low_pp: float
    ci_high_pp: float
    confidence: float
    resamples: int
    seed: int
    method: str


class CandidateReport(_Model):
    decision: Decision
    benchmarks: dict[str, BenchmarkStats]
    average: AverageStats | None
    outcomes: list[GateOutcome]


class PolicyInfo(_Model):
    name: str
    version: str
    sha256: str
    source: str
    seed_rule: str


class MethodInfo(_Model):
    resamples: int
    seed: int
    confidence: float
    ci: str = CI_TYPE
    bootstrap: str = (
        "paired, stratified (stratum sizes fixed); 0/1 outcomes: multinomial draw over the "
        "four (baseline, candidate) cells per stratum; scores: index resampling per stratum"
    )
    macro: str = "each benchmark resampled within itself; replicate mean of per-benchmark Δs"
    mcnemar: str = (
        f"exact binomial when b + c < {EXACT_BELOW}, else chi-square with continuity correction"
    )


class GateReport(_Model):
    schema_version: int = 1
    decision: Decision
    policy: PolicyInfo
    baseline: str
    benchmarks: list[str]
    candidates: dict[str, CandidateReport]
    outcomes: list[GateOutcome]
    method: MethodInfo
    inputs: dict[str, str] = Field(description="results file path -> sha256")
    generated_by: dict[str, str]
