"""The forest plot: valid, deterministic SVG with one CI bar per benchmark per candidate."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from matplotlib.collections import LineCollection

from gate_helpers import POLICY, policy_with, suite
from promgate.gates.evaluate import evaluate_promotion
from promgate.gates.report import GateReport
from promgate.report.plots import (
    AVERAGE_LABEL,
    ci_gid,
    forest_figure,
    forest_plot_svg,
    mde_gid,
)

BENCHES = ["arc", "gsm8k", "mmlu"]
SHIFTS = {"s0": {"arc": 24, "gsm8k": 12, "mmlu": -8}, "s1": {"arc": 30, "gsm8k": 20, "mmlu": 16}}
SVG_G = "{http://www.w3.org/2000/svg}g"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> GateReport:
    root = tmp_path_factory.mktemp("plots")
    dirs = suite(root, SHIFTS, benches=BENCHES)
    return evaluate_promotion(root / "baseline", dirs, BENCHES, POLICY)


def _ids(svg: str) -> list[str]:
    return [g.get("id", "") for g in ET.fromstring(svg).iter(SVG_G)]


def test_svg_parses_and_has_one_ci_bar_per_benchmark_per_candidate(report):
    ids = _ids(forest_plot_svg(report, POLICY.gates))
    expected = {ci_gid(cid, bench) for cid in SHIFTS for bench in BENCHES}
    bars = [i for i in ids if i.startswith("ci-") and not i.startswith("ci-average-")]
    assert sorted(bars) == sorted(expected)  # each exactly once
    assert sorted(i for i in ids if i.startswith("ci-average-")) == [
        "ci-average-s0",
        "ci-average-s1",
    ]


def test_each_bar_spans_the_reported_ci(report):
    fig = forest_figure(report, POLICY.gates)
    lines = {ln.get_gid(): ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid()}
    st = report.candidates["s0"].benchmarks["mmlu"]
    assert list(lines[ci_gid("s0", "mmlu")].get_xdata()) == [st.ci_low_pp, st.ci_high_pp]


def test_panels_show_the_policy_thresholds_and_the_average_row(tmp_path):
    policy = POLICY.model_validate(
        {
            **POLICY.model_dump(),
            "gates": {
                "per_benchmark": {"min_improvement_pp": 2.5, "max_regression_pp": -1.5},
                "average_delta": {"min_delta_pp": 3.5},
            },
        }
    )
    dirs = suite(tmp_path, SHIFTS, benches=BENCHES)
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, policy)
    fig = forest_figure(report, policy.gates)
    assert len(fig.axes) == len(SHIFTS)
    for ax in fig.axes:
        xs = {
            float(seg[0][0])
            for coll in ax.collections
            if isinstance(coll, LineCollection)
            for seg in coll.get_segments()
        }
        assert xs == {2.5, -1.5, 3.5}
        assert [t.get_text() for t in ax.get_yticklabels()] == [*BENCHES, AVERAGE_LABEL]
        assert any(list(ln.get_xdata()) == [0.0, 0.0] for ln in ax.get_lines())  # Δ = 0


def test_a_blocked_benchmark_has_no_bar_but_says_so(tmp_path):
    dirs = suite(tmp_path, SHIFTS, benches=BENCHES)
    (dirs["s1"] / "gsm8k.jsonl").unlink()
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    svg = forest_plot_svg(report, POLICY.gates)
    ids = _ids(svg)
    assert ci_gid("s1", "gsm8k") not in ids and ci_gid("s1", "arc") in ids
    assert "ci-average-s1" not in ids
    assert svg.count("no estimate (BLOCKED)") == 2  # the benchmark and the average


def test_the_svg_is_byte_identical_run_to_run(report):
    a, b = forest_plot_svg(report, POLICY.gates), forest_plot_svg(report, POLICY.gates)
    assert a == b
    assert "<dc:date>" not in a


def test_no_candidates_still_gives_an_svg(tmp_path):
    suite(tmp_path, {}, benches=BENCHES)
    report = evaluate_promotion(tmp_path / "baseline", {}, BENCHES, POLICY)
    svg = forest_plot_svg(report, POLICY.gates)
    assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"
    assert "no candidates to plot" in svg


def test_each_row_has_its_mde_band_and_its_own_target(tmp_path):
    policy = policy_with(gates={"per_benchmark": {"targets": {"gsm8k": 7.0}}})
    dirs = suite(tmp_path, SHIFTS, benches=BENCHES)
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, policy)
    svg = forest_plot_svg(report, policy.gates)
    ids = _ids(svg)
    for cid, cand in report.candidates.items():
        for bench, st in cand.benchmarks.items():
            assert (mde_gid(cid, bench) in ids) is (st.mde_pp is not None)
    assert "underpowered: MDE" in svg
    ax = forest_figure(report, policy.gates).axes[0]
    ticks = {
        (float(seg[0][0]), round(float(seg[0][1]) + 0.4, 6))
        for coll in ax.collections
        if isinstance(coll, LineCollection)
        for seg in coll.get_segments()
    }
    assert (7.0, 1.0) in ticks and (2.0, 0.0) in ticks  # gsm8k is row 1, arc row 0
