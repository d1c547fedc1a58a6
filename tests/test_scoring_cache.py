"""The answer cache: keyed by model, request content and scoring settings; no work repeated."""

from __future__ import annotations

import dataclasses

import pytest

from promgate.models.backend import BackendIdentity, GenerationRequest, LoglikelihoodRequest
from promgate.models.hf_backend import HFBackend, model_hash
from promgate.scoring.cache import CachedBackend, ResultCache, request_key
from promgate.scoring.runner import evaluate_model
from serve_helpers import GSM8K_ITEMS, MC_ITEMS, eval_config

IDENTITY = BackendIdentity("hf", "a" * 64, {"dtype": "float32", "device": "cpu"})
LL = LoglikelihoodRequest("Question: 2 + 2?\nAnswer:", " 4", "t/1", 0)
GEN = GenerationRequest("What is 2 + 2?", 32, ("Question:",), chat=True, item_id="g/1")


class Counting:
    """Any backend, counting what is asked of it."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls = 0
        self.requests = 0

    @property
    def identity(self) -> BackendIdentity:
        return self.inner.identity

    def loglikelihood(self, requests, description="scoring"):
        self.calls += 1
        self.requests += len(requests)
        return self.inner.loglikelihood(requests, description)

    def generate(self, requests, description="generating"):
        self.calls += 1
        self.requests += len(requests)
        return self.inner.generate(requests, description)


class Fake:
    identity = IDENTITY

    def loglikelihood(self, requests, description="scoring"):
        return [-float(len(r.continuation)) / 3 for r in requests]

    def generate(self, requests, description="generating"):
        return [r.prompt.upper() for r in requests]


def test_key_follows_model_request_and_scoring_settings():
    base = request_key(IDENTITY, LL)
    assert base == request_key(IDENTITY, LL)
    other_model = dataclasses.replace(IDENTITY, model_hash="b" * 64)
    other_numerics = dataclasses.replace(IDENTITY, config={"dtype": "bfloat16", "device": "cpu"})
    assert request_key(other_model, LL) != base
    assert request_key(other_numerics, LL) != base
    assert request_key(IDENTITY, dataclasses.replace(LL, continuation=" 5")) != base
    assert request_key(IDENTITY, dataclasses.replace(LL, context="Q: 2 + 2?\nA:")) != base
    # The item's name is not content: a renamed item keeps its answer.
    assert request_key(IDENTITY, dataclasses.replace(LL, item_id="u/9")) == base

    gen = request_key(IDENTITY, GEN)
    for change in ({"max_new_tokens": 64}, {"stop": ("Q:",)}, {"chat": False}):
        assert request_key(IDENTITY, dataclasses.replace(GEN, **change)) != gen


def test_values_survive_reopening_exactly(tmp_path):
    cache = ResultCache(tmp_path)
    cache.put_many([("k1", -1.2345678901234567), ("k2", "text\nwith ☃"), ("k3", -0.1 - 0.2)])
    cache.close()
    again = ResultCache(tmp_path)
    assert again.get_many(["k1", "k2", "k3", "missing"]) == {
        "k1": -1.2345678901234567,
        "k2": "text\nwith ☃",
        "k3": -0.1 - 0.2,
    }
    assert len(again) == 3


def test_second_call_asks_nothing_and_duplicates_are_asked_once(tmp_path):
    counting = Counting(Fake())
    cached = CachedBackend(counting, ResultCache(tmp_path))
    requests = [LL, dataclasses.replace(LL, item_id="t/2"), dataclasses.replace(LL, choice_index=1)]
    first = cached.loglikelihood(requests)
    assert counting.requests == 1  # all three have the same content
    assert first == [first[0]] * 3
    again = CachedBackend(counting, ResultCache(tmp_path))
    assert again.loglikelihood(requests) == first
    assert again.generate([GEN]) == ["WHAT IS 2 + 2?"]
    assert again.generate([GEN]) == ["WHAT IS 2 + 2?"]
    assert counting.calls == 2 and again.stats.hits == 4 and again.stats.misses == 1


@pytest.mark.model
def test_a_rerun_does_no_model_work_and_writes_identical_results(
    tmp_path, baseline, base_model_dir
):
    digest = model_hash(base_model_dir)
    items = {"tiny": MC_ITEMS, "gsm8k": GSM8K_ITEMS}
    cfg = eval_config(cache=True, max_new_tokens={"gsm8k": 6})

    def run(name: str, backend, cfg=cfg) -> str:
        out = tmp_path / name
        evaluate_model(backend, items, cfg, out / "r", out / "m.json", model_id="baseline")
        return "".join((out / "r" / f"{b}.jsonl").read_text() for b in items)

    plain = run("plain", HFBackend(baseline, batch_size=8, model_hash=digest))
    first = Counting(HFBackend(baseline, batch_size=8, model_hash=digest))
    cold = run("cold", CachedBackend(first, ResultCache(tmp_path / "cache")))
    assert first.requests == 13 + 2
    assert cold == plain  # a cold cache changes nothing

    second = Counting(HFBackend(baseline, batch_size=8, model_hash=digest))
    warm = run("warm", CachedBackend(second, ResultCache(tmp_path / "cache")))
    assert second.calls == 0
    assert warm == plain

    # Another model (here: another hash for the same weights) shares nothing.
    other = Counting(HFBackend(baseline, batch_size=8, model_hash="0" * 64))
    run("other", CachedBackend(other, ResultCache(tmp_path / "cache")))
    assert other.requests == 13 + 2

    # A different token budget re-asks the generations only.
    budget = Counting(HFBackend(baseline, batch_size=8, model_hash=digest))
    shorter = eval_config(cache=True, max_new_tokens={"gsm8k": 4})
    run("budget", CachedBackend(budget, ResultCache(tmp_path / "cache")), shorter)
    assert budget.requests == 2
