"""Import lm-eval-harness output: ``results_<ts>.json`` + ``samples_<task>_<ts>.jsonl``.

Each sample line (one per doc and filter) is validated, its doc mapped to a promgate item
(:mod:`promgate.importers.lm_eval_docs`) and turned into an :class:`ItemResult` carrying
lm-eval's own verdict (``acc``) and its per-choice log-likelihoods. The import is checked
against the run's results file: per task, the mean ``acc`` of the samples must equal the
reported ``acc,none`` and the sample count its ``n-samples``; otherwise the files do not
belong together and nothing is written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promgate.data.schema import Item
from promgate.errors import SchemaError
from promgate.importers.lm_eval_docs import (
    TASK_BENCHMARKS,
    DocError,
    ItemIndex,
    Unmapped,
    render_doc,
)
from promgate.io import iter_jsonl, read_json, sha256_file, write_json
from promgate.results import ItemResult, write_results

RESULTS_PREFIX = "results_"
SAMPLES_PREFIX = "samples_"
SUMMARY_FILE = "lm_eval_import.json"
# Reported accuracy vs. the mean of the samples: both are sums of 0/1 over the same rows.
_ACC_TOLERANCE = 1e-9
_SHOW = 5


@dataclass(frozen=True)
class Run:
    """One lm-eval invocation: its results file and a samples file per task."""

    results_path: Path
    timestamp: str
    results: dict[str, Any]
    samples: dict[str, Path]


@dataclass(frozen=True)
class ImportedItem:
    """One lm-eval doc, mapped to a promgate item, with lm-eval's scores for it."""

    item: Item
    task: str
    doc_id: int
    path: Path
    line: int
    logprobs: list[float]
    acc: bool
    acc_norm: bool | None
    # lm-eval's requests equal promgate's (context, continuation) pairs; None if not logged.
    same_requests: bool | None

    @property
    def prediction(self) -> int:
        return max(range(len(self.logprobs)), key=lambda i: self.logprobs[i])

    def confidence(self) -> float:
        top = max(self.logprobs)
        weights = [math.exp(lp - top) for lp in self.logprobs]
        return weights[self.prediction] / sum(weights)

    def result(self, model_id: str) -> ItemResult:
        item = self.item
        assert item.choices is not None
        return ItemResult(
            id=item.id,
            benchmark=item.benchmark,
            model_id=model_id,
            stratum=item.metadata.stratum,
            cluster=item.metadata.cluster,
            correct=self.acc,
            prediction=item.choices[self.prediction].strip(),
            target=item.target,
            choice_logprobs=self.logprobs,
            confidence=self.confidence(),
        )


@dataclass(frozen=True)
class TaskSummary:
    task: str
    benchmark: str
    n: int
    acc: float
    reported_acc: float
    acc_norm: float | None
    different_requests: int


@dataclass(frozen=True)
class LmEvalImport:
    model_name: str
    lm_eval_version: str | None
    items: dict[str, list[ImportedItem]]  # benchmark -> items, sorted by id
    tasks: list[TaskSummary]
    files: list[Path]


def find_runs(root: Path) -> list[Run]:
    """Every ``results_<ts>.json`` under ``root`` with the samples files of the same ``ts``."""
    root = Path(root)
    if not root.is_dir():
        raise SchemaError("not a folder of lm-eval output", path=root)
    runs = []
    for path in sorted(root.rglob(f"{RESULTS_PREFIX}*.json")):
        timestamp = path.stem[len(RESULTS_PREFIX) :]
        results = read_json(path)
        if not isinstance(results, dict) or not isinstance(results.get("results"), dict):
            raise SchemaError("not an lm-eval results file", path=path, field="results")
        suffix = f"_{timestamp}.jsonl"
        samples = {
            p.name[len(SAMPLES_PREFIX) : -len(suffix)]: p
            for p in path.parent.glob(f"{SAMPLES_PREFIX}*{suffix}")
        }
        runs.append(Run(path, timestamp, results, samples))
    if not runs:
        raise SchemaError(f"no {RESULTS_PREFIX}*.json under this folder", path=root)
    return runs


def _groups(results: dict[str, Any]) -> set[str]:
    subtasks = results.get("group_subtasks") or {}
    return {name for name, members in subtasks.items() if members}


def run_tasks(run: Run) -> dict[str, str]:
    """task -> benchmark for each task of ``run`` with samples; unknown tasks are errors."""
    groups = _groups(run.results)
    tasks = {}
    for task in run.results["results"]:
        if task in groups:
            continue  # an aggregate (e.g. mmlu over its subjects); its members are listed
        if task not in TASK_BENCHMARKS:
            known = "arc_easy, arc_challenge, piqa, winogrande, mmlu_<subject>, promgate_*"
            raise SchemaError(
                f"unknown lm-eval task {task!r}; importable tasks: {known}",
                path=run.results_path,
                field=f"results.{task}",
            )
        if task not in run.samples:
            raise SchemaError(
                f"no samples_{task}_{run.timestamp}.jsonl beside it; run lm-eval with "
                "--log_samples",
                path=run.results_path,
                field=f"results.{task}",
            )
        tasks[task] = TASK_BENCHMARKS[task]
    return tasks


