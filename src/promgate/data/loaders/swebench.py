"""SWE-bench Lite as a JSON array export: the 300 instance ids, problems and gold patches.

Resolution is judged by the SWE-bench harness, not here; these Items carry the instance ids
(``swebench_lite/<instance_id>``) the gate pairs on, the problem statement as the prompt, the
gold patch as the target and the test patch as ``tests``. ``FAIL_TO_PASS`` and
``PASS_TO_PASS`` are JSON-encoded strings upstream: they are decoded and checked to be lists
of test names. Strata (and clusters) are repositories.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from promgate.data.loaders._common import UniqueIds, build_item, get_field
from promgate.data.loaders._records import iter_json_array
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.errors import SchemaError

_INSTANCE = re.compile(r"^[\w.-]+__[\w.-]+-\d+$")


def decode_test_list(rec: dict[str, Any], key: str, path: Path, line: int) -> list[str]:
    raw = get_field(rec, key, str, path=path, line=line)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SchemaError(
            f"not a JSON-encoded list ({exc.msg})", path=path, line=line, field=key
        ) from exc
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SchemaError("expected a JSON list of test names", path=path, line=line, field=key)
    return value


def load_swebench(
    path: str | Path, *, split: str = "test", license: str | None = None
) -> list[Item]:
    path = Path(path)
    license = license or get_source("swebench_lite").license
    ids = UniqueIds(path)
    items = []
    for line, rec in iter_json_array(path):
        instance = get_field(rec, "instance_id", str, path=path, line=line)
        if not _INSTANCE.match(instance):
            raise SchemaError(
                f"instance_id {instance!r} is not <owner>__<repo>-<n>",
                path=path,
                line=line,
                field="instance_id",
            )
        repo = get_field(rec, "repo", str, path=path, line=line)
        problem = get_field(rec, "problem_statement", str, path=path, line=line)
        patch = get_field(rec, "patch", str, path=path, line=line)
        test_patch = get_field(rec, "test_patch", str, path=path, line=line)
        get_field(rec, "base_commit", str, path=path, line=line)
        fail_to_pass = decode_test_list(rec, "FAIL_TO_PASS", path, line)
        decode_test_list(rec, "PASS_TO_PASS", path, line)
        if not fail_to_pass:
            raise SchemaError("no FAIL_TO_PASS tests", path=path, line=line, field="FAIL_TO_PASS")
        item_id = f"swebench_lite/{instance}"
        ids.add(item_id, line, "instance_id")
        fields = {
            "id": item_id,
            "benchmark": "swebench_lite",
            "split": split,
            "kind": "generate",
            "prompt": problem,
            "target": patch,
            "tests": test_patch,
            "metadata": {
                "difficulty": "unknown",
                "domain": "software_engineering",
                "source": repo,
                "stratum": repo,
                "cluster": repo,
                "license": license,
            },
        }
        items.append(build_item(fields, path=path, line=line))
    return items
