"""Import an inspect_ai log: ``.eval`` (a zip archive) or the older single ``.json`` log.

What is read: ``header.json`` (status, task, model, epochs, sample ids, the reported
metrics) and every ``samples/<id>_epoch_<n>.json`` (the sample's ``id``, ``epoch``,
``scores`` and ``error``). Current inspect versions compress members with zstd (zip method
93, which Python's ``zipfile`` cannot read before 3.14); those are decompressed with
``zstandard``, and their CRC is checked.

Epochs: one ItemResult per sample id. ``score`` is the mean of its epochs' values (inspect's
default epoch reducer), ``n_samples`` the number of epochs and ``n_correct`` the number of
fully correct epochs when every value is 0 or 1; ``correct`` is set when there is a single
epoch of a 0/1 value, as promgate's own code scoring does. Score values follow inspect's
``value_to_float``: C = 1, I = 0, P = 0.5, N = 0, yes/no, true/false, booleans, and numbers
in [0, 1].

Fail closed: a log that did not finish (``status`` other than ``success``), an invalidated
log, a sample that errored, a missing epoch of a sample the header lists, a sample without
the chosen scorer, or per-sample values whose mean differs from the accuracy the header
reports: each is an error naming the file, member and field, and nothing is written.

Item ids are ``<benchmark>/<sample id>``; the benchmark defaults to the task's name (its
last path component), so results from two logs of the same task pair by sample id.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promgate.errors import SchemaError
from promgate.io import sha256_file, write_json
from promgate.results import ItemResult, write_results

ZIP_ZSTD = 93
_SAMPLE_MEMBER = re.compile(r"^samples/.+_epoch_\d+\.json$")
_LETTERS = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}
_WORDS = {"yes": 1.0, "no": 0.0, "true": 1.0, "false": 0.0}
# The header's accuracy is a mean of the same values; only float rounding may differ.
_ACC_TOLERANCE = 1e-9


@dataclass(frozen=True)
class EpochScore:
    sample_id: str
    epoch: int
    value: float
    answer: str | None
    target: str | None
    where: str  # "member" of the log, for messages


@dataclass(frozen=True)
class InspectImport:
    path: Path
    task: str
    model: str
    scorer: str
    epochs: int
    scores: list[EpochScore]
    reported_accuracy: float | None
    sample_ids: list[str]  # the dataset's order, which the results keep

    @property
    def benchmark(self) -> str:
        return _slug(self.task)

    def results(self, model_id: str, benchmark: str | None = None) -> list[ItemResult]:
        benchmark = benchmark or self.benchmark
        by_sample: dict[str, list[EpochScore]] = {i: [] for i in self.sample_ids}
        for score in sorted(self.scores, key=lambda s: s.epoch):
            by_sample[score.sample_id].append(score)
        out = []
        for sample_id, epochs in by_sample.items():
            values = [s.value for s in epochs]
            binary = all(v in (0.0, 1.0) for v in values)
            out.append(
                ItemResult(
                    id=f"{benchmark}/{sample_id}",
                    benchmark=benchmark,
                    model_id=model_id,
                    score=sum(values) / len(values),
                    correct=values[0] == 1.0 if binary and len(values) == 1 else None,
                    n_samples=len(values),
                    n_correct=sum(v == 1.0 for v in values) if binary else None,
                    prediction=epochs[0].answer,
                    target=epochs[0].target,
                )
            )
        return out

    @property
    def accuracy(self) -> float:
        per_sample: dict[str, list[float]] = {}
        for score in self.scores:
            per_sample.setdefault(score.sample_id, []).append(score.value)
        means = [sum(v) / len(v) for v in per_sample.values()]
        return sum(means) / len(means)


def read_inspect_log(path: str | Path, scorer: str | None = None) -> InspectImport:
    path = Path(path)
    if not path.is_file():
        raise SchemaError("no such inspect log", path=path)
    if path.suffix == ".json":
        log = _json(path.read_bytes(), path, "the log")
        if not isinstance(log, dict):
            raise SchemaError("an inspect .json log is a JSON object", path=path)
        header = log
        samples = [(f"samples[{i}]", s) for i, s in enumerate(_list(log, "samples", path))]
    else:
        header, samples = _read_eval_zip(path)
    return _build(path, header, samples, scorer)


def _read_eval_zip(path: Path) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SchemaError(f"not an inspect .eval log (a zip archive): {exc}", path=path) from exc
    with archive:
        names = set(archive.namelist())
        if "header.json" not in names:
            raise SchemaError("no header.json: the log was not finished", path=path)
        header = _json(_member(archive, path, "header.json"), path, "header.json")
        samples = [
            (name, _json(_member(archive, path, name), path, name))
            for name in sorted(names)
            if _SAMPLE_MEMBER.match(name)
        ]
    return header, samples


def _member(archive: zipfile.ZipFile, path: Path, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.compress_type != ZIP_ZSTD:
        try:
            return archive.read(info)
        except (NotImplementedError, zipfile.BadZipFile, zlib.error) as exc:
            raise SchemaError(f"member {name}: {exc}", path=path) from exc
    import zstandard

    with path.open("rb") as handle:
        handle.seek(info.header_offset)
        local = handle.read(30)
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            raise SchemaError(f"member {name}: bad local file header", path=path)
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        handle.seek(info.header_offset + 30 + name_len + extra_len)
        raw = handle.read(info.compress_size)
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(
            io.BytesIO(raw), read_across_frames=True
        )
        data = reader.read()
    except zstandard.ZstdError as exc:
        raise SchemaError(f"member {name}: bad zstd data ({exc})", path=path) from exc
    if zlib.crc32(data) != info.CRC or len(data) != info.file_size:
        raise SchemaError(f"member {name}: CRC or size mismatch (corrupt log)", path=path)
    return data


def _build(
    path: Path, header: Any, samples: list[tuple[str, Any]], scorer: str | None
) -> InspectImport:
    if not isinstance(header, dict):
        raise SchemaError("header is not a JSON object", path=path)
    status = header.get("status")
    if status != "success":
        raise SchemaError(
            f"log status is {status!r}; only finished logs ('success') are imported",
            path=path,
            field="status",
        )
    if header.get("invalidated"):
        raise SchemaError("the log is marked invalidated", path=path, field="invalidated")
    spec = _dict(header, "eval", path)
    task = _str(spec, "task", path, "eval.task")
    model = _str(spec, "model", path, "eval.model")
    epochs = (spec.get("config") or {}).get("epochs") or 1
    if not isinstance(epochs, int) or epochs < 1:
        raise SchemaError("epochs must be a positive integer", path=path, field="eval.config")
    if not samples:
        raise SchemaError("the log holds no samples (was it run with log_samples?)", path=path)
    chosen = scorer or _only_scorer(samples, path)
    scores = [_epoch_score(path, where, sample, chosen) for where, sample in samples]
    sample_ids = _check_complete(path, spec, scores, epochs)
    reported = _reported(header, chosen)
    imported = InspectImport(path, task, model, chosen, epochs, scores, reported, sample_ids)
    if imported.reported_accuracy is not None:
        ours = imported.accuracy
        if abs(ours - imported.reported_accuracy) > _ACC_TOLERANCE:
            raise SchemaError(
                f"samples give accuracy {ours!r}, the header reports "
                f"{imported.reported_accuracy!r}: the log is inconsistent",
                path=path,
                field="results",
            )
    return imported


def _only_scorer(samples: list[tuple[str, Any]], path: Path) -> str:
    names = sorted({n for _, s in samples if isinstance(s, dict) for n in (s.get("scores") or {})})
    if len(names) != 1:
        listed = ", ".join(names) or "none"
        raise SchemaError(
            f"the samples carry scorers [{listed}]; choose one with --scorer",
            path=path,
            field="scores",
        )
    return names[0]


def _epoch_score(path: Path, where: str, sample: Any, scorer: str) -> EpochScore:
    if not isinstance(sample, dict):
        raise SchemaError(f"{where}: a sample is a JSON object", path=path)
    sample_id = sample.get("id")
    if not isinstance(sample_id, str | int) or isinstance(sample_id, bool):
        raise SchemaError(f"{where}: sample id must be text or an integer", path=path, field="id")
    epoch = sample.get("epoch")
    if not isinstance(epoch, int) or epoch < 1:
        raise SchemaError(f"{where}: epoch must be a positive integer", path=path, field="epoch")
    if sample.get("error"):
        message = sample["error"].get("message") if isinstance(sample["error"], dict) else None
        raise SchemaError(
            f"{where}: the sample errored ({message or sample['error']}); an errored sample is "
            "neither right nor wrong, so the log is not imported",
            path=path,
            field="error",
        )
    scores = sample.get("scores")
    if not isinstance(scores, dict) or scorer not in scores:
        raise SchemaError(f"{where}: no score from scorer {scorer!r}", path=path, field="scores")
    score = scores[scorer]
    if not isinstance(score, dict) or "value" not in score:
        raise SchemaError(f"{where}: score has no value", path=path, field=f"scores.{scorer}.value")
    value = _value(score["value"], path, where, f"scores.{scorer}.value")
    answer = score.get("answer")
    target = sample.get("target")
    if isinstance(target, list):
        target = json.dumps(target, ensure_ascii=False)
    return EpochScore(
        sample_id=str(sample_id),
        epoch=epoch,
        value=value,
        answer=answer if isinstance(answer, str) else None,
        target=target if isinstance(target, str) else None,
        where=where,
    )


def _value(value: Any, path: Path, where: str, field: str) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text in _LETTERS:
            return _LETTERS[text]
        if text.lower() in _WORDS:
            return _WORDS[text.lower()]
        try:
            value = float(text)
        except ValueError:
            raise SchemaError(
                f"{where}: score value {value!r} is not C/I/P/N, yes/no, true/false or a number",
                path=path,
                field=field,
            ) from None
    if isinstance(value, int | float):
        number = float(value)
        if math.isnan(number) or not 0.0 <= number <= 1.0:
            raise SchemaError(
                f"{where}: score value {value!r} is outside [0, 1]", path=path, field=field
            )
        return number
    raise SchemaError(
        f"{where}: score value of type {type(value).__name__} cannot be gated (scalars only)",
        path=path,
        field=field,
    )


def _check_complete(path: Path, spec: dict, scores: list[EpochScore], epochs: int) -> list[str]:
    """Every listed sample has every epoch, once; returns the sample ids in dataset order."""
    seen: dict[tuple[str, int], str] = {}
    for score in scores:
        key = (score.sample_id, score.epoch)
        if key in seen:
            raise SchemaError(
                f"{score.where}: sample {score.sample_id!r} epoch {score.epoch} appears twice "
                f"(also {seen[key]})",
                path=path,
            )
        if score.epoch > epochs:
            raise SchemaError(
                f"{score.where}: epoch {score.epoch} beyond the log's {epochs}",
                path=path,
                field="epoch",
            )
        seen[key] = score.where
    listed = (spec.get("dataset") or {}).get("sample_ids")
    ids = [str(i) for i in listed] if isinstance(listed, list) else []
    ids = ids or sorted({s for s, _ in seen})
    missing = [f"{i}#{e}" for i in ids for e in range(1, epochs + 1) if (i, e) not in seen]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise SchemaError(
            f"{len(missing)} sample epochs missing ({shown}); a partial log is not imported",
            path=path,
            field="samples",
        )
    extra = sorted({s for s, _ in seen} - set(ids))
    if extra:
        raise SchemaError(
            f"samples {extra[:5]} are not in the header's sample_ids",
            path=path,
            field="eval.dataset.sample_ids",
        )
    return ids


def _reported(header: dict, scorer: str) -> float | None:
    """The header's accuracy for ``scorer`` when its epochs were reduced by the mean."""
    results = header.get("results")
    if not isinstance(results, dict):
        return None
    for entry in results.get("scores") or []:
        if not isinstance(entry, dict) or entry.get("scorer", entry.get("name")) != scorer:
            continue
        if entry.get("reducer") not in (None, "mean"):
            return None
        metric = (entry.get("metrics") or {}).get("accuracy")
        if isinstance(metric, dict) and isinstance(metric.get("value"), int | float):
            return float(metric["value"])
    return None


