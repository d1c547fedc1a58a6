"""CodeXGLUE code-to-code translation: line-aligned ``.java`` and ``.cs`` files (Java -> C#).

Line i of the Java file is a method; line i of the C# file is its reference translation.
Strata are length buckets of the Java method (tokens by whitespace), a proxy for difficulty.
"""

from __future__ import annotations

from pathlib import Path

from promgate.data.loaders._common import build_item
from promgate.data.loaders._records import read_text
from promgate.data.schema import Item
from promgate.data.sources import get_source
from promgate.errors import SchemaError

PROMPT = "Translate the following Java method into C#.\nJava:\n{java}\nC#:\n"


def length_bucket(code: str) -> str:
    n = len(code.split())
    return "short" if n <= 30 else "medium" if n <= 80 else "long"


def _lines(path: Path) -> list[str]:
    lines = read_text(path).split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last record, it does not start one
    return [line.rstrip("\r") for line in lines]


def load_codexglue(
    java_path: str | Path,
    cs_path: str | Path,
    *,
    split: str = "test",
    license: str | None = None,
) -> list[Item]:
    java_path, cs_path = Path(java_path), Path(cs_path)
    license = license or get_source("codexglue").license
    java, cs = _lines(java_path), _lines(cs_path)
    if len(java) != len(cs):
        short, n = (cs_path, len(cs)) if len(cs) < len(java) else (java_path, len(java))
        raise SchemaError(
            f"{len(java)} Java lines but {len(cs)} C# lines; the files must be line-aligned",
            path=short,
            line=n + 1,
        )
    items = []
    for index, (src, ref) in enumerate(zip(java, cs, strict=True)):
        line = index + 1
        if not src.strip():
            raise SchemaError("empty Java method", path=java_path, line=line, field="java")
        if not ref.strip():
            raise SchemaError("empty C# translation", path=cs_path, line=line, field="cs")
        bucket = length_bucket(src)
        fields = {
            "id": f"codexglue/{split}/{index}",
            "benchmark": "codexglue",
            "split": split,
            "kind": "generate",
            "prompt": PROMPT.format(java=src.strip()),
            "target": ref.strip(),
            "metadata": {
                "difficulty": bucket,
                "domain": "code_translation",
                "source": "codexglue_java_cs",
                "stratum": bucket,
                "license": license,
            },
        }
        items.append(build_item(fields, path=java_path, line=line))
    return items
