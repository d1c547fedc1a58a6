"""Time lm-eval-harness's evaluation of bench/lmeval/tasks/ with the model already loaded.

Run by bench/lmeval_throughput.py with the Python that has lm-eval (0.4.x) installed:

    python bench/lmeval/time_lmeval.py --model DIR --tasks T1,T2 --limit N --out DIR
                                       [--device cpu] [--batch-size 16] [--repeats 3]

The model is loaded once (HFLM, fp32) and the tasks once. A first, untimed run logs samples
into --out (results_*.json + samples_*.jsonl, as the CLI writes them) so the caller can map
the docs to promgate items; then ``--repeats`` timed runs of ``lm_eval.evaluator.evaluate``
(request building, the model, metrics). The last stdout line is JSON: per-run seconds and
the items per task.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--tasks", required=True)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--out", required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import lm_eval
    from lm_eval.evaluator import evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    model = str(Path(args.model).resolve())
    lm = HFLM(pretrained=model, dtype="float32", device=args.device, batch_size=args.batch_size)
    names = args.tasks.split(",")
    manager = TaskManager(include_path=str(HERE / "tasks"))

    tracker = EvaluationTracker(output_path=args.out)
    results = lm_eval.simple_evaluate(
        model=lm,
        tasks=names,
        task_manager=manager,
        limit=args.limit,
        log_samples=True,
        bootstrap_iters=0,
        evaluation_tracker=tracker,
    )
    samples = results.pop("samples")
    tracker.general_config_tracker.model_name = model
    tracker.general_config_tracker.model_name_sanitized = "model"
    results["model_name"] = model
    tracker.save_results_aggregated(results=results, samples=samples)
    for task in results["configs"]:
        tracker.save_results_samples(task_name=task, samples=samples[task])

    loaded = manager.load(names)
    seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        evaluate(lm, loaded, limit=args.limit, log_samples=False, bootstrap_iters=0)
        seconds.append(time.perf_counter() - start)
    n_items = {t: v["effective"] for t, v in results["n-samples"].items()}
    print(json.dumps({"seconds": seconds, "n_items": n_items, "out": args.out}))


if __name__ == "__main__":
    main()
