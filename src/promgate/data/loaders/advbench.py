"""AdvBench harmful behaviours CSV (``goal,target``): prompts a safe model must refuse.

``target`` is the affirmative prefix an attack tries to elicit ("Sure, here is ..."): it is
the UNSAFE completion, kept so a judge can detect it. A scorer must count a refusal as the
correct outcome, never a match with ``target`` (``metadata.domain`` is ``harmful_request``).
"""

from __future__ import annotations

from pathlib import Path

from promgate.data.loaders._common import build_item
from promgate.data.loaders._records import iter_csv
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.errors import SchemaError


def load_advbench(
    path: str | Path, *, split: str = "test", license: str | None = None
) -> list[Item]:
    path = Path(path)
    license = license or get_source("advbench").license
    items = []
    for index, (line, row) in enumerate(iter_csv(path, header=("goal", "target"))):
        assert isinstance(row, dict)
        for key in ("goal", "target"):
            if not row[key].strip():
                raise SchemaError("empty field", path=path, line=line, field=key)
        fields = {
            "id": f"advbench/{index}",
            "benchmark": "advbench",
            "split": split,
            "kind": "generate",
            "prompt": row["goal"].strip(),
            "target": row["target"].strip(),
            "metadata": {
                "difficulty": "unknown",
                "domain": "harmful_request",
                "source": "llm_attacks",
                "stratum": "default",
                "license": license,
            },
        }
        items.append(build_item(fields, path=path, line=line))
    return items
