"""The typed promotion report: what reports/gate.json holds and every renderer reads.

Units: accuracies and ``delta``/``ci_*`` are proportions (0.03); every ``*_pp`` field is
percentage points (3.0). Nothing in it depends on time or on the order of items in a file,
so the same evidence and policy give the same bytes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from promgate.gates.outcome import Decision, GateOutcome
from promgate.stats.bootstrap import CI_TYPE
from promgate.stats.mcnemar import EXACT_BELOW

# How many fixed and broken item ids a benchmark lists (the counts are always complete).
FLIP_IDS_SHOWN = 50


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemFlips(_Model):
    """Items the candidate fixed (baseline wrong -> right) and broke (right -> wrong)."""

    fixed: int
    broken: int
    fixed_ids: list[str] = Field(description=f"the first {FLIP_IDS_SHOWN} in id order")
    broken_ids: list[str]
    ids_truncated: bool


class StratumRow(_Model):
    """One stratum of a benchmark: where a Δ comes from (drift of the error profile)."""

    stratum: str
    n: int
    baseline_acc: float
    candidate_acc: float
    delta_pp: float
    fixed: int | None
    broken: int | None


class CalibrationBin(_Model):
    lo: float
    hi: float
    n: int
    mean_confidence: float | None
    accuracy: float | None


class CalibrationStats(_Model):
    """``confidence`` against correctness of one model on one benchmark."""

    n: int
    ece: float
    brier: float
    roc_auc: float | None
    bins: list[CalibrationBin]


class CalibrationPair(_Model):
    baseline: CalibrationStats | None
    candidate: CalibrationStats | None


class CleanSubset(_Model):
    """The same Δ on the items not flagged as contaminated (the contamination stage's flags)."""

    n: int
    n_excluded: int
    delta_pp: float | None
    ci_low_pp: float | None
    ci_high_pp: float | None


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
    ci_type: str = CI_TYPE
    n_clusters: int | None = None
    # The paired test: McNemar for 0/1 outcomes, a paired t-test for fractional scores.
    test: Literal["mcnemar", "paired_t"] = "mcnemar"
    mcnemar_b: int | None = None
    mcnemar_c: int | None = None
    mcnemar_statistic: float | None = None
    mcnemar_method: str | None = None
    p_value: float | None = None
    # Adjusted across the policy's benchmark family; None outside it.
    p_adjusted: float | None = None
    # Power at the level the test is actually held to (alpha / m under Holm or BH).
    alpha_tested: float | None = None
    discordance: float | None = Field(default=None, description="(b + c) / n, observed")
    mde_pp: float | None = Field(
        default=None, description="minimum detectable effect; None: no Δ is detectable"
    )
    threshold_pp: float | None = None
    power_at_threshold: float | None = None
    underpowered: bool | None = None
    flips: ItemFlips | None = None
    strata: list[StratumRow] = Field(default_factory=list)
    calibration: CalibrationPair | None = None
    sources: dict[str, str] = Field(default_factory=dict, description="side -> results file")
    clean: CleanSubset | None = None


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
    ci_type: str = CI_TYPE


class CandidateReport(_Model):
    decision: Decision
    recipe: str = Field(default="", description="the candidate id without its seed suffix")
    seed: int | None = None
    benchmarks: dict[str, BenchmarkStats]
    average: AverageStats | None
    outcomes: list[GateOutcome]


class SeedVerdict(_Model):
    candidate: str
    seed: int | None
    decision: Decision
    passed: bool
    delta_pp: float | None = Field(description="the seed's macro-average Δ")
    ci_half_width_pp: float | None


class SeedReport(_Model):
    """One recipe across its seeds: verdicts, pass rate, worst seed, and both spreads."""

    recipe: str
    rule: str
    seeds: list[SeedVerdict]
    missing_seeds: list[int] = Field(default_factory=list)
    n_seeds: int
    n_passed: int
    pass_rate: float
    worst_seed: str | None = None
    worst_delta_pp: float | None = None
    mean_delta_pp: float | None = None
    sd_across_seeds_pp: float | None = Field(default=None, description="sample SD, ddof=1")
    mean_item_ci_half_width_pp: float | None = Field(
        default=None, description="spread across items, beside the spread across seeds"
    )
    certified: bool | None = None


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
    clusters: bool = True
    alpha: float = 0.05
    multiplicity: str = "holm"
    power: float = 0.8
    underpowered: str = "block"
    bootstrap: str = (
        "paired, stratified (stratum sizes fixed); 0/1 outcomes: multinomial draw over the "
        "four (baseline, candidate) cells per stratum; scores: index resampling per stratum; "
        "whole clusters resampled within their stratum when the results name clusters"
    )
    macro: str = "each benchmark resampled within itself; replicate mean of per-benchmark Δs"
    mcnemar: str = (
        f"exact binomial when b + c < {EXACT_BELOW}, else chi-square with continuity correction; "
        "items taken as independent even when clustered"
    )
    family: str = (
        "the policy's benchmarks form one family per candidate; a benchmark without a usable "
        "test counts as p = 1, so missing evidence never loosens the adjustment"
    )
    power_method: str = (
        "MDE and power at the threshold: McNemar by Connor's normal approximation with "
        "continuity correction at the observed discordance (floored at 3/n), scores by a "
        "paired z-test at the observed SD of the differences; level alpha / m under Holm or BH"
    )


class GateReport(_Model):
    schema_version: int = 2
    decision: Decision
    policy: PolicyInfo
    baseline: str
    benchmarks: list[str]
    other_benchmarks: dict[str, list[str]] = Field(
        default_factory=dict, description="gate -> benchmarks it reads besides the main ones"
    )
    candidates: dict[str, CandidateReport]
    seeds: dict[str, SeedReport] = Field(default_factory=dict, description="recipe -> seeds")
    suite_outcomes: list[GateOutcome] = Field(default_factory=list)
    outcomes: list[GateOutcome] = Field(
        description="every outcome: each candidate's in order, then the suite's"
    )
    method: MethodInfo
    inputs: dict[str, str] = Field(
        description="results file -> sha256 of its records in id order (canonical JSON); of "
        "the bytes when it cannot be parsed"
    )
    artifacts: dict[str, str] = Field(default_factory=dict, description="JSON evidence -> sha256")
    generated_by: dict[str, str]
