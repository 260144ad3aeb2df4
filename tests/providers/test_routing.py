"""Fallback across an alias's models, through the real SDKs and real wire formats.

The alias binds ``openai:gpt-4o-mini`` then ``anthropic:claude-haiku-4-5``; each
provider has its own wire server, so which one answered is plain to see.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from providers.dialects import load
from providers.streams import collect, text
from wire_server import CUT, WireServer

from llmring_jupyter.providers import (
    AuthenticationError,
    LLMError,
    Message,
    ModelRef,
    ProviderError,
    ProviderUnavailableError,
    Request,
    StreamChunk,
    UnknownModelError,
    chat_stream,
    pacing,
    registry,
    resolve,
)
from llmring_jupyter.providers.retry import AttemptLog, Retry

OPENAI, ANTHROPIC = load("openai"), load("anthropic")
PARTS = ["Hello", " from", " the", " model"]


@pytest.fixture
def second() -> Iterator[WireServer]:
    server = WireServer()
    yield server
    server.close()


@pytest.fixture
def lock(tmp_path: Path, wire: WireServer, second: WireServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``chatbot`` → OpenAI at ``wire``, then Anthropic at ``second``."""
    for d, server in ((OPENAI, wire), (ANTHROPIC, second)):
        for k, v in {**d.key_env, **d.base_url_env(server.url)}.items():
            monkeypatch.setenv(k, v)
    path = tmp_path / "llmring.lock"
    path.write_text(
        'version = "1.0"\ndefault_profile = "default"\n[[profiles.default.bindings]]\n'
        f'alias = "chatbot"\nmodels = ["openai:{OPENAI.model}", "anthropic:{ANTHROPIC.model}"]\n'
    )
    return path


async def _ask(lock: Path, **kw: Any) -> tuple[list[StreamChunk], LLMError | None]:
    return await collect(Request("chatbot", (Message("user", "Hi"),)), lockfile_path=lock, **kw)


