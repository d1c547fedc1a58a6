"""Time each stage of a promotion run in a scratch copy of the repository; print JSON.

    python bench/stage_times.py [--profile default] [--out bench/stage_times.json] [--keep DIR]

Stages run one at a time in pipeline order (`dvc repro --single-item`), so each figure is
that stage alone; then a second `dvc repro` measures the up-to-date check. ``--keep`` copies
the run's reports/ and metrics/ out of the scratch clone before it is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from e2e_helpers import run, scratch_clone, user_env  # noqa: E402


def stage_order(repo: Path, env: dict[str, str]) -> list[str]:
    """Stages in execution order, as `dvc repro --dry` prints them."""
    dry = run(["dvc", "repro", "--dry", "--force"], repo, env).stdout
    return [line.split("'")[1] for line in dry.splitlines() if line.startswith("Running stage")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="default")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="copy reports/ and metrics/ here")
    args = parser.parse_args()
    env = user_env()
    if "PROMGATE_MIRROR" not in env:
        sys.exit("set PROMGATE_MIRROR to the benchmark mirror")
    with tempfile.TemporaryDirectory(prefix="promgate-bench-") as scratch:
        repo = scratch_clone(Path(scratch))
        run(["promgate", "config", "sync", f"profile={args.profile}"], repo, env)
        timings: dict[str, float] = {}
        for stage in stage_order(repo, env):
            started = time.perf_counter()
            run(["dvc", "repro", "--single-item", stage], repo, env)
            timings[stage] = round(time.perf_counter() - started, 2)
            print(f"{stage}: {timings[stage]} s", file=sys.stderr)
        started = time.perf_counter()
        noop = run(["dvc", "repro"], repo, env).stdout
        noop_s = round(time.perf_counter() - started, 2)
        decision = json.loads((repo / "reports/gate.json").read_text())["decision"]
        if args.keep:
            for folder in ("reports", "metrics"):
                shutil.copytree(repo / folder, args.keep / folder, dirs_exist_ok=True)
    result = {
        "benchmark": "stage_times",
        "profile": args.profile,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "processor": platform.machine(),
        },
        "stages_s": timings,
        "total_s": round(sum(timings.values()), 2),
        "noop_repro_s": noop_s,
        "noop_repro_ran_nothing": "Running stage" not in noop,
        "decision": decision,
    }
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
