"""GSM8K with the question's numbers changed and the answer recomputed, or skipped with a reason.

The worked solution's calculator annotations (``<<48/2=24>>``) are a small program. Each
number in an annotation is read as (a) an earlier annotation's result, (b) a number from
the question, or (c) a constant ("half" is /2, an hour is 60 minutes). Question numbers are
changed, the program is re-run with exact fractions, and the variant is kept only if every
step stays an integer where it was one, keeps its sign, and the answer is an integer.
Anything the program cannot explain is skipped and counted, never guessed:

- ``unannotated_step``: a computation in the text without an annotation;
- ``annotation_mismatch``: an annotation's expression does not give its stated result;
- ``answer_not_annotated``: no annotation produces the final answer;
- ``ambiguous_number``: a number could be read two ways (a question number and an earlier
  result, two earlier results, or a question number and a constant such as "half");
- ``unexplained_constant``: a literal that is neither, and not a common unit constant;
- ``no_question_number``: the program uses no number from the question;
- ``unused_question_number``: a question number the program never reads (it may be derived
  from the others, and would then contradict the changed ones);
- ``no_valid_variant``: no change of the numbers kept the answer a whole number.
"""

from __future__ import annotations

import ast
import operator
import re
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

_ANNOTATION = re.compile(r"<<([^<>=]*)=([^<>]*)>>")
_NUMBER = re.compile(r"\d*\.?\d+")
# A number in the question: digits with optional thousands commas and decimals, not part of
# a word ("5th", "x2") or of a longer number.
_QUESTION_NUMBER = re.compile(
    r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w,]|\.\d)|(?<![\w.,])\d+(?:\.\d+)?(?![\w,]|\.\d)"
)
_UNIT_CONSTANTS = {Fraction(v) for v in (16, 24, 30, 31, 52, 60, 100, 365, 1000, 3600)}
_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_ATTEMPTS = 12
_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
_WORDS = dict(enumerate(_NUMBER_WORDS.split(" ")))
# Words whose arithmetic is a constant: a question number equal to it is ambiguous.
_IMPLIED = {
    r"\bhalf\b|\btwice\b|\bdouble": Fraction(2),
    r"\btriple|\bthrice\b": Fraction(3),
    r"\bquarter": Fraction(4),
    r"\bdozen": Fraction(12),
    r"%|\bpercent": Fraction(100),
    r"\bhours?\b|\bminutes?\b": Fraction(60),
    r"\bweeks?\b": Fraction(7),
    r"\bdays?\b": Fraction(24),
}

SKIP_REASONS = (
    "unannotated_step",
    "annotation_mismatch",
    "answer_not_annotated",
    "ambiguous_number",
    "unexplained_constant",
    "no_question_number",
    "unused_question_number",
    "no_valid_variant",
)


class Skip(Exception):
    def __init__(self, reason: str) -> None:
        assert reason in SKIP_REASONS
        super().__init__(reason)
        self.reason = reason


