"""The adapter skeleton, with a scripted provider: what every adapter gets from it alike."""

from __future__ import annotations

import traceback
from collections.abc import AsyncGenerator

import httpx
import pytest

from llmring_jupyter.providers import Message, MissingKeyError, ProviderUnavailableError, Request, StreamChunk
from llmring_jupyter.providers.adapter import Answer, WireAdapter
from llmring_jupyter.providers.keys import Key

REQUEST = Request("scripted:m", (Message("user", "Hi"),))


class Scripted(WireAdapter):
    """Yields ``texts``, then ends as told: with the end marker, silently, or by raising."""

    name = "scripted"

    def __init__(self, texts: list[str], *, ended: bool = True, calls: int = 0, fail: Exception | None = None) -> None:
        self.texts, self.ended, self.n_calls, self.fail = texts, ended, calls, fail
        self.closed = False
        self.response = httpx.Response(200)

    def address(self) -> str:
        return "http://127.0.0.1:1"

    async def answer(self, model: str, request: Request, key: Key | None, answer: Answer) -> AsyncGenerator[str, None]:
        answer.opened.append(self.response)
        answer.started = True
        try:
            for text in self.texts:
                yield text
            for n in range(self.n_calls):
                answer.calls.add(n, id=f"id{n}", name="f", arguments="{}")
            if self.fail is not None:
                raise self.fail
            answer.ended = self.ended
        finally:
            self.closed = True


async def _run(adapter: WireAdapter) -> list[StreamChunk]:
    return [chunk async for chunk in adapter.stream("m", REQUEST)]


async def test_the_final_chunk_says_how_the_answer_ended() -> None:
    chunks = await _run(Scripted(["a", "b"]))
    assert [c.delta for c in chunks[:-1]] == ["a", "b"] and chunks[-1].finish_reason == "stop"
    assert (await _run(Scripted(["a"], ended=False)))[-1].finish_reason == "incomplete"
    called = (await _run(Scripted([], calls=2)))[-1]
    assert called.finish_reason == "tool_calls" and [c.id for c in called.tool_calls or ()] == ["id0", "id1"]


async def test_a_bug_keeps_its_type_and_traceback() -> None:
    adapter = Scripted(["a"], fail=AttributeError("'NoneType' object has no attribute 'text'"))
    with pytest.raises(AttributeError) as caught:
        await _run(adapter)
    frames = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert "answer" in frames, "the traceback must reach the line that failed"
    assert adapter.closed and adapter.response.is_closed


async def test_a_transport_failure_after_the_start_is_one_line_saying_mid_answer() -> None:
    adapter = Scripted(["a"], fail=httpx.RemoteProtocolError("peer closed connection"))
    with pytest.raises(ProviderUnavailableError, match=r"^Lost the connection to scripted at http://127\.0\.0\.1:1"):
        await _run(adapter)


async def test_stop_closes_the_adapter_and_its_responses_at_once() -> None:
    adapter = Scripted(["a", "b", "c"])
    stream = adapter.stream("m", REQUEST)
    assert (await anext(stream)).delta == "a"
    await stream.aclose()
    assert adapter.closed and adapter.response.is_closed


async def test_no_key_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    class Keyed(Scripted):
        name = "openai"

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    adapter = Keyed(["a"])
    with pytest.raises(MissingKeyError, match="OPENAI_API_KEY"):
        await _run(adapter)
    assert not adapter.closed, "the adapter was never asked"
