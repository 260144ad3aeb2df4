"""A user-supplied backend (``chat_stream(..., backend=obj)``), held to the same contract.

The backends here are what a user would write: an object whose ``chat_stream``
yields llmring-shaped chunks. Nothing of ours is replaced.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from llmring_jupyter.providers import (
    LLMError,
    Message,
    ProviderError,
    RateLimitError,
    Request,
    ResponseFormat,
    StreamChunk,
    StreamTimeoutError,
    Usage,
    chat_stream,
)


@dataclass
class Chunk:
    """llmring's StreamChunk shape: usage a dict, tool calls OpenAI-shaped dicts."""

    delta: str = ""
    model: str | None = None
    finish_reason: str | None = None
    usage: Any = None
    tool_calls: list[dict[str, Any]] | None = None


class ScriptedBackend:
    """Streams ``script`` (chunks, or float pauses), then raises ``fail`` if set."""

    def __init__(self, *script: Chunk | float, fail: Exception | None = None) -> None:
        self.script, self.fail = script, fail
        self.requests: list[Any] = []
        self.closed = asyncio.Event()

    async def chat_stream(self, request: Any) -> AsyncIterator[Chunk]:
        self.requests.append(request)
        try:
            for item in self.script:
                if isinstance(item, float):
                    await asyncio.sleep(item)
                else:
                    yield item
            if self.fail is not None:
                raise self.fail
        finally:
            self.closed.set()


REQUEST = Request("my-alias", (Message("system", "Be brief."), Message("user", "Hi")), temperature=0.5)
POINT = {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}, "required": ["x", "y"]}
POINTS = {"type": "object", "properties": {"points": {"type": "array", "items": POINT}}, "required": ["points"]}


async def _collect(backend: object, **kw: Any) -> tuple[list[StreamChunk], LLMError | None]:
    chunks: list[StreamChunk] = []
    try:
        async for chunk in chat_stream(REQUEST, backend=backend, **kw):
            chunks.append(chunk)
    except LLMError as exc:
        return chunks, exc
    return chunks, None


