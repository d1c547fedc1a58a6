"""`promgate import inspect` on real inspect_ai logs (tests/data/inspect, written by inspect_ai
0.3.285 through its mock model: see make_logs.py there), and on hand-made logs in the older
deflate-compressed layout, broken in each way the importer must refuse."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from promgate.cli import main
from promgate.errors import SchemaError
from promgate.importers.inspect_log import ZIP_ZSTD, read_inspect_log
from promgate.results import read_results

DATA = Path(__file__).resolve().parent / "data" / "inspect"
REPO = Path(__file__).resolve().parent.parent
# make_logs.py: epochs right out of two, per question, for each model.
RIGHT = {
    "baseline": [2, 0, 1, 2, 0, 2, 1, 0, 2, 0],
    "candidate": [2, 1, 2, 2, 0, 2, 2, 1, 2, 1],
}
SAMPLE_IDS = [str(i + 1) if i % 2 else f"q{i + 1}" for i in range(10)]


def test_real_logs_are_zstd_zips_and_import_per_sample():
    with zipfile.ZipFile(DATA / "baseline.eval") as archive:
        assert {i.compress_type for i in archive.infolist()} == {ZIP_ZSTD}
    for name, right in RIGHT.items():
        imported = read_inspect_log(DATA / f"{name}.eval")
        assert (imported.task, imported.scorer, imported.epochs) == ("arith", "match", 2)
        assert imported.accuracy == imported.reported_accuracy == sum(right) / 20
        results = imported.results("m")
        assert [r.id for r in results] == [f"arith/{i}" for i in SAMPLE_IDS]
        assert [r.score for r in results] == [r / 2 for r in right]
        assert [r.n_correct for r in results] == right
        assert all(r.n_samples == 2 and r.correct is None for r in results)
        assert results[0].target == "5"


def test_import_then_gate_reports_the_logs_accuracies(tmp_path, capsys):
    for name in RIGHT:
        argv = ["import", "inspect", str(DATA / f"{name}.eval"), "--out", str(tmp_path / name)]
        assert main([*argv, "--model-id", name]) == 0
    assert "arith (match, 2 epochs) -> arith: n=10 accuracy=0.7500" in capsys.readouterr().out
    summary = json.loads((tmp_path / "candidate" / "inspect_import_arith.json").read_text())
    assert summary["reported_accuracy"] == 0.75 and len(summary["log_sha256"]) == 64
    assert read_results(tmp_path / "candidate" / "arith.jsonl")[1].score == 0.5

    gate = tmp_path / "gate" / "gate.json"
    argv = ["gate", "--root", str(REPO), "--baseline", str(tmp_path / "baseline")]
    argv += ["--candidate", str(tmp_path / "candidate"), "--policy", "miso_v1"]
    assert main([*argv, "--out", str(gate)]) == 0
    report = json.loads(gate.read_text())
    assert report["benchmarks"] == ["arith"]
    arith = report["candidates"]["candidate"]["benchmarks"]["arith"]
    assert (arith["baseline_acc"], arith["candidate_acc"]) == (0.5, 0.75)
    assert arith["delta"] == pytest.approx(0.25)


# -- hand-made logs ------------------------------------------------------------------------


def _sample(sample_id, epoch=1, value="C", scorer="match", **extra):
    scores = {scorer: {"value": value, "answer": "5"}} if scorer else {}
    return {"id": sample_id, "epoch": epoch, "target": "5", "scores": scores, **extra}


def _header(ids, epochs=1, accuracy=None, status="success", **extra):
    header = {
        "version": 2,
        "status": status,
        "eval": {
            "task": "inspect_evals/toy",
            "model": "openai/some-model",
            "config": {"epochs": epochs},
            "dataset": {"samples": len(ids), "sample_ids": ids},
        },
        **extra,
    }
    if accuracy is not None:
        metrics = {"accuracy": {"name": "accuracy", "value": accuracy}}
        header["results"] = {"scores": [{"name": "match", "scorer": "match", "metrics": metrics}]}
    return header


def _eval(path: Path, header, samples, *, with_header=True) -> Path:
    """An .eval zip as inspect_ai wrote them before zstd: deflate members, same names."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_journal/start.json", json.dumps({"version": 2}))
        for sample in samples:
            name = f"samples/{sample['id']}_epoch_{sample['epoch']}.json"
            archive.writestr(name, json.dumps(sample))
        if with_header:
            archive.writestr("header.json", json.dumps(header))
    return path


