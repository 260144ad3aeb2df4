"""OpenAI's own ways, through the real ``openai`` SDK against its wire formats on 127.0.0.1.

The Responses API: thinking levels as ``reasoning.effort`` (refused before sending where the
model cannot take them), reasoning summaries streamed as thinking, reasoning items sent back
as received, summaries refused to an unverified organisation, ``response.failed`` and
``response.incomplete``. Compatible servers: the switch to Chat Completions on a 404 for
``/responses``, ``-o wire``, and their ``reasoning_content`` / ``reasoning`` deltas.
"""

from __future__ import annotations

from typing import Any

import pytest
from providers.dialects.openai import DIALECT as RESPONSES
from providers.dialects.openai import Item
from providers.dialects.openai_chat import DIALECT as CHAT
from providers.streams import collect, text
from wire_server import Reply, WireServer

from llmring_jupyter.providers import (
    ConfigurationError,
    Message,
    Notice,
    ProviderError,
    Reasoning,
    Request,
    StreamChunk,
    Tool,
)
from llmring_jupyter.providers.types import (
    Attachment,
)

WEATHER = Tool("weather", "The weather in a city.", {"type": "object", "properties": {"city": {"type": "string"}}})


@pytest.fixture(autouse=True)
def _server(wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**RESPONSES.key_env, **RESPONSES.base_url_env(wire.url)}.items():
        monkeypatch.setenv(name, value)


def _ask(model: str = "gpt-5-mini", *messages: Message, **kw: Any) -> Request:
    return Request(f"openai:{model}", messages or (Message("user", "Warmer in Paris?"),), **kw)


def _final(chunks: list[StreamChunk]) -> StreamChunk:
    assert chunks and chunks[-1].finish_reason is not None, chunks
    return chunks[-1]


def _thinking(chunks: list[StreamChunk]) -> str:
    return "".join(r.text for c in chunks[:-1] for r in c.reasoning or ())


async def test_the_summary_streams_as_thinking_and_the_reasoning_item_goes_back_before_its_call(
    wire: WireServer,
) -> None:
    summary = [["**Weather**", " lookup."], ["**Then**", " answer."]]  # two parts of one summary
    items: list[Item] = [("reasoning", summary, "gAAAAB-encrypted-1", "rs_wire1")]
    items += [("call", "call_1", "weather", ['{"city": ', '"Paris"}'])]
    wire.queue(Reply(200, {}, RESPONSES.stream(items, reasoning_tokens=64)))
    first = _ask(think="high", tools=(WEATHER,))
    chunks, error = await collect(first)
    assert error is None, error
    thought = "**Weather** lookup.\n\n**Then** answer."
    assert _thinking(chunks) == thought, "the summary streams as thinking, as it arrives, a paragraph a part"
    assert len([c for c in chunks[:-1] if c.reasoning]) >= 4, "in pieces, not whole at the end"
    final = _final(chunks)
    assert final.reasoning == (Reasoning(thought, 0, encrypted="gAAAAB-encrypted-1", id="rs_wire1"),)
    assert final.finish_reason == "tool_calls" and final.usage is not None and final.usage.reasoning_tokens == 64
    sent = wire.last().json
    assert sent["reasoning"] == {"effort": "high", "summary": "auto"}
    assert (sent["include"], sent["store"]) == (["reasoning.encrypted_content"], False)

    # the tool loop's next request: the reasoning item, unmodified, before the call it led to
    (call,) = final.tool_calls or ()
    wire.queue(RESPONSES.answer(["21 °C."]))
    turn = Message("assistant", "", (call,), reasoning=final.reasoning)
    chunks, error = await collect(
        _ask("gpt-5-mini", *first.messages, turn, Message("tool", "21 °C", tool_call_id=call.id))
    )
    assert error is None and text(chunks) == "21 °C."
    kinds = [i.get("type", i.get("role")) for i in wire.last().json["input"]]
    assert kinds == ["user", "reasoning", "function_call", "function_call_output"]
    assert RESPONSES.sent_reasoning(wire.last()) == [("rs_wire1", "gAAAAB-encrypted-1")]
    assert RESPONSES.sent_exchange(wire.last()) == [
        ("call", "weather", {"city": "Paris"}, None),
        ("result", "call_1", "21 °C"),
    ]


@pytest.mark.parametrize(
    ("model", "level", "effort"),
    [("gpt-5-mini", "off", "minimal"), ("gpt-5.1", "off", "none"), ("gpt-5.2", "max", "xhigh"), ("o3", "max", "high")],
)
async def test_a_thinking_level_is_the_effort_the_model_takes(
    wire: WireServer, model: str, level: Any, effort: str
) -> None:
    wire.queue(RESPONSES.answer(["Yes."]))
    _chunks, error = await collect(_ask(model, think=level, show_thinking=False))
    assert error is None
    assert wire.last().json["reasoning"] == {"effort": effort}, "no summary when the thinking is not shown"