async def test_chunks_are_normalised_with_one_final_chunk_last() -> None:
    backend = ScriptedBackend(
        Chunk("Hel"),
        Chunk("lo", model="acme:small-2"),
        Chunk(
            "!",
            finish_reason="end_turn",
            usage={"prompt_tokens": 5, "completion_tokens": 3},
            tool_calls=[{"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": 1}'}}],
        ),
    )
    chunks, error = await _collect(backend)
    assert error is None
    assert "".join(c.delta for c in chunks) == "Hello!"
    finals = [c for c in chunks if c.finish_reason]
    assert finals == [chunks[-1]]
    final = chunks[-1]
    assert (final.model, final.finish_reason) == ("acme:small-2", "stop")
    assert final.usage == Usage(5, 3, 8)
    assert [(c.id, c.name, c.arguments) for c in final.tool_calls or ()] == [("c1", "lookup", '{"q": 1}')]
    assert backend.requests == [REQUEST], "a non-llmring backend gets our Request as is"


async def test_usage_object_and_missing_finish() -> None:
    usage = SimpleNamespace(prompt_tokens=7, completion_tokens=2, total_tokens=9)
    chunks, error = await _collect(ScriptedBackend(Chunk("partial", usage=usage)))
    assert error is None
    final = chunks[-1]
    assert final.finish_reason == "incomplete", "an answer that never said it ended is not 'stop'"
    assert final.usage == Usage(7, 2, 9)
    assert final.model == "my-alias", "without a served model the requested name is shown"


async def test_backend_failure_is_one_line_after_the_text() -> None:
    chunks, error = await _collect(ScriptedBackend(Chunk("Half an"), fail=RuntimeError("boom\nline two")))
    assert "".join(c.delta for c in chunks) == "Half an"
    assert isinstance(error, ProviderError)
    assert str(error) == "The backend ScriptedBackend failed: RuntimeError: boom line two"


async def test_object_without_chat_stream_is_a_clear_error() -> None:
    chunks, error = await _collect(object())
    assert chunks == [] and isinstance(error, ProviderError)
    assert "chat_stream" in str(error)


async def test_silent_backend_times_out_and_is_closed() -> None:
    backend = ScriptedBackend(Chunk("Hi"), 30.0, Chunk("late"))
    chunks, error = await _collect(backend, idle_timeout=0.3)
    assert isinstance(error, StreamTimeoutError) and "ScriptedBackend:my-alias" in str(error)
    assert [c.delta for c in chunks] == ["Hi"]
    assert backend.closed.is_set(), "the backend's stream must be closed, not left running"


async def test_the_idle_timeout_counts_silence_not_the_length_of_the_answer() -> None:
    """Chunks 0.15 s apart for 1.2 s never trip a 0.4 s idle timeout, nor does a consumer that
    takes longer than that over one chunk: only the wait for the provider counts."""
    backend = ScriptedBackend(*[x for i in range(8) for x in (0.15, Chunk(f"{i} "))], Chunk(finish_reason="stop"))
    got = []
    async for chunk in chat_stream(REQUEST, backend=backend, idle_timeout=0.4):
        got.append(chunk.delta)
        if len(got) == 3:
            time.sleep(0.6)  # a slow consumer blocks the loop; the provider is not silent
    assert "".join(got) == "0 1 2 3 4 5 6 7 "


async def test_aclose_reaches_the_backend_at_once() -> None:
    backend = ScriptedBackend(Chunk("Hi"), 30.0, Chunk("late"))
    stream = chat_stream(REQUEST, backend=backend)
    assert (await anext(stream)).delta == "Hi"
    await asyncio.wait_for(stream.aclose(), 5)
    assert backend.closed.is_set()


async def test_llmring_backend_gets_an_llmring_request() -> None:
    schemas = pytest.importorskip("llmring.schemas")
    # llmring's own LLMRing fetches a remote registry; a subclass living in its package
    # is what convert() recognises, without the network.
    LLMRingLike = type("LLMRing", (ScriptedBackend,), {"__module__": "llmring.service"})
    backend = LLMRingLike(Chunk("ok", finish_reason="stop"))
    _chunks, error = await _collect(backend)
    assert error is None
    (sent,) = backend.requests
    assert isinstance(sent, schemas.LLMRequest)
    assert sent.model == "my-alias" and sent.temperature == 0.5
    assert [(m.role, m.content) for m in sent.messages] == [("system", "Be brief."), ("user", "Hi")]


@pytest.mark.parametrize(
    ("fmt", "sent_format"),
    [
        (ResponseFormat("list[Point]", POINTS), {"type": "json_schema", "json_schema": {"name": "list_Point"}}),
        (ResponseFormat("--json"), {"type": "json_object"}),
    ],
)
async def test_llmring_backend_is_asked_for_the_schema_in_its_own_words(
    fmt: ResponseFormat, sent_format: dict[str, Any]
) -> None:
    """llmring's ``response_format`` is chat completions' (it maps it to each provider's mode)."""
    schemas = pytest.importorskip("llmring.schemas")
    LLMRingLike = type("LLMRing", (ScriptedBackend,), {"__module__": "llmring.service"})
    backend = LLMRingLike(Chunk('{"points": []}', finish_reason="stop"))
    async for _ in chat_stream(dataclasses.replace(REQUEST, response_format=fmt), backend=backend):
        pass
    (sent,) = backend.requests
    assert isinstance(sent, schemas.LLMRequest)
    assert sent.response_format is not None
    assert sent.response_format["type"] == sent_format["type"]
    if fmt.schema is not None:
        spec = sent.response_format["json_schema"]
        assert spec["name"] == sent_format["json_schema"]["name"] and spec["strict"] is True
        assert spec["schema"]["properties"]["points"]["items"]["required"] == ["x", "y"]


@pytest.mark.parametrize(
    ("raised", "kwargs", "ours"),
    [
        ("ProviderRateLimitError", {"provider": "openai", "retry_after": 2.5}, "RateLimitError"),
        ("ProviderAuthenticationError", {"provider": "anthropic"}, "AuthenticationError"),
        ("ModelNotFoundError", {"provider": "openai", "model_name": "gpt-9"}, "ModelNotFoundError"),
        ("ProviderTimeoutError", {"provider": "openai"}, "StreamTimeoutError"),
    ],
)
async def test_llmring_typed_errors_become_ours(raised: str, kwargs: dict[str, Any], ours: str) -> None:
    """Raised by llmring itself, with no HTTP error under it: its class says which of ours it is."""
    exceptions = pytest.importorskip("llmring.exceptions")
    backend = ScriptedBackend(fail=getattr(exceptions, raised)("it went wrong", **kwargs))
    _chunks, error = await _collect(backend, retries=0)
    assert type(error).__name__ == ours and "\n" not in str(error), error
    assert "The backend" not in str(error)
    if ours == "RateLimitError":
        assert isinstance(error, RateLimitError) and error.retry_after == 2.5
