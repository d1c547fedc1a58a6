"""``promgate serve``'s HTTP API: the real model behind a real server on loopback, in-process."""

from __future__ import annotations

import threading

import httpx
import pytest

from promgate.models.hf_backend import model_hash
from promgate.models.serve import Engine, Faults, make_server
from promgate.scoring import multiple_choice

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def api(baseline, base_model_dir):
    engine = Engine(baseline.model, baseline.tokenizer, "smol", model_hash(base_model_dir))
    server = make_server(engine, "127.0.0.1", 0, Faults())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    with httpx.Client(base_url=f"http://{host}:{port}", timeout=60) as client:
        yield client
    server.shutdown()
    server.server_close()


def _post(api, path, **body):
    return api.post(path, json={"model": "smol", **body})


def test_models_lists_the_served_name_and_weights_hash(api, base_model_dir):
    entry = api.get("/v1/models").json()["data"][0]
    assert entry["id"] == "smol"
    assert entry["promgate_sha256"] == model_hash(base_model_dir)
    assert api.get("/health").json() == {"status": "ok"}


def test_echo_scores_every_prompt_token_with_offsets(api, baseline):
    text = "Question: What is 2 + 2?\nAnswer: 4"
    answer = _post(api, "/v1/completions", prompt=text, max_tokens=0, echo=True, logprobs=2)
    choice = answer.json()["choices"][0]
    logprobs = choice["logprobs"]
    ids = baseline.tokenizer(text, add_special_tokens=False).input_ids
    assert choice["text"] == text
    assert len(logprobs["token_logprobs"]) == len(ids)
    assert logprobs["token_logprobs"][0] is None
    assert all(v <= 0 for v in logprobs["token_logprobs"][1:])
    assert "".join(logprobs["tokens"]) == text
    assert logprobs["text_offset"][0] == 0
    assert all(len(top) == 2 for top in logprobs["top_logprobs"][1:])
    # No prompt token is likelier than the best entry of its position's top list.
    pairs = zip(logprobs["token_logprobs"][1:], logprobs["top_logprobs"][1:], strict=True)
    assert all(value <= max(top.values()) + 1e-6 for value, top in pairs)
    assert answer.json()["usage"]["prompt_tokens"] == len(ids)


def test_token_id_prompts_score_like_text(api, baseline):
    context, continuation = "The capital of France is", " Paris"
    ctx, cont = multiple_choice.encode_pair(baseline.tokenizer, context, continuation)
    by_ids = _post(api, "/v1/completions", prompt=ctx + cont, max_tokens=0, echo=True, logprobs=0)
    by_text = _post(
        api, "/v1/completions", prompt=context + continuation, max_tokens=0, echo=True, logprobs=0
    )
    a = by_ids.json()["choices"][0]["logprobs"]["token_logprobs"]
    b = by_text.json()["choices"][0]["logprobs"]["token_logprobs"]
    assert a == b


def test_generation_stops_at_stop_strings(api):
    answer = _post(api, "/v1/completions", prompt="1, 2, 3, 4,", max_tokens=12, stop=[" 7"])
    text = answer.json()["choices"][0]["text"]
    assert " 7" not in text
    assert text.startswith(" 5")


def test_chat_applies_the_template(api):
    answer = _post(
        api,
        "/v1/chat/completions",
        messages=[{"role": "user", "content": "What is 12 + 30?"}],
        max_tokens=12,
        temperature=0,
    )
    body = answer.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert body["choices"][0]["message"]["content"]


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/v1/completions", {"prompt": "hi", "max_tokens": 4, "temperature": 0.7}, 400, "greedy"),
        ("/v1/completions", {"prompt": "hi", "stream": True}, 400, "streaming"),
        ("/v1/completions", {"prompt": 5}, 400, "prompt must be"),
        ("/v1/completions", {"prompt": "hi", "max_tokens": -1}, 400, "max_tokens"),
        ("/v1/completions", {"prompt": [1, 2], "max_tokens": 3}, 400, "scoring only"),
        ("/v1/completions", {"prompt": "hi", "logprobs": 99, "max_tokens": 0}, 400, "logprobs"),
        ("/v1/completions", {"prompt": "hi", "model": "other"}, 404, "not served"),
        ("/v1/chat/completions", {"messages": []}, 400, "messages"),
        ("/v1/embeddings", {"input": "hi"}, 404, "no route"),
    ],
)
def test_bad_requests_are_refused_with_openai_errors(api, path, body, status, message):
    answer = api.post(path, json={"model": "smol", **body})
    assert answer.status_code == status
    assert message in answer.json()["error"]["message"]


def test_a_body_that_is_not_json_is_a_400(api):
    answer = api.post("/v1/completions", content=b"{not json")
    assert answer.status_code == 400
    assert "not JSON" in answer.json()["error"]["message"]


def test_a_list_of_prompts_gets_one_choice_each(api):
    answer = _post(api, "/v1/completions", prompt=["1, 2, 3,", "a, b, c,"], max_tokens=2)
    choices = answer.json()["choices"]
    assert [c["index"] for c in choices] == [0, 1]
    assert choices[0]["text"] != choices[1]["text"]
