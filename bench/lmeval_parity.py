"""promgate's multiple-choice scoring against lm-eval-harness on the same items; print JSON.

    python bench/lmeval_parity.py [--device cpu|cuda] [--limit N] [--model DIR]
                                  [--tasks promgate_arc_easy,...] [--out DIR]
                                  [--lmeval-output DIR] [--lmeval-cmd CMD] [--json-out FILE]

lm-eval (0.4.x, with ``--log_samples``) runs bench/lmeval/tasks/'s copies of its stock
arc_easy, arc_challenge (test splits), piqa, winogrande (validation splits) and zero-shot
mmlu (a fixed stratified subset: 20 rows per subject) on the mirror's files; or
``--lmeval-output`` reads a run made before. Its docs are mapped to promgate's items by
``promgate.importers.lm_eval`` (which fails on any doc it cannot map), and promgate scores
those same items with ``promgate.scoring.multiple_choice`` on the same model and device.

Per task: n, acc and acc_norm of both (acc_norm where the stock task reports it), their
difference in percentage points, per-item agreement of the predicted choice, and how far
apart the per-choice log-likelihoods are. Targets: |Δacc| ≤ 0.5 pp, agreement ≥ 98 %.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from promgate.importers.lm_eval import ImportedItem, LmEvalImport, import_lm_eval  # noqa: E402

TASKS = (
    "promgate_arc_easy",
    "promgate_arc_challenge",
    "promgate_piqa",
    "promgate_winogrande",
    "promgate_mmlu",
)
TARGET_PP = 0.5
TARGET_AGREEMENT = 98.0


def default_lmeval_cmd() -> str:
    if importlib.util.find_spec("lm_eval") is not None:
        return f"{sys.executable} -m lm_eval"
    return "lm-eval"


def run_lmeval(
    out: Path,
    tasks: list[str],
    *,
    model: Path,
    device: str,
    batch_size: int,
    limit: int | None,
    lmeval_cmd: str,
    extra: list[str] = (),
) -> float:
    """bench/lmeval/run.sh; returns its wall time in seconds."""
    env = dict(os.environ)
    env.update(MODEL=str(model), DEVICE=device, BATCH_SIZE=str(batch_size), LMEVAL=lmeval_cmd)
    env.setdefault("PROMGATE_MIRROR", str(ROOT.parent / "shared" / "benchmarks"))
    cmd = ["bash", str(ROOT / "bench/lmeval/run.sh"), str(out), ",".join(tasks)]
    cmd += [str(limit)] if limit else []
    cmd += ["--", *extra] if extra else []
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True)
    return time.perf_counter() - start


def load_model(model_dir: Path, device: str, threads: int):
    from promgate.models import hf

    loaded = hf.load(model_dir, model_id="parity", threads=threads)
    loaded.model.to(device)
    return loaded


def promgate_scores(loaded, imported: list[ImportedItem], batch_size: int, description: str):
    from promgate.scoring import multiple_choice

    items = [i.item for i in imported]
    return multiple_choice.score_items(
        loaded.model, loaded.tokenizer, items, batch_size, description=description
    )


def _pct(values: list[bool]) -> float:
    return 100.0 * sum(values) / len(values)


def compare(imported: list[ImportedItem], scores) -> dict:
    """Accuracies of both, their difference, agreement and log-likelihood distances."""
    gold = [i.item.answer_index for i in imported]
    lm_pred = [i.prediction for i in imported]
    pg_pred = [s.prediction for s in scores]
    lm_acc = [bool(i.acc) for i in imported]
    pg_acc = [p == g for p, g in zip(pg_pred, gold, strict=True)]
    gaps = [
        abs(a - b)
        for i, s in zip(imported, scores, strict=True)
        for a, b in zip(i.logprobs, s.logprobs, strict=True)
    ]
    row = {
        "n": len(imported),
        "lm_eval": {"acc": _pct(lm_acc)},
        "promgate": {"acc": _pct(pg_acc)},
        "diff_pp": {"acc": _pct(pg_acc) - _pct(lm_acc)},
        "agreement_pct": {"acc": _pct([a == b for a, b in zip(lm_pred, pg_pred, strict=True)])},
        "loglik_abs_diff": {"median": statistics.median(gaps), "max": max(gaps)},
        "requests_differ": sum(i.same_requests is False for i in imported),
        "disagreements": [
            {"id": i.item.id, "lm_eval": i.logprobs, "promgate": s.logprobs}
            for i, s in zip(imported, scores, strict=True)
            if i.prediction != s.prediction
        ][:5],
    }
    if all(i.acc_norm is not None for i in imported):
        lm_norm = [bool(i.acc_norm) for i in imported]
        pg_norm_pred = [s.prediction_norm for s in scores]
        pg_norm = [p == g for p, g in zip(pg_norm_pred, gold, strict=True)]
        lm_norm_pred = [_norm_prediction(i) for i in imported]
        row["lm_eval"]["acc_norm"] = _pct(lm_norm)
        row["promgate"]["acc_norm"] = _pct(pg_norm)
        row["diff_pp"]["acc_norm"] = _pct(pg_norm) - _pct(lm_norm)
        row["agreement_pct"]["acc_norm"] = _pct(
            [a == b for a, b in zip(lm_norm_pred, pg_norm_pred, strict=True)]
        )
    row["within_target"] = (
        abs(row["diff_pp"]["acc"]) <= TARGET_PP and row["agreement_pct"]["acc"] >= TARGET_AGREEMENT
    )
    return row


def _norm_prediction(item: ImportedItem) -> int:
    # lm-eval: argmax of log-likelihood / len(choice) in characters, delimiter excluded.
    from promgate.scoring.multiple_choice import choice_length

    lengths = [choice_length(c) for c in item.item.choices or []]
    norm = [lp / max(n, 1) for lp, n in zip(item.logprobs, lengths, strict=True)]
    return max(range(len(norm)), key=lambda k: norm[k])


def by_task(imported: LmEvalImport) -> dict[str, list[ImportedItem]]:
    groups: dict[str, list[ImportedItem]] = {}
    for items in imported.items.values():
        for item in items:
            groups.setdefault(item.task, []).append(item)
    return dict(sorted(groups.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models/base")
    parser.add_argument("--device", default="cpu", help="torch device for both, e.g. cuda")
    parser.add_argument("--limit", type=int, help="items per task (default: all)")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--out", type=Path, help="where lm-eval writes (default: a temp dir)")
    parser.add_argument("--lmeval-output", type=Path, help="read this lm-eval run, do not run")
    parser.add_argument("--lmeval-cmd", default=default_lmeval_cmd())
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()

    lmeval_s = None
    source = args.lmeval_output
    if source is None:
        source = args.out or Path(tempfile.mkdtemp(prefix="lmeval-parity-"))
        lmeval_s = run_lmeval(
            source,
            args.tasks.split(","),
            model=args.model,
            device=args.device,
            batch_size=args.batch_size,
            limit=args.limit,
            lmeval_cmd=args.lmeval_cmd,
        )
    imported = import_lm_eval(source)
    loaded = load_model(args.model, args.device, args.threads)
    tasks = {}
    start = time.perf_counter()
    for task, items in by_task(imported).items():
        tasks[task] = compare(items, promgate_scores(loaded, items, args.batch_size, task))
    promgate_s = time.perf_counter() - start
    report = {
        "device": args.device,
        "model": str(args.model),
        "lm_eval_version": imported.lm_eval_version,
        "lm_eval_output": str(source),
        "limit": args.limit,
        "targets": {"abs_diff_pp": TARGET_PP, "agreement_pct": TARGET_AGREEMENT},
        "all_within_target": all(t["within_target"] for t in tasks.values()),
        "seconds": {"lm_eval_run": lmeval_s, "promgate_scoring": promgate_s},
        "tasks": tasks,
    }
    text = json.dumps(report, indent=2)
    if args.json_out:
        args.json_out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
