"""The gate sections of a policy: one validated model per kind of gate.

Thresholds are in percentage points (pp) unless a field says otherwise. Every gate has
``required`` (a required gate decides; an optional one is reported only) and ``clause``, the
sentence of the source document it encodes, quoted into every outcome it produces.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from promgate.gates.outcome import Reason


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GateBase(_Strict):
    required: bool = True
    clause: str = ""


class AverageDeltaGate(GateBase):
    """Macro-average Δ over the suite must reach a threshold, optionally with a CI clear of it."""

    min_delta_pp: float = 3.0
    # None: no condition on the CI (the point estimate decides alone).
    ci_lower_gt_pp: float | None = 0.0


class PerBenchmarkGate(GateBase):
    """Each benchmark improves significantly, or at least does not regress past a floor.

    IMPROVED needs Δ ≥ its target (``targets``, else ``min_improvement_pp``) and a
    multiplicity-adjusted p below the policy's alpha; REGRESSION is Δ below
    ``max_regression_pp`` (and, with ``regression_needs_significance``, a significant drop).
    """

    min_improvement_pp: float = 2.0
    max_regression_pp: float = -1.0
    targets: dict[str, float] = Field(default_factory=dict)
    regression_needs_significance: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> PerBenchmarkGate:
        for name, target in {"min_improvement_pp": self.min_improvement_pp, **self.targets}.items():
            if self.max_regression_pp > target:
                raise ValueError(f"max_regression_pp must not exceed the target of '{name}'")
        return self

    def target_for(self, benchmark: str) -> float:
        return self.targets.get(benchmark, self.min_improvement_pp)


class ContaminationSuiteGate(GateBase):
    """The contamination-resistant benchmarks: suite-average gain and no deterioration."""

    benchmarks: list[str] = Field(min_length=1)
    min_delta_pp: float = 1.0
    # Per-benchmark floor ("no deterioration"); ``targets`` overrides it per benchmark.
    max_regression_pp: float = 0.0
    targets: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_targets(self) -> ContaminationSuiteGate:
        unknown = sorted(set(self.targets) - set(self.benchmarks))
        if unknown:
            raise ValueError(f"targets name benchmarks outside the suite: {unknown}")
        if len(set(self.benchmarks)) != len(self.benchmarks):
            raise ValueError("benchmarks listed more than once")
        return self

    def floor_for(self, benchmark: str) -> float:
        return self.targets.get(benchmark, self.max_regression_pp)


class SwebenchGate(GateBase):
    """Resolved-issue count: net additional resolved tickets, and none newly broken."""

    benchmark: str = "swebench_lite"
    min_additional_resolved: int = 5
    # None: previously resolved tickets may break as long as the net gain holds.
    max_newly_failing: int | None = Field(default=0, ge=0)


class ClaimGate(GateBase):
    """A claim of improvement needs significant improvement on several benchmarks."""

    min_significant_benchmarks: int = Field(default=2, ge=1)


class ResultsSchemaGate(GateBase):
    """Every per-item results file the gate reads validates against the ItemResult schema."""


class AbsoluteTargetGate(GateBase):
    """The candidate's own pass@k on one benchmark, in percent, must reach ``min_pct``."""

    benchmark: str
    k: int = Field(default=1, ge=1)
    min_pct: float = Field(ge=0.0, le=100.0)


_COMPARATORS = ("lt", "le", "gt", "ge", "eq")