def _number(value: Any, path: Path, line: int, field: str) -> float:
    # Sample logs hold log-likelihoods as numbers or as their str() (lm-eval 0.4.9+).
    try:
        number = float(value) if isinstance(value, str | int | float) else math.nan
    except ValueError:
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise SchemaError(
            f"expected a finite number, got {value!r}", path=path, line=line, field=field
        )
    return number


def _logprobs(row: dict[str, Any], n_choices: int, path: Path, line: int) -> list[float]:
    key = "filtered_resps" if "filtered_resps" in row else "resps"
    resps = row.get(key)
    if not isinstance(resps, list):
        raise SchemaError("missing or not a list", path=path, line=line, field="filtered_resps")
    if len(resps) != n_choices:
        raise SchemaError(
            f"{len(resps)} responses for {n_choices} choices", path=path, line=line, field=key
        )
    out = []
    for i, resp in enumerate(resps):
        # filtered_resps: [loglikelihood, is_greedy]; resps wraps that in one more list.
        while isinstance(resp, list) and resp and isinstance(resp[0], list):
            resp = resp[0]
        value = resp[0] if isinstance(resp, list) and resp else resp
        out.append(_number(value, path, line, f"{key}[{i}]"))
    return out


def _requests(row: dict[str, Any]) -> list[tuple[str, str]] | None:
    args = row.get("arguments")
    if isinstance(args, dict):  # {"gen_args_0": {"arg_0": ctx, "arg_1": cont}, ...}
        ordered = [args[k] for k in sorted(args, key=lambda k: int(k.rsplit("_", 1)[-1]))]
        return [(a.get("arg_0"), a.get("arg_1")) for a in ordered if isinstance(a, dict)]
    if isinstance(args, list):  # older logs: [[ctx, cont], ...]
        return [tuple(a[:2]) for a in args if isinstance(a, list)]
    return None


def _metric(row: dict[str, Any], name: str, path: Path, line: int) -> bool:
    if name not in row:
        raise SchemaError("missing metric", path=path, line=line, field=name)
    value = _number(row[name], path, line, name)
    if value not in (0.0, 1.0):
        raise SchemaError(f"expected 0 or 1, got {row[name]!r}", path=path, line=line, field=name)
    return value == 1.0


def read_samples(path: Path, task: str, benchmark: str, index: ItemIndex) -> list[ImportedItem]:
    """The ``none``-filter rows of one samples file, each mapped to its promgate item."""
    imported, unmapped, seen = [], [], {}
    for line, row in iter_jsonl(path):
        if row.get("filter", "none") != "none":
            continue  # multiple choice has no other filter; other filters re-score outputs
        doc_id = row.get("doc_id")
        if not isinstance(doc_id, int) or isinstance(doc_id, bool):
            raise SchemaError("missing or not an integer", path=path, line=line, field="doc_id")
        if doc_id in seen:
            raise SchemaError(
                f"doc_id {doc_id} again (first on line {seen[doc_id]})",
                path=path,
                line=line,
                field="doc_id",
            )
        seen[doc_id] = line
        doc = row.get("doc")
        if not isinstance(doc, dict):
            raise SchemaError("missing or not an object", path=path, line=line, field="doc")
        try:
            pairs, gold = render_doc(benchmark, doc, task)
        except DocError as exc:
            raise SchemaError(str(exc), path=path, line=line, field=exc.field) from exc
        logprobs = _logprobs(row, len(pairs), path, line)
        acc = _metric(row, "acc", path, line)
        prediction = max(range(len(logprobs)), key=lambda i: logprobs[i])
        if acc != (prediction == gold):
            raise SchemaError(
                f"acc {int(acc)} contradicts the log-likelihoods "
                f"(argmax {prediction}, gold {gold})",
                path=path,
                line=line,
                field="acc",
            )
        try:
            item = index.take(pairs, gold)
        except Unmapped as exc:
            unmapped.append(f"line {line} (doc_id {doc_id}): {exc}")
            continue
        requests = _requests(row)
        imported.append(
            ImportedItem(
                item=item,
                task=task,
                doc_id=doc_id,
                path=path,
                line=line,
                logprobs=logprobs,
                acc=acc,
                acc_norm=_metric(row, "acc_norm", path, line) if "acc_norm" in row else None,
                same_requests=None if requests is None else requests == pairs,
            )
        )
    if unmapped:
        more = f" (and {len(unmapped) - _SHOW} more)" if len(unmapped) > _SHOW else ""
        raise SchemaError(
            f"{len(unmapped)} of {len(seen)} docs map to no item of promgate's {benchmark} "
            "eval split: " + "; ".join(unmapped[:_SHOW]) + more,
            path=path,
            field="doc",
        )
    return imported


