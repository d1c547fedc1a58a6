"""Time the supply_check and attest steps on a project shaped like the default run; print JSON.

    python bench/attest_time.py [--repeats 3] [--out bench/attest_time.json]

The project (7 benchmarks x 100 items, 3 seeds, 1.8 MB LoRA adapters like r=8 q,v on
SmolLM2-135M) is built by tests/supply_helpers.py, not by the pipeline, so this measures
the supply steps alone: the environment SBOM as promgate makes it (cyclonedx-py, no schema
validation) against cyclonedx-py's default (validated), the pre-gate ``run_supply_check``
(SBOM, secret scan, checkpoint signing, base-model provenance), the whole ``run_attest`` and
``promgate verify`` (which recomputes the gate). Medians of the repeats. The base model is a
small stand-in folder: on the real 538 MB models/base, supply_check's tree digest adds ~0.7 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from promgate.supply.attest import run_attest  # noqa: E402
from promgate.supply.check import run_supply_check  # noqa: E402
from promgate.supply.sbom import SPEC_VERSION, environment_sbom  # noqa: E402
from promgate.supply.verify import verify_attestations  # noqa: E402
from supply_helpers import make_project  # noqa: E402

BENCHES = ("arc_easy", "arc_challenge", "mmlu", "winogrande", "piqa", "gsm8k", "humaneval")
# 30 layers x (q_proj A+B: 8x576 + 576x8, v_proj A+B: 8x576 + 192x8) fp32 = 1.8 MB
ADAPTER_BYTES = 30 * (8 * 576 + 576 * 8 + 8 * 576 + 192 * 8) * 4


def _median(fn, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(round(time.perf_counter() - started, 3))
    return statistics.median(times), times


def _validated_sbom(out: Path) -> None:
    """The alternative: cyclonedx-py's default run, which validates against the schema."""
    cmd = [sys.executable, "-m", "cyclonedx_py", "environment", "--sv", SPEC_VERSION]
    cmd += ["--of", "JSON", "--output-reproducible", "-o", str(out), sys.executable]
    subprocess.run(cmd, check=True, capture_output=True)


def _steps(timings: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(t[k] for t in timings) for k in timings[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="promgate-attest-bench-") as scratch:
        root = make_project(
            Path(scratch) / "p", seeds=(42, 123, 456), benches=BENCHES, n=100, flips=8,
            adapter_bytes=ADAPTER_BYTES, resamples=10_000,
        )  # fmt: skip
        sbom_s, sbom_all = _median(
            lambda: environment_sbom(Path(scratch) / "env.json", pyproject=ROOT / "pyproject.toml"),
            args.repeats,
        )
        validated_s, validated_all = _median(
            lambda: _validated_sbom(Path(scratch) / "env-validated.json"), args.repeats
        )
        checks = []
        supply_s, supply_all = _median(lambda: checks.append(run_supply_check(root)), args.repeats)
        summaries = []
        attest_s, attest_all = _median(lambda: summaries.append(run_attest(root)), args.repeats)
        verify_s, verify_all = _median(
            lambda: verify_attestations(root).raise_first(), args.repeats
        )
    flags = ("sbom_verified", "checkpoints_signed", "provenance_complete")
    result = {
        # Other jobs on the machine slow every figure: the load average says how busy it was.
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
        "project": {
            "benchmarks": len(BENCHES),
            "items": 100,
            "seeds": 3,
            "adapter_bytes": ADAPTER_BYTES,
            "bootstrap_resamples": 10_000,
        },
        "repeats": args.repeats,
        "sbom_environment_s": sbom_s,
        "sbom_environment_validated_s": validated_s,
        "supply_check_total_s": supply_s,
        "supply_check_steps_s": _steps([c.timings_s for c in checks]),
        "supply_check_flags": {f: checks[-1].evidence[f] for f in flags},
        "attest_total_s": attest_s,
        "attest_steps_s": _steps([s.timings_s for s in summaries]),
        "verify_s": verify_s,
        "all_runs_s": {
            "sbom": sbom_all,
            "sbom_validated": validated_all,
            "supply_check": supply_all,
            "attest": attest_all,
            "verify": verify_all,
        },
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