@pytest.mark.parametrize(
    ("model", "level", "said"),
    [
        ("gpt-4o-mini", "low", "openai:gpt-4o-mini does not reason, so it takes no thinking level"),
        ("o3", "off", "openai:o3 cannot take thinking level 'off'; it takes low, medium, high, max."),
        ("gpt-5-pro", "low", "openai:gpt-5-pro cannot take thinking level 'low'; it takes high, max."),
    ],
)
async def test_a_level_the_model_cannot_take_fails_before_sending(
    wire: WireServer, model: str, level: Any, said: str
) -> None:
    chunks, error = await collect(_ask(model, think=level))
    assert chunks == [] and isinstance(error, ConfigurationError) and error.message.startswith(said), error
    assert wire.seen == []


async def test_a_model_that_does_not_reason_is_not_asked_for_reasoning(wire: WireServer) -> None:
    wire.queue(RESPONSES.answer(["Yes."]))
    _chunks, error = await collect(_ask("gpt-4o-mini"))
    assert error is None
    sent = wire.last().json
    assert "reasoning" not in sent and "include" not in sent and sent["store"] is False


REFUSED = (
    "Your organization must be verified to generate reasoning summaries. Please go to: "
    "https://platform.openai.com/settings/organization/general and click on Verify Organization."
)


async def test_refused_summaries_ask_again_without_them_and_the_answer_says_why_no_thinking_shows(
    wire: WireServer,
) -> None:
    refusal = {"error": {"message": REFUSED, "type": "invalid_request_error", "param": "reasoning.summary"}}
    reasoned: list[Item] = [("reasoning", [], "gAAAAB-encrypted-2", "rs_wire2"), ("message", ["Yes."])]
    wire.queue(Reply.json(refusal, 400), *[Reply(200, {}, RESPONSES.stream(reasoned))] * 2)
    why = Notice(
        "thinking",
        "No thinking is shown: OpenAI refused reasoning summaries "
        "(Your organization must be verified to generate reasoning summaries).",
    )
    chunks, error = await collect(_ask(think="low"))
    assert error is None and text(chunks) == "Yes."
    assert _final(chunks).notices == (why,)
    asked, again = wire.seen
    assert asked.json["reasoning"] == {"effort": "low", "summary": "auto"}
    assert again.json["reasoning"] == {"effort": "low"}, "asked once more, without the summary"
    assert _final(chunks).reasoning == (Reasoning("", 0, encrypted="gAAAAB-encrypted-2", id="rs_wire2"),)

    chunks, error = await collect(_ask(think="low"))
    assert error is None and _final(chunks).notices == (why,), "every answer says why it shows no thinking"
    assert len(wire.seen) == 3 and wire.last().json["reasoning"] == {"effort": "low"}, "not asked for again"


async def test_a_server_without_the_responses_api_is_asked_through_chat_completions_from_then_on(
    wire: WireServer,
) -> None:
    missing = {"error": {"message": "Invalid URL (POST /v1/responses)", "type": "invalid_request_error"}}
    wire.queue(Reply.json(missing, 404), CHAT.answer(["Via ", "chat."]), CHAT.answer(["Again."]))
    chunks, error = await collect(_ask("llama3.2:3b"))
    assert error is None and text(chunks) == "Via chat."
    switched = f"{wire.url}/v1 has no Responses API (HTTP 404): Chat Completions is used for it from now on."
    assert _final(chunks).notices == (Notice("wire", switched),)
    chunks, error = await collect(_ask("llama3.2:3b"))
    assert error is None and text(chunks) == "Again." and _final(chunks).notices is None, "said once"
    assert [s.path for s in wire.seen] == ["/v1/responses", "/v1/chat/completions", "/v1/chat/completions"]

    wire.queue(RESPONSES.answer(["Forced."]))
    chunks, error = await collect(_ask("llama3.2:3b", options={"wire": "responses"}))
    assert error is None and text(chunks) == "Forced." and wire.last().path == "/v1/responses"
    assert "wire" not in wire.last().json, "our option, not the server's"


async def test_wire_chat_forces_chat_completions_and_a_wrong_wire_is_refused(wire: WireServer) -> None:
    wire.queue(CHAT.answer(["Chat."]))
    chunks, error = await collect(_ask("gpt-4o-mini", options={"wire": "chat"}))
    assert error is None and text(chunks) == "Chat." and [s.path for s in wire.seen] == ["/v1/chat/completions"]
    chunks, error = await collect(_ask("gpt-4o-mini", options={"wire": "grpc"}))
    assert isinstance(error, ConfigurationError) and "responses or chat, not 'grpc'" in error.message
    assert len(wire.seen) == 1


