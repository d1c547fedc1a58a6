"""The prepare stage as a user runs it (a subprocess in a scratch copy): errors, exit codes."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from e2e_helpers import run, scratch_clone, user_env

BENCHMARK_DIRS = ["arc", "mmlu", "winogrande", "piqa", "gsm8k", "humaneval"]
ARC_EASY_TEST = "arc/ARC-Easy/ARC-Easy-Test.jsonl"


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    path = scratch_clone(tmp_path_factory.mktemp("stage"))
    run(["promgate", "config", "sync", "profile=smoke"], path)
    return path


@pytest.fixture
def mirror_copy(mirror, tmp_path) -> Path:
    for name in BENCHMARK_DIRS:
        shutil.copytree(mirror / name, tmp_path / "mirror" / name)
    return tmp_path / "mirror"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_prepare_stage_succeeds_on_the_mirror(repo, mirror):
    run(["python", "stages/prepare.py"], repo, user_env(PROMGATE_MIRROR=str(mirror)))
    manifest = json.loads((repo / "data/prepared/manifest.json").read_text())
    assert manifest["benchmarks"]["arc_easy"]["n_sampled"] == 4


def test_corrupt_line_names_file_line_and_field(repo, mirror_copy):
    path = mirror_copy / ARC_EASY_TEST
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    record = json.loads(lines[6])
    del record["question"]["stem"]
    lines[6] = json.dumps(record) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    result = run(
        ["python", "stages/prepare.py"],
        repo,
        user_env(PROMGATE_MIRROR=str(mirror_copy)),
        check=False,
    )
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert str(path) in last and "line 7" in last and "stem" in last


def test_no_mirror_and_no_network_gives_one_clear_message(repo, tmp_path):
    env = user_env(
        PROMGATE_CACHE=str(tmp_path / "cache"),
        PROMGATE_DOWNLOAD_BASE=f"http://127.0.0.1:{_closed_port()}",
    )
    env.pop("PROMGATE_MIRROR", None)
    result = run(["python", "stages/prepare.py"], repo, env, check=False)
    assert result.returncode == 4
    errors = [line for line in result.stderr.splitlines() if line.startswith("promgate:")]
    assert len(errors) == 1
    assert "export PROMGATE_MIRROR=" in errors[0]
    assert "Traceback" not in result.stderr