@pytest.mark.parametrize("failure", ["http 500", "unreachable"])
async def test_failure_before_the_first_chunk_falls_back(
    lock: Path, wire: WireServer, second: WireServer, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    if failure == "unreachable":
        monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens on port 9
    else:
        wire.queue(OPENAI.http_error(500, "internal error"))
    second.queue(ANTHROPIC.answer(PARTS, usage=(9, 4)))
    chunks, error = await _ask(lock, retries=0)
    assert error is None
    assert text(chunks) == "".join(PARTS)
    assert chunks[-1].model == f"anthropic:{ANTHROPIC.model}", "the footer must name the model that served"
    assert len(second.seen) == 1


async def test_authentication_error_never_falls_back(lock: Path, wire: WireServer, second: WireServer) -> None:
    wire.queue(OPENAI.http_error(401, "Incorrect API key provided"))
    chunks, error = await _ask(lock)
    assert chunks == [] and isinstance(error, AuthenticationError)
    assert "OPENAI_API_KEY" in str(error)
    assert second.seen == [], "another provider must not be billed after a key was rejected"
    assert len(wire.seen) == 1, "a rejected key is never retried"


async def test_failure_after_the_first_chunk_keeps_the_text_and_does_not_fall_back(
    lock: Path, wire: WireServer, second: WireServer
) -> None:
    reply = OPENAI.answer(PARTS)
    reply.parts = [*reply.parts[:3], CUT]
    wire.queue(reply)
    chunks, error = await _ask(lock)
    assert text(chunks) and "".join(PARTS).startswith(text(chunks))
    assert isinstance(error, ProviderUnavailableError) and "mid-answer" in str(error)
    assert second.seen == [], "a second model must not splice its answer onto the first"
    assert len(wire.seen) == 1, "nor a second attempt of the same model"


async def test_when_every_model_fails_the_last_error_is_raised(
    lock: Path, wire: WireServer, second: WireServer
) -> None:
    wire.queue(OPENAI.http_error(500, "internal error"))
    second.queue(ANTHROPIC.http_error(500, "overloaded"))
    chunks, error = await _ask(lock, retries=0)
    assert chunks == [] and isinstance(error, ProviderError)
    assert error.provider == "anthropic" and "overloaded" in str(error)
    assert len(wire.seen) == len(second.seen) == 1


def test_a_provider_without_a_model_is_a_clear_error() -> None:
    with pytest.raises(UnknownModelError, match=r"'openai' names a provider but no model: write openai:MODEL"):
        resolve("openai")
    assert resolve("demo") == (ModelRef("demo", ""),)


class _Probe:
    """A provider that streams forever and records when its stream is closed."""

    name = "probe"

    def __init__(self) -> None:
        self.closed = False

    async def stream(self, model: str, request: Request) -> AsyncGenerator[StreamChunk, None]:
        try:
            while True:
                await asyncio.sleep(0)
                yield StreamChunk(delta="x")
        finally:
            self.closed = True


async def test_stopping_a_stream_closes_the_adapter_before_aclose_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    # not at garbage collection: until the adapter's stream is closed, its HTTP request runs on
    probe = _Probe()
    monkeypatch.setitem(registry._instances, "probe", probe)
    stream = chat_stream(Request("probe:any", (Message("user", "Hi"),)))
    assert (await anext(stream)).delta == "x"
    await stream.aclose()
    assert probe.closed


async def test_a_model_is_retried_before_the_alias_falls_back(lock: Path, wire: WireServer, second: WireServer) -> None:
    wire.queue(*[OPENAI.http_error(503, "overloaded")] * 2)
    second.queue(ANTHROPIC.answer(PARTS))
    log = AttemptLog()
    chunks, error = await _ask(lock, retries=1, log=log)
    assert error is None and text(chunks) == "".join(PARTS)
    assert len(wire.seen) == 2 and len(second.seen) == 1, "two attempts of the first model, then the second"
    assert [(r.model, r.reason) for r in log.retries] == [(f"openai:{OPENAI.model}", "overloaded")]
    assert log.model == f"anthropic:{ANTHROPIC.model}"


async def test_stop_during_a_retry_wait_ends_it_at_once(wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in {**OPENAI.key_env, **OPENAI.base_url_env(wire.url)}.items():
        monkeypatch.setenv(k, v)
    wire.queue(OPENAI.http_error(429, "Rate limit reached", retry_after=15), OPENAI.answer(PARTS))
    log = AttemptLog()
    waiting = asyncio.Event()

    def on_retry(retry: Retry | None) -> None:
        if retry:
            waiting.set()

    log.listeners.append(on_retry)
    task = asyncio.ensure_future(collect(Request(f"openai:{OPENAI.model}", (Message("user", "Hi"),)), log=log))
    await asyncio.wait_for(waiting.wait(), 10)
    stopped = time.monotonic()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert time.monotonic() - stopped < 0.25
    assert len(wire.seen) == 1, "no second request after Stop"


class _Recording:
    """A pacer (a --map's) that holds nothing back and writes down each attempt and what it heard."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self.statuses: list[int] = []

    @contextlib.asynccontextmanager
    async def attempt(self, provider: str) -> AsyncIterator[None]:
        self.attempts.append(provider)
        yield

    def heard(self, task: asyncio.Task[Any] | None, status: int, headers: Mapping[str, str]) -> None:
        self.statuses.append(status)


async def test_a_pacer_holds_every_attempt_and_hears_how_each_ended(lock: Path, wire: WireServer) -> None:
    # a single cell has no pacer and its stream no pacing layer; a --map row's attempts, retries too, go through it
    wire.queue(OPENAI.http_error(503, "overloaded"), OPENAI.answer(PARTS))
    pacer = _Recording()
    token = pacing.PACER.set(pacer)
    try:
        chunks, error = await _ask(lock, retries=1)
    finally:
        pacing.PACER.reset(token)
    assert error is None and text(chunks) == "".join(PARTS)
    assert pacer.attempts == ["openai", "openai"]
    assert pacer.statuses == [503, 200]
