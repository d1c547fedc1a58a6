"""Certification per variant across seeds: its JSON, its evidence, the regression check."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from gate_helpers import BENCHES, shifted, shipped, write_results
from promgate.cli import main
from promgate.errors import ConfigError, SchemaError
from promgate.gates.certification import (
    Certification,
    certify,
    load_certification,
    write_certification,
)
from promgate.gates.certification_check import (
    check_certification_regression,
    regression_exit_code,
)
from promgate.gates.outcome import Decision, Reason, Status
from promgate.gates.seed_gates import split_candidate
from promgate.pipeline import candidate_id

POLICY = shipped("certifiable_v0_1", bootstrap={"resamples": 2_000})
SEEDS = [42, 123, 456]
N = 400  # items per benchmark; a flip of 4 items is 1 pp
GOOD = {"arc": 24, "mmlu": 24}  # +6 pp on both


def _write_suite(root: Path, shifts: dict[str, dict[int, dict[str, int] | None]]) -> dict:
    """results/ for a baseline and variant -> seed -> per-benchmark flips (None: no folder)."""
    base = np.arange(N) % 2 == 0
    for bench in BENCHES:
        write_results(root / "baseline", bench, base)
    variants: dict[str, dict[str, Path]] = {}
    for variant, per_seed in shifts.items():
        variants[variant] = {}
        for seed, flips in per_seed.items():
            cid = candidate_id(seed, variant)
            variants[variant][cid] = root / cid
            if flips is not None:
                for bench in BENCHES:
                    write_results(root / cid, bench, shifted(base, flips.get(bench, 0)), cid)
    return variants


def _certify(root: Path, shifts, policy=POLICY) -> Certification:
    variants = _write_suite(root, shifts)
    return certify(
        baseline_dir=root / "baseline", variants=variants, benchmarks=BENCHES, policy=policy
    )


SCENARIO = {
    "probe": dict.fromkeys(SEEDS, GOOD),
    # Seed 456 loses 2 pp on average: it fails, but 2 of 3 pass and -2.0 >= -2.5.
    "per_layer": {42: GOOD, 123: GOOD, 456: {"arc": -8, "mmlu": -8}},
    # Seed 456 loses 3 pp: the worst seed is below the floor.
    "uniform_r16": {42: GOOD, 123: GOOD, 456: {"arc": -12, "mmlu": -12}},
    # Seed 456 was never evaluated.
    "uniform_r20": {42: GOOD, 123: GOOD, 456: None},
}


@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> Certification:
    return _certify(tmp_path_factory.mktemp("results"), SCENARIO)


def test_variant_candidate_ids_name_recipe_and_seed():
    assert candidate_id(42) == candidate_id(42, "probe") == "lora-s42"
    assert candidate_id(42, "per_layer") == "lora-s42-per_layer"
    assert split_candidate("lora-s42-per_layer") == ("lora-per_layer", 42)
    assert split_candidate("lora-s123-uniform_r16") == ("lora-uniform_r16", 123)
    assert split_candidate("lora-s42") == ("lora", 42)


def test_each_variant_is_certified_or_rejected_with_its_per_seed_evidence(cert):
    assert cert.safe == ["probe", "per_layer"]
    assert cert.policy.name == "certifiable_v0_1" and cert.policy.expected_seeds == SEEDS
    probe = cert.variants["probe"]
    assert (probe.certified, probe.status, probe.pass_rate) == (True, Status.PASS, 1.0)
    assert [s.seed for s in probe.seeds] == SEEDS
    for s in probe.seeds:
        assert s.delta_pp == pytest.approx(6.0) and s.passed and s.decision is Decision.GO
        assert s.ci_low_pp < s.delta_pp < s.ci_high_pp

    per_layer = cert.variants["per_layer"]
    assert per_layer.certified and per_layer.n_passed == 2
    assert per_layer.pass_rate == pytest.approx(2 / 3)
    assert (per_layer.worst_seed, per_layer.worst_delta_pp) == (456, pytest.approx(-2.0))
    failed = per_layer.seeds[-1]
    assert not failed.passed and any(
        x.startswith("average_delta: FAIL") for x in failed.not_passing
    )

    r16 = cert.variants["uniform_r16"]
    assert not r16.certified and (r16.status, r16.reason) == (Status.FAIL, Reason.BELOW_THRESHOLD)
    assert r16.worst_delta_pp == pytest.approx(-3.0) and "worst seed" in r16.message
    assert r16.blockers == []


def test_a_variant_missing_a_seed_is_blocked_naming_the_missing_folder(cert):
    r20 = cert.variants["uniform_r20"]
    assert not r20.certified and r20.status is Status.BLOCKED
    assert r20.missing_seeds == [456] and [s.seed for s in r20.seeds] == [42, 123]
    missing = [b for b in r20.blockers if b.candidate == "lora-s456-uniform_r20"]
    assert missing and missing[0].reason is Reason.MISSING_EVIDENCE
    assert missing[0].path is not None and missing[0].path.endswith("lora-s456-uniform_r20")
    assert any(b.candidate == "lora-uniform_r20" and "456" in b.message for b in r20.blockers)


def test_a_missing_results_file_blocks_and_is_named(tmp_path):
    variants = _write_suite(tmp_path, {"per_layer": dict.fromkeys(SEEDS, GOOD)})
    (tmp_path / "lora-s123-per_layer" / "mmlu.jsonl").unlink()
    cert = certify(
        baseline_dir=tmp_path / "baseline", variants=variants, benchmarks=BENCHES, policy=POLICY
    )
    v = cert.variants["per_layer"]
    assert not v.certified and v.status is Status.BLOCKED
    assert any((b.path or "").endswith("lora-s123-per_layer/mmlu.jsonl") for b in v.blockers)


def test_no_results_at_all_is_blocked_not_certified(tmp_path):
    cert = _certify(tmp_path, {"uniform_r24": dict.fromkeys(SEEDS, None)})
    v = cert.variants["uniform_r24"]
    assert (v.certified, v.status, v.pass_rate) == (False, Status.BLOCKED, None)
    assert cert.safe == [] and len(v.blockers) == 4  # three folders and the seeds gate


def test_only_a_certify_rule_policy_certifies(tmp_path):
    with pytest.raises(ConfigError, match="certify"):
        _certify(tmp_path, {"probe": dict.fromkeys(SEEDS, GOOD)}, shipped("miso_v1"))


def test_certification_json_round_trips_with_the_digests_of_its_inputs(cert, tmp_path):
    path = tmp_path / "certification.json"
    write_certification(cert, path)
    assert load_certification(path) == cert
    data = json.loads(path.read_text())
    assert data["format"] == "promgate.certification/1" and data["safe"] == ["probe", "per_layer"]
    assert any(k.endswith("lora-s42-per_layer/arc.jsonl") for k in data["inputs"])
    assert all(len(v) == 64 for v in data["inputs"].values())
    data["variants"]["probe"]["certified"] = "yes please"
    path.write_text(json.dumps(data))
    with pytest.raises(SchemaError, match=r"variants\.probe\.certified"):
        load_certification(path)


def test_the_same_evidence_gives_the_same_bytes(tmp_path):
    variants = _write_suite(tmp_path, SCENARIO)
    for name in ("a.json", "b.json"):
        cert = certify(
            baseline_dir=tmp_path / "baseline", variants=variants, benchmarks=BENCHES, policy=POLICY
        )
        write_certification(cert, tmp_path / name)
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


# --- regression check -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def before_and_after(tmp_path_factory):
    """A reference run where every variant certifies, and a later run where per_layer's
    seeds 123 and 456 regress, both certified from real results files and written out."""
    root = tmp_path_factory.mktemp("runs")
    ok = {"probe": dict.fromkeys(SEEDS, GOOD), "per_layer": dict.fromkeys(SEEDS, GOOD)}
    worse = {
        "probe": dict.fromkeys(SEEDS, GOOD),
        "per_layer": {42: GOOD, 123: {"arc": -8, "mmlu": -8}, 456: {"arc": -4, "mmlu": -4}},
    }
    paths = {}
    for name, shifts in (("previous", ok), ("current", worse), ("same", ok)):
        cert = _certify(root / name, shifts)
        paths[name] = root / f"{name}.json"
        write_certification(cert, paths[name])
    return paths


def test_a_certified_variant_that_becomes_unsafe_is_a_regression(before_and_after):
    previous = load_certification(before_and_after["previous"])
    current = load_certification(before_and_after["current"])
    assert previous.safe == ["probe", "per_layer"] and current.safe == ["probe"]
    regressions = check_certification_regression(previous, current)
    assert [r.variant for r in regressions] == ["per_layer"]
    assert "now FAIL BELOW_THRESHOLD" in regressions[0].message
    assert check_certification_regression(previous, previous) == []


def test_a_variant_absent_now_or_a_changed_policy_is_a_regression(before_and_after):
    previous = load_certification(before_and_after["previous"])
    fewer = previous.model_copy(
        update={"variants": {"probe": previous.variants["probe"]}, "safe": ["probe"]}
    )
    assert [(r.variant, r.message) for r in check_certification_regression(previous, fewer)] == [
        ("per_layer", "certified before, absent from this run")
    ]
    other = previous.model_copy(
        update={"policy": previous.policy.model_copy(update={"version": "0.2"})}
    )
    regressions = check_certification_regression(previous, other)
    assert {r.variant for r in regressions} == {"probe", "per_layer"}
    assert "policy changed" in regressions[0].message


def test_cli_exit_codes_name_the_regressed_variant(before_and_after, tmp_path, capsys):
    prev, cur, same = (str(before_and_after[k]) for k in ("previous", "current", "same"))
    assert main(["certify", "--check-against", prev, "--current", cur]) == 1
    err = capsys.readouterr().err
    assert "REGRESSION per_layer" in err and "REGRESSION probe" not in err
    assert main(["certify", "--check-against", prev, "--current", same]) == 0
    assert "no regression" in capsys.readouterr().err
    # Fail closed: no current certification is not a pass; a bad reference is bad input.
    assert main(["certify", "--check-against", prev, "--current", str(tmp_path / "x")]) == 3
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert regression_exit_code(broken, Path(cur), stream=io.StringIO()) == 2
