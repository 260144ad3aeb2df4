"""Reasoning models' thinking, above the provider layer (no kernel): the demo's thinking,
its phases through a tool loop, the round trip of its blocks, what is shown and what is kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import pytest
from recorder import Recorder, open_stream
from shell import loaded_shell, magics

from llmring_jupyter import render
from llmring_jupyter.answer import agent
from llmring_jupyter.answer.options import Options, parse
from llmring_jupyter.answer.stream import run
from llmring_jupyter.answer.tools import Toolbox
from llmring_jupyter.exceptions import UsageError
from llmring_jupyter.providers import Message, ProviderError, Request, StreamChunk
from llmring_jupyter.providers.retry import AttemptLog
from llmring_jupyter.providers.types import Reasoning, Usage
from llmring_jupyter.records import replay


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


def _request(model: str = "demo", **kw: Any) -> Request:
    return Request(model, (Message("user", "Why is the sky blue over Paris?"),), options={"delay": 0}, **kw)


async def _answer(request: Request, out: Any = None, toolbox: Toolbox | None = None) -> Any:
    return await agent.run(request, open_stream, out or Recorder(), toolbox)


async def test_demo_thinks_longer_at_higher_levels_and_not_at_all_when_off() -> None:
    plain = await _answer(_request())
    assert plain.reasoning == "" and plain.thoughts == () and plain.usage.reasoning_tokens is None
    seen = {}
    for level in ("low", "medium", "high", "max"):
        result = await _answer(_request(think=level))
        seen[level] = result.usage.reasoning_tokens
        assert result.reasoning.startswith("The question is “Why is the sky blue over Paris?”.")
        assert result.text == plain.text, "thinking comes before the answer; the answer is unchanged"
        assert result.usage.completion_tokens == plain.usage.completion_tokens + seen[level]
    assert seen["low"] < seen["medium"] < seen["high"] < seen["max"]
    thinker = await _answer(_request("demo:thinker"))
    assert thinker.usage.reasoning_tokens == seen["medium"], "a reasoning model thinks by default"
    off = await _answer(_request("demo:thinker", think="off"))
    assert off.reasoning == "" and off.usage.reasoning_tokens is None


async def test_thinking_streams_into_its_section_then_it_collapses_when_the_text_begins() -> None:
    out = Recorder()
    result = await _answer(_request(think="medium"), out)
    assert "".join(out.thinking) == result.reasoning
    first, *_, last = out.thoughts
    assert first.seconds is None and first.text == "" and first.label() == "Thinking…"
    assert last.seconds is not None and last.tokens == result.usage.reasoning_tokens
    assert last.label().startswith("Thought for ") and f"{last.tokens} reasoning tokens" in last.label()
    assert result.thoughts == (last,)
    html = render.bundle(result)[0]["text/html"]
    assert html.index('<details class="llmring-think"') < html.index("Demo answer")
    assert "<details open" not in html, "the saved answer shows the thinking collapsed"


async def test_a_tool_loop_thinks_in_each_step_and_sends_each_step_s_thinking_back() -> None:
    out = Recorder()
    toolbox = Toolbox.of([get_weather], {})
    result = await _answer(_request("demo:thinker", tools=toolbox.tools), out, toolbox)
    assert [t.step for t in result.thoughts] == [1, 2]
    assert result.thoughts[1].at == len("Let me ask `get_weather`."), "the second phase comes after the call"
    # the demo checks the signature of what came back with the results, as providers do
    assert "My thinking before the call came back intact" in result.thoughts[1].text
    asked = result.exchange[0]
    assert asked.tool_calls and asked.reasoning[0].text == result.thoughts[0].text
    assert asked.reasoning[0].signature
    plain = render.bundle(result)[0]["text/plain"]
    assert plain.index("Thought for") < plain.index("🔧 get_weather") < plain.rindex("Thought for")


async def test_not_showing_thinking_keeps_it_in_the_result_but_out_of_the_output() -> None:
    out = Recorder()
    result = await _answer(_request(think="low", show_thinking=False), out)
    assert out.thoughts == [] and out.thinking == []
    assert result.reasoning and result.usage.reasoning_tokens
    data = render.bundle(result)[0]
    assert "llmring-think" not in data["text/html"] and result.reasoning not in data["text/plain"]
    assert f"{result.usage.reasoning_tokens:,} reasoning" in data["text/plain"], "the footer still counts it"


def _stream(*chunks: StreamChunk, fail: bool = False) -> AsyncIterator[StreamChunk]:
    async def gen() -> AsyncGenerator[StreamChunk, None]:
        for chunk in chunks:
            await asyncio.sleep(0)
            yield chunk
        if fail:
            raise ProviderError("the connection dropped")

    return gen()


async def test_thinking_billed_but_not_shown_says_so_in_one_line() -> None:
    out = Recorder()
    usage = Usage.of(10, 40, reasoning_tokens=30)
    result = await run(
        _request(), _stream(StreamChunk(delta="Blue."), StreamChunk(finish_reason="stop", usage=usage)), out
    )
    (hidden,) = result.thoughts
    assert hidden.at_end and hidden.text == "" and result.reasoning == ""
    assert hidden.label() == "Thought · 30 reasoning tokens · the provider does not show its thinking"
    assert out.thoughts == [hidden]
    assert "the provider does not show its thinking" in render.bundle(result)[0]["text/html"]


async def test_a_stream_cut_while_thinking_keeps_the_thinking_so_far() -> None:
    pieces = [StreamChunk(reasoning=(Reasoning(w),)) for w in ("Let", " me", " think")]
    result = await run(_request(), _stream(*pieces, fail=True), Recorder())
    assert result.finish_reason == "error" and result.reasoning == "Let me think"
    assert result.usage is not None and result.usage.estimated and result.usage.completion_tokens > 0, "billed"
    assert result.thoughts[0].seconds is not None, "the section ends, collapsed"


async def test_thinking_deltas_are_coalesced_like_the_answer_s() -> None:
    out = Recorder()
    pieces = [StreamChunk(reasoning=(Reasoning(f" w{i}"),)) for i in range(200)]
    stream = _stream(*pieces, StreamChunk(delta="ok"), StreamChunk(finish_reason="stop"))
    result = await run(_request(), stream, out, interval=10.0)
    assert "".join(out.thinking) == result.reasoning and len(out.thinking) <= 3
    assert out.text == "ok"


def test_think_is_one_of_the_levels_on_the_line_and_in_chat() -> None:
    assert parse("demo --think high").think == "high"  # type: ignore[union-attr]
    with pytest.raises(UsageError, match=r"--think \(think=\) must be one of off, low, medium, high, max, not 'hard'"):
        parse("demo --think hard")
    with pytest.raises(UsageError, match="must be one of"):
        Options.of("demo", {"think": "hard"})


def test_the_setting_and_the_line_set_the_request_s_level_and_show_thinking() -> None:
    for shell in loaded_shell():
        m = magics(shell)
        assert m.session.request("hi", Options())[0].think is None
        m.think = "low"
        assert m.session.request("hi", Options())[0].think == "low"
        assert m.session.request("hi", Options(think="max"))[0].think == "max"
        assert m.session.request("hi", Options())[0].show_thinking is True
        m.show_thinking = False
        assert m.session.request("hi", Options())[0].show_thinking is False
        shell.run_cell("%config LLMMagics.think = 'hard'")  # refused in one line; the level stays
        assert m.think == "low"
        shell.run_cell("%config LLMMagics.think = 'HIGH'")
        assert m.session.request("hi", Options())[0].think == "high"


async def test_replay_keeps_thinking_and_the_blocks_sent_back(tmp_path: Any) -> None:
    toolbox = Toolbox.of([get_weather], {})
    request = _request("demo:thinker", tools=toolbox.tools)
    path = str(tmp_path / "c.sqlite")

    async def ask() -> Any:
        cached = replay.Question("replay", None, path, request, "demo:thinker")

        def opener(step: Request, index: int, log: AttemptLog) -> AsyncIterator[StreamChunk]:
            return cached.layer(lambda r: open_stream(r, index, log), index)(step)

        result = await agent.run(request, opener, Recorder(), toolbox, replay=cached)
        cached.keep(result)
        return result, cached.recording is not None

    (first, _), (again, replayed) = await ask(), await ask()
    assert replayed
    assert again.reasoning == first.reasoning and again.exchange == first.exchange


async def test_export_and_load_keep_the_thinking_and_the_transcript_shows_it() -> None:
    from llmring_jupyter.context.conversation import Conversation
    from llmring_jupyter.records import transcript

    result = await _answer(_request("demo:thinker"))
    chat = Conversation("default")
    chat.record("cell", "Why?", result)
    loaded = transcript.from_json(transcript.to_json(chat))
    again = loaded.turns[0].result
    assert again.thoughts == result.thoughts and again.exchange == result.exchange
    assert f"💭 {result.thoughts[0].label()}" in transcript.to_markdown(loaded)


async def test_the_terminal_prints_the_thinking_then_its_line_once() -> None:
    import io

    from llmring_jupyter.view.outputs import TerminalOutput

    printed = io.StringIO()
    result = await _answer(_request(think="low"), TerminalOutput(printed))
    text = printed.getvalue()
    assert text.startswith(f"💭 Thinking…\n{result.reasoning}\n💭 Thought for ")
    assert text.count("💭") == 2 and text.index("Thought for") < text.index("## Demo answer")
