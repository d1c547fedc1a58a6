"""The recomputed gate equals what the gate stage wrote, byte for byte; differences are located."""

from __future__ import annotations

import yaml

from promgate.supply.recompute import (
    GATE_OUTPUTS,
    first_difference,
    first_differing_line,
    recomputed_outputs,
)
from supply_helpers import make_project


def test_recompute_reproduces_the_gate_stage_outputs_and_touches_nothing(tmp_path):
    root = make_project(tmp_path / "p", seeds=(3,), flips=-20)
    params = yaml.safe_load((root / "params.yaml").read_text())
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    with recomputed_outputs(root, params) as scratch:
        for rel in GATE_OUTPUTS:
            assert (scratch / rel).read_bytes() == (root / rel).read_bytes(), rel
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before


def test_first_difference_names_the_path():
    a = {"x": {"y": [1, 2, {"z": 0.5}]}, "k": "v"}
    assert first_difference(a, a) is None
    assert first_difference(a, {"x": {"y": [1, 2, {"z": 0.25}]}, "k": "v"}) == "x.y[2].z"
    assert first_difference(a, {"x": {"y": [1, 2]}, "k": "v"}) == "x.y (length)"
    assert first_difference(a, {"x": a["x"]}) == "k"
    assert first_difference({"n": 1}, {"n": 1.0}) == "n"


def test_first_differing_line():
    assert first_differing_line("a\nb\nc", "a\nb\nc") is None
    assert first_differing_line("a\nb\nc", "a\nB\nc") == 2
    assert first_differing_line("a\nb", "a\nb\nc") == 3
