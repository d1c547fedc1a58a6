"""Forest plot of a promotion: per-benchmark Δ with its CI, per candidate, against the policy.

One panel per candidate, one row per benchmark plus the macro average. The solid line is
Δ = 0; the long dashed line is the per-benchmark regression floor, drawn across the
benchmark rows only; a short dashed tick on each row marks that benchmark's improvement
target (targets differ per benchmark). The grey band behind a row spans ±MDE, the effects
the benchmark cannot tell from noise at its n; an underpowered row says so at its right.
The average is judged by its own gate (a dotted tick on the average row).

The figure is built with the object-oriented API on an Agg canvas, never through pyplot, so
rendering touches no global backend or figure registry. The SVG is byte-stable run to run:
a fixed ``svg.hashsalt`` makes the generated ids deterministic and the date is left out of
the metadata.
"""

from __future__ import annotations

import io

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from promgate.gates.outcome import Status
from promgate.gates.policy import Gates
from promgate.gates.report import BenchmarkStats, CandidateReport, GateReport

_SVG_RC = {
    "svg.hashsalt": "promgate-forest",
    # Text stays text: searchable, smaller, and free of the font's glyph outlines.
    "svg.fonttype": "none",
    "font.size": 9,
}
_STATUS_COLOUR = {
    Status.PASS: "#1a7f37",
    Status.FAIL: "#cf222e",
    Status.BLOCKED: "#bf8700",
    Status.WAIVED: "#6e7781",
}
_MDE_COLOUR = "#eaeef2"
_THRESHOLD_COLOUR = "#6e7781"
_ROW_INCHES = 0.32
_PANEL_PAD_INCHES = 0.9
AVERAGE_LABEL = "macro average"


def ci_gid(candidate: str, benchmark: str) -> str:
    """The SVG id of one benchmark's CI bar, so the bars can be found in the output."""
    return f"ci-{candidate}-{benchmark}"


def average_gid(candidate: str) -> str:
    return f"ci-average-{candidate}"


def mde_gid(candidate: str, benchmark: str) -> str:
    return f"mde-{candidate}-{benchmark}"


def _gate_status(cand: CandidateReport, gate: str, benchmark: str | None) -> Status | None:
    return next(
        (o.status for o in cand.outcomes if o.gate == gate and o.benchmark == benchmark), None
    )


def _no_evidence(ax: Axes, y: float, status: Status | None) -> None:
    # Text at the left edge (axes x, data y): a blocked row has no Δ to place.
    label = f"no estimate ({status.value if status else 'not evaluated'})"
    ax.text(
        0.01,
        y,
        label,
        transform=ax.get_yaxis_transform(),
        va="center",
        color="#9a6700",
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
    )


def _colour(status: Status | None) -> str:
    return _STATUS_COLOUR.get(status, _THRESHOLD_COLOUR) if status else _THRESHOLD_COLOUR


def _ci_row(
    ax: Axes,
    y: float,
    ci: tuple[float, float, float],
    status: Status | None,
    gid: str,
    marker: str = "o",
) -> None:
    lo, mid, hi = ci
    colour = _colour(status)
    ax.plot([lo, hi], [y, y], color=colour, linewidth=2, solid_capstyle="butt", gid=gid)
    ax.plot([mid], [y], marker=marker, markersize=5, color=colour, linestyle="none")


def _power_band(ax: Axes, y: float, cid: str, st: BenchmarkStats) -> None:
    if st.mde_pp is not None:
        ax.fill_betweenx(
            [y - 0.3, y + 0.3],
            -st.mde_pp,
            st.mde_pp,
            color=_MDE_COLOUR,
            gid=mde_gid(cid, st.benchmark),
        )
    if st.underpowered:
        mde = "∞" if st.mde_pp is None else f"{st.mde_pp:.1f} pp"
        ax.text(
            0.99,
            y,
            f"underpowered: MDE {mde}",
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            color="#9a6700",
            fontsize=7,
        )


def _benchmark_rows(ax: Axes, cid: str, cand: CandidateReport, benchmarks: list[str]) -> None:
    for y, bench in enumerate(benchmarks):
        status = _gate_status(cand, "per_benchmark", bench)
        st = cand.benchmarks.get(bench)
        if st is None:
            _no_evidence(ax, y, status)
            continue
        _power_band(ax, y, cid, st)
        ci = (st.ci_low_pp, st.delta_pp, st.ci_high_pp)
        _ci_row(ax, y, ci, status, ci_gid(cid, bench))