def write_import(
    imported: InspectImport, out: str | Path, model_id: str, benchmark: str | None = None
) -> dict[str, Any]:
    """``<out>/<benchmark>.jsonl`` and ``<out>/inspect_import_<benchmark>.json``."""
    out = Path(out)
    benchmark = benchmark or imported.benchmark
    results = imported.results(model_id, benchmark)
    write_results(out / f"{benchmark}.jsonl", results)
    summary = {
        "source": "inspect_ai",
        "log": str(imported.path),
        "log_sha256": sha256_file(imported.path),
        "task": imported.task,
        "model": imported.model,
        "model_id": model_id,
        "benchmark": benchmark,
        "scorer": imported.scorer,
        "epochs": imported.epochs,
        "n": len(results),
        "accuracy": imported.accuracy,
        "reported_accuracy": imported.reported_accuracy,
    }
    write_json(out / f"inspect_import_{benchmark}.json", summary)
    return summary


def default_model_id(imported: InspectImport) -> str:
    return _slug(imported.model)


def _slug(name: str) -> str:
    return name.rstrip("/").rsplit("/", 1)[-1]


def _json(data: bytes, path: Path, where: str) -> Any:
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{where}: invalid JSON ({exc})", path=path) from exc


def _dict(obj: dict, key: str, path: Path) -> dict:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise SchemaError("missing or not an object", path=path, field=key)
    return value


def _list(obj: dict, key: str, path: Path) -> list:
    value = obj.get(key)
    if not isinstance(value, list):
        raise SchemaError("missing or not a list", path=path, field=key)
    return value


def _str(obj: dict, key: str, path: Path, field: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise SchemaError("missing or not text", path=path, field=field)
    return value