async def test_a_lockfile_binding_says_which_wire_its_openai_models_speak(wire: WireServer, tmp_path: Any) -> None:
    lock = tmp_path / "llmring.lock"
    binding = '[[profiles.default.bindings]]\nalias = "local"\nmodels = ["openai:llama3.2:3b"]\n'
    lock.write_text(binding + 'wire = "chat"\n')
    wire.queue(CHAT.answer(["Chat."]), RESPONSES.answer(["Responses."]))
    chunks, error = await collect(Request("local", (Message("user", "Hi"),)), lockfile_path=lock)
    assert error is None and text(chunks) == "Chat." and [s.path for s in wire.seen] == ["/v1/chat/completions"]
    ask = Request("local", (Message("user", "Hi"),), options={"wire": "responses"})
    chunks, error = await collect(ask, lockfile_path=lock)
    assert error is None and wire.last().path == "/v1/responses", "the cell's -o wire= wins over the lockfile"

    lock.write_text(binding + 'wire = "grpc"\n')
    chunks, error = await collect(Request("local", (Message("user", "Hi"),)), lockfile_path=lock)
    assert isinstance(error, ConfigurationError) and "wire = 'grpc'; write responses or chat" in error.message
    assert len(wire.seen) == 2, "nothing sent"


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])  # DeepSeek, llama.cpp / vLLM, OpenRouter
async def test_a_compatible_servers_thinking_streams_as_thinking(wire: WireServer, field: str) -> None:
    wire.routes.update(CHAT.routes)
    wire.queue(CHAT.answer(["42."], thinking=["Six ", "times seven."], thinking_field=field))
    chunks, error = await collect(_ask("deepseek-reasoner", think="high"))
    assert error is None and text(chunks) == "42." and _thinking(chunks) == "Six times seven."
    assert _final(chunks).reasoning == (Reasoning("Six times seven.", 0),)
    assert wire.last().json["reasoning_effort"] == "high"


async def test_a_failed_response_keeps_the_text_and_says_why(wire: WireServer) -> None:
    wire.queue(Reply(200, {}, RESPONSES.stream([("message", ["Half ", "an answer"])], end="failed")))
    chunks, error = await collect(_ask("gpt-4o-mini"))
    assert text(chunks) == "Half an answer"
    assert isinstance(error, ProviderError) and "The model failed to answer" in error.message


async def test_content_filtering_ends_the_answer_so(wire: WireServer) -> None:
    wire.queue(RESPONSES.answer(["I can"], finish="content_filter"))
    chunks, error = await collect(_ask("gpt-4o-mini"))
    assert error is None and _final(chunks).finish_reason == "content_filter"


async def test_options_pass_through_to_the_request(wire: WireServer) -> None:
    wire.queue(RESPONSES.answer(["Yes."]))
    options = {"top_p": 0.5, "service_tier": "flex", "verbosity_hint": "low"}
    _chunks, error = await collect(_ask("gpt-4o-mini", options=options, max_tokens=99))
    sent = wire.last().json
    assert error is None and {k: sent[k] for k in options} == options, "known and unknown options alike"
    assert sent["max_output_tokens"] == 99


async def test_images_and_documents_go_as_input_parts_after_the_text(wire: WireServer) -> None:
    image = Attachment("image", "image/png", b"\x89PNG...", "fig", 3, 2)
    pdf = Attachment("document", "application/pdf", b"%PDF-1.4 ...", "paper.pdf")
    wire.queue(RESPONSES.answer(["Seen."]))
    _chunks, error = await collect(_ask("gpt-4o-mini", Message("user", "Compare", attachments=(image, pdf))))
    assert error is None
    assert RESPONSES.sent_parts(wire.last()) == [
        ("image", "image/png", image.data),
        ("document", "application/pdf", pdf.data),
    ]
    (content,) = [i["content"] for i in wire.last().json["input"]]
    assert [p["type"] for p in content] == ["input_text", "input_image", "input_file"]
    assert content[0]["text"] == "Compare" and content[2]["filename"] == "paper.pdf"


async def test_the_user_reads_why_no_thinking_shows_and_that_chat_completions_answered(wire: WireServer) -> None:
    """What the provider layer says of how it answered reaches the answer's footer and thinking line."""
    from recorder import Recorder, open_stream

    from llmring_jupyter import render
    from llmring_jupyter.answer import agent

    refusal = {"error": {"message": REFUSED, "type": "invalid_request_error", "param": "reasoning.summary"}}
    reasoned: list[Item] = [("reasoning", [], "gAAAAB-encrypted-3", "rs_wire3"), ("message", ["Yes."])]
    wire.queue(Reply.json(refusal, 400), Reply(200, {}, RESPONSES.stream(reasoned, reasoning_tokens=12)))
    result = await agent.run(_ask(think="low"), open_stream, Recorder(None))
    (thought,) = result.thoughts
    assert "OpenAI refused reasoning summaries" in thought.label(), "the empty thinking line says why"
    assert "OpenAI refused reasoning summaries" in render.footer_text(result)

    missing = {"error": {"message": "Invalid URL (POST /v1/responses)", "type": "invalid_request_error"}}
    wire.queue(Reply.json(missing, 404), CHAT.answer(["Via chat."]))
    result = await agent.run(_ask("llama3.2:3b"), open_stream, Recorder(None))
    assert result.text == "Via chat." and "Chat Completions is used for it from now on" in render.footer_text(result)
