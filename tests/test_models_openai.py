"""The openai backend against a real OpenAI-compatible server (``promgate serve``) on loopback.

The server runs the same SmolLM2 weights as the in-process hf backend. Faults are real too:
a server that answers 503, one that sleeps past the client's timeout, one that SIGKILLs
itself mid-run.
"""

from __future__ import annotations

import signal
import time

import pytest

from promgate.models.backend import (
    BackendError,
    GenerationRequest,
    LoglikelihoodRequest,
)
from promgate.models.hf_backend import HFBackend, model_hash
from promgate.models.openai_backend import OpenAIBackend
from promgate.scoring import multiple_choice
from promgate.scoring.runner import evaluate_model
from serve_helpers import (
    GSM8K_ITEMS,
    MC_ITEMS,
    eval_config,
    openai_config,
    running_server,
)

pytestmark = pytest.mark.model

N_REQUESTS = sum(len(item.choices) for item in MC_ITEMS)


def _requests() -> list[LoglikelihoodRequest]:
    return [
        LoglikelihoodRequest(context, continuation, item.id, c)
        for item in MC_ITEMS
        for c, (context, continuation) in enumerate(multiple_choice.choice_pairs(item))
    ]


@pytest.fixture(scope="module")
def server(base_model_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with running_server(base_model_dir, log) as running:
        yield running


@pytest.fixture(scope="module")
def hf_backend(baseline, base_model_dir):
    return HFBackend(baseline, batch_size=8, model_hash=model_hash(base_model_dir))


@pytest.fixture(scope="module")
def reference(server, tmp_path_factory):
    """An uninterrupted runner pass through the openai backend: results file text."""
    out = tmp_path_factory.mktemp("reference")
    backend = OpenAIBackend(openai_config(server.url), model_id="baseline", journal_dir=out / "j")
    evaluate_model(
        backend, {"tiny": MC_ITEMS}, eval_config(), out / "results", out / "m.json", model_id="b"
    )
    assert not list((out / "j").glob("*")), "the journal is removed after a complete run"
    return (out / "results" / "tiny.jsonl").read_text()


def test_loglikelihoods_equal_the_hf_backend(server, hf_backend):
    backend = OpenAIBackend(openai_config(server.url), model_id="baseline")
    remote = backend.loglikelihood(_requests())
    local = hf_backend.loglikelihood(_requests())
    assert remote == pytest.approx(local, abs=1e-4)
    assert backend.stats.sent == N_REQUESTS and backend.stats.retries == 0

    def picks(values: list[float]) -> list[int]:
        it = iter(values)
        per_item = [[next(it) for _ in item.choices] for item in MC_ITEMS]
        return [scores.index(max(scores)) for scores in per_item]

    assert picks(remote) == picks(local)


def test_greedy_generation_equals_the_hf_backend(server, baseline, base_model_dir):
    item = GSM8K_ITEMS[0]
    requests = [
        GenerationRequest(item.prompt, 16, ("Question:", "<|im_end|>"), chat=True, item_id=item.id),
        GenerationRequest("def add(a, b):\n", 16, ("\ndef ",), item_id="code/1"),
    ]
    local = HFBackend(baseline, batch_size=1, model_hash=model_hash(base_model_dir))
    remote = OpenAIBackend(openai_config(server.url), model_id="baseline")
    answers = remote.generate(requests)
    assert answers == local.generate(requests)
    assert all(answers)


def test_runner_results_through_the_server(reference):
    rows = [line for line in reference.splitlines() if line]
    assert len(rows) == len(MC_ITEMS)
    assert '"id": "tiny/1"' in rows[0] and '"correct": true' in rows[0]


def test_server_errors_are_retried_and_answers_unchanged(base_model_dir, tmp_path, reference):
    with running_server(base_model_dir, tmp_path / "s.log", "--fault-fail-first", "3") as srv:
        backend = OpenAIBackend(openai_config(srv.url, max_retries=5), model_id="baseline")
        evaluate_model(
            backend,
            {"tiny": MC_ITEMS},
            eval_config(),
            tmp_path / "r",
            tmp_path / "m.json",
            model_id="b",
        )
    # Exactly the three 503s were asked again; nothing else was sent twice.
    assert backend.stats.retries == 3
    assert backend.stats.sent == N_REQUESTS + 3
    assert (tmp_path / "r" / "tiny.jsonl").read_text() == reference


def test_a_server_slower_than_the_timeout_fails_typed_not_hanging(base_model_dir, tmp_path):
    with running_server(base_model_dir, tmp_path / "s.log", "--fault-delay-s", "20") as srv:
        cfg = openai_config(srv.url, timeout_s=0.5, max_retries=2, concurrency=1)
        backend = OpenAIBackend(cfg, model_id="baseline", journal_dir=tmp_path / "j")
        started = time.monotonic()
        with pytest.raises(
            BackendError, match=r"failed after 3 attempts; last: no answer within 0.5 s"
        ):
            backend.loglikelihood(_requests()[:1])
        elapsed = time.monotonic() - started
    assert elapsed < 10, f"took {elapsed:.1f} s"
    assert backend.stats.sent == 3 and backend.stats.answered == 0


def test_killed_server_then_restart_counts_every_item_once(
    base_model_dir, tmp_path, server, reference
):
    journal = tmp_path / "journal"
    with running_server(base_model_dir, tmp_path / "s.log", "--fault-die-after", "5") as dying:
        first = OpenAIBackend(
            openai_config(dying.url, max_retries=1), model_id="baseline", journal_dir=journal
        )
        with pytest.raises(BackendError, match="failed after 2 attempts"):
            evaluate_model(
                first,
                {"tiny": MC_ITEMS},
                eval_config(),
                tmp_path / "r",
                tmp_path / "m.json",
                model_id="b",
            )
        assert dying.process.wait(timeout=30) == -signal.SIGKILL
    assert not (tmp_path / "r" / "tiny.jsonl").exists(), "no partial results file"
    (path,) = journal.glob("*.jsonl")
    saved = len(path.read_text().splitlines()) - 1  # minus the header
    assert saved == first.stats.answered
    assert 1 <= saved < N_REQUESTS

    # "Restarted": a fresh server process; the same journal folder.
    second = OpenAIBackend(openai_config(server.url), model_id="baseline", journal_dir=journal)
    evaluate_model(
        second, {"tiny": MC_ITEMS}, eval_config(), tmp_path / "r", tmp_path / "m.json", model_id="b"
    )
    assert second.stats.resumed == saved
    assert second.stats.answered == N_REQUESTS - saved
    assert second.stats.sent == N_REQUESTS - saved  # nothing already answered was asked again
    assert (tmp_path / "r" / "tiny.jsonl").read_text() == reference
    assert not path.exists()


def test_a_client_error_is_not_retried(server):
    backend = OpenAIBackend(openai_config(server.url, model="no-such-model"), model_id="baseline")
    with pytest.raises(BackendError, match="HTTP 404: model 'no-such-model' is not served"):
        backend.loglikelihood(_requests()[:1])
    assert backend.stats.sent == 1


def test_no_server_at_all_fails_after_retries(tmp_path):
    import socket

    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = OpenAIBackend(
        openai_config(f"http://127.0.0.1:{port}/v1", max_retries=2), model_id="baseline"
    )
    with pytest.raises(BackendError, match="failed after 3 attempts; last: ConnectError"):
        backend.generate([GenerationRequest("hi", 4, item_id="x/1")])
    assert backend.stats.sent == 3
