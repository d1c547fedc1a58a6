"""Policy schema: the four shipped policies, unknown keys named, hashing, name resolution."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gate_helpers import SHIPPED
from promgate.errors import ConfigError
from promgate.gates.outcome import Reason
from promgate.gates.policy import Policy, load_policy, policy_path, policy_sha256

MINIMAL = "name: p\nversion: '1'\nsource: test\n"
NAMES = ["miso_v1", "certifiable_v0_1", "phase3_codegen", "claim_gate"]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", NAMES)
def test_every_shipped_policy_is_valid_and_cites_its_clauses(name):
    p = load_policy(SHIPPED / f"{name}.yaml")
    assert p.name == name and p.source and p.description
    for gate in p.gates.paths():
        cfg = p.gates.config(gate)
        assert cfg.clause, f"{name}: gate {gate} quotes no clause"
    assert "blocked" in p.failure_response
    # Every required gate that can fail names the action owed.
    required = [g for g in p.gates.paths() if p.gates.config(g).required]
    assert all(g in p.failure_response for g in required), name
    assert (p.bootstrap.resamples, p.bootstrap.confidence) == (10_000, 0.95)


def test_miso_encodes_the_contract():
    p = load_policy(SHIPPED / "miso_v1.yaml")
    g = p.gates
    assert (g.average_delta.min_delta_pp, g.average_delta.ci_lower_gt_pp) == (3.0, 0.0)
    assert (g.per_benchmark.min_improvement_pp, g.per_benchmark.max_regression_pp) == (2.0, -1.0)
    assert g.per_benchmark.target_for("humaneval") == 7.0
    assert g.per_benchmark.target_for("mbpp") == 8.0
    assert g.per_benchmark.target_for("arc_easy") == 3.0
    assert g.per_benchmark.target_for("sst2") == 2.0  # not in the table: the default
    assert g.contamination_suite.min_delta_pp == 1.0
    assert g.contamination_suite.floor_for("mmlu_perturbed") == 0.0
    assert g.contamination_suite.floor_for("gsm8k_perturbed") == 1.0
    assert (g.swebench.min_additional_resolved, g.swebench.max_newly_failing) == (5, 0)
    mandatory = {"results_schema", "repro", "dedupe", "safety", "supply_chain"}
    assert mandatory <= set(g.paths()) and all(g.config(m).required for m in mandatory)
    assert g.evidence["dedupe"].file == "metrics/contamination.json"
    assert g.evidence["dedupe"].fail_reason is Reason.CONTAMINATED
    assert g.evidence["safety"].per_candidate and not g.evidence["repro"].per_candidate
    assert (p.testing.multiplicity, p.testing.alpha) == ("holm", 0.05)
    assert p.min_items_per_benchmark == 100  # "min_sample_size = 100 # Per benchmark"
    assert p.seeds.rule == "all"
    assert "IMMEDIATE HALT" in p.failure_response["safety"]


def test_certifiable_encodes_the_standard():
    p = load_policy(SHIPPED / "certifiable_v0_1.yaml")
    assert p.seeds.rule == "certify" and p.seeds.expected == [42, 123, 456]
    assert (p.seeds.min_pass_rate, p.seeds.min_worst_delta_pp) == (0.67, -2.5)


def test_phase3_encodes_mvp_and_stretch_targets():
    p = load_policy(SHIPPED / "phase3_codegen.yaml")
    a = p.gates.absolute
    assert (a["pass_at_1_mvp"].k, a["pass_at_1_mvp"].min_pct) == (1, 20)
    assert (a["pass_at_10_mvp"].k, a["pass_at_10_mvp"].min_pct) == (10, 35)
    assert (a["pass_at_1_stretch"].min_pct, a["pass_at_10_stretch"].min_pct) == (30, 45)
    assert not a["pass_at_1_stretch"].required
    stretch = p.gates.share["stretch"]
    assert stretch.min_share == 0.75 and len(stretch.gates) == 5 and not stretch.required
    assert p.gates.evidence["memory_mvp"].checks[0].le == 16384
    assert p.gates.evidence["training_stability"].file == "metrics/train/{run}.json"
    assert p.gates.evidence["training_stability"].per_candidate
    assert p.gates.average_delta is None


def test_claim_gate_blocks_what_it_cannot_evaluate():
    p = load_policy(SHIPPED / "claim_gate.yaml")
    assert p.gates.claim.min_significant_benchmarks == 2
    assert p.testing.underpowered == "block"
    assert not p.gates.average_delta.required


@pytest.mark.parametrize(
    ("text", "field", "line"),
    [
        (MINIMAL + "thresholds: 3\n", "thresholds", 4),
        (MINIMAL + "seed_rule: all\n", "seed_rule", 4),  # replaced by the seeds section
        (
            MINIMAL + "gates:\n  average_delta:\n    min_delta: 5.0\n",
            "gates.average_delta.min_delta",
            6,
        ),
        (MINIMAL + "seeds:\n  rule: all\n  minimum: 2\n", "seeds.minimum", 6),
        (MINIMAL + "testing:\n  alfa: 0.05\n", "testing.alfa", 5),
        (
            MINIMAL + "gates:\n  evidence:\n    repro:\n      file: x.json\n      checks:\n"
            "        - {field: ok, eq: true, tolerance: 1}\n",
            "gates.evidence.repro.checks.0.tolerance",
            9,
        ),
    ],
)
def test_unknown_keys_are_named_with_file_and_line(tmp_path, text, field, line):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    err = info.value
    assert err.field == field and err.line == line
    assert f"unknown key '{field.split('.')[-1]}'" in str(err) and str(path) in str(err)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("failure_response:\n  averge_delta: retrain\n", "averge_delta"),
        ("testing:\n  multiplicity: bonferroni\n", "multiplicity"),
        ("testing:\n  underpowered: ignore\n", "underpowered"),
        ("bootstrap:\n  ci: studentized\n", "ci"),
        ("seeds:\n  rule: majority\n", "rule"),
        ("gates:\n  evidence:\n    r:\n      file: x\n      checks: [{field: a}]\n", "exactly one"),
        (
            "gates:\n  evidence:\n    r:\n      file: x\n"
            "      checks: [{field: a, lt: 1, gt: 0}]\n",
            "exactly one",
        ),
        ("gates:\n  share:\n    s: {gates: [nope], min_share: 0.5}\n", "unknown gates"),
        ("gates:\n  evidence:\n    seeds: {file: x, checks: [{field: a, eq: 1}]}\n", "taken"),
        ("gates:\n  contamination_suite: {benchmarks: [a], targets: {b: 1.0}}\n", "outside"),
    ],
)
def test_invalid_values_are_errors_not_defaults(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        load_policy(_write(tmp_path, MINIMAL + text))


def test_missing_required_key_is_named(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_policy(_write(tmp_path, "name: p\nversion: '1'\n"))
    assert info.value.field == "source"


def test_invalid_yaml_is_a_config_error_with_a_line(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_policy(_write(tmp_path, MINIMAL + "gates: [unclosed\n"))
    assert info.value.line is not None


def test_policy_under_a_key_as_in_params_yaml(tmp_path):
    text = "seeds: [1]\npolicy:\n  name: p\n  version: '1'\n  source: s\n  extra: 1\n"
    with pytest.raises(ConfigError) as info:
        load_policy(_write(tmp_path, text), key="policy")
    assert info.value.field == "policy.extra" and info.value.line == 6


def test_inverted_per_benchmark_thresholds_are_rejected():
    for gate in (
        {"min_improvement_pp": 1, "max_regression_pp": 2},
        {"max_regression_pp": -1, "targets": {"gsm8k": -2}},
    ):
        with pytest.raises(ValidationError):
            Policy.model_validate(
                {"name": "p", "version": "1", "source": "s", "gates": {"per_benchmark": gate}}
            )


def test_hash_is_canonical_and_sensitive_to_thresholds():
    a = Policy.model_validate({"name": "p", "version": "1", "source": "s"})
    b = Policy.model_validate({"source": "s", "version": "1", "name": "p"})
    c = Policy.model_validate(
        {"name": "p", "version": "1", "source": "s", "testing": {"multiplicity": "bh"}}
    )
    assert policy_sha256(a) == policy_sha256(b)
    assert policy_sha256(a) != policy_sha256(c)
    assert len(policy_sha256(a)) == 64


def test_references_point_at_the_clause():
    p = load_policy(SHIPPED / "miso_v1.yaml")
    assert p.ref("dedupe") == f"miso_v1@{p.version}#gates.evidence.dedupe"
    assert p.ref("average_delta").endswith("#gates.average_delta")
    assert p.ref("seeds").endswith("#seeds")


def test_policy_names_resolve_to_conf_policy(tmp_path):
    assert policy_path("claim_gate", tmp_path) == SHIPPED / "claim_gate.yaml"  # via the checkout
    own = tmp_path / "conf" / "policy"
    own.mkdir(parents=True)
    (own / "claim_gate.yaml").write_text(MINIMAL)
    assert policy_path("claim_gate", tmp_path) == own / "claim_gate.yaml"  # root first
    assert policy_path(str(own / "claim_gate.yaml")) == own / "claim_gate.yaml"
    with pytest.raises(ConfigError, match=r"shipped: .*miso_v1"):
        policy_path("nope", tmp_path)
    with pytest.raises(ConfigError, match="not found"):
        policy_path(str(tmp_path / "missing.yaml"))
