"""Start ``promgate serve`` on loopback in a subprocess, and the small item set its tests use."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from promgate.config import EvalConfig, OpenAIConfig
from promgate.data.schema import Item

SERVED_NAME = "smollm2"
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+/v1)")
META = {"source": "test", "stratum": "s", "license": "test"}


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    log: Path


@contextmanager
def running_server(
    model_dir: Path, log: Path, *flags: str, timeout_s: float = 240.0
) -> Iterator[Server]:
    """A real server process on 127.0.0.1 (a free port); killed, by its pid, on exit."""
    cmd = [
        sys.executable,
        "-m",
        "promgate.cli",
        "serve",
        "--model",
        str(model_dir),
        "--port",
        "0",
        "--threads",
        "1",
        "--served-model-name",
        SERVED_NAME,
        *flags,
    ]
    with log.open("wb") as handle:
        process = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT)
    try:
        yield Server(process, _wait_for_url(process, log, timeout_s), log)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _wait_for_url(process: subprocess.Popen, log: Path, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        match = _LISTENING.search(log.read_text(errors="replace"))
        if match:
            return match.group(1)
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        time.sleep(0.2)
    raise RuntimeError(f"server did not start within {timeout_s} s:\n{log.read_text()}")


def openai_config(url: str, **overrides) -> OpenAIConfig:
    settings = {
        "base_url": url,
        "model": SERVED_NAME,
        "concurrency": 2,
        "timeout_s": 60.0,
        "max_retries": 2,
        "backoff_s": 0.05,
    }
    return OpenAIConfig(**{**settings, **overrides})


def eval_config(**overrides) -> EvalConfig:
    settings = {
        "batch_size": 8,
        "max_new_tokens": {"gsm8k": 24},
        "code_timeout_s": 5.0,
        "threads": 1,
        "cache": False,
    }
    return EvalConfig(**{**settings, **overrides})


def _mc(item_id: str, prompt: str, choices: list[str], answer: int) -> Item:
    return Item(
        id=item_id,
        benchmark="tiny",
        split="test",
        kind="multiple_choice",
        prompt=prompt,
        target=choices[answer],
        choices=choices,
        answer_index=answer,
        metadata=META,
    )


MC_ITEMS = [
    _mc(
        "tiny/1",
        "Question: Which gas do plants take from the air to make food?\nAnswer:",
        [" oxygen", " carbon dioxide", " helium", " neon gas inside glass tubes"],
        1,
    ),
    _mc(
        "tiny/2",
        "Question: What is the boiling point of water at sea level?\nAnswer:",
        [" 100 degrees Celsius", " 10 degrees Celsius", " 1000 degrees Celsius"],
        0,
    ),
    _mc(
        "tiny/3",
        "The following are multiple choice questions (with answers) about math.\n\n"
        "What is 2 + 2?\nA. 3\nB. 4\nC. 5\nD. 22\nAnswer:",
        [" A", " B", " C", " D"],
        1,
    ),
    Item(
        id="tiny/4",
        benchmark="tiny",
        split="dev",
        kind="multiple_choice",
        prompt="Sarah was a much better surgeon than Maria so _ always got the easier cases.",
        target="Maria",
        choices=["Sarah", "Maria"],
        answer_index=1,
        contexts=[
            "Sarah was a much better surgeon than Maria so Sarah",
            "Sarah was a much better surgeon than Maria so Maria",
        ],
        continuation=" always got the easier cases.",
        metadata=META,
    ),
]

GSM8K_ITEMS = [
    Item(
        id=f"gsm8k/{n}",
        benchmark="gsm8k",
        split="test",
        kind="generate",
        prompt=question,
        target=f"... #### {answer}",
        metadata=META,
    )
    for n, (question, answer) in enumerate(
        [("What is 12 + 30?", 42), ("Tom has 3 apples and buys 4 more. How many now?", 7)]
    )
]
