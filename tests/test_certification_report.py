"""The gate stage's certification: reports/certification.json and the promotion report section."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gate_helpers import shifted, write_results
from promgate.cli import main
from promgate.config import VariantsConfig, load_params
from promgate.pipeline import candidate_id, pipeline_candidates, run_gate

ROOT = Path(__file__).resolve().parent.parent
BENCHES = ["arc_easy", "mmlu"]
N = 400
SEEDS = [42, 123, 456]


def _params(seeds=SEEDS):
    params = load_params(ROOT / "params.yaml")
    cert_policy = {**params.certification.policy, "bootstrap": {"resamples": 2000, "seed": 3}}
    return params.model_copy(
        update={
            "seeds": seeds,
            "variants": VariantsConfig(names=["per_layer", "uniform_r16"]),
            "data": params.data.model_copy(update={"benchmarks": BENCHES}),
            "certification": params.certification.model_copy(update={"policy": cert_policy}),
        }
    )


def _results(root: Path, flips: dict[str, int]) -> None:
    """results/<candidate>/ for every seed x (probe + variants); ``flips`` per candidate id."""
    base = np.arange(N) % 2 == 0
    for bench in BENCHES:
        write_results(root / "results/baseline", bench, base)
    for cid in pipeline_candidates(_params()):
        if cid in flips:
            for bench in BENCHES:
                write_results(root / "results" / cid, bench, shifted(base, flips[cid]), cid)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    flips = {candidate_id(s): 24 for s in SEEDS}
    flips |= {candidate_id(s, "per_layer"): 20 for s in SEEDS}
    # uniform_r16: seed 456 loses 3 pp on both benchmarks (below the -2.5 pp floor).
    flips |= {candidate_id(42, "uniform_r16"): 16, candidate_id(123, "uniform_r16"): 16}
    flips[candidate_id(456, "uniform_r16")] = -12
    _results(root, flips)
    run_gate(_params(), root)
    return root


def test_gate_stage_judges_every_candidate_and_writes_the_certification(project):
    gate = json.loads((project / "reports/gate.json").read_text())
    assert set(gate["candidates"]) == set(pipeline_candidates(_params()))
    assert len(gate["candidates"]) == 9
    cert = json.loads((project / "reports/certification.json").read_text())
    assert cert["safe"] == ["probe", "per_layer"]
    assert cert["variants"]["uniform_r16"]["worst_seed"] == 456
    metrics = json.loads((project / "metrics/certification.json").read_text())
    assert metrics["uniform_r16"]["certified"] == 0 and metrics["probe"]["certified"] == 1
    assert metrics["per_layer"]["worst_delta_pp"] == pytest.approx(5.0)


def test_promotion_report_shows_per_seed_delta_pass_rate_and_worst_seed(project):
    md = (project / "reports/promotion.md").read_text()
    section = md[md.index("## Certification across seeds") :]
    section = section[: section.index("\n## ")]
    header = next(line for line in section.splitlines() if line.startswith("| variant"))
    assert "seed 42: Δ pp [CI]" in header and "seed 456" in header
    assert "pass rate" in header and "worst-seed Δ pp" in header
    row = next(line for line in section.splitlines() if line.startswith("| `uniform_r16`"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1].startswith("+4.00 [") and cells[1].endswith("pass")
    assert cells[3].startswith("-3.00 [") and cells[3].endswith("fail")
    assert cells[4] == "2/3 (67 %)" and cells[5] == "-3.00 (seed 456)"
    assert cells[6] == "FAIL no"
    probe = next(line for line in section.splitlines() if line.startswith("| `probe`"))
    assert "3/3 (100 %)" in probe and "PASS yes" in probe
    html = (project / "reports/promotion.html").read_text()
    assert "Certification across seeds" in html and "2/3 (67 %)" in html


def test_fewer_seeds_than_the_standard_leave_every_variant_blocked(tmp_path):
    _results(tmp_path, {candidate_id(42): 24, candidate_id(42, "per_layer"): 24})
    run_gate(_params(seeds=[42]), tmp_path)
    cert = json.loads((tmp_path / "reports/certification.json").read_text())
    assert cert["safe"] == []
    for variant in ("probe", "per_layer", "uniform_r16"):
        v = cert["variants"][variant]
        assert v["status"] == "BLOCKED" and 123 in v["missing_seeds"]
    md = (tmp_path / "reports/promotion.md").read_text()
    assert "Blocked (not certified until the evidence exists)" in md
    assert "lora-s123-per_layer" in md


def test_cli_certify_recomputes_from_params(project, tmp_path, capsys):
    (project / "params.yaml").write_text(json.dumps(_params().model_dump(mode="json")))
    before = (project / "reports/certification.json").read_bytes()
    (project / "reports/certification.json").unlink()
    assert main(["certify", "--root", str(project)]) == 0
    assert "uniform_r16: not certified" in capsys.readouterr().out
    assert (project / "reports/certification.json").read_bytes() == before
