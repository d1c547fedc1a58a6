"""``promgate serve``: a small OpenAI-compatible HTTP server for a transformers model folder.

It runs the same fp32 weights the hf backend loads, so the openai backend can be checked
against it end to end, and a team can point any OpenAI-compatible client at SmolLM2. What it
speaks (the subset lm-eval-harness and promgate use):

- ``GET /health``, ``GET /v1/models`` (the model's sha256 is listed as ``promgate_sha256``)
- ``POST /v1/completions``: ``prompt`` (text, token ids, or a list of either), ``max_tokens``
  (default 16), ``echo``, ``logprobs`` (top-k per token, with ``token_logprobs`` and
  ``text_offset``), ``stop``. ``max_tokens: 0`` with ``echo`` scores the prompt only.
- ``POST /v1/chat/completions``: ``messages``, ``max_tokens``, ``stop``; the model's chat
  template is applied.

Decoding is greedy only: a ``temperature`` above 0 on a request that generates is refused
rather than silently ignored. Prompts are tokenised as they are (no BOS is added), as the hf
backend does. One request runs on the model at a time.

The ``--fault-*`` options exist for promgate's own tests of client resilience (a slow
server, a failing one, one that dies mid-run); they are not for normal use.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MAX_LOGPROBS = 20


class RequestError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param


@dataclass
class Faults:
    """Test-only misbehaviour: delay every answer, fail the first N, die after N."""

    delay_s: float = 0.0
    fail_first: int = 0
    die_after: int = 0  # SIGKILL this process right after sending the N-th answer (0: never)
    _received: int = 0
    _answered: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def on_request(self) -> bool:
        """Sleep as configured; True when this request must be answered with a 503."""
        with self._lock:
            self._received += 1
            fail = self._received <= self.fail_first
        if self.delay_s:
            time.sleep(self.delay_s)
        return fail

    def after_answer(self) -> None:
        with self._lock:
            self._answered += 1
            die = self.die_after and self._answered >= self.die_after
        if die:
            os.kill(os.getpid(), signal.SIGKILL)


class Engine:
    """The model side of the server: tokenise, score and generate, one request at a time."""

    def __init__(self, model, tokenizer, name: str, sha256: str) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.sha256 = sha256
        self.max_length = int(getattr(model.config, "max_position_embeddings", 2048))
        self._lock = threading.Lock()

    # -- requests ------------------------------------------------------------------------

    def completions(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check_model(body)
        max_tokens = _int(body, "max_tokens", 16, low=0)
        echo = bool(body.get("echo", False))
        top = body.get("logprobs")
        if top is not None and (not isinstance(top, int) or not 0 <= top <= MAX_LOGPROBS):
            raise RequestError(
                400, f"logprobs must be an integer in [0, {MAX_LOGPROBS}]", "logprobs"
            )
        self._check_decoding(body, max_tokens)
        stop = _stop(body)
        choices, prompt_tokens, completion_tokens = [], 0, 0
        for index, prompt in enumerate(_prompts(body)):
            text, ids, offsets = self._prompt_tokens(prompt, generating=max_tokens > 0)
            with self._lock:
                output = self._generate(text, max_tokens, stop) if max_tokens else ""
                out_ids, out_offsets = self._text_tokens(output)
                logprobs = None
                if top is not None:
                    all_ids = ids + out_ids
                    values, tops = self._score(all_ids, top)
                    start = 0 if echo else len(ids)
                    shift = 0 if echo else len(text)
                    all_offsets = offsets + [len(text) + o for o in out_offsets]
                    shown = (text if echo else "") + output
                    logprobs = {
                        "tokens": _pieces(shown, [o - shift for o in all_offsets[start:]]),
                        "token_logprobs": values[start:],
                        "top_logprobs": tops[start:] if top else None,
                        "text_offset": [o - shift for o in all_offsets[start:]],
                    }
            prompt_tokens += len(ids)
            completion_tokens += len(out_ids)
            choices.append(
                {
                    "index": index,
                    "text": (text if echo else "") + output,
                    "logprobs": logprobs,
                    "finish_reason": "length" if len(out_ids) >= max_tokens else "stop",
                }
            )
        return self._envelope("text_completion", choices, prompt_tokens, completion_tokens)

    def chat_completions(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check_model(body)
        max_tokens = _int(body, "max_tokens", 16, low=1)
        self._check_decoding(body, max_tokens)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise RequestError(400, "messages must be a non-empty list", "messages")
        prompt = self.tokenizer.apply_chat_template(
            [_message(m) for m in messages], tokenize=False, add_generation_prompt=True
        )
        with self._lock:
            output = self._generate(prompt, max_tokens, _stop(body))
        n_prompt = len(self.tokenizer(prompt, add_special_tokens=False).input_ids)
        n_out = len(self._text_tokens(output)[0])
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": output},
            "finish_reason": "length" if n_out >= max_tokens else "stop",
        }
        return self._envelope("chat.completion", [choice], n_prompt, n_out)

    def models(self) -> dict[str, Any]:
        entry = {
            "id": self.name,
            "object": "model",
            "created": 0,
            "owned_by": "promgate",
            "promgate_sha256": self.sha256,
        }
        return {"object": "list", "data": [entry]}

    # -- model work ----------------------------------------------------------------------

    def _generate(self, prompt: str, max_tokens: int, stop: list[str]) -> str:
        from promgate.scoring.generate import generate_greedy

        texts = generate_greedy(
            self.model, self.tokenizer, [prompt], max_new_tokens=max_tokens, batch_size=1, stop=stop
        )
        return texts[0]

    def _score(self, ids: list[int], top: int) -> tuple[list[float | None], list]:
        """Log-probability of every token given the ones before it (None for the first)."""
        import torch

        if len(ids) > self.max_length:
            raise RequestError(400, f"{len(ids)} tokens exceed the {self.max_length}-token window")
        if not ids:
            return [], []
        with torch.inference_mode():
            logits = self.model(torch.tensor([ids])).logits[0].float()
            logprobs = torch.log_softmax(logits, dim=-1)
        targets = torch.tensor(ids[1:])
        picked = logprobs[:-1].gather(1, targets[:, None])[:, 0] if len(ids) > 1 else []
        values: list[float | None] = [None, *(float(v) for v in picked)]
        tops: list = [None]
        if top:
            best = torch.topk(logprobs[:-1], top, dim=-1)
            for row_values, row_ids in zip(best.values, best.indices, strict=True):
                tops.append(
                    {
                        self.tokenizer.decode([int(i)]): float(v)
                        for v, i in zip(row_values, row_ids, strict=True)
                    }
                )
        else:
            tops += [None] * (len(ids) - 1)
        return values, tops

    def _prompt_tokens(self, prompt, *, generating: bool) -> tuple[str, list[int], list[int]]:
        if isinstance(prompt, str):
            ids, offsets = self._text_tokens(prompt)
            return prompt, ids, offsets
        if generating:
            raise RequestError(400, "token-id prompts are accepted for scoring only", "prompt")
        if any(not isinstance(i, int) or not 0 <= i < len(self.tokenizer) for i in prompt):
            raise RequestError(400, "prompt token ids must be integers in the vocabulary", "prompt")
        # Offsets from decoding each prefix: exact for byte-level tokens, fine for scoring.
        decode = self.tokenizer.decode
        offsets = [len(decode(prompt[:i])) for i in range(len(prompt))]
        return decode(prompt), list(prompt), offsets

    def _text_tokens(self, text: str) -> tuple[list[int], list[int]]:
        if not text:
            return [], []
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return list(enc.input_ids), [start for start, _ in enc.offset_mapping]

    # -- checks --------------------------------------------------------------------------

    def _check_model(self, body: dict[str, Any]) -> None:
        model = body.get("model")
        if model is not None and model != self.name:
            raise RequestError(404, f"model {model!r} is not served here (serving {self.name!r})")

    @staticmethod
    def _check_decoding(body: dict[str, Any], max_tokens: int) -> None:
        if body.get("stream"):
            raise RequestError(400, "streaming is not supported", "stream")
        if body.get("n", 1) != 1:
            raise RequestError(400, "only n=1 is supported", "n")
        temperature = body.get("temperature", 0)
        if max_tokens and temperature not in (0, 0.0, None):
            raise RequestError(
                400, "only greedy decoding (temperature 0) is supported", "temperature"
            )

    def _envelope(self, kind: str, choices: list, prompt_tokens: int, completion_tokens: int):
        return {
            "id": f"cmpl-{uuid.uuid4().hex}",
            "object": kind,
            "created": int(time.time()),
            "model": self.name,
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


def _int(body: dict[str, Any], key: str, default: int, *, low: int) -> int:
    value = body.get(key, default)
    if value is None:
        value = default
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise RequestError(400, f"{key} must be an integer >= {low}", key)
    return value


def _stop(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        return stop
    raise RequestError(400, "stop must be a string or a list of strings", "stop")


def _prompts(body: dict[str, Any]) -> list[str | list[int]]:
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, list) and prompt:
        if all(isinstance(p, int) for p in prompt):
            return [prompt]
        if all(isinstance(p, str) for p in prompt):
            return list(prompt)
        if all(isinstance(p, list) and all(isinstance(i, int) for i in p) for p in prompt):
            return list(prompt)
    raise RequestError(
        400, "prompt must be text, token ids, or a non-empty list of either", "prompt"
    )


def _message(message: Any) -> dict[str, str]:
    if not isinstance(message, dict) or not isinstance(message.get("role"), str):
        raise RequestError(400, "each message needs a role and content", "messages")
    content = message.get("content")
    if isinstance(content, list):  # content parts: keep the text ones
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        raise RequestError(400, "message content must be text", "messages")
    return {"role": message["role"], "content": content}


def _pieces(text: str, offsets: list[int]) -> list[str]:
    ends = [*offsets[1:], len(text)]
    return [text[start:end] for start, end in zip(offsets, ends, strict=True)]


def make_server(engine: Engine, host: str, port: int, faults: Faults) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as clients with connection pools expect

        def do_GET(self) -> None:
            path = self.path.rstrip("/")
            if path == "/health":
                self._send(200, {"status": "ok"})
            elif path in ("/v1/models", "/models"):
                self._send(200, engine.models())
            else:
                self._send_error(404, f"no route {self.path}")

        def do_POST(self) -> None:
            routes = {
                "/v1/completions": engine.completions,
                "/v1/chat/completions": engine.chat_completions,
            }
            route = routes.get(self.path.rstrip("/"))
            try:
                body = self._body()
                if route is None:
                    raise RequestError(404, f"no route {self.path}")
                if faults.on_request():
                    raise RequestError(503, "injected failure (--fault-fail-first)")
                answer = route(body)
            except RequestError as exc:
                self._send_error(exc.status, exc.message, exc.param)
                return
            except Exception as exc:  # a bug must reach the client as a 500, not a hang
                self._send_error(500, f"{type(exc).__name__}: {exc}")
                return
            self._send(200, answer)
            faults.after_answer()

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"null")
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise RequestError(400, f"request body is not JSON ({exc})") from exc
            if not isinstance(body, dict):
                raise RequestError(400, "request body must be a JSON object")
            return body

        def _send_error(self, status: int, message: str, param: str | None = None) -> None:
            kind = "invalid_request_error" if status < 500 else "server_error"
            self._send(status, {"error": {"message": message, "type": kind, "param": param}})

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status, HTTPStatus(status).phrase)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"promgate serve: {self.address_string()} {format % args}\n")

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve(args: argparse.Namespace) -> int:
    from promgate.models import hf
    from promgate.models.hf_backend import model_hash

    model_dir = Path(args.model)
    name = args.served_model_name or model_dir.name
    loaded = hf.load(model_dir, args.adapter, model_id=name, threads=args.threads)
    engine = Engine(loaded.model, loaded.tokenizer, name, model_hash(model_dir, args.adapter))
    faults = Faults(args.fault_delay_s, args.fault_fail_first, args.fault_die_after)
    server = make_server(engine, args.host, args.port, faults)
    host, port = server.server_address[:2]
    # Tests and scripts read this line for the port when started with --port 0.
    print(f"promgate serve: listening on http://{host}:{port}/v1 model={name}", flush=True)
    print(f"promgate serve: model sha256 {engine.sha256}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "serve",
        help="serve a model folder over an OpenAI-compatible HTTP API (greedy decoding)",
        description="Serve a transformers model folder (e.g. models/base) on /v1/completions "
        "(with echo and logprobs) and /v1/chat/completions.",
    )
    parser.add_argument("--model", required=True, metavar="DIR", help="transformers model folder")
    parser.add_argument("--adapter", metavar="DIR", help="a LoRA adapter to merge into it")
    parser.add_argument("--served-model-name", metavar="NAME", help="default: the folder name")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    testing = parser.add_argument_group(
        "fault injection", "for promgate's own tests of its client; not for normal use"
    )
    testing.add_argument(
        "--fault-delay-s", type=float, default=0.0, metavar="S", help="sleep S before each answer"
    )
    testing.add_argument(
        "--fault-fail-first", type=int, default=0, metavar="N", help="answer the first N with 503"
    )
    testing.add_argument(
        "--fault-die-after",
        type=int,
        default=0,
        metavar="N",
        help="SIGKILL the server right after its N-th answer",
    )
    parser.set_defaults(func=serve)
