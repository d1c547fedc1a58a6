"""Prompts for code benchmarks, and the code inside a model's answer.

Two prompt formats (``eval.code_prompt``):

* ``completion`` (base models; human-eval's and lm-eval-harness's format): the item's prompt
  as it is, and the model's continuation is the completion, cut at the benchmark's stop
  strings.
* ``chat`` (instruct models, which answer in prose around a code block): one user message in
  the model's chat template asking for the function in a single ```python block (the text of
  the message is :func:`chat_message`). The code is the first fenced block of the answer
  (``python``/``py`` or unlabelled; a block left open by the token budget runs to the end), or
  the whole answer when it has no fence (:func:`extract_code`). Generation stops at the end
  of the model's turn or where the block closes before prose (:data:`CHAT_STOP`).

Either way the result is a *completion* in upstream's sense (:func:`as_completion`), so the
program is composed exactly as upstream composes it (``promgate.scoring.code``): for
HumanEval the prompt followed by the completion. An answer that repeats the signature (a
whole function named like the entry point) becomes ``    pass`` (closing the prompt's stub)
followed by the answer's code, whose definition replaces the stub; an answer that is only a
body is indented under the prompt's signature. MBPP's completion is the whole program.

Results keep the model's raw answer as ``prediction``: scoring it again (the predictions
backend) derives the same program.
"""

from __future__ import annotations

import ast
import re
import warnings
from typing import Literal

from promgate.data.schema import Item

PromptFormat = Literal["completion", "chat"]
PROMPT_FORMATS: tuple[PromptFormat, ...] = ("completion", "chat")

HUMANEVAL_INSTRUCTION = (
    "Complete the following Python function. Reply with the complete function, including "
    "its signature, in a single ```python code block.\n\n```python\n{prompt}```"
)
MBPP_INSTRUCTION = (
    "{task}\n\nReply with the Python code in a single ```python code block, with no tests "
    "and no example usage."
)
# A chat answer stops where its code block closes and prose begins ("```" then a blank
# line): the explanation that follows costs tokens and is never run. An opening fence is
# followed by a language or code, never by a blank line, so this cannot cut the code off.
CHAT_STOP = ("\n```\n\n",)
_MBPP_PROMPT_END = "\n[BEGIN]\n"
_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:\n[ \t]*```|\Z)", re.S)
_CODE_LANGUAGES = ("python", "py", "python3", "")


def family(benchmark: str) -> str:
    """``humaneval`` or ``mbpp`` (their variants share the format: ``mbpp_sanitized``, ...)."""
    for name in ("humaneval", "mbpp"):
        if benchmark == name or benchmark.startswith(name + "_"):
            return name
    raise ValueError(f"no code-execution format for benchmark {benchmark!r}")


def chat_message(item: Item) -> str:
    """The user message of the chat format for one code item."""
    if family(item.benchmark) == "humaneval":
        return HUMANEVAL_INSTRUCTION.format(prompt=item.prompt)
    task = item.prompt.removesuffix(_MBPP_PROMPT_END).rstrip()
    return MBPP_INSTRUCTION.format(task=task)


def extract_code(answer: str) -> str:
    """The first fenced Python block of ``answer``, else ``answer`` itself."""
    blocks = [(m.group(1).lower(), m.group(2)) for m in _FENCE.finditer(answer)]
    for language, body in blocks:
        if language in _CODE_LANGUAGES:
            return body.rstrip() + "\n"
    return answer


def defines(code: str, name: str) -> bool:
    """Whether ``code`` defines a top-level function ``name`` (by its text, if it won't parse)."""
    try:
        with warnings.catch_warnings():  # model code may hold invalid escapes: not ours
            warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
            body = ast.parse(code).body
    except (SyntaxError, ValueError):
        return re.search(rf"^(async\s+)?def\s+{re.escape(name)}\s*\(", code, re.M) is not None
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name
        for node in body
    )


def _indented(code: str) -> str:
    """A body under the prompt's signature: indent it when it starts at column 0."""
    lines = code.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if first[:1] in (" ", "\t") or not first:
        return code
    return "\n".join("    " + line if line.strip() else line for line in lines) + "\n"


def as_completion(item: Item, code: str) -> str:
    """What to append to the item's prompt (HumanEval), or the whole program (MBPP)."""
    if family(item.benchmark) == "mbpp":
        return code
    if item.entry_point is not None and defines(code, item.entry_point):
        return "    pass\n\n\n" + code  # the stub gets a body; the answer's function replaces it
    return _indented(code)


def completion_from_answer(item: Item, answer: str, prompt_format: PromptFormat) -> str:
    """The completion a model's raw answer stands for, in the given prompt format."""
    if prompt_format == "completion":
        return answer
    return as_completion(item, extract_code(answer))
