"""Any OpenAI-compatible server (vLLM, TGI, llama.cpp server, ``promgate serve``) as a backend.

Log-likelihood: ``/v1/completions`` with ``echo=true, logprobs=1, max_tokens=0`` on
context + continuation; the server returns every prompt token's log-probability and its
character offset, and the continuation's tokens are those that reach past the context
(trailing spaces of the context count as continuation, as in lm-eval-harness and the hf
backend). Generation: greedy (``temperature=0``), or a sample with the request's
temperature, top_p and seed, on ``/v1/completions``, or on ``/v1/chat/completions`` for chat
requests; stop strings are applied again here because servers differ in whether they cut at
them.

Requests run on a bounded thread pool. Each one is retried with exponential backoff on
connection errors, timeouts, 429 and 5xx; any other 4xx or a malformed answer fails at once.
A failure never turns into an answer: the call raises ``BackendError`` naming the request.

Every answer is appended to a write-ahead journal (one JSON line, flushed and fsynced,
keyed by request index and content) before it counts. A rerun of the same requests after a
crash — of the server or of this process — reads the journal, asks only what is missing,
and counts each request exactly once. The journal is removed when the call completes.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from promgate.config import OpenAIConfig
from promgate.models.backend import (
    BackendError,
    BackendIdentity,
    GenerationRequest,
    LoglikelihoodRequest,
    Request,
    canonical_hash,
    source_hash,
)
from promgate.models.journal import Journal
from promgate.progress import progress_bar
from promgate.scoring.generate import truncate_at_stop

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 30.0


@dataclass
class CallStats:
    sent: int = 0  # HTTP requests sent, retries included
    retries: int = 0
    answered: int = 0  # requests answered by the server in this process
    resumed: int = 0  # requests answered from the journal of an earlier, interrupted run


class OpenAIBackend:
    def __init__(
        self,
        cfg: OpenAIConfig,
        *,
        model_id: str,
        journal_dir: str | Path | None = None,
    ) -> None:
        self.cfg = cfg
        self.model = cfg.model.format(model_id=model_id)
        self.base_url = cfg.base_url.rstrip("/")
        self.journal_dir = Path(journal_dir) if journal_dir is not None else None
        self.stats = CallStats()
        self._stats_lock = threading.Lock()
        headers = {}
        if key := os.environ.get(cfg.token_env):
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(cfg.timeout_s),
            limits=httpx.Limits(max_connections=cfg.concurrency),
        )
        from promgate.scoring import generate

        code = source_hash(sys.modules[__name__], generate)
        self._identity = BackendIdentity(
            "openai", cfg.model_hash, {"model": self.model, "decoding": "greedy", "code": code}
        )

    @property
    def identity(self) -> BackendIdentity:
        return self._identity

    def close(self) -> None:
        self._client.close()

    # -- the two requests -------------------------------------------------------------

    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], description: str = "scoring"
    ) -> list[float]:
        def call(request: LoglikelihoodRequest) -> float:
            body = {
                "model": self.model,
                "prompt": request.context + request.continuation,
                "max_tokens": 0,
                "echo": True,
                "logprobs": 1,
                "temperature": 0,
            }
            answer = self._post("/completions", body, _label(request))
            return continuation_logprob(answer, request, self.base_url)

        return [float(v) for v in self._run(requests, call, description)]

    def generate(
        self, requests: Sequence[GenerationRequest], description: str = "generating"
    ) -> list[str]:
        def call(request: GenerationRequest) -> str:
            common = {
                "model": self.model,
                "max_tokens": request.max_new_tokens,
                "temperature": request.temperature,
                "stop": list(request.stop) or None,
            }
            if request.sampled:  # a server that honours seed (vLLM does) repeats the sample
                common.update(top_p=request.top_p, seed=request.seed)
            if request.chat:
                body = {"messages": [{"role": "user", "content": request.prompt}], **common}
                answer = self._post("/chat/completions", body, _label(request))
                text = _field(answer, ("choices", 0, "message", "content"), str, self.base_url)
            else:
                answer = self._post(
                    "/completions", {"prompt": request.prompt, **common}, _label(request)
                )
                text = _field(answer, ("choices", 0, "text"), str, self.base_url)
            return truncate_at_stop(text, list(request.stop))

        return [str(v) for v in self._run(requests, call, description)]

    # -- transport ----------------------------------------------------------------------

    def _post(self, path: str, body: dict[str, Any], label: str) -> dict[str, Any]:
        """POST with retries; the parsed JSON answer, or BackendError naming what failed."""
        url = self.base_url + path
        last = ""
        for attempt in range(self.cfg.max_retries + 1):
            if attempt:
                self._count(retries=1)
                time.sleep(min(self.cfg.backoff_s * 2 ** (attempt - 1), MAX_BACKOFF_S))
            self._count(sent=1)
            try:
                response = self._client.post(url, json=body)
            except httpx.TimeoutException:
                last = f"no answer within {self.cfg.timeout_s:g} s"
                continue
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in RETRY_STATUS or response.status_code >= 500:
                last = f"HTTP {response.status_code}: {_error_text(response)}"
                continue
            if response.status_code >= 400:
                raise BackendError(
                    f"{url} refused {label}: HTTP {response.status_code}: {_error_text(response)}"
                )
            try:
                answer = response.json()
            except ValueError as exc:
                raise BackendError(f"{url} answered {label} with invalid JSON") from exc
            if not isinstance(answer, dict):
                raise BackendError(f"{url} answered {label} with JSON that is not an object")
            return answer
        raise BackendError(
            f"{url}: {label} failed after {self.cfg.max_retries + 1} attempts; last: {last}"
        )

    def _count(self, **deltas: int) -> None:
        with self._stats_lock:
            for name, delta in deltas.items():
                setattr(self.stats, name, getattr(self.stats, name) + delta)

    def _run(self, requests: Sequence[Request], call: Callable, description: str) -> list[Any]:
        """Answer every request once: journaled answers first, the rest on the pool."""
        keys = [canonical_hash(r.content()) for r in requests]
        journal = Journal.open(self.journal_dir, self.identity, keys)
        answers = journal.replay()
        self._count(resumed=len(answers))
        pending = iter([i for i in range(len(requests)) if i not in answers])
        failure: Exception | None = None
        with (
            progress_bar("requests") as bar,
            ThreadPoolExecutor(self.cfg.concurrency, thread_name_prefix="openai") as pool,
        ):
            task = bar.add_task(description, total=len(requests), completed=len(answers))
            running: dict[Future, int] = {}

            def submit_next() -> None:
                index = next(pending, None)
                if index is not None:
                    running[pool.submit(call, requests[index])] = index

            for _ in range(self.cfg.concurrency):
                submit_next()
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    index = running.pop(future)
                    try:
                        value = future.result()
                    except Exception as exc:  # re-raised below, after in-flight answers
                        failure = failure or exc
                        continue
                    journal.append(index, keys[index], value)
                    answers[index] = value
                    self._count(answered=1)
                    bar.advance(task)
                    if failure is None:
                        submit_next()
        # In-flight answers were journaled above; only then does the first failure surface.
        if failure is not None:
            journal.close()
            raise failure
        journal.finish()
        return [answers[i] for i in range(len(requests))]


def continuation_logprob(
    answer: dict[str, Any], request: LoglikelihoodRequest, where: str = "server"
) -> float:
    """Sum of the log-probabilities of the tokens that reach past the context."""
    logprobs = _field(answer, ("choices", 0, "logprobs"), dict, where)
    values = _field(logprobs, ("token_logprobs",), list, where)
    offsets = _field(logprobs, ("text_offset",), list, where)
    if len(values) != len(offsets) or not values:
        raise BackendError(f"{where}: token_logprobs and text_offset differ in length or are empty")
    context_chars = len(request.context.rstrip(" "))
    text_len = len(request.context) + len(request.continuation)
    ends = [*offsets[1:], text_len]
    # A token belongs to the continuation when it ends past the context's last character.
    first = next((i for i, end in enumerate(ends) if end > context_chars), None)
    if first is None:
        raise BackendError(f"{_label(request)}: the server's tokens end before the continuation")
    if first == 0:
        raise BackendError(f"{_label(request)}: no context token precedes the continuation")
    picked = values[first:]
    if not all(isinstance(v, int | float) for v in picked):
        raise BackendError(f"{where}: non-numeric token_logprobs for {_label(request)}")
    return float(sum(picked))


def _field(obj: Any, path: tuple, kind: type, where: str) -> Any:
    for step in path:
        try:
            obj = obj[step]
        except (KeyError, IndexError, TypeError):
            dotted = ".".join(str(s) for s in path)
            raise BackendError(f"{where}: answer lacks '{dotted}'") from None
    if not isinstance(obj, kind):
        dotted = ".".join(str(s) for s in path)
        raise BackendError(f"{where}: '{dotted}' is not a {kind.__name__}")
    return obj


def _label(request: Request) -> str:
    if isinstance(request, LoglikelihoodRequest):
        return f"item {request.item_id or '?'} choice {request.choice_index}"
    return f"item {request.item_id or '?'}"


def _error_text(response: httpx.Response) -> str:
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text
    return str(message)[:300]
