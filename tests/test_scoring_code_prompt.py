"""Code prompts: the chat message, the code in an answer, and its completion for upstream.

The last tests run real programs: every HumanEval canonical solution and every MBPP
reference, wrapped the ways an instruct model answers (prose around a fenced block, a whole
function, a bare body), must still pass in the sandbox once turned into a completion.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from promgate.data.loaders import load_humaneval, load_mbpp
from promgate.data.schema import Item
from promgate.sandbox import Limits
from promgate.scoring.code import score_completions
from promgate.scoring.code_prompt import (
    CHAT_STOP,
    as_completion,
    chat_message,
    completion_from_answer,
    defines,
    extract_code,
    family,
)
from promgate.scoring.generate import truncate_at_stop

LIMITS = Limits(wall_timeout_s=20.0, cpu_time_s=10)


@pytest.fixture(scope="module")
def humaneval(mirror: Path) -> list[Item]:
    return load_humaneval(mirror / "humaneval/HumanEval.jsonl.gz")


@pytest.fixture(scope="module")
def mbpp(mirror: Path) -> list[Item]:
    return load_mbpp(mirror / "mbpp/mbpp.jsonl", split="test")


# --- extracting the code --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (
            "Sure!\n```python\ndef f():\n    return 1\n```\nIt returns 1.",
            "def f():\n    return 1\n",
        ),
        ("```\nx = 1\n```", "x = 1\n"),
        ("```py\nx = 1\n```", "x = 1\n"),
        ("```Python3\nx = 1\n```", "x = 1\n"),
        ("Here:\n```python\ndef f():\n    return", "def f():\n    return\n"),  # budget ran out
        ("```bash\npip install x\n```\n```python\ny = 2\n```", "y = 2\n"),
        ("```python\na = 1\n```\n```python\nb = 2\n```", "a = 1\n"),  # the first block
        ("    return x + 1\n", "    return x + 1\n"),  # no fence: the whole answer
        ("", ""),
    ],
)
def test_extract_code(answer, code):
    assert extract_code(answer) == code


def test_the_chat_stop_cuts_the_prose_and_keeps_the_code():
    answer = "```python\ndef f():\n    return 1\n```\n\nThis function returns 1."
    cut = truncate_at_stop(answer, list(CHAT_STOP))
    assert (
        cut == "```python\ndef f():\n    return 1"
        and extract_code(cut) == "def f():\n    return 1\n"
    )
    opening = "Here is the code:\n```\ndef f():\n    return 1\n"  # an unlabelled opening fence
    assert truncate_at_stop(opening, list(CHAT_STOP)) == opening


def test_defines_reads_the_syntax_tree_and_falls_back_to_text():
    assert defines("import math\n\ndef f(x):\n    return x\n", "f")
    assert not defines("def g():\n    def f():\n        pass\n", "f")  # nested: not top level
    assert not defines("f = lambda: 1\n", "f")
    assert defines("def f(x):\n    return (\n", "f")  # does not parse: its text decides


# --- the completion upstream appends -------------------------------------------------------


def test_a_whole_function_replaces_the_prompts_stub(humaneval):
    item = humaneval[0]
    full = item.prompt + item.target
    completion = as_completion(item, full)
    assert completion.startswith("    pass\n") and completion.endswith(full)
    compile(item.prompt + completion, "program.py", "exec")


def test_a_body_is_indented_under_the_signature(humaneval):
    item = humaneval[2]
    assert as_completion(item, "return number % 1.0\n") == "    return number % 1.0\n"
    assert as_completion(item, "    return number % 1.0\n") == "    return number % 1.0\n"


def test_mbpp_completion_is_the_program(mbpp):
    assert as_completion(mbpp[0], "def remove_Occ(s, ch):\n    pass\n").startswith("def ")


def test_completion_format_passes_the_answer_through(humaneval):
    item = humaneval[0]
    assert completion_from_answer(item, "```python\nx\n```", "completion") == "```python\nx\n```"


def test_chat_messages_carry_the_task(humaneval, mbpp):
    he = chat_message(humaneval[0])
    assert humaneval[0].prompt in he and "```python" in he
    mb = chat_message(mbpp[0])
    assert "[BEGIN]" not in mb and "remove first and last occurrence" in mb
    assert "assert remove_Occ" in mb  # the tests show the expected name and signature


def test_unknown_benchmark_family():
    assert family("mbpp_sanitized") == "mbpp" and family("humaneval_perturbed") == "humaneval"
    with pytest.raises(ValueError, match="no code-execution format"):
        family("apps")


# --- real programs ---------------------------------------------------------------------------


def _all_pass(items: list[Item], answers: dict[str, str]) -> dict[str, str]:
    completions = {it.id: [completion_from_answer(it, answers[it.id], "chat")] for it in items}
    scores = score_completions(items, completions, LIMITS)
    return {s.item_id: s.runs[0].verdict for s in scores if s.c != 1}


def test_humaneval_references_pass_as_chat_answers(humaneval):
    """As a whole function in prose, and as a bare body in a fence (164 programs each)."""
    whole = {
        it.id: f"Here is the function:\n```python\n{it.prompt}{it.target}```\nDone."
        for it in humaneval
    }
    body = {it.id: f"```python\n{it.target}```" for it in humaneval}
    assert _all_pass(humaneval, whole) == {}
    assert _all_pass(humaneval, body) == {}


def test_mbpp_references_pass_as_chat_answers(mbpp):
    answers = {it.id: f"Sure.\n\n```python\n{it.target}\n```\n" for it in mbpp}
    assert _all_pass(mbpp, answers) == {}