def test_single_epoch_values_of_every_kind(tmp_path):
    values = {"a": "C", "b": "I", "c": "P", "d": "N", "e": 0.25, "f": True, "g": "yes", "h": "1"}
    samples = [_sample(i, value=v) for i, v in values.items()]
    path = _eval(tmp_path / "x.eval", _header(list(values), accuracy=4.75 / 8), samples)
    results = read_inspect_log(path).results("m")
    assert [r.score for r in results] == [1.0, 0.0, 0.5, 0.0, 0.25, 1.0, 1.0, 1.0]
    assert [r.correct for r in results] == [True, False, None, False, None, True, True, True]
    assert results[0].id == "toy/a"  # the task's last path component names the benchmark


def test_the_older_json_log_reads_the_same(tmp_path):
    log = {**_header(["a", "b"], accuracy=0.5), "samples": [_sample("a"), _sample("b", value="I")]}
    path = tmp_path / "x.json"
    path.write_text(json.dumps(log))
    assert [r.correct for r in read_inspect_log(path).results("m")] == [True, False]


def test_several_scorers_need_a_choice(tmp_path):
    samples = [_sample("a") | {"scores": {"match": {"value": "C"}, "f1": {"value": 0.4}}}]
    path = _eval(tmp_path / "x.eval", _header(["a"]), samples)
    with pytest.raises(SchemaError, match=r"scorers \[f1, match\]; choose one with --scorer"):
        read_inspect_log(path)
    assert read_inspect_log(path, scorer="f1").results("m")[0].score == 0.4


@pytest.mark.parametrize(
    ("header", "samples", "message", "field"),
    [
        (_header(["a"], status="error"), [_sample("a")], "status is 'error'", "status"),
        (_header(["a"], invalidated=True), [_sample("a")], "invalidated", "invalidated"),
        (
            _header(["a", "b"], epochs=2),
            [_sample("a", e) for e in (1, 2)] + [_sample("b")],
            r"1 sample epochs missing \(b#2\)",
            "samples",
        ),
        (
            _header(["a"]),
            [_sample("a"), _sample("zz")],
            "not in the header's sample_ids",
            "eval.dataset.sample_ids",
        ),
        (_header(["a"]), [_sample("a", error={"message": "boom"})], "errored \\(boom\\)", "error"),
        (_header(["a"]), [_sample("a", value="X")], "'X' is not C/I/P/N", "scores.match.value"),
        (_header(["a"]), [_sample("a", value=1.5)], "outside \\[0, 1\\]", "scores.match.value"),
        (_header(["a"]), [_sample("a", value={"x": 1})], "scalars only", "scores.match.value"),
        (_header(["a"], accuracy=0.9), [_sample("a", value="I")], "inconsistent", "results"),
        (_header(["a"]), [], "no samples", None),
    ],
)
def test_bad_logs_are_refused_naming_the_field(tmp_path, header, samples, message, field):
    path = _eval(tmp_path / "bad.eval", header, samples)
    with pytest.raises(SchemaError, match=message) as err:
        read_inspect_log(path)
    assert err.value.field == field and err.value.path == str(path)


def test_a_missing_header_or_a_non_zip_is_refused(tmp_path):
    path = _eval(tmp_path / "running.eval", _header(["a"]), [_sample("a")], with_header=False)
    with pytest.raises(SchemaError, match=r"no header\.json"):
        read_inspect_log(path)
    (tmp_path / "junk.eval").write_text("not a zip")
    with pytest.raises(SchemaError, match=r"not an inspect \.eval log"):
        read_inspect_log(tmp_path / "junk.eval")


def test_a_corrupted_zstd_member_is_refused(tmp_path):
    path = shutil.copy(DATA / "baseline.eval", tmp_path / "broken.eval")
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("samples/q3_epoch_2.json")
    data = bytearray(Path(path).read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    data[middle : middle + 8] = bytes(8)
    Path(path).write_bytes(bytes(data))
    with pytest.raises(SchemaError, match=r"samples/q3_epoch_2\.json"):
        read_inspect_log(path)
