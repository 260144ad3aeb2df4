"""How many requests a ``--map`` keeps in flight at a real provider's wire: Ollama, which sends no
rate-limit headers and answers 503 once its queue is full, gets its small fixed number, not more."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from providers.dialects import load
from shell import loaded_shell
from wire_server import Reply, Seen, WireServer, most_at_once

import llmring_jupyter
from llmring_jupyter.answer.ratelimit import OLLAMA

ROWS = 12
PAUSE = 1.0  # seconds each answer takes: long enough for every request the limiter allows to be in flight


class InFlight:
    """Answers every chat after a pause, counting the requests being answered at once."""

    def __init__(self) -> None:
        self.answered: list[Seen] = []

    @property
    def most(self) -> int:
        return most_at_once(self.answered)

    def __call__(self, seen: Seen) -> Reply:
        self.answered.append(seen)  # the server's one loop calls this: no lock needed
        reply = load("ollama").answer(["ANSWER ", seen.json["messages"][-1]["content"]])
        return dataclasses.replace(reply, parts=[PAUSE, *reply.parts])


def test_ollama_rows_fly_at_its_fixed_concurrency_and_no_more(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = load("ollama")
    for key, value in {**d.key_env, **d.base_url_env(wire.url)}.items():
        monkeypatch.setenv(key, value)
    server = InFlight()
    wire.routes[("POST", "/api/chat")] = server
    rows = [f"row {i}" for i in range(ROWS)]
    for _ in loaded_shell():
        result = asyncio.run(llmring_jupyter.map("Tag {{row}}", rows, f"ollama:{d.model}", cache=False))
    assert result.texts == [f"ANSWER Tag row {i}" for i in range(ROWS)]
    # an adaptive limiter would let one more fly after each answer; Ollama's stays at its fixed number
    assert server.most == OLLAMA
