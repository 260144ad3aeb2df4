"""The replay cache: the whole request is the key, the exchange comes back exactly, no secret is kept.

The answers here come from the real demo adapter through ``chat_stream``; the
session-level tests ask through :class:`Session` as a cell does.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from recorder import Recorder

from llmring_jupyter.answer import options
from llmring_jupyter.answer.options import Options
from llmring_jupyter.answer.session import Session
from llmring_jupyter.exceptions import UsageError
from llmring_jupyter.notebook.magics import LLMMagics
from llmring_jupyter.providers import Message, Request, StreamChunk, ToolCall, Usage, chat_stream
from llmring_jupyter.records import replay
from llmring_jupyter.result import Result, Timings

SENTINEL = "sk-SENTINEL-replay-0123456789abcdef"
BASE = Request("demo:echo", (Message("system", "be brief"), Message("user", "hello")), temperature=0.2)


def _changed(value: Any) -> Any:
    """A different value of the same field, whatever its type (new fields included)."""
    if isinstance(value, str):
        return value + " changed"
    if isinstance(value, tuple):
        return (*value, {"changed": True}) if not value or isinstance(value[0], dict) else value[:-1]
    if isinstance(value, dict):
        return {**value, "changed": True}
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    return {"changed": True}  # None: a field set for the first time


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Request) if f.name != "model"])
def test_any_changed_field_of_the_request_is_another_key(name: str) -> None:
    """Fields Request gains later (tools, schema) are covered without touching the cache.
    (The model is keyed as resolved: the next test.)"""
    other = dataclasses.replace(BASE, **{name: _changed(getattr(BASE, name))})
    assert replay.key_of(other, "demo:echo") != replay.key_of(BASE, "demo:echo")


def test_the_key_is_the_resolved_model_not_the_name_typed() -> None:
    aliased = dataclasses.replace(BASE, model="my-alias")
    assert replay.key_of(aliased, "demo:echo") == replay.key_of(BASE, "demo:echo")
    assert replay.key_of(BASE, "demo:chat") != replay.key_of(BASE, "demo:echo")


@pytest.mark.parametrize(
    ("messages", "why"),
    [
        ((Message("user", "hello"),), "no system prompt"),
        (
            (
                Message("system", "be brief"),
                Message("user", "hi"),
                Message("assistant", "hey"),
                Message("user", "hello"),
            ),
            "history",
        ),
        ((Message("system", "be brief"), Message("user", "hello ")), "one space in the prompt"),
    ],
)
def test_every_message_is_part_of_the_key(messages: tuple[Message, ...], why: str) -> None:
    assert replay.key_of(dataclasses.replace(BASE, messages=messages), "demo:echo") != replay.key_of(
        BASE, "demo:echo"
    ), why


async def _record(request: Request) -> replay.Recording:
    recorder = replay.Recorder()
    async for _ in recorder.step(chat_stream(request)):
        pass
    return recorder.recording()


async def _chunks(stream: AsyncIterator[StreamChunk]) -> list[StreamChunk]:
    return [c async for c in stream]


async def test_a_stored_answer_comes_back_chunk_for_chunk(tmp_path: Path) -> None:
    cache = replay.Cache(tmp_path / "c.sqlite")
    recording = await _record(BASE)
    cache.put(BASE, "demo:echo", recording)
    again = cache.get(BASE, "demo:echo")
    assert again is not None
    assert await _chunks(again.step(0)) == list(recording.steps[0])
    assert "".join(c.delta for c in again.steps[0]) == "hello"
    assert again.model == "demo:echo"
    assert cache.get(dataclasses.replace(BASE, temperature=0.3), "demo:echo") is None


async def test_a_tool_exchange_replays_every_step_and_each_result_by_call_id(tmp_path: Path) -> None:
    """What a tool loop records: the call, the function's result, the final answer."""
    call = ToolCall("call_7", "weather", '{"city": "Lyon"}')

    async def step(chunks: list[StreamChunk]) -> AsyncGenerator[StreamChunk, None]:
        for c in chunks:
            yield c

    recorder = replay.Recorder()
    first = [StreamChunk(model="openai:gpt-4o-mini", finish_reason="tool_calls", tool_calls=(call,))]
    second = [
        StreamChunk("Sunny in Lyon."),
        StreamChunk(model="openai:gpt-4o-mini", finish_reason="stop", usage=Usage.of(30, 4)),
    ]
    await _chunks(recorder.step(step(first)))
    recorder.tool_result("s1c0", '{"sky": "clear"}')  # by the call's step and place
    await _chunks(recorder.step(step(second)))
    cache = replay.Cache(tmp_path / "c.sqlite")
    cache.put(BASE, "openai:gpt-4o-mini", recorder.recording())

    again = cache.get(BASE, "openai:gpt-4o-mini")
    assert again is not None
    assert await _chunks(again.step(0)) == first
    assert again.tool_result("s1c0") == '{"sky": "clear"}'
    assert await _chunks(again.step(1)) == second


