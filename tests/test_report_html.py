"""reports/promotion.html: one self-contained page that says what promotion.md says."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from gate_helpers import BENCHES, POLICY, suite
from promgate.gates.evaluate import evaluate_promotion
from promgate.gates.report import GateReport
from promgate.report.html import render_promotion_html

EVIL = "<script>alert(1)</script>"


class _Page(HTMLParser):
    """Table rows as lists of cell texts, plus every tag and attribute seen."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _report(root: Path, shifts: dict[str, dict[str, int]], **kwargs) -> GateReport:
    dirs = suite(root, shifts)
    return evaluate_promotion(root / "baseline", dirs, BENCHES, POLICY, **kwargs)


@pytest.mark.parametrize(
    ("shifts", "decision", "badge", "words"),
    [
        ({"c": {"arc": 24, "mmlu": 24}}, "GO", "go", "may replace the baseline"),
        ({"c": {"arc": 24, "mmlu": -8}}, "NO_GO", "nogo", "must not replace the baseline"),
        ({}, "BLOCKED", "blocked", "no decision can be made"),
    ],
)
def test_the_decision_comes_first_with_its_badge(tmp_path, shifts, decision, badge, words):
    page = render_promotion_html(_report(tmp_path, shifts), POLICY)
    assert f"<title>Promotion decision: {decision}</title>" in page
    h1 = page[page.index("<h1>") : page.index("</h1>")]
    assert f'<span class="badge {badge}">{decision}</span>' in h1
    assert page.index(words) < page.index("<section>")  # before any evidence


def test_names_the_policy_and_its_digest(tmp_path):
    report = _report(tmp_path, {"c": {"arc": 24, "mmlu": 24}})
    page = render_promotion_html(report, POLICY)
    assert f"<code>{POLICY.name}</code> v{POLICY.version}" in page
    assert report.policy.sha256 in page


def test_every_benchmark_of_every_candidate_has_a_row(tmp_path):
    report = _report(tmp_path, {"a": {"arc": 24, "mmlu": 20}, "b": {"arc": 24, "mmlu": -8}})
    rows = _Page(render_promotion_html(report, POLICY)).rows
    bench_rows = [r for r in rows if r and r[0] in BENCHES]
    assert [r[0] for r in bench_rows] == BENCHES * 2
    st = report.candidates["a"].benchmarks["arc"]
    ci = f"[{st.ci_low_pp:+.2f}, {st.ci_high_pp:+.2f}]"
    assert bench_rows[0][:6] == ["arc", "400", "50.0 %", "56.0 %", "+6.00", ci]
    assert bench_rows[0][6:8] == [f"{st.p_value:.2g}", f"{st.p_adjusted:.2g}"]
    assert bench_rows[0][8] == ("∞" if st.mde_pp is None else f"{st.mde_pp:.2f}")
    assert bench_rows[0][10:] == ["+24 / −0", "PASS IMPROVED (warning)"]
    assert bench_rows[3][11] == "FAIL REGRESSION (warning)"


def test_failed_and_blocked_gates_carry_their_actions(tmp_path):
    dirs = suite(tmp_path, {"bad": {"arc": 24, "mmlu": -8}, "gone": {}})
    (dirs["gone"] / "mmlu.jsonl").unlink()
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    rows = _Page(render_promotion_html(report, POLICY)).rows
    actions = {
        (r[0], r[1], r[2]): r[7]
        for r in rows
        if len(r) == 8 and r[1] in ("per_benchmark", "average_delta")
    }
    assert actions[("bad", "per_benchmark", "mmlu")] == "investigate the regression"
    assert actions[("gone", "per_benchmark", "mmlu")] == "repair the evidence"
    assert actions[("gone", "average_delta", "–")] == "repair the evidence"
    gone_mmlu = next(r for r in rows if r[:2] == ["mmlu", "–"])
    assert gone_mmlu[11] == "BLOCKED MISSING_EVIDENCE"


def test_text_from_the_evidence_is_escaped(tmp_path):
    report = _report(tmp_path, {"c": {"arc": 24, "mmlu": -8}}, baseline_id=EVIL)
    failing = next(o for o in report.outcomes if o.status.value == "FAIL")
    failing.message = f"mmlu: {EVIL} & more"  # messages quote file contents
    page = render_promotion_html(report, POLICY)
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in page  # the baseline id


def test_the_plot_is_inline_and_nothing_is_fetched(tmp_path):
    page = render_promotion_html(_report(tmp_path, {"c": {"arc": 24, "mmlu": 24}}), POLICY)
    tags = _Page(page).tags
    assert sum(tag == "svg" for tag, _ in tags) == 1
    assert page.index("<figure>") < page.index("<svg") < page.index("</figure>")
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    assert not any(tag in ("link", "script", "img", "iframe") for tag, _ in tags)
    refs = [v for _, attrs in tags for k, v in attrs.items() if k in ("href", "xlink:href", "src")]
    assert all(v and v.startswith("#") for v in refs)


def test_rendering_twice_gives_identical_bytes(tmp_path):
    report = _report(tmp_path, {"c": {"arc": 24, "mmlu": 3}})
    first = render_promotion_html(report, POLICY).encode()
    assert render_promotion_html(report, POLICY).encode() == first


def test_refuses_a_policy_other_than_the_one_applied(tmp_path):
    report = _report(tmp_path, {"c": {"arc": 24, "mmlu": 24}})
    looser = POLICY.model_validate(
        {**POLICY.model_dump(), "gates": {"per_benchmark": {"max_regression_pp": -5.0}}}
    )
    with pytest.raises(ValueError, match="not the one the report was judged under"):
        render_promotion_html(report, looser)


def test_seeds_warnings_and_calibration_sections(tmp_path):
    report = _report(tmp_path, {"lora-s1": {"arc": 24, "mmlu": 20}, "lora-s2": {"arc": 8}})
    page = render_promotion_html(report, POLICY)
    headings = [
        h for h in ("Seeds", "Suite gates", "Warnings", "Forest plot") if f"<h2>{h}</h2>" in page
    ]
    assert headings == ["Seeds", "Suite gates", "Warnings", "Forest plot"]
    rows = _Page(page).rows
    seed_rows = [r for r in rows if r and r[0] in ("1", "2")]
    assert [r[1:3] for r in seed_rows] == [["lora-s1", "GO"], ["lora-s2", "NO_GO"]]
