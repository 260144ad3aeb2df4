"""Structured output through each provider's real SDK, against its real wire format on 127.0.0.1.

For every provider: the request carries the native structured-output parameter
with the schema; a streamed JSON answer becomes validated data for a pydantic
model, a dataclass, ``list[Model]`` and a JSON Schema dict; an answer that does
not fit fails naming the mismatch and keeps the raw text; a cut one says it was cut.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

import pytest
from answer_types import PERSON, Paper, Point
from providers.dialects import Dialect, load
from recorder import Recorder
from wire_server import WireServer

from llmring_jupyter.answer import stream, structured
from llmring_jupyter.answer.amend import Amending
from llmring_jupyter.answer.schema import Shape
from llmring_jupyter.exceptions import AnswerMismatch
from llmring_jupyter.providers import Message, Request, StreamChunk, chat_stream
from llmring_jupyter.providers.json_mode import ANSWER_TOOL_DESCRIPTION
from llmring_jupyter.result import Result

PAPER: dict[str, Any] = {"title": "Graphs", "year": 2018, "topics": ["attention", "graphs"]}

#: (type, the JSON a model streams, the value _llm.data must hold)
CASES: list[tuple[Any, Any, Any]] = [
    (Paper, PAPER, Paper(**PAPER)),
    (Point, {"x": 1.5, "y": None}, Point(1.5, 0)),  # null: how strict modes leave out an optional field
    (list[Paper], {"items": [PAPER, PAPER]}, [Paper(**PAPER), Paper(**PAPER)]),
    (PERSON, {"name": "Ada", "age": 36}, {"name": "Ada", "age": 36}),
]


def pieces(value: Any) -> list[str]:
    """Compact JSON text in small pieces, as models stream it."""
    text = json.dumps(value, separators=(",", ":"))
    return [text[i : i + 7] for i in range(0, len(text), 7)]


async def ask(d: Dialect, shape: Shape, model: str = "", **kw: Any) -> tuple[Result, Recorder]:
    request = Request(
        f"{d.provider}:{model or d.model}",
        (Message("user", "Extract it as JSON"),),
        response_format=structured.response_format(shape),
        **kw,
    )
    return await run(request, chat_stream(request), shape)


async def run(request: Request, chunks: Any, shape: Shape) -> tuple[Result, Recorder]:
    """Stream as the session does: the answer is validated before the output is shown it."""
    output = Recorder()
    shown = Amending(output, conclude=functools.partial(structured.conclude, shape))
    await stream.run(request, chunks, shown, interval=0)
    assert shown.result is not None and output.result is shown.result  # shown validated
    return shown.result, output


@pytest.mark.parametrize(("tp", "sent", "data"), CASES, ids=["model", "dataclass", "list", "json-schema"])
async def test_the_native_parameter_carries_the_schema_and_the_answer_becomes_data(
    dialect: Dialect, wire: WireServer, tp: Any, sent: Any, data: Any
) -> None:
    shape = structured.resolve(tp, False, {})
    assert shape is not None
    wire.queue(dialect.answer(pieces(sent)))
    result, output = await ask(dialect, shape)
    fmt = structured.response_format(shape)
    assert dialect.sent_format(wire.last()) == dialect.json_request(shape.name, fmt.schema)
    assert result.exception is None, result.error
    assert result.data == data and json.loads(result.text) == sent
    assert len(output.deltas) >= 2  # the JSON streamed in pieces, not at the end


async def test_an_answer_that_does_not_fit_names_the_mismatch_and_keeps_the_text(
    dialect: Dialect, wire: WireServer
) -> None:
    shape = structured.resolve(list[Paper], False, {})
    assert shape is not None
    bad = {"items": [PAPER, {**PAPER, "year": "soon"}]}
    wire.queue(dialect.answer(pieces(bad)))
    result, _ = await ask(dialect, shape)
    assert isinstance(result.exception, AnswerMismatch)
    assert "does not fit list[Paper]: at [1].year: Input should be a valid integer" in result.exception.message
    assert json.loads(result.text) == bad and result.data is None


async def test_a_cut_answer_says_it_was_cut(dialect: Dialect, wire: WireServer) -> None:
    shape = structured.resolve(Paper, False, {})
    assert shape is not None
    wire.queue(dialect.answer(pieces(PAPER)[:3], finish="length"))
    result, _ = await ask(dialect, shape, max_tokens=5)
    assert result.finish_reason == "length" and result.text == "".join(pieces(PAPER)[:3])
    assert result.exception is not None and "cut at the token limit" in str(result.exception)


async def test_any_json_object(dialect: Dialect, wire: WireServer, caplog: pytest.LogCaptureFixture) -> None:
    shape = structured.resolve(None, True, {})
    assert shape is not None
    value = {"anything": [1, {"goes": True}]}
    if dialect.provider == "anthropic":  # no native mode: the answer is a forced tool call's input
        wire.queue(dialect.tool_call("answer", pieces(value), "toolu_01Answer"))
    else:
        wire.queue(dialect.answer(pieces(value)))
    with caplog.at_level(logging.WARNING, logger="llmring_jupyter"):
        result, _ = await ask(dialect, shape)
    assert dialect.sent_format(wire.last()) == dialect.json_request(shape.name, None)
    assert result.exception is None and result.finish_reason == "stop" and result.tool_calls == ()
    assert result.data == value
    notes = [r.getMessage() for r in caplog.records]
    if dialect.provider == "anthropic":  # said in one line before sending, not left to hope
        assert notes == [
            f"anthropic:{dialect.model} has no mode for any JSON object: "
            "the answer is asked for as the input of a forced tool call."
        ]
    else:
        assert notes == []


async def test_an_older_model_without_the_mode_says_so_in_one_line_and_is_still_checked(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    shape = structured.resolve(list[Paper], False, {})
    assert shape is not None
    schema = structured.response_format(shape).schema
    for name, model, reply, wire_format in [
        (
            "anthropic",
            "claude-3-5-haiku-20241022",
            "tool",
            {
                "tools": [{"name": "answer", "description": ANSWER_TOOL_DESCRIPTION, "input_schema": schema}],
                "tool_choice": {"type": "tool", "name": "answer"},
            },
        ),
        ("openai", "gpt-3.5-turbo", "text", {"text": {"format": {"type": "json_object"}}}),
    ]:
        d = load(name)
        for k, v in {**d.key_env, **d.base_url_env(wire.url)}.items():
            monkeypatch.setenv(k, v)
        value = {"items": [PAPER]}
        wire.queue(d.tool_call("answer", pieces(value), "toolu_01") if reply == "tool" else d.answer(pieces(value)))
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="llmring_jupyter"):
            result, _ = await ask(d, shape, model=model)
        assert d.sent_format(wire.last()) == wire_format
        assert [r.getMessage() for r in caplog.records] == [NOTES[name].format(model=model)]
        assert result.exception is None and result.data == [Paper(**PAPER)]


NOTES = {
    "anthropic": "anthropic:{model} has no structured-output mode for list[Paper]: "
    "the answer is asked for as the input of a forced tool call.",
    "openai": "openai:{model} cannot answer to a JSON schema: "
    "it is asked for a JSON object, checked against list[Paper].",
}


async def test_a_user_backend_is_given_the_response_format_with_the_request() -> None:
    shape = structured.resolve(Paper, False, {})
    assert shape is not None
    seen: list[Request] = []

    class Backend:  # what a user writes: any object with a compatible chat_stream
        async def chat_stream(self, request: Request) -> Any:
            seen.append(request)
            for piece in pieces(PAPER):
                yield StreamChunk(delta=piece)
            yield StreamChunk(model="mine", finish_reason="stop")

    request = Request("mine", (Message("user", "One paper"),), response_format=structured.response_format(shape))
    result, _ = await run(request, chat_stream(request, backend=Backend()), shape)
    assert seen[0].response_format == structured.response_format(shape)
    assert result.data == Paper(**PAPER)
