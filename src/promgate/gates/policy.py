"""The promotion policy: thresholds and actions as validated data, loaded from YAML.

Unknown keys are errors at every level, so a misspelt threshold can never be silently
ignored and replaced by a default.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from promgate.errors import ConfigError

# Gate names a policy can configure; ``failure_response`` may also name "blocked", the
# action for any gate that could not be evaluated.
GATE_NAMES = ("average_delta", "per_benchmark")
BLOCKED_RESPONSE_KEY = "blocked"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BootstrapSettings(_Strict):
    resamples: int = Field(default=10_000, ge=1_000)
    seed: int = 0
    confidence: float = Field(default=0.95, gt=0.0, lt=1.0)


class AverageDeltaGate(_Strict):
    """Macro-average Δ over the suite must reach a threshold with a CI clear of zero."""

    min_delta_pp: float = 3.0
    ci_lower_gt_pp: float = 0.0
    required: bool = True
    clause: str = ""


class PerBenchmarkGate(_Strict):
    """Each benchmark improves by ``min_improvement_pp`` or does not regress past a floor."""

    min_improvement_pp: float = 2.0
    max_regression_pp: float = -1.0
    required: bool = True
    clause: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> PerBenchmarkGate:
        if self.max_regression_pp > self.min_improvement_pp:
            raise ValueError("max_regression_pp must not exceed min_improvement_pp")
        return self


class Gates(_Strict):
    average_delta: AverageDeltaGate = AverageDeltaGate()
    per_benchmark: PerBenchmarkGate = PerBenchmarkGate()


class Policy(_Strict):
    name: str
    version: str
    source: str = Field(description="the document the thresholds come from")
    description: str = ""
    # "all": every seed's candidate must pass; the decision is the worst across seeds.
    seed_rule: Literal["all"] = "all"
    bootstrap: BootstrapSettings = BootstrapSettings()
    gates: Gates = Gates()
    min_items_per_benchmark: int = Field(default=1, ge=1)
    failure_response: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_responses(self) -> Policy:
        known = (*GATE_NAMES, BLOCKED_RESPONSE_KEY)
        unknown = sorted(set(self.failure_response) - set(known))
        if unknown:
            raise ValueError(f"failure_response has unknown key(s) {unknown}; known: {list(known)}")
        return self

    def ref(self, gate: str) -> str:
        """A stable pointer to the policy clause a gate outcome applies."""
        return f"{self.name}@{self.version}#gates.{gate}"

    def response_for(self, key: str) -> str | None:
        return self.failure_response.get(key)


def policy_sha256(policy: Policy) -> str:
    """Digest of the policy's canonical JSON: what a decision records as the rule it used."""
    canonical = json.dumps(
        policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _yaml_line(text: str, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the key at ``loc`` in a YAML document, or of its deepest parent."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
        if match is None:
            break
        line = match[0].start_mark.line + 1
        node = match[1]
    return line


def _describe(err: dict[str, Any]) -> tuple[str, str]:
    field = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return field, f"unknown key '{err['loc'][-1]}'"
    if err["type"] == "missing":
        return field, f"missing required key '{err['loc'][-1]}'"
    return field, err["msg"]


def load_policy(path: str | Path, *, key: str | None = None) -> Policy:
    """Load and validate a policy YAML file.

    ``key`` selects a sub-mapping, e.g. ``key="policy"`` for a composed params.yaml.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read policy file ({exc.strerror})", path=path) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"invalid YAML ({exc})", path=path, line=line) from exc
    prefix: tuple[str, ...] = ()
    if key is not None:
        if not isinstance(data, dict) or key not in data:
            raise ConfigError(f"no '{key}' mapping", path=path, field=key)
        data, prefix = data[key], (key,)
    if not isinstance(data, dict):
        raise ConfigError("a policy must be a YAML mapping", path=path)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field, message = _describe(err)
        loc = (*prefix, *err["loc"])
        full = ".".join(str(p) for p in loc) if field else None
        raise ConfigError(message, path=path, line=_yaml_line(text, loc), field=full) from exc