class FieldCheck(_Strict):
    """One condition on a field of a JSON evidence file (dotted path, e.g. ``summary.max``).

    Exactly one comparator. With ``relative_to`` the value compared is the relative change
    (field − other) / other, e.g. a loss that must fall by 30 %: ``le: -0.30``.
    """

    field: str = Field(min_length=1)
    lt: float | None = None
    le: float | None = None
    gt: float | None = None
    ge: float | None = None
    eq: bool | int | float | str | None = None
    relative_to: str | None = None

    @model_validator(mode="after")
    def _one_comparator(self) -> FieldCheck:
        given = [c for c in _COMPARATORS if getattr(self, c) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {list(_COMPARATORS)}, got {given or 'none'}")
        if self.relative_to is not None and given[0] == "eq":
            raise ValueError("relative_to needs a numeric comparator (lt, le, gt, ge)")
        bound = getattr(self, given[0])
        if isinstance(bound, float) and not math.isfinite(bound):
            raise ValueError("a bound must be a finite number")
        return self

    @property
    def comparator(self) -> Literal["lt", "le", "gt", "ge", "eq"]:
        return next(c for c in _COMPARATORS if getattr(self, c) is not None)  # type: ignore[return-value]

    @property
    def bound(self) -> bool | int | float | str:
        return getattr(self, self.comparator)


class EvidenceGate(GateBase):
    """Checks on a JSON artifact written by another stage (contamination, training, safety).

    ``file`` is relative to the evidence root (the repository root in the pipeline). A
    ``{candidate}``, ``{run}`` (the training run a variant was cut from) or ``{seed}`` in it
    makes the gate per candidate, e.g. ``metrics/train/{run}.json``; otherwise it is one
    suite-level gate.
    """

    file: str = Field(min_length=1)
    checks: list[FieldCheck] = Field(min_length=1)
    # The reason a FAIL carries (e.g. CONTAMINATED); by default one that follows from the
    # failed comparison (ABOVE_LIMIT, BELOW_THRESHOLD, MISMATCH).
    fail_reason: Reason | None = None

    @property
    def per_candidate(self) -> bool:
        return any(key in self.file for key in ("{candidate}", "{run}", "{seed}"))


class ShareGate(GateBase):
    """At least ``min_share`` of the listed gates pass (e.g. "≥ 75 % of stretch goals")."""

    gates: list[str] = Field(min_length=1)
    min_share: float = Field(gt=0.0, le=1.0)


# Gates configured by a section of their own, and groups of gates named by the policy.
_FIXED = (
    "average_delta",
    "per_benchmark",
    "results_schema",
    "contamination_suite",
    "swebench",
    "claim",
)
_NAMED = ("absolute", "evidence", "share")


class Gates(_Strict):
    average_delta: AverageDeltaGate | None = AverageDeltaGate()
    per_benchmark: PerBenchmarkGate = PerBenchmarkGate()
    results_schema: ResultsSchemaGate | None = None
    contamination_suite: ContaminationSuiteGate | None = None
    swebench: SwebenchGate | None = None
    claim: ClaimGate | None = None
    absolute: dict[str, AbsoluteTargetGate] = Field(default_factory=dict)
    evidence: dict[str, EvidenceGate] = Field(default_factory=dict)
    share: dict[str, ShareGate] = Field(default_factory=dict)

    def paths(self) -> dict[str, str]:
        """Gate name -> its place in the policy (``gates.evidence.repro``), configured only."""
        out = {name: f"gates.{name}" for name in _FIXED if getattr(self, name) is not None}
        for group in _NAMED:
            for name in getattr(self, group):
                out[name] = f"gates.{group}.{name}"
        return out

    def config(self, name: str) -> GateBase:
        if name in _FIXED:
            gate = getattr(self, name)
            if gate is not None:
                return gate
        for group in _NAMED:
            if name in getattr(self, group):
                return getattr(self, group)[name]
        raise KeyError(name)

    @model_validator(mode="after")
    def _unique_names(self) -> Gates:
        seen: dict[str, str] = {}
        for group in _NAMED:
            for name in getattr(self, group):
                if name in _FIXED or name in seen or name in RESERVED_GATE_NAMES:
                    where = seen.get(name, "a built-in gate")
                    raise ValueError(f"gate name '{name}' in {group} is taken by {where}")
                seen[name] = group
        for name, share in self.share.items():
            known = set(self.paths()) - set(self.share)
            unknown = sorted(set(share.gates) - known)
            if unknown:
                raise ValueError(f"share gate '{name}' lists unknown gates {unknown}")
        return self


# Names the engine gives to outcomes outside ``gates``; no configured gate may take them.
RESERVED_GATE_NAMES = ("seeds", "blocked")
