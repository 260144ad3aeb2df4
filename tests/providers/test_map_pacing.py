"""How many requests a ``--map`` keeps in flight at a real provider's wire: Ollama, which sends no
rate-limit headers and answers 503 once its queue is full, gets its small fixed number, not more,
and runs at once share it, and share the hold a 429 asks for: the pace is the provider's, not a run's."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from providers.dialects import load
from shell import loaded_shell
from wire_server import Reply, Seen, WireServer, most_at_once

import llmring_jupyter
from llmring_jupyter.answer.ratelimit import OLLAMA
from llmring_jupyter.map_result import MapResult

ROWS = 12
PAUSE = 1.0  # seconds each answer takes: long enough for every request the limiter allows to be in flight


class InFlight:
    """Answers every chat after a pause, counting the requests being answered at once."""

    def __init__(self, pause: float = PAUSE) -> None:
        self.answered: list[Seen] = []
        self.pause = pause

    @property
    def most(self) -> int:
        return most_at_once(self.answered)

    def __call__(self, seen: Seen) -> Reply:
        self.answered.append(seen)  # the server's one loop calls this: no lock needed
        reply = load("ollama").answer(["ANSWER ", seen.json["messages"][-1]["content"]])
        return dataclasses.replace(reply, parts=[self.pause, *reply.parts])


def _ollama_at(wire: WireServer, monkeypatch: pytest.MonkeyPatch, server: InFlight) -> str:
    """Point the Ollama SDK at the wire server, answered by ``server``; the model to ask."""
    d = load("ollama")
    for key, value in {**d.key_env, **d.base_url_env(wire.url)}.items():
        monkeypatch.setenv(key, value)
    wire.routes[("POST", "/api/chat")] = server
    return f"ollama:{d.model}"


def _map_at_once(*runs: tuple[str, list[str]], model: str) -> list[MapResult]:
    """Run each (prompt, rows) as a map of its own, all at once in one notebook session."""

    async def together() -> list[MapResult]:
        return list(await asyncio.gather(*(llmring_jupyter.map(p, rows, model, cache=False) for p, rows in runs)))

    for _ in loaded_shell():
        results = asyncio.run(together())
    return results


def test_ollama_rows_fly_at_its_fixed_concurrency_and_no_more(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = InFlight()
    model = _ollama_at(wire, monkeypatch, server)
    rows = [f"row {i}" for i in range(ROWS)]
    for _ in loaded_shell():
        result = asyncio.run(llmring_jupyter.map("Tag {{row}}", rows, model, cache=False))
    assert result.texts == [f"ANSWER Tag row {i}" for i in range(ROWS)]
    # an adaptive limiter would let one more fly after each answer; Ollama's stays at its fixed number
    assert server.most == OLLAMA


def test_two_runs_at_once_share_ollamas_fixed_concurrency(wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server = InFlight()
    model = _ollama_at(wire, monkeypatch, server)
    rows = [f"row {i}" for i in range(ROWS // 2)]
    tags, labels = _map_at_once(("Tag {{row}}", rows), ("Label {{row}}", rows), model=model)
    assert tags.texts == [f"ANSWER Tag {r}" for r in rows]
    assert labels.texts == [f"ANSWER Label {r}" for r in rows]
    # each run alone would keep its 4 in flight: together they would queue 8 at one local server
    assert server.most == OLLAMA


HOLD = 2.0  # seconds the 429 asks for
GRACE = 0.6  # after the 429, for requests that had left before the client read it


class HitOnce(InFlight):
    """Answers the first request of the "Tag" run with a 429 that asks for HOLD seconds."""

    def __init__(self) -> None:
        super().__init__(pause=0.4)
        self.hit_at: float | None = None

    def __call__(self, seen: Seen) -> Reply:
        if self.hit_at is None and "Tag" in seen.json["messages"][-1]["content"]:
            self.hit_at = seen.received
            return load("ollama").http_error(429, "too many requests", retry_after=HOLD)
        return super().__call__(seen)


def test_a_429_one_run_gets_holds_the_other_run_too(wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server = HitOnce()
    model = _ollama_at(wire, monkeypatch, server)
    rows = [f"row {i}" for i in range(16)]
    tags, labels = _map_at_once(("Tag {{row}}", rows[:4]), ("Label {{row}}", rows), model=model)
    assert tags.texts == [f"ANSWER Tag {r}" for r in rows[:4]], "the row that got the 429 went again"
    assert labels.texts == [f"ANSWER Label {r}" for r in rows]
    assert server.hit_at is not None
    held = [s for s in server.answered if server.hit_at + GRACE < s.received < server.hit_at + HOLD]
    assert held == [], f"{len(held)} requests went to the provider while it asked to hold for {HOLD} s"
    later = [s for s in server.answered if s.received >= server.hit_at + HOLD]
    assert any("Label" in s.json["messages"][-1]["content"] for s in later), "the other run waited, then went on"