def _average_row(ax: Axes, y: float, cid: str, cand: CandidateReport, gates: Gates) -> None:
    ax.axhline(y - 0.5, color="#d0d7de", linewidth=0.8)
    avg, status = cand.average, _gate_status(cand, "average_delta", None)
    if avg is None:
        _no_evidence(ax, y, status)
        return
    ci = (avg.ci_low_pp, avg.delta_pp, avg.ci_high_pp)
    _ci_row(ax, y, ci, status, average_gid(cid), marker="D")
    if gates.average_delta is not None:
        ax.vlines(
            gates.average_delta.min_delta_pp,
            y - 0.4,
            y + 0.4,
            colors=_THRESHOLD_COLOUR,
            linestyles=":",
        )


def _thresholds(ax: Axes, benchmarks: list[str], gates: Gates) -> None:
    ax.axvline(0.0, color="black", linewidth=0.8)
    pb = gates.per_benchmark
    ax.vlines(
        pb.max_regression_pp, -0.5, len(benchmarks) - 0.5, colors=_THRESHOLD_COLOUR, linestyles="--"
    )
    for y, bench in enumerate(benchmarks):
        ax.vlines(pb.target_for(bench), y - 0.4, y + 0.4, colors=_THRESHOLD_COLOUR, linestyles="--")


def _panel(ax: Axes, cid: str, cand: CandidateReport, benchmarks: list[str], gates: Gates) -> None:
    _thresholds(ax, benchmarks, gates)
    _benchmark_rows(ax, cid, cand, benchmarks)
    labels = list(benchmarks)
    if gates.average_delta is not None or cand.average is not None:
        _average_row(ax, len(benchmarks), cid, cand, gates)
        labels.append(AVERAGE_LABEL)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.4, -0.6)  # first benchmark on top, average last
    ax.set_title(f"{cid}: {cand.decision.value}", loc="left", fontsize=10)
    ax.grid(axis="x", color="#eaeef2", linewidth=0.6)
    ax.set_axisbelow(True)


def _legend(fig: Figure, confidence: float, gates: Gates) -> None:
    pb, avg = gates.per_benchmark, gates.average_delta
    handles = [
        Line2D([], [], color=_STATUS_COLOUR[Status.PASS], marker="o", lw=2, label="gate PASS"),
        Line2D([], [], color=_STATUS_COLOUR[Status.FAIL], marker="o", lw=2, label="gate FAIL"),
        Line2D([], [], color=_STATUS_COLOUR[Status.BLOCKED], marker="o", lw=2, label="BLOCKED"),
        Line2D([], [], color=_THRESHOLD_COLOUR, marker="D", lw=2, label="macro average"),
        Line2D(
            [],
            [],
            color=_THRESHOLD_COLOUR,
            ls="--",
            label=f"target (tick) / floor {pb.max_regression_pp:+g} pp",
        ),
        Line2D([], [], color=_MDE_COLOUR, lw=6, label="±MDE"),
    ]
    if avg is not None:
        label = f"average: {avg.min_delta_pp:+g} pp"
        handles.append(Line2D([], [], color=_THRESHOLD_COLOUR, ls=":", label=label))
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=3,
        frameon=False,
        title=f"point = Δ, bar = {confidence:.0%} CI",
    )


def forest_figure(report: GateReport, gates: Gates) -> Figure:
    """The forest plot as a Figure (inspectable before it is saved)."""
    rows = len(report.benchmarks) + 1
    panels = max(len(report.candidates), 1)
    height = panels * (rows * _ROW_INCHES + _PANEL_PAD_INCHES) + 1.0
    fig = Figure(figsize=(7.0, height), layout="constrained")
    FigureCanvasAgg(fig)
    if not report.candidates:
        fig.text(0.5, 0.5, "no candidates to plot", ha="center", va="center")
        return fig
    axes = fig.subplots(len(report.candidates), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (cid, cand) in zip(axes, report.candidates.items(), strict=True):
        _panel(ax, cid, cand, report.benchmarks, gates)
    axes[-1].set_xlabel("Δ accuracy, candidate − baseline (percentage points)")
    _legend(fig, report.method.confidence, gates)
    return fig


def forest_plot_svg(report: GateReport, gates: Gates) -> str:
    """The forest plot as SVG text, identical bytes for identical inputs."""
    with matplotlib.rc_context(_SVG_RC):
        fig = forest_figure(report, gates)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()
