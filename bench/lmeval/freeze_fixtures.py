"""Freeze small test fixtures from a real lm-eval run (made with bench/lmeval/run.sh).

    python bench/lmeval/freeze_fixtures.py run LMEVAL_OUTPUT [--to tests/data/lmeval_slice/run]
    python bench/lmeval/freeze_fixtures.py slice LMEVAL_OUTPUT [--per-task 20]
                                           [--to tests/data/lmeval_slice/parity_slice.json]

``run`` copies one run's results and samples files; from the results file it keeps what an
import reads and what identifies the run, and drops the bulky rest (``configs``, which
embeds the task functions' source, and ``pretty_env_info``). Samples are copied as they are.
``slice`` keeps, for the first ``per-task`` docs of each task, the promgate item id and
lm-eval's per-choice log-likelihoods and verdict: what tests/test_lmeval_parity_slice.py
compares promgate's scorer against, without lm-eval installed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from promgate.importers.lm_eval import find_runs, import_lm_eval  # noqa: E402

KEEP = (
    "results",
    "group_subtasks",
    "versions",
    "n-shot",
    "higher_is_better",
    "n-samples",
    "config",
    "date",
    "transformers_version",
    "lm_eval_version",
    "max_length",
    "model_source",
    "model_name",
    "model_name_sanitized",
    "task_hashes",
)


def freeze_run(source: Path, to: Path) -> None:
    runs = find_runs(source)
    if len(runs) != 1:
        raise SystemExit(f"{source}: {len(runs)} runs; freeze one")
    run = runs[0]
    to.mkdir(parents=True, exist_ok=True)
    kept = {k: run.results[k] for k in KEEP if k in run.results}
    (to / run.results_path.name).write_text(json.dumps(kept, indent=2) + "\n", encoding="utf-8")
    for path in run.samples.values():
        shutil.copyfile(path, to / path.name)


def freeze_slice(source: Path, per_task: int, to: Path) -> None:
    imported = import_lm_eval(source)
    rows = []
    for items in imported.items.values():
        by_task: dict[str, list] = {}
        for item in sorted(items, key=lambda i: i.doc_id):
            by_task.setdefault(item.task, []).append(item)
        for task, chosen in sorted(by_task.items()):
            rows += [
                {
                    "id": i.item.id,
                    "task": task,
                    "doc_id": i.doc_id,
                    "acc": i.acc,
                    "logprobs": i.logprobs,
                }
                for i in chosen[:per_task]
            ]
    head = {"lm_eval_version": imported.lm_eval_version, "model_name": imported.model_name}
    # One item per line: small, and a refreeze diffs line by line.
    lines = [json.dumps(head)[:-1] + ', "items": [']
    lines += [" " + json.dumps(row) + "," for row in rows]
    lines[-1] = lines[-1].rstrip(",")
    to.parent.mkdir(parents=True, exist_ok=True)
    to.write_text("\n".join([*lines, "]}"]) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    run = sub.add_parser("run")
    run.add_argument("source", type=Path)
    run.add_argument("--to", type=Path, default=ROOT / "tests/data/lmeval_slice/run")
    cut = sub.add_parser("slice")
    cut.add_argument("source", type=Path)
    cut.add_argument("--per-task", type=int, default=20)
    cut.add_argument("--to", type=Path, default=ROOT / "tests/data/lmeval_slice/parity_slice.json")
    args = parser.parse_args()
    if args.what == "run":
        freeze_run(args.source, args.to)
    else:
        freeze_slice(args.source, args.per_task, args.to)


if __name__ == "__main__":
    main()
