"""Code items with the function, its parameters and its locals renamed.

A model that memorised ``def has_close_elements(numbers, threshold)`` and its body meets
``def task_3f2a(arg0, arg1)``: same behaviour, none of the familiar names. Names are
changed token by token (never inside strings, never after a ``.``), so the program's meaning
is kept; items the rewrite cannot be sure of are skipped with a reason:

- ``no_function``: the entry point is not a top-level function of prompt + solution;
- ``scope_statement``: ``global`` / ``nonlocal`` in the function;
- ``keyword_collision``: a renamed name is also a keyword argument or used in an f-string;
- ``syntax``: the code does not parse or tokenize.

The suite then runs the renamed canonical solution against the renamed tests and drops (and
counts) the items that fail.
"""

from __future__ import annotations

import ast
import hashlib
import io
import keyword
import re
import tokenize
from dataclasses import dataclass

from promgate.data.schema import Item

SKIP_REASONS = ("no_function", "scope_statement", "keyword_collision", "syntax")


class Skip(Exception):
    def __init__(self, reason: str) -> None:
        assert reason in SKIP_REASONS
        super().__init__(reason)
        self.reason = reason


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    raise Skip("no_function")


def _local_names(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[list[str], list[str]]:
    """(parameters, other names bound inside the function), each in first-seen order."""
    args = fn.args
    params = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
    params += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    bound: list[str] = []
    for node in ast.walk(fn):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            raise Skip("scope_statement")
        names: list[str] = []
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names = [node.id]
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names = [node.name]
        elif isinstance(node, ast.arg) and node not in (*args.args, *args.kwonlyargs):
            names = [node.arg]  # lambda and nested-function parameters
        bound += [n for n in names if n not in params and n not in bound]
    return params, bound


def new_names(item_id: str, function: str, params: list[str], bound: list[str]) -> dict[str, str]:
    tag = hashlib.sha256(item_id.encode()).hexdigest()[:6]
    mapping = {function: f"task_{tag}"}
    mapping.update({p: f"arg{i}" for i, p in enumerate(params)})
    mapping.update({b: f"var{i}" for i, b in enumerate(bound)})
    return mapping


def _check_collisions(tree: ast.AST, mapping: dict[str, str]) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in mapping:
            raise Skip("keyword_collision")
        if isinstance(node, ast.JoinedStr):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Name) and inner.id in mapping:
                    raise Skip("keyword_collision")


def rename_code(source: str, mapping: dict[str, str]) -> str:
    """Rename NAME tokens (not attributes, not in strings or comments) by ``mapping``."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        raise Skip("syntax") from exc
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    out, last, previous = [], 0, None
    for tok in tokens:
        if tok.type == tokenize.NAME and tok.string in mapping and previous != ".":
            start = offsets[tok.start[0] - 1] + tok.start[1]
            out.append(source[last:start] + mapping[tok.string])
            last = start + len(tok.string)
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT):
            previous = tok.string
    return "".join(out) + source[last:]


def rename_words(text: str, mapping: dict[str, str]) -> str:
    """Whole-word renaming for text that mixes prose and code (MBPP prompts and asserts)."""
    if not mapping:
        return text
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, mapping)) + r")\b")
    return pattern.sub(lambda m: mapping[m.group(1)], text)


@dataclass(frozen=True)
class Renamed:
    item: Item
    mapping: dict[str, str]


def rename(item: Item, benchmark: str) -> Renamed:
    """HumanEval-style (prompt + solution is the module) or MBPP-style (solution alone)."""
    if item.kind != "code" or not item.entry_point or item.tests is None:
        raise Skip("no_function")
    humaneval = item.benchmark.startswith("humaneval")
    module = item.prompt + item.target if humaneval else item.target
    try:
        tree = ast.parse(module)
    except SyntaxError as exc:
        raise Skip("syntax") from exc
    params, bound = _local_names(_function(tree, item.entry_point))
    mapping = new_names(item.id, item.entry_point, params, bound)
    if any(keyword.iskeyword(n) for n in mapping.values()):
        raise Skip("syntax")
    _check_collisions(tree, mapping)
    if humaneval:
        # The docstring's examples call the function by name: rename those calls too.
        head, whole = rename_code(item.prompt, mapping), rename_code(module, mapping)
        if not whole.startswith(head):
            raise Skip("syntax")
        target = whole[len(head) :]
        call = re.compile(rf"\b{re.escape(item.entry_point)}\(")
        prompt = call.sub(mapping[item.entry_point] + "(", head)
        tests = item.tests  # HumanEval's tests call `candidate`, never the name
    else:
        only_name = {item.entry_point: mapping[item.entry_point]}
        prompt = rename_words(item.prompt, only_name)
        target = rename_code(item.target, mapping)
        tests = rename_words(item.tests, only_name)
    new_id = benchmark + item.id[len(item.benchmark) :]
    renamed = Item.model_validate(
        {
            **item.model_dump(exclude={"content_hash"}),
            "id": new_id,
            "benchmark": benchmark,
            "prompt": prompt,
            "target": target,
            "tests": tests,
            "entry_point": mapping[item.entry_point],
        }
    )
    return Renamed(renamed, mapping)
