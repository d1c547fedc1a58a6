"""The openai backend's write-ahead journal and its reading of server answers, without a server."""

from __future__ import annotations

import json

import pytest

from promgate.errors import SchemaError
from promgate.models.backend import BackendError, BackendIdentity, LoglikelihoodRequest
from promgate.models.journal import Journal
from promgate.models.openai_backend import continuation_logprob

IDENTITY = BackendIdentity("openai", None, {"model": "m"})
KEYS = ["k0", "k1", "k2"]


def _journal(tmp_path, keys=KEYS) -> Journal:
    return Journal.open(tmp_path, IDENTITY, keys)


def test_answers_survive_a_crash_and_a_torn_last_line_is_asked_again(tmp_path):
    first = _journal(tmp_path)
    first.append(0, "k0", -1.5)
    first.append(2, "k2", -0.25)
    first.close()
    with first.path.open("ab") as handle:  # the crash hit mid-write
        handle.write(b'{"i": 1, "key": "k1", "val')
    again = _journal(tmp_path)
    assert again.replay() == {0: -1.5, 2: -0.25}
    again.append(1, "k1", -3.0)
    again.close()
    assert _journal(tmp_path).replay() == {0: -1.5, 1: -3.0, 2: -0.25}
    _journal(tmp_path).finish()
    assert not first.path.exists()


def test_a_journal_belongs_to_one_list_of_requests(tmp_path):
    _journal(tmp_path).append(0, "k0", 1.0)
    assert _journal(tmp_path, ["k0", "k1", "other"]).replay() == {}  # another call: a new file


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"i": 0, "key": "k1", "value": 1.0}, "request content differs"),
        ({"i": 7, "key": "k0", "value": 1.0}, "index out of range"),
        ({"i": 0, "key": "k0", "value": 2.0}, "answered twice, differently"),
        ({"i": 0, "value": 1.0}, "expected keys"),
    ],
)
def test_damage_other_than_a_torn_end_is_an_error(tmp_path, row, message):
    journal = _journal(tmp_path)
    journal.append(0, "k0", 1.0)
    journal.close()
    with journal.path.open("a") as handle:
        handle.write(json.dumps(row) + "\n")
    with pytest.raises(SchemaError, match=message) as err:
        _journal(tmp_path).replay()
    assert err.value.line == 3 and err.value.path == str(journal.path)


def _answer(tokens: list[str], values: list[float | None]) -> dict:
    offsets = [sum(len(t) for t in tokens[:i]) for i in range(len(tokens))]
    logprobs = {"tokens": tokens, "token_logprobs": values, "text_offset": offsets}
    return {"choices": [{"text": "".join(tokens), "logprobs": logprobs}]}


def test_continuation_tokens_are_those_past_the_context():
    request = LoglikelihoodRequest("Answer:", " carbon dioxide", "t/1", 1)
    answer = _answer(["Answer", ":", " carbon", " dioxide"], [None, -1.0, -2.0, -0.5])
    assert continuation_logprob(answer, request) == -2.5
    # A trailing space of the context is scored with the continuation, as the hf backend does.
    spaced = LoglikelihoodRequest("Answer: ", "carbon dioxide", "t/1", 1)
    assert continuation_logprob(answer, spaced) == -2.5
    # A token that straddles the boundary carries continuation text: it is counted.
    merged = _answer(["Answer", ": c", "arbon", " dioxide"], [None, -1.0, -2.0, -0.5])
    assert continuation_logprob(merged, request) == -3.5


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"choices": []}, "lacks 'choices.0.logprobs'"),
        ({"choices": [{"logprobs": None}]}, "'choices.0.logprobs' is not a dict"),
        (_answer(["Answer", ":", " x"], [None, -1.0]), "differ in length"),
        (_answer(["Answer", ":", " x"], [None, -1.0, None]), "non-numeric"),
        (_answer(["Answer:", " x"][1:], [None]), "no context token"),
    ],
)
def test_malformed_answers_are_errors_not_numbers(answer, message):
    request = LoglikelihoodRequest("Answer:", " x", "t/1", 0)
    with pytest.raises(BackendError, match=message):
        continuation_logprob(answer, request)
