"""Policy schema: the shipped MISO policy, unknown keys, hashing."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from promgate.errors import ConfigError
from promgate.gates.policy import Policy, load_policy, policy_sha256

MISO = Path(__file__).resolve().parent.parent / "conf" / "policy" / "miso_v1.yaml"

MINIMAL = "name: p\nversion: '1'\nsource: test\n"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_miso_policy_encodes_the_contract():
    p = load_policy(MISO)
    assert p.name == "miso_v1" and p.seed_rule == "all"
    assert p.gates.average_delta.min_delta_pp == 3.0
    assert p.gates.average_delta.ci_lower_gt_pp == 0.0
    assert p.gates.per_benchmark.min_improvement_pp == 2.0
    assert p.gates.per_benchmark.max_regression_pp == -1.0
    assert p.gates.average_delta.required and p.gates.per_benchmark.required
    assert (p.bootstrap.resamples, p.bootstrap.confidence) == (10_000, 0.95)
    assert p.min_items_per_benchmark >= 1
    assert {"average_delta", "per_benchmark", "blocked"} <= set(p.failure_response)
    assert "do not promote" in p.failure_response["average_delta"].lower()


def test_unknown_top_level_key_names_key_file_and_line(tmp_path):
    path = _write(tmp_path, MINIMAL + "thresholds: 3\n")
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    err = info.value
    assert err.field == "thresholds" and err.line == 4
    assert "unknown key 'thresholds'" in str(err) and str(path) in str(err)


def test_misspelt_nested_threshold_is_an_error_not_a_default(tmp_path):
    text = MINIMAL + "gates:\n  average_delta:\n    min_delta: 5.0\n"
    with pytest.raises(ConfigError) as info:
        load_policy(_write(tmp_path, text))
    assert info.value.field == "gates.average_delta.min_delta"
    assert info.value.line == 6


def test_unknown_failure_response_key_is_an_error(tmp_path):
    text = MINIMAL + "failure_response:\n  averge_delta: retrain\n"
    with pytest.raises(ConfigError, match="averge_delta"):
        load_policy(_write(tmp_path, text))


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


def test_model_validate_rejects_unknown_keys_too():
    with pytest.raises(ValidationError):
        Policy.model_validate({"name": "p", "version": "1", "source": "s", "bootstrap": {"b": 1}})


def test_inverted_per_benchmark_thresholds_are_rejected():
    with pytest.raises(ValidationError):
        Policy.model_validate(
            {
                "name": "p",
                "version": "1",
                "source": "s",
                "gates": {"per_benchmark": {"min_improvement_pp": 1, "max_regression_pp": 2}},
            }
        )


def test_hash_is_canonical_and_sensitive_to_thresholds():
    a = Policy.model_validate({"name": "p", "version": "1", "source": "s"})
    b = Policy.model_validate({"source": "s", "version": "1", "name": "p"})
    c = Policy.model_validate(
        {
            "name": "p",
            "version": "1",
            "source": "s",
            "gates": {"average_delta": {"min_delta_pp": 3.1}},
        }
    )
    assert policy_sha256(a) == policy_sha256(b)
    assert policy_sha256(a) != policy_sha256(c)
    assert len(policy_sha256(a)) == 64