def evaluate(expr: str, values: list[Fraction]) -> Fraction:
    """Evaluate ``expr`` (+ - * / and parentheses) with its i-th number replaced by values[i]."""
    numbered = iter(range(len(values)))
    source = _NUMBER.sub(lambda _m: f"_{next(numbered)}", expr.replace("x", "*"))
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise Skip("annotation_mismatch") from exc

    def walk(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            right = walk(node.right)
            if isinstance(node.op, ast.Div) and right == 0:
                raise Skip("no_valid_variant")
            return _OPS[type(node.op)](walk(node.left), right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = walk(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            return values[int(node.id[1:])]
        raise Skip("annotation_mismatch")

    return walk(tree)


def _fraction(text: str) -> Fraction | None:
    try:
        return Fraction(text.replace(",", "").strip())
    except (ValueError, ZeroDivisionError):
        return None


@dataclass(frozen=True)
class Step:
    expr: str
    literals: list[Fraction]
    result: Fraction
    # Per literal: ("result", step) | ("question", value index) | ("constant", None)
    sources: list[tuple[str, int | None]]


@dataclass(frozen=True)
class Program:
    steps: list[Step]
    question_values: list[Fraction]  # distinct, in order of first appearance
    answer_step: int


def _check_annotated(solution: str) -> None:
    outside = _ANNOTATION.sub("", solution.rsplit("####", 1)[0])
    raw = solution.rsplit("####", 1)[0]
    # Every "=" of the text must be the one written just before an annotation.
    if outside.count("=") > len(re.findall(r"=\s*[$€£]?\s*<<", raw)):
        raise Skip("unannotated_step")


def parse_program(question: str, solution: str, answer: str) -> Program:
    _check_annotated(solution)
    question_values: list[Fraction] = []
    for match in _QUESTION_NUMBER.finditer(question):
        value = _fraction(match.group(0))
        if value is not None and value not in question_values:
            question_values.append(value)
    implied = {v for word, v in _IMPLIED.items() if re.search(word, question, re.IGNORECASE)}
    in_question = Counter(
        v for m in _QUESTION_NUMBER.finditer(question) if (v := _fraction(m.group(0))) is not None
    )
    steps: list[Step] = []
    for expr, stated in _ANNOTATION.findall(solution):
        literals = [Fraction(m) for m in _NUMBER.findall(expr)]
        result = _fraction(stated)
        if result is None or not literals:
            raise Skip("annotation_mismatch")
        if abs(evaluate(expr, literals) - result) > Fraction(1, 100):
            raise Skip("annotation_mismatch")
        sources: list[tuple[str, int | None]] = []
        for value, uses in Counter(literals).items():
            # "half of 2 bolts" is 2/2: more uses than the question has means a constant hides
            # among them; a word like "half" makes its constant ambiguous with that number.
            if in_question[value] and (uses > in_question[value] or value in implied):
                raise Skip("ambiguous_number")
        for value in literals:
            earlier = [j for j, s in enumerate(steps) if s.result == value]
            from_question = value in question_values
            if (earlier and from_question) or len(earlier) > 1:
                raise Skip("ambiguous_number")
            if earlier:
                sources.append(("result", earlier[-1]))
            elif from_question:
                sources.append(("question", question_values.index(value)))
            elif value <= 12 or value in _UNIT_CONSTANTS or value < 1:
                sources.append(("constant", None))
            else:
                raise Skip("unexplained_constant")
        steps.append(Step(expr, literals, result, sources))
    target = _fraction(answer)
    matches = [i for i, s in enumerate(steps) if s.result == target]
    if not matches:
        raise Skip("answer_not_annotated")
    used = {ref for s in steps for kind, ref in s.sources if kind == "question"}
    if not used:
        raise Skip("no_question_number")
    # A number the program never reads may be derived from the others ("the remaining 24
    # liters"): changing its neighbours would make the question contradict itself.
    if len(used) < len(question_values):
        raise Skip("unused_question_number")
    # "5 apple pies ... set the five pies out": the word would keep the old value.
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", question)}
    if any(_WORDS.get(int(v)) in words for v in question_values if v.denominator == 1):
        raise Skip("ambiguous_number")
    return Program(steps, question_values, matches[-1])


def run(program: Program, values: list[Fraction]) -> list[Fraction]:
    results: list[Fraction] = []
    for step in program.steps:
        bound = []
        for literal, (kind, ref) in zip(step.literals, step.sources, strict=True):
            if kind == "result":
                assert ref is not None
                bound.append(results[ref])
            elif kind == "question":
                assert ref is not None
                bound.append(values[ref])
            else:
                bound.append(literal)
        results.append(evaluate(step.expr, bound))
    return results


def _shift(value: Fraction, rng: np.random.Generator) -> Fraction:
    if value.denominator == 1 and value >= 2:
        span = max(1, int(value) // 2)
        delta = int(rng.integers(1, span + 1)) * (1 if rng.random() < 0.5 else -1)
        return max(Fraction(1), value + delta)
    if value.denominator == 1:
        return value  # 0 and 1 usually mean "none" / "one": changing them changes the story
    return value * Fraction(int(rng.integers(2, 5)), 2)  # decimals: scaled, stays a decimal


def _valid(program: Program, original: list[Fraction], new: list[Fraction]) -> bool:
    for old, now in zip(original, new, strict=True):
        if old.denominator == 1 and now.denominator != 1:
            return False
        if (old >= 0) != (now >= 0) or (old > 0 and now == 0):
            return False
    return new[program.answer_step].denominator == 1


def _render(value: Fraction, like: str) -> str:
    if value.denominator == 1:
        number = int(value)
        return f"{number:,}" if "," in like else str(number)
    decimals = len(like.split(".", 1)[1]) if "." in like else 2
    return f"{float(value):.{decimals}f}"


@dataclass(frozen=True)
class Variant:
    question: str
    answer: str
    changed: dict[str, str]  # old number text -> new number text


def perturb(question: str, solution: str, answer: str, rng: np.random.Generator) -> Variant:
    """A numerically perturbed question and its recomputed answer; raises :class:`Skip`."""
    program = parse_program(question, solution, answer)
    used = sorted({ref for s in program.steps for kind, ref in s.sources if kind == "question"})
    original = run(program, program.question_values)
    for _ in range(_ATTEMPTS):
        values = list(program.question_values)
        for index in used:
            values[index] = _shift(values[index], rng)
        changed = [values[i] for i in used]
        if changed == [program.question_values[i] for i in used]:
            continue
        if len(set(values)) != len(values):
            continue  # two numbers made equal would blur which is which
        try:
            results = run(program, values)
        except Skip:
            continue
        if _valid(program, original, results):
            return _rewrite(question, program, values, results[program.answer_step])
    raise Skip("no_valid_variant")


def _rewrite(question: str, program: Program, values: list[Fraction], answer: Fraction) -> Variant:
    changed: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        old = _fraction(match.group(0))
        if old is None or old not in program.question_values:
            return match.group(0)
        new = values[program.question_values.index(old)]
        if new == old:
            return match.group(0)
        text = _render(new, match.group(0))
        changed[match.group(0)] = text
        return text

    return Variant(_QUESTION_NUMBER.sub(replace, question), str(int(answer)), changed)
