"""Running a stream: coalescing (one message per interval at most, the first at once,
nothing lost), and how it ends when something fails."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import AsyncGenerator, Callable

import pytest
from recorder import Recorder

from llmring_jupyter.answer.stream import Coalescer, run
from llmring_jupyter.providers import Message, ProviderError, Request, StreamChunk


async def test_first_delta_goes_at_once_and_a_burst_becomes_one_message() -> None:
    sent: list[str] = []
    coalescer = Coalescer(sent.append, 0.05, asyncio.get_running_loop())
    coalescer.add("a")
    assert sent == ["a"], "the first token must not wait for a frame"
    for piece in "bcdefgh":
        coalescer.add(piece)
    assert sent == ["a"]
    await asyncio.sleep(0.12)
    assert sent == ["a", "bcdefgh"], "a burst followed by a pause leaves as one message (timer: 1.5 intervals)"


async def test_while_chunks_flow_the_first_after_the_interval_sends_the_batch() -> None:
    sent: list[str] = []
    coalescer = Coalescer(sent.append, 0.05, asyncio.get_running_loop())
    coalescer.add("a")
    coalescer.add("b")
    await asyncio.sleep(0.055)
    coalescer.add("c")  # no timer wake-up needed: this chunk carries the batch out
    assert sent == ["a", "bc"]


class _Clock:
    """A loop's clock and timers as the coalescer uses them, stepped by the test: the stream's pace exact."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
        return asyncio.TimerHandle(when, callback, (), asyncio.get_running_loop())


async def test_a_fast_steady_stream_is_sent_at_the_frame_rate_not_below_it() -> None:
    sent: list[str] = []
    clock = _Clock()
    coalescer = Coalescer(sent.append, 1 / 60, clock)  # type: ignore[arg-type]
    for _ in range(1500):  # 3 s of a model at 2 ms a token
        coalescer.add("tok ")
        clock.now += 0.002
    # each batch leaves with the first chunk after its frame; counting the next frame from that
    # chunk would send one every 18 ms (55 a second), and each token would wait longer for it
    assert len(sent) >= 0.98 * 3.0 * 60


async def test_flush_sends_the_rest_and_nothing_twice() -> None:
    sent: list[str] = []
    coalescer = Coalescer(sent.append, 10.0, asyncio.get_running_loop())
    for piece in ("x", "y", "z"):
        coalescer.add(piece)
    coalescer.flush()
    coalescer.flush()
    assert sent == ["x", "yz"]


async def test_a_slow_stream_sends_each_delta_without_delay() -> None:
    sent: list[str] = []
    coalescer = Coalescer(sent.append, 0.01, asyncio.get_running_loop())
    for piece in ("one", "two", "three"):
        coalescer.add(piece)
        await asyncio.sleep(0.03)
    assert sent == ["one", "two", "three"]


async def _broken_stream() -> AsyncGenerator[StreamChunk, None]:
    yield StreamChunk(delta="partial ")
    raise KeyError("choices")  # a bug of ours: e.g. a wire mapping that misreads an event


async def test_a_bug_keeps_the_partial_answer_and_raises_with_its_own_traceback() -> None:
    output = Recorder()
    result = await run(Request("demo", (Message("user", "Hi"),)), _broken_stream(), output)
    assert result.text == output.text == "partial " and result.finish_reason == "error"
    assert result.error == "KeyError: 'choices'"
    with pytest.raises(KeyError) as caught:
        result.raise_for_error()
    frames = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert "_broken_stream" in frames, "the traceback must reach the line that failed"


async def test_a_provider_fault_stays_one_typed_line() -> None:
    async def failing() -> AsyncGenerator[StreamChunk, None]:
        yield StreamChunk(delta="partial ")
        raise ProviderError("openai failed mid-answer: Overloaded.", provider="openai")

    result = await run(Request("demo", (Message("user", "Hi"),)), failing(), Recorder())
    assert result.error == "openai failed mid-answer: Overloaded."
    with pytest.raises(ProviderError):
        result.raise_for_error()