async def test_a_tool_loop_asks_records_then_replays_without_running_the_tool(tmp_path: Path) -> None:
    """The API a tool loop uses: chunks(ask, step), tool_result(call key), record_tool_result(...)."""
    call = ToolCall("call_9", "add", '{"a": 2, "b": 3}')
    replies = [
        [StreamChunk(model="demo:echo", finish_reason="tool_calls", tool_calls=(call,))],
        [StreamChunk("5"), StreamChunk(model="demo:echo", finish_reason="stop")],
    ]
    ran: list[str] = []

    async def loop(question: replay.Question) -> list[list[StreamChunk]]:
        seen = []
        for step, reply in enumerate(replies):

            async def ask(_: Request, reply: list[StreamChunk] = reply) -> AsyncGenerator[StreamChunk, None]:
                for c in reply:
                    yield c

            chunks = await _chunks(question.layer(ask, step)(BASE))
            seen.append(chunks)
            for c in chunks:
                for tool_call in c.tool_calls or ():
                    key = f"s{step + 1}c{tool_call.index}"
                    if question.tool_result(key) is None:
                        ran.append(key)
                        question.record_tool_result(key, "5")
        return seen

    path = str(tmp_path / "c.sqlite")
    first = replay.Question("replay", None, path, BASE, "demo:echo")
    asked = await loop(first)
    first.keep(Result("5", "demo:echo", "demo:echo", "stop", None, Timings(0.0, None, 0.0), BASE.messages))
    again = replay.Question("replay", None, path, BASE, "demo:echo")
    assert again.recording is not None and again.tool_result("s1c0") == "5"
    assert await loop(again) == asked
    assert ran == ["s1c0"], "the replay did not run the tool"


def test_an_exchange_stored_by_call_id_asks_again_and_a_plain_answer_still_replays(tmp_path: Path) -> None:
    """Files written before results were keyed by step and place held them by call id, which
    repeats across steps: such an exchange is asked again rather than given the wrong results."""
    cache = replay.Cache(tmp_path / "c.sqlite")
    call = ToolCall("call_0", "add", "{}")
    steps = [[StreamChunk(model="demo:echo", finish_reason="tool_calls", tool_calls=(call,))]]
    cache.put(BASE, "demo:echo", replay.Recording(tuple(map(tuple, steps)), {"s1c0": "5"}))
    with sqlite3.connect(cache.path) as db:
        db.execute("update answers set exchange = replace(exchange, '\"results\"', '\"tool_results\"')")
    assert cache.get(BASE, "demo:echo") is None
    cache.put(BASE, "demo:echo", replay.Recording(((StreamChunk(model="demo:echo", finish_reason="stop"),),)))
    with sqlite3.connect(cache.path) as db:
        db.execute("update answers set exchange = replace(exchange, '\"results\"', '\"tool_results\"')")
    assert cache.get(BASE, "demo:echo") is not None


async def test_no_key_or_secret_reaches_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL)
    request = dataclasses.replace(
        BASE,
        messages=(Message("user", f"my key is {SENTINEL}"),),
        options={"api_key": SENTINEL, "client_secret": "hunter2-secret-value", "seed": 7},
    )
    cache = replay.Cache(tmp_path / "c.sqlite")
    recorder = replay.Recorder()
    await _chunks(recorder.step(chat_stream(request)))  # demo:echo says the key back
    recorder.tool_result("s1c0", f"token {SENTINEL}")
    cache.put(request, "demo:echo", recorder.recording())
    stored = (tmp_path / "c.sqlite").read_bytes()
    assert SENTINEL.encode() not in stored
    assert b"hunter2-secret-value" not in stored
    assert b'"seed":7' in stored, "parameters that are not secret are kept, for a reader"


def test_the_cell_option_is_one_field_with_its_opposite() -> None:
    parsed = [options.parse(line) for line in ("demo", "demo --cache", "demo --no-cache")]
    assert [o.cache if o else "not parsed" for o in parsed] == [None, True, False]
    assert "--cache, --no-cache" in options.usage()


def test_the_mode_of_a_cell() -> None:
    assert replay.mode("off", None) == "off"
    assert replay.mode("refresh", None) == "refresh"
    assert replay.mode("off", True) == "replay"
    assert replay.mode("replay", False) == "off"


