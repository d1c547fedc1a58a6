"""Every MBPP reference solution, run in the sandbox, against the verdicts on record.

``mbpp_reference_verdicts.json`` (beside this file) holds the verdict of each of the 500
test-split references (task ids 11-510) on its ``test_setup_code`` + ``test_list``, and with
the ``challenge_test_list`` too, plus each sanitized-split reference's; ``failures`` names
every reference that fails its own tests, with the reason. On CPython 3.11 in this sandbox
none fails, under the sandbox's fixed hash seed and under eight others (checked when the
record was made), so the list is empty: a reference that starts failing is an executor
regression until its reason is on record. The whole run takes ~10 s per 500, so CI runs all.

    python tests/test_mbpp_references.py --record   # re-measure and rewrite the record
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import pytest

from promgate.data.loaders import load_mbpp, load_mbpp_sanitized
from promgate.data.schema import Item
from promgate.sandbox import Limits, select_backend
from promgate.scoring.code import score_completions

RECORD = Path(__file__).with_name("mbpp_reference_verdicts.json")
LIMITS = Limits(wall_timeout_s=30.0, cpu_time_s=20)
SLOW_CPU_S = 1.0  # references above this CPU time are listed: a model's answer may be as slow
HASH_SEEDS = range(1, 9)  # besides the sandbox's 0: set-order-dependent tests would show here


def reference_runs(items: list[Item]) -> dict[str, tuple[str, str, float | None]]:
    """Item id -> (verdict, detail, CPU seconds) of its reference solution."""
    scores = score_completions(items, {it.id: [it.target] for it in items}, LIMITS)
    return {s.item_id: (s.runs[0].verdict, s.runs[0].detail, s.runs[0].cpu_s) for s in scores}


def suites(mirror: Path) -> dict[str, list[Item]]:
    mbpp = mirror / "mbpp"
    return {
        "test_list": load_mbpp(mbpp / "mbpp.jsonl", split="test"),
        "with_challenge": load_mbpp(mbpp / "mbpp.jsonl", split="test", include_challenge=True),
        "sanitized": load_mbpp_sanitized(mbpp / "sanitized-mbpp.json", split="test"),
    }


@pytest.fixture(scope="module")
def record() -> dict:
    return json.loads(RECORD.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("suite", "count"), [("test_list", 500), ("with_challenge", 500)])
def test_every_reference_has_its_recorded_verdict(mirror, record, suite, count):
    items = suites(mirror)[suite]
    assert len(items) == count and items[0].id == "mbpp/11" and items[-1].id == "mbpp/510"
    runs = reference_runs(items)
    assert {i: v for i, (v, _, _) in runs.items()} == record["verdicts"][suite]
    failing = {i for i, (v, _, _) in runs.items() if v != "passed"}
    assert failing == set(record["failures"][suite]), "a failure needs its reason on record"


def test_sanitized_references_have_their_recorded_verdicts(mirror, record):
    runs = reference_runs(suites(mirror)["sanitized"])
    assert len(runs) == 257
    assert {i: v for i, (v, _, _) in runs.items()} == record["verdicts"]["sanitized"]


def test_the_record_explains_every_failure(record):
    assert record["hash_seed_failures"] == [], "an order-dependent reference needs its reason"
    for suite, failures in record["failures"].items():
        for item_id, entry in failures.items():
            assert record["verdicts"][suite][item_id] == entry["verdict"] != "passed"
            assert entry["reason"].strip(), f"{suite}/{item_id} has no reason"


def test_slow_references_stay_inside_the_pipelines_cpu_limit(record):
    from promgate.scoring.code import limits_for

    assert record["slow_cpu_s"], "mbpp/123 (amicable numbers to 9999) is slow everywhere"
    limit = limits_for(10.0).cpu_time_s  # eval.code_timeout_s in conf/config.yaml
    assert all(cpu < limit for cpu in record["slow_cpu_s"].values())


def _hash_seed_failures(items: list[Item], seeds: range) -> list[str]:
    """``id@seed`` of each reference that fails under another hash seed (outside the sandbox:
    references are upstream's own code, and the sandbox fixes the seed)."""
    import subprocess
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    from promgate.sandbox.isolation import Interpreter

    python = Interpreter.current().executable

    def fails(job: tuple[Item, int]) -> str | None:
        item, seed = job
        env = {"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": str(seed)}
        with tempfile.TemporaryDirectory() as tmp:
            source = item.target + "\n" + item.tests
            argv = [python, "-S", "-B", "-c", source]
            done = subprocess.run(argv, capture_output=True, env=env, cwd=tmp, timeout=120)
        return None if done.returncode == 0 else f"{item.id}@{seed}"

    with ThreadPoolExecutor(max_workers=2) as pool:
        found = pool.map(fails, [(item, seed) for item in items for seed in seeds])
        return [name for name in found if name is not None]


def _record(mirror: Path) -> dict:
    verdicts, failures, slow = {}, {}, {}
    for suite, items in suites(mirror).items():
        runs = reference_runs(items)
        verdicts[suite] = {i: v for i, (v, _, _) in runs.items()}
        failures[suite] = {
            i: {"verdict": v, "reason": detail}
            for i, (v, detail, _) in runs.items()
            if v != "passed"
        }
        for i, (_, _, cpu) in runs.items():
            if cpu is not None and cpu > SLOW_CPU_S:
                slow[i] = max(slow.get(i, 0.0), round(cpu, 2))
    return {
        "about": (
            "Verdicts of the MBPP reference solutions in promgate's sandbox; written by "
            "`python tests/test_mbpp_references.py --record`. A failure's reason is the "
            "sandbox's detail: edit it into a human explanation when one is added."
        ),
        "python": platform.python_version(),
        "backend": select_backend().name,
        "limits": {"wall_timeout_s": LIMITS.wall_timeout_s, "cpu_time_s": LIMITS.cpu_time_s},
        "slow_cpu_s": slow,
        "hash_seeds_checked": [0, *HASH_SEEDS],
        "hash_seed_failures": _hash_seed_failures(suites(mirror)["with_challenge"], HASH_SEEDS),
        "failures": failures,
        "verdicts": verdicts,
    }


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        sys.exit(__doc__)
    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import find_mirror
    from promgate.io import write_json

    found = find_mirror()
    if found is None:
        sys.exit("set PROMGATE_MIRROR to the benchmark mirror")
    write_json(RECORD, _record(found))
    print(f"wrote {RECORD}")
