"""The promotion policy: thresholds, tests and actions as validated data, loaded from YAML.

Unknown keys are errors at every level, so a misspelt threshold can never be silently
ignored and replaced by a default. The gate sections live in ``promgate.gates.policy_gates``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from promgate.errors import ConfigError
from promgate.gates.outcome import GateOutcome, Reason, SeedRuleName, Status
from promgate.gates.policy_gates import RESERVED_GATE_NAMES, Gates
from promgate.stats.bootstrap import CIMethod
from promgate.stats.multiplicity import Multiplicity

# ``failure_response`` may name any configured gate, "seeds", "blocked" (the action for any
# gate that could not be evaluated) and "underpowered" (for one blocked for want of power;
# "blocked" applies when it is absent).
BLOCKED_RESPONSE_KEY = "blocked"
UNDERPOWERED_RESPONSE_KEY = "underpowered"
SEEDS_GATE = "seeds"
POLICY_DIR = Path("conf") / "policy"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BootstrapSettings(_Strict):
    resamples: int = Field(default=10_000, ge=1_000)
    seed: int = 0
    confidence: float = Field(default=0.95, gt=0.0, lt=1.0)
    ci: CIMethod = "percentile"
    # Resample whole clusters (items sharing a passage, WinoGrande twins) when the results
    # name them; items are not independent there and an item bootstrap understates the CI.
    clusters: bool = True


class TestingSettings(_Strict):
    """Significance, multiplicity across benchmarks, and what an underpowered gate does."""

    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)
    multiplicity: Multiplicity = "holm"
    # The power at which the minimum detectable effect (MDE) is computed.
    power: float = Field(default=0.8, ge=0.5, lt=1.0)
    # A gate whose threshold lies below its MDE: BLOCKED UNDERPOWERED, or a warning. A
    # policy that says nothing fails closed.
    underpowered: Literal["block", "warn"] = "block"


class SeedPolicy(_Strict):
    """How candidates trained with different seeds combine into one decision.

    ``all``: every seed's candidate must pass. ``certify``: a recipe (the candidate id
    without its ``-s<seed>`` suffix) certifies when at least ``min_pass_rate`` of its seeds
    pass and its worst seed's average Δ is at least ``min_worst_delta_pp``. ``expected``
    seeds that have no candidate make the seeds gate BLOCKED.
    """

    rule: SeedRuleName = "all"
    expected: list[int] = Field(default_factory=list)
    min_pass_rate: float = Field(default=0.67, ge=0.0, le=1.0)
    min_worst_delta_pp: float = -2.5
    clause: str = ""


class Policy(_Strict):
    name: str
    version: str
    source: str = Field(description="the document the thresholds come from")
    description: str = ""
    seeds: SeedPolicy = SeedPolicy()
    bootstrap: BootstrapSettings = BootstrapSettings()
    testing: TestingSettings = TestingSettings()
    gates: Gates = Gates()
    min_items_per_benchmark: int = Field(default=1, ge=1)
    failure_response: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_responses(self) -> Policy:
        known = [*self.gates.paths(), *RESERVED_GATE_NAMES, UNDERPOWERED_RESPONSE_KEY]
        unknown = sorted(set(self.failure_response) - set(known))
        if unknown:
            raise ValueError(f"failure_response has unknown key(s) {unknown}; known: {known}")
        return self

    def ref(self, gate: str) -> str:
        """A stable pointer to the policy clause a gate outcome applies."""
        path = SEEDS_GATE if gate == SEEDS_GATE else self.gates.paths().get(gate, gate)
        return f"{self.name}@{self.version}#{path}"

    def response_for(self, key: str) -> str | None:
        return self.failure_response.get(key)

    def required(self, gate: str) -> bool:
        return True if gate == SEEDS_GATE else self.gates.config(gate).required

    def outcome(
        self,
        gate: str,
        status: Status,
        reason: Reason,
        message: str,
        *,
        candidate: str | None = None,
        benchmark: str | None = None,
        evidence: dict[str, Any] | None = None,
        warnings: list[str] | None = None,
    ) -> GateOutcome:
        """An outcome of ``gate`` with its clause reference, ``required`` and failure response.

        FAIL carries the gate's own action; BLOCKED the policy's action for missing evidence
        (or for want of power, when the policy names one).
        """
        response = None
        if status is Status.FAIL:
            response = self.response_for(gate)
        elif status is Status.BLOCKED:
            underpowered = reason is Reason.UNDERPOWERED
            response = (
                underpowered and self.response_for(UNDERPOWERED_RESPONSE_KEY)
            ) or self.response_for(BLOCKED_RESPONSE_KEY)
        return GateOutcome(
            gate=gate,
            status=status,
            reason=reason,
            message=message,
            candidate=candidate,
            benchmark=benchmark,
            evidence=evidence or {},
            policy_ref=self.ref(gate),
            required=self.required(gate),
            failure_response=response,
            warnings=warnings or [],
        )


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
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
            continue
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
        # Pydantic names the union member it tried ("function-after[...]"); drop it.
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        full = ".".join(str(p) for p in (*prefix, *loc)) if field else None
        line = _yaml_line(text, (*prefix, *loc))
        raise ConfigError(message, path=path, line=line, field=full) from exc


def policy_path(name_or_path: str, root: str | Path = ".") -> Path:
    """A policy file: an existing path as given, else ``conf/policy/<name>.yaml``.

    The name is looked up under ``root`` first, then in the repository promgate runs from,
    so ``--policy miso_v1`` works from any directory of a checkout.
    """
    given = Path(name_or_path)
    if given.suffix in (".yaml", ".yml") or len(given.parts) > 1:
        if not given.is_file():
            raise ConfigError("policy file not found", path=given)
        return given
    if not given.name or given.name.startswith("."):
        raise ConfigError(f"not a policy name: '{name_or_path}'", field="policy")
    candidates = [Path(root) / POLICY_DIR, Path(__file__).resolve().parents[3] / POLICY_DIR]
    for folder in candidates:
        path = folder / f"{given.name}.yaml"
        if path.is_file():
            return path
    shipped = sorted({p.stem for folder in candidates for p in folder.glob("*.yaml")})
    raise ConfigError(
        f"no policy named '{name_or_path}'; shipped: {', '.join(shipped) or 'none'}",
        field="policy",
    )