def test_the_default_file_is_beside_the_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    replay.Cache().put(BASE, "demo:echo", replay.Recording(((StreamChunk("x"),),)))
    assert (tmp_path / ".llmring" / "cache.sqlite").is_file()


def test_an_unusable_file_is_one_line_that_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match=r"Cannot open the replay cache .*LLMMagics.cache_path"):
        replay.Cache(tmp_path / "file" / "cache.sqlite").get(BASE, "demo:echo")


# -- through the session, as a cell asks ------------------------------------------------------


def _settings(tmp_path: Path, **changes: Any) -> LLMMagics:
    """The real settings, as %config sets them (no shell needed to read them)."""
    magics = LLMMagics(None, in_kernel=False)
    magics.cache, magics.cache_path, magics.update_rate = "replay", str(tmp_path / "cache.sqlite"), 1000.0
    for name, value in changes.items():
        setattr(magics, name, value)
    return magics


async def _ask(session: Session, prompt: str, **opts: Any) -> tuple[Result, Recorder]:
    shown = Recorder()
    result = await session.ask(prompt, Options.of(opts.pop("model", "demo"), opts), shown)
    return result, shown


@pytest.fixture(autouse=True)
def _quick_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMRING_DEMO_DELAY", "0")


async def test_a_replayed_answer_is_marked_costs_nothing_and_keeps_its_usage(tmp_path: Path) -> None:
    first, _ = await _ask(Session(_settings(tmp_path)), "What is a monad?", history=False)
    assert first.replayed is None
    again, shown = await _ask(Session(_settings(tmp_path)), "What is a monad?", history=False)
    assert again.replayed is not None and again.replayed.model == "demo:chat"
    assert again.replayed.answered_at == pytest.approx(first.timings.started_at, abs=1)
    assert shown.text == again.text == first.text
    assert again.usage == first.usage and again.cost == 0.0
    assert shown.result is again, "the footer was drawn from the marked result"


async def test_a_replayed_answer_joins_the_conversation(tmp_path: Path) -> None:
    await _ask(Session(_settings(tmp_path)), "Name a colour.")
    session = Session(_settings(tmp_path))
    again, _ = await _ask(session, "Name a colour.")
    assert again.replayed is not None
    turns = session.conversations.get().turns
    assert [t.result for t in turns] == [again]


@pytest.mark.parametrize(
    ("setting", "cell", "replayed"),
    [
        ("off", None, False),
        ("refresh", None, False),
        ("replay", None, True),
        ("replay", False, False),
        ("off", True, True),
    ],
)
async def test_modes_and_the_cell_options(tmp_path: Path, setting: str, cell: bool | None, replayed: bool) -> None:
    await _ask(Session(_settings(tmp_path, cache="refresh")), "Same question", history=False)
    result, _ = await _ask(Session(_settings(tmp_path, cache=setting)), "Same question", history=False, cache=cell)
    assert (result.replayed is not None) is replayed


async def test_off_and_no_cache_store_nothing_refresh_stores(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    await _ask(Session(_settings(tmp_path, cache="off")), "one", history=False)
    await _ask(Session(_settings(tmp_path, cache="replay")), "two", history=False, cache=False)
    assert not path.exists()
    await _ask(Session(_settings(tmp_path, cache="refresh")), "three", history=False)
    assert sqlite3.connect(path).execute("select count(*) from answers").fetchone() == (1,)


async def test_a_stopped_or_failed_answer_is_not_stored(tmp_path: Path) -> None:
    """A budget stop is a Stop: the next run asks again rather than replaying half an answer."""
    settings = _settings(tmp_path, budget_tokens=60)
    stopped, _ = await _ask(Session(settings), "A long answer, please", history=False)
    assert stopped.finish_reason == "cancelled"
    again, _ = await _ask(Session(_settings(tmp_path)), "A long answer, please", history=False)
    assert again.replayed is None and again.finish_reason == "stop"


@pytest.mark.parametrize("setting", ["cache_path", "log_path"])
async def test_a_file_that_cannot_be_written_fails_before_anything_is_sent(tmp_path: Path, setting: str) -> None:
    (tmp_path / "file").write_text("")
    settings = _settings(tmp_path, cache="refresh", **{setting: str(tmp_path / "file" / "x.sqlite")})
    session = Session(settings)
    with pytest.raises(UsageError, match=rf"Cannot open the .* %config LLMMagics.{setting}"):
        await _ask(session, "Anything", history=False)
    assert session.ledger.models == {}, "nothing was asked"
