"""Every adapter, through its real SDK, against its real wire format on 127.0.0.1.

One scenario matrix for all providers: what a user sees must not depend on
which provider failed or how.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from providers.dialects import Dialect, load
from providers.dialects.anthropic import AnthropicDialect
from providers.dialects.openai import OpenAIDialect
from providers.streams import collect, text
from wire_server import CUT, HANG, Reply, WireServer

from llmring_jupyter.providers import (
    AuthenticationError,
    Message,
    MissingKeyError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    Request,
    RouteNotFoundError,
    StreamChunk,
    StreamTimeoutError,
    chat_stream,
)
from llmring_jupyter.providers.keys import KEY_VARIABLES
from llmring_jupyter.providers.retry import AttemptLog
from llmring_jupyter.providers.tokens import estimate_tokens

PARTS = ["Hello", ", wor", "ld! ", "Ünïcode ✓", "\n\n```py\nx = {1: 2}\n```"]
TEXT = "".join(PARTS)


def _request(d: Dialect, **kw: Any) -> Request:
    messages = (Message("system", "Be brief."), Message("user", "Say hello"))
    return Request(f"{d.provider}:{d.model}", messages, **kw)


def _final(chunks: list[StreamChunk]) -> StreamChunk:
    finals = [c for c in chunks if c.finish_reason is not None]
    assert len(finals) == 1, f"expected exactly one final chunk, got {finals}"
    assert chunks[-1] is finals[0], "the final chunk must be the last one"
    return finals[0]


def _no_key_in(d: Dialect, text: str) -> None:
    for key in d.key_env.values():
        assert key not in text


async def test_answer_streams_text_usage_and_served_model(dialect: Dialect, wire: WireServer) -> None:
    wire.queue(dialect.answer(PARTS, served=f"{dialect.model}-0325", usage=(13, 8)))
    chunks, error = await collect(_request(dialect, temperature=0.2, max_tokens=50))
    assert error is None
    assert text(chunks) == TEXT
    assert len([c for c in chunks if c.delta]) >= 3, "text must arrive in pieces, not buffered whole"
    final = _final(chunks)
    assert final.finish_reason == "stop"
    assert final.model == f"{dialect.provider}:{dialect.model}-0325"
    assert final.usage is not None
    assert (final.usage.prompt_tokens, final.usage.completion_tokens, final.usage.total_tokens) == (13, 8, 21)
    seen = wire.last()
    assert dialect.sent_messages(seen) == [("system", "Be brief."), ("user", "Say hello")]
    assert dialect.sent_options(seen) == {"temperature": 0.2, "max_tokens": 50}


async def test_length_limit_is_reported(dialect: Dialect, wire: WireServer) -> None:
    wire.queue(dialect.answer(PARTS[:2], finish="length"))
    chunks, error = await collect(_request(dialect, max_tokens=3))
    assert error is None and text(chunks) == "Hello, wor"
    assert _final(chunks).finish_reason == "length"


async def test_tool_call_is_assembled_from_pieces(dialect: Dialect, wire: WireServer) -> None:
    wire.queue(dialect.tool_call("get_weather", ['{"city": ', '"Par', 'is"}'], "call_1"))
    chunks, error = await collect(_request(dialect))
    assert error is None
    final = _final(chunks)
    assert final.finish_reason == "tool_calls"
    (call,) = final.tool_calls or ()
    assert call.name == "get_weather" and call.arguments.replace(" ", "") == '{"city":"Paris"}'
    # the id the wire sent: the tool result must name that call; without one, ours is stable
    assert call.id == ("call_1" if dialect.call_ids else "call_0")


async def test_cached_prompt_tokens_are_counted_in_the_prompt(dialect: Dialect, wire: WireServer) -> None:
    if not dialect.caches:
        pytest.skip(f"{dialect.provider} reports no prompt cache")
    wire.queue(dialect.answer(PARTS, usage=(1200, 8), cached=1024))
    chunks, error = await collect(_request(dialect))
    assert error is None
    usage = _final(chunks).usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.cached_tokens, usage.total_tokens) == (1200, 1024, 1208)


async def test_in_stream_error_keeps_text_and_says_why(dialect: Dialect, wire: WireServer) -> None:
    wire.queue(dialect.in_stream_error(PARTS[:2], "Overloaded, try later"))
    chunks, error = await collect(_request(dialect))
    assert text(chunks) == "Hello, wor"
    assert isinstance(error, ProviderError) and "Overloaded" in str(error)
    assert "\n" not in str(error)


async def test_connection_cut_mid_stream_is_an_error_after_the_text(dialect: Dialect, wire: WireServer) -> None:
    reply = dialect.answer(PARTS)
    reply.parts = [*reply.parts[:3], CUT]
    wire.queue(reply)
    chunks, error = await collect(_request(dialect))
    assert text(chunks) and TEXT.startswith(text(chunks))
    assert isinstance(error, ProviderUnavailableError), error
    assert not any(c.finish_reason for c in chunks)


async def test_an_anthropic_stream_cut_before_its_usage_keeps_the_input_count_it_was_sent(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = load("anthropic")
    assert isinstance(d, AnthropicDialect)
    for name, setting in {**d.key_env, **d.base_url_env(wire.url)}.items():
        monkeypatch.setenv(name, setting)
    wire.queue(d.without_end_marker(PARTS[:3], input_tokens=25))
    chunks, error = await collect(_request(d))
    final = _final(chunks)
    assert error is None and final.finish_reason == "incomplete"
    said = "".join(PARTS[:3])
    usage = final.usage
    assert usage is not None and usage.estimated, "the output count is ours: marked so"
    assert (usage.prompt_tokens, usage.completion_tokens) == (25, estimate_tokens(said)), "25 in, as sent"


async def test_body_without_end_marker_is_incomplete(dialect: Dialect, wire: WireServer) -> None:
    wire.queue(dialect.without_end_marker(PARTS[:3]))
    chunks, error = await collect(_request(dialect))
    assert error is None and text(chunks) == "".join(PARTS[:3])
    final = _final(chunks)
    assert final.finish_reason == "incomplete"
    # no made-up count: Anthropic's message_start says output_tokens 1, a placeholder
    assert final.usage is None or final.usage.completion_tokens > 1, final.usage


async def test_malformed_line_is_a_clear_error(dialect: Dialect, wire: WireServer) -> None:
    wire.queue(dialect.malformed(PARTS[:2]))
    chunks, error = await collect(_request(dialect))
    assert text(chunks) == "Hello, wor"
    assert isinstance(error, ProviderError) and "malformed" in str(error).lower()


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (401, AuthenticationError, "key"),
        (404, ModelNotFoundError, "model"),  # the provider's message names the model
        (429, RateLimitError, "retry after 7"),
        (500, ProviderError, "500"),
    ],
)
async def test_http_error_before_stream(
    dialect: Dialect, wire: WireServer, status: int, kind: type[ProviderError], words: str
) -> None:
    explanation = f"the provider's own explanation of {dialect.model}"
    wire.queue(dialect.http_error(status, explanation, retry_after=7))
    chunks, error = await collect(_request(dialect), retries=0)
    assert chunks == []
    assert isinstance(error, kind), error
    assert words in str(error).lower() and "\n" not in str(error)
    assert error.status == status
    if kind is RateLimitError:
        assert error.retry_after == 7
    _no_key_in(dialect, str(error))
    assert len(wire.seen) == 1, "with retries=0, nothing is retried"


async def test_long_silence_times_out_and_hangs_up(dialect: Dialect, wire: WireServer) -> None:
    reply = dialect.answer(PARTS)
    reply.parts = [*reply.parts[:2], HANG]
    wire.queue(reply)
    started = time.monotonic()
    # 2 s, not less: an SDK's first call builds its client inside the stream (~0.2 s for
    # google-genai on an idle machine, several times that on a busy 2-core CI box)
    chunks, error = await collect(_request(dialect), idle_timeout=2.0)
    assert isinstance(error, StreamTimeoutError) and "2 s" in str(error)
    assert time.monotonic() - started < 10
    assert text(chunks)
    assert wire.last().client_closed_early


@pytest.mark.parametrize("how", ["aclose", "cancel"])
async def test_stop_mid_stream_closes_the_connection(dialect: Dialect, wire: WireServer, how: str) -> None:
    reply = dialect.answer(PARTS)
    reply.parts = [*reply.parts[:2], 30.0, *reply.parts[2:]]  # the model is still "generating"
    wire.queue(reply)
    got: list[str] = []
    stopped: list[float] = []  # when the consumer stopped

    async def consume() -> None:
        stream = chat_stream(_request(dialect))
        async for chunk in stream:
            got.append(chunk.delta)
            if how == "aclose":
                stopped.append(time.monotonic())
                await stream.aclose()
                return

    task = asyncio.ensure_future(consume())
    if how == "cancel":
        while not got:
            await asyncio.sleep(0.01)
        stopped.append(time.monotonic())
        task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    seen = await asyncio.to_thread(wire.last, 3)  # off the loop: asyncio closes sockets in a callback
    assert seen.client_closed_early, "the provider must see the request end, or it keeps billing"
    # closed while the model was still "generating": not left to run (and bill) to its end
    assert seen.closed_at is not None and seen.closed_at - stopped[0] < 30.0


async def test_missing_key_sends_nothing(dialect: Dialect, wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:
    if not dialect.key_env:
        pytest.skip(f"{dialect.provider} needs no key")
    for var in KEY_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    _chunks, error = await collect(_request(dialect))
    assert isinstance(error, MissingKeyError)
    assert all(var in str(error) for var in dialect.key_env)
    assert wire.seen == []


async def test_unreachable_provider_names_the_address(dialect: Dialect, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in dialect.base_url_env("http://127.0.0.1:9").items():  # nothing listens on port 9
        monkeypatch.setenv(k, v)
    _chunks, error = await collect(_request(dialect))
    assert isinstance(error, ProviderUnavailableError)
    assert "127.0.0.1:9" in str(error)


async def test_a_missing_route_is_not_called_a_missing_model(dialect: Dialect, wire: WireServer) -> None:
    # OpenAI: with no /responses route, /chat/completions is tried once, and has none either
    tries = 2 if isinstance(dialect, OpenAIDialect) else 1
    wire.queue(*[Reply(404, {}, ["404 page not found"], "text/plain; charset=utf-8")] * tries)
    chunks, error = await collect(_request(dialect))
    assert chunks == [] and isinstance(error, RouteNotFoundError), error
    assert "route" in str(error) and "has no model" not in str(error) and "base URL" in str(error)
    assert len(wire.seen) == tries, "a 404 is not retried"


# -- retries: before the first token, for what another attempt can heal ----------------------

HEALS: dict[str, tuple[Callable[[Dialect], Reply], str]] = {
    "503 overloaded": (lambda d: d.http_error(503, "The model is overloaded"), "overloaded"),
    "500 server error": (lambda d: d.http_error(500, "Internal server error"), "server error (HTTP 500)"),
    "429 with retry-after": (lambda d: d.http_error(429, "Rate limit reached", retry_after=0.3), "rate limited"),
    "reset before answering": (lambda d: Reply(before=CUT), "connection failed"),
}


@pytest.mark.parametrize("fault", HEALS)
async def test_a_transient_failure_heals_with_a_retry(dialect: Dialect, wire: WireServer, fault: str) -> None:
    make, reason = HEALS[fault]
    wire.queue(make(dialect), dialect.answer(PARTS))
    log = AttemptLog()
    started = time.monotonic()
    chunks, error = await collect(_request(dialect), log=log)
    assert error is None, error
    assert text(chunks) == TEXT and _final(chunks).finish_reason == "stop"
    assert len(wire.seen) == 2
    (retry,) = log.retries
    assert (retry.reason, retry.attempt, retry.attempts) == (reason, 2, 3)
    if fault.startswith("429"):
        assert retry.wait >= 0.3 and time.monotonic() - started >= 0.3, "the provider's retry-after is honoured"


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_what_a_retry_cannot_heal_is_not_retried(dialect: Dialect, wire: WireServer, status: int) -> None:
    wire.queue(dialect.http_error(status, "no"), dialect.answer(PARTS))
    log = AttemptLog()
    chunks, error = await collect(_request(dialect), log=log)
    assert chunks == [] and isinstance(error, ProviderError)
    assert len(wire.seen) == 1 and log.retries == []


async def test_retries_end_with_an_error_that_says_how_many_attempts(dialect: Dialect, wire: WireServer) -> None:
    wire.queue(*[dialect.http_error(503, "The model is overloaded")] * 3)
    log = AttemptLog()
    chunks, error = await collect(_request(dialect), retries=2, log=log)
    assert chunks == [] and isinstance(error, ProviderError) and error.status == 503
    assert str(error).endswith("Gave up after 3 attempts."), error
    assert len(wire.seen) == 3 and [r.attempt for r in log.retries] == [2, 3]
