"""Answer extraction and normalisation for generative benchmarks."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"-?\$?\d[\d,]*(?:\.\d+)?")


def normalize_number(text: str) -> str | None:
    """Canonical form of a number: no commas, currency or trailing zeros ('1,000.00' -> '1000')."""
    cleaned = text.strip().replace(",", "").replace("$", "").rstrip(".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    if value.is_integer():
        return str(int(value))
    return repr(value)


def extract_gsm8k(text: str) -> str | None:
    """The number after the last '####' when there is one, else the last number in the text."""
    if "####" in text:
        tail = text.rsplit("####", 1)[1]
        match = _NUMBER.search(tail)
        if match:
            return normalize_number(match.group())
    numbers = _NUMBER.findall(text)
    return normalize_number(numbers[-1]) if numbers else None


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}``, nested braces included (MATH answers)."""
    start = text.rfind("\\boxed")
    if start == -1:
        return None
    brace = text.find("{", start)
    if brace == -1:
        return None
    depth = 0
    for index in range(brace, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return text[brace + 1 : index]
    return None