def _check_against_results(run: Run, task: str, items: list[ImportedItem]) -> float:
    reported = run.results["results"].get(task, {})
    if "acc,none" not in reported:
        raise SchemaError("missing metric", path=run.results_path, field=f"results.{task}.acc,none")
    acc = _number(reported["acc,none"], run.results_path, None, f"results.{task}.acc,none")
    mean = sum(i.acc for i in items) / len(items) if items else math.nan
    if not abs(mean - acc) <= _ACC_TOLERANCE:
        raise SchemaError(
            f"reported {acc} but the {len(items)} samples in {run.samples[task].name} give "
            f"{mean}: the samples do not belong to this results file",
            path=run.results_path,
            field=f"results.{task}.acc,none",
        )
    effective = (run.results.get("n-samples") or {}).get(task, {}).get("effective")
    if effective is not None and effective != len(items):
        raise SchemaError(
            f"{effective} samples reported, {len(items)} in {run.samples[task].name}",
            path=run.results_path,
            field=f"n-samples.{task}.effective",
        )
    return acc


def import_runs(runs: list[Run], items: Mapping[str, list[Item]]) -> LmEvalImport:
    """Map every task's samples of ``runs`` onto ``items`` (benchmark -> its eval split)."""
    owner: dict[str, Path] = {}
    indexes = {b: ItemIndex.build(b, its) for b, its in items.items()}
    by_benchmark: dict[str, list[ImportedItem]] = {}
    summaries, files = [], []
    for run in runs:
        files.append(run.results_path)
        for task, benchmark in sorted(run_tasks(run).items()):
            if task in owner:
                raise SchemaError(
                    f"task {task!r} also in {owner[task]}; import one run per task",
                    path=run.results_path,
                    field=f"results.{task}",
                )
            owner[task] = run.results_path
            if benchmark not in indexes:
                raise SchemaError(
                    f"no promgate items given for benchmark {benchmark!r}",
                    path=run.samples[task],
                )
            imported = read_samples(run.samples[task], task, benchmark, indexes[benchmark])
            reported = _check_against_results(run, task, imported)
            files.append(run.samples[task])
            by_benchmark.setdefault(benchmark, []).extend(imported)
            norms = [i.acc_norm for i in imported]
            summaries.append(
                TaskSummary(
                    task=task,
                    benchmark=benchmark,
                    n=len(imported),
                    acc=sum(i.acc for i in imported) / len(imported),
                    reported_acc=reported,
                    acc_norm=None if None in norms else sum(norms) / len(norms),
                    different_requests=sum(i.same_requests is False for i in imported),
                )
            )
    first = runs[0].results
    return LmEvalImport(
        model_name=str(first.get("model_name") or ""),
        lm_eval_version=first.get("lm_eval_version"),
        items={b: sorted(v, key=lambda i: i.item.id) for b, v in sorted(by_benchmark.items())},
        tasks=summaries,
        files=files,
    )


def load_eval_items(benchmarks: list[str], mirror: Path | None = None) -> dict[str, list[Item]]:
    """Each benchmark's whole eval split from the mirror (or pinned download), verified."""
    from promgate.data.fetch import mirror_dir, resolve_files, verify_file
    from promgate.data.loaders import load_benchmark
    from promgate.data.sources import get_source

    out = {}
    for benchmark in benchmarks:
        split = get_source(benchmark).eval_split
        files = resolve_files(benchmark, mirror_dir(mirror), splits=[split])
        out[benchmark] = load_benchmark(benchmark, files, split)
        for rel, path in files.items():
            verify_file(rel, path)
    return out


def import_lm_eval(root: Path, mirror: Path | None = None) -> LmEvalImport:
    """Read all runs under ``root`` and map them onto the benchmarks' eval splits."""
    runs = find_runs(root)
    benchmarks = sorted({b for run in runs for b in run_tasks(run).values()})
    return import_runs(runs, load_eval_items(benchmarks, mirror))


def default_model_id(imported: LmEvalImport) -> str:
    name = imported.model_name.rstrip("/")
    return Path(name).name or "lm-eval"


def write_import(imported: LmEvalImport, out: Path, model_id: str) -> dict[str, Any]:
    """``<benchmark>.jsonl`` per benchmark and a summary with the source files' sha256."""
    out = Path(out)
    benchmarks = {}
    for benchmark, items in imported.items.items():
        write_results(out / f"{benchmark}.jsonl", [i.result(model_id) for i in items])
        benchmarks[benchmark] = {
            "n": len(items),
            "accuracy": sum(i.acc for i in items) / len(items),
        }
    summary = {
        "source": "lm-eval-harness",
        "lm_eval_version": imported.lm_eval_version,
        "model_name": imported.model_name,
        "model_id": model_id,
        "benchmarks": benchmarks,
        "tasks": [t.__dict__ for t in imported.tasks],
        "files": [{"path": str(p), "sha256": sha256_file(p)} for p in imported.files],
    }
    write_json(out / SUMMARY_FILE, summary)
    return summary
