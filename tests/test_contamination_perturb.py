"""The contamination-resistant suite: permuted choices, new GSM8K numbers, renamed code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from contamination_helpers import write_prepared
from promgate.contamination.perturb import choices, numeric, rename
from promgate.contamination.perturb.suite import build_suite
from promgate.data.fetch import resolve_files
from promgate.data.loaders import load_benchmark
from promgate.data.loaders.gsm8k import load_gsm8k
from promgate.data.loaders.mmlu import format_prompt
from promgate.data.schema import Item


def items_of(mirror: Path, benchmark: str, n: int) -> list[Item]:
    return load_benchmark(benchmark, resolve_files(benchmark, mirror))[:n]


# --- choices -----------------------------------------------------------------------------


def test_mmlu_options_are_permuted_inside_the_prompt(mirror: Path) -> None:
    for item in items_of(mirror, "mmlu", 40):
        head, options = choices.split_mmlu_prompt(item.prompt)
        variant = choices.permute(item, "mmlu_perturbed", seed=3)
        assert variant is not None and variant.id == "mmlu_perturbed" + item.id[4:]
        _, new_options = choices.split_mmlu_prompt(variant.prompt)
        assert sorted(new_options) == sorted(options)
        gold = options[item.answer_index]
        assert new_options[variant.answer_index] == gold
        assert variant.answer_index != item.answer_index
        assert variant.target == "ABCD"[variant.answer_index]
        assert variant.prompt.startswith(head) and variant.choices == item.choices
    assert choices.permute(item, "mmlu_perturbed", 3) == variant  # stable for a seed


def test_mmlu_split_roundtrips_the_loader_format() -> None:
    prompt = format_prompt("anatomy", "What is\nthis?", ["a", "b\nB. c", "d", "e"])
    head, options = choices.split_mmlu_prompt(prompt)
    assert options[2:] == ["d", "e"] and head.endswith("What is\nthis?")


def test_arc_choices_move_the_gold_answer(mirror: Path) -> None:
    for item in items_of(mirror, "arc_challenge", 30):
        variant = choices.permute(item, "arc_challenge_perturbed", seed=1)
        assert variant.choices[variant.answer_index] == item.choices[item.answer_index]
        assert variant.answer_index != item.answer_index
        assert variant.target == item.target and variant.prompt == item.prompt


# --- GSM8K numbers -------------------------------------------------------------------------


NATALIA_Q = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips "
    "to her friends in May. How many clips did Natalia sell altogether in April and May?"
)
NATALIA_S = (
    "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
    "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72"
)


def test_numbers_change_and_the_answer_is_recomputed() -> None:
    variant = numeric.perturb(NATALIA_Q, NATALIA_S, "72", np.random.default_rng(0))
    ((old, new),) = variant.changed.items()
    assert old == "48" and new != "48" and int(new) % 2 == 0  # half of it stays whole
    assert variant.question == NATALIA_Q.replace("48", new)
    assert variant.answer == str(int(new) + int(new) // 2)


def test_thousands_separators_and_money_are_kept() -> None:
    q = "A car costs $1,200 and a bike costs $300. What do 2 cars and a bike cost?"
    s = (
        "Two cars cost 1200*2 = $<<1200*2=2400>>2400.\n"
        "With the bike: 2400+300 = $<<2400+300=2700>>2700.\n#### 2700"
    )
    variant = numeric.perturb(q, s, "2700", np.random.default_rng(1))
    values = {old: int(new.replace(",", "")) for old, new in variant.changed.items()}
    price, bike, cars = values.get("1,200", 1200), values.get("300", 300), values.get("2", 2)
    if price >= 1000:
        assert f"${price:,}" in variant.question
    assert variant.answer == str(cars * price + bike)


@pytest.mark.parametrize(
    ("question", "solution", "answer", "reason"),
    [
        (
            "Tom has 10 apples and eats 3. He doubles the rest. How many?",
            "He has 10 - 3 = 7 left.\nThen 7*2=<<7*2=14>>14.\n#### 14",
            "14",
            "unannotated_step",
        ),
        (
            "A robe takes 2 bolts of blue fiber and half that much white fiber. Total?",
            "2/2=<<2/2=1>>1\n2+1=<<2+1=3>>3\n#### 3",
            "3",
            "ambiguous_number",
        ),
        (
            "Grandma baked 5 pies of 8 pieces and set the five pies out; 14 remain. Eaten?",
            "5*8=<<5*8=40>>40\n40-14=<<40-14=26>>26\n#### 26",
            "26",
            "ambiguous_number",
        ),
        (
            "She pours 12 liters and 15 liters, spills 1, leaving 26 liters. Water?",
            "15*3/5=<<15*3/5=9>>9\n12*2/3=<<12*2/3=8>>8\n9+8=<<9+8=17>>17\n#### 17",
            "17",
            "unused_question_number",
        ),
        (
            "Sam has 30 marbles and buys 45 more. How many?",
            "30+45=<<30+45=75>>75\n#### 76",
            "76",
            "answer_not_annotated",
        ),
        (
            "Sam has 30 marbles and buys 45 more. How many?",
            "30+45=<<30+45=74>>74\n#### 74",
            "74",
            "annotation_mismatch",
        ),
        (
            "A tank holds 30 liters. How much after adding 17 liters twice?",
            "30+17+17=<<30+17+17=64>>64\n#### 64",
            "64",
            "ambiguous_number",
        ),
    ],
)
def test_unexplainable_solutions_are_skipped(question, solution, answer, reason) -> None:
    with pytest.raises(numeric.Skip) as info:
        numeric.perturb(question, solution, answer, np.random.default_rng(0))
    assert info.value.reason == reason


def test_real_gsm8k_variants_keep_whole_answers(mirror: Path) -> None:
    from promgate.data.loaders.gsm8k import read_gsm8k

    kept = 0
    for rec in read_gsm8k(mirror / "gsm8k/test.jsonl")[:200]:
        try:
            variant = numeric.perturb(
                rec.question, rec.solution, rec.answer, np.random.default_rng(rec.index)
            )
        except numeric.Skip:
            continue
        kept += 1
        assert variant.question != rec.question and variant.answer.lstrip("-").isdigit()
        program = numeric.parse_program(rec.question, rec.solution, rec.answer)
        assert numeric.run(program, program.question_values)[program.answer_step] == int(rec.answer)
    assert 50 <= kept <= 150  # about 38 % of the test set survives the strict rules


# --- renamed code ------------------------------------------------------------------------


def test_rename_code_leaves_strings_attributes_and_comments() -> None:
    src = "def f(x):\n    # x stays\n    y = x.real + len('x')\n    return obj.x + y\n"
    out = rename.rename_code(src, {"f": "g", "x": "a", "y": "b"})
    assert out == "def g(a):\n    # x stays\n    b = a.real + len('x')\n    return obj.x + b\n"


def test_humaneval_renamed_canonical_solutions_still_pass(mirror: Path) -> None:
    from promgate.contamination.perturb.suite import sandbox_verifier
    from promgate.scoring.code import program_and_tests

    items = items_of(mirror, "humaneval", 6)
    renamed = [rename.rename(it, "humaneval_perturbed").item for it in items]
    first = renamed[0]
    assert first.entry_point.startswith("task_") and "has_close_elements" not in first.prompt
    assert "arg0" in first.prompt and "numbers" not in first.target
    assert f">>> {first.entry_point}(" in first.prompt
    assert sandbox_verifier([program_and_tests(r, r.target) for r in renamed]) == [True] * 6
    broken = renamed[0].model_copy(update={"target": renamed[0].target.replace("arg1", "arg9")})
    assert sandbox_verifier([program_and_tests(broken, broken.target)]) == [False]


def test_mbpp_rename_reaches_the_tests(mirror: Path) -> None:
    item = items_of(mirror, "mbpp", 1)[0]
    variant = rename.rename(item, "mbpp_perturbed").item
    assert item.entry_point not in variant.prompt + variant.tests + variant.target
    assert variant.tests.count(variant.entry_point) == item.tests.count(item.entry_point)


def test_keyword_collisions_are_skipped() -> None:
    item = Item.model_validate(
        {
            "id": "humaneval/x",
            "benchmark": "humaneval",
            "split": "test",
            "kind": "code",
            "prompt": "def f(key):\n",
            "target": "    return sorted([1], key=key)\n",
            "tests": "def check(c):\n    assert c(None) == [1]\n",
            "entry_point": "f",
            "metadata": {"source": "t", "stratum": "s", "license": "MIT"},
        }
    )
    with pytest.raises(rename.Skip, match="keyword_collision"):
        rename.rename(item, "humaneval_perturbed")


# --- the suite ----------------------------------------------------------------------------


def test_suite_writes_variants_and_counts_skips(mirror: Path, tmp_path: Path) -> None:
    gsm = load_gsm8k(mirror / "gsm8k/test.jsonl")[:30]
    code = items_of(mirror, "humaneval", 4)
    prepared = write_prepared(
        tmp_path / "prepared", [*items_of(mirror, "arc_easy", 5), *gsm, *code]
    )
    manifest = json.loads((prepared / "manifest.json").read_text())
    for entry in manifest["benchmarks"].values():
        entry.update(split="test", license="MIT")
    (prepared / "manifest.json").write_text(json.dumps(manifest))

    def verify(jobs):  # stub sandbox: reject the second program
        return [i != 1 for i in range(len(jobs))]

    suite = build_suite(prepared, tmp_path / "out", seed=5, mirror=mirror, verify=verify)
    entries = suite["benchmarks"]
    assert set(entries) == {"arc_easy_perturbed", "gsm8k_perturbed", "humaneval_perturbed"}
    assert entries["arc_easy_perturbed"]["n_written"] == 5
    gsm_entry = entries["gsm8k_perturbed"]
    assert gsm_entry["n_written"] + sum(gsm_entry["skipped"].values()) == 30
    assert 0 < gsm_entry["n_written"] < 30
    assert entries["humaneval_perturbed"]["skipped"] == {"fails_after_rename": 1}
    rows = [json.loads(x) for x in (tmp_path / "out/gsm8k_perturbed.jsonl").open()]
    assert all(r["id"].startswith("gsm8k_perturbed/test/") for r in rows)
    originals = {it.id: it for it in gsm}
    for row in rows:
        source = originals[row["id"].replace("gsm8k_perturbed", "gsm8k")]
        assert row["prompt"] != source.prompt
