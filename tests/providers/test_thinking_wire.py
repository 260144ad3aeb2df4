"""Thinking on the wire, through each real SDK, against the provider's own stream on 127.0.0.1.

What a user sees: the thinking streams as it arrives, block by block in order; the final chunk
holds the whole blocks with what must go back (Anthropic's signatures and redacted data,
Gemini's thought signatures); the next request of a tool loop carries them back exactly as
received, also after a save and reload (``Message.to_dict``/``from_dict``); the thinking
tokens are counted in the output; a stream cut mid-thought keeps what was shown.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from providers.dialects import load
from providers.dialects.anthropic import (
    AnthropicDialect,
    redacted_block,
    text_block,
    thinking_block,
    tool_use_block,
)
from providers.dialects.google import GoogleDialect
from providers.dialects.ollama import OllamaDialect
from providers.streams import collect, text
from wire_server import CUT, Reply, WireServer, sse

from llmring_jupyter.providers import (
    Message,
    ProviderError,
    ProviderUnavailableError,
    Reasoning,
    Request,
    StreamChunk,
)

SIG_A = "EqQBCkgIBRABGAIiQGx+hB/ZtRUK4v0signatureA=="  # Anthropic's: opaque text, sent back unchanged
SIG_B = "ErUBCkYIBRABGAIiQKb/9d+signatureB"
REDACTED = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"
# Gemini's are bytes, base64 on the wire
THOUGHT_SIG = "dGhvdWdodC1zaWduYXR1cmUtb25l"
TEXT_SIG = "dGV4dC1zaWduYXR1cmUtYXQtZW5k"
CALL_SIG = "Y2FsbC1zaWduYXR1cmUtdGhyZWUu"


def _use(name: str, wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    d = load(name)
    for k, v in {**d.key_env, **d.base_url_env(wire.url)}.items():
        monkeypatch.setenv(k, v)
    return d


def _ask(d: Any, *messages: Message, **kw: Any) -> Request:
    return Request(f"{d.provider}:{d.model}", messages or (Message("user", "Warmer in Paris?"),), **kw)


def _final(chunks: list[StreamChunk]) -> StreamChunk:
    assert chunks and chunks[-1].finish_reason is not None
    return chunks[-1]


def _pieces(chunks: list[StreamChunk]) -> list[tuple[int, str]]:
    """(block, text) of every thinking piece before the final chunk, in the order they came."""
    return [(r.index, r.text) for c in chunks[:-1] for r in c.reasoning or ()]


def _kinds(chunks: list[StreamChunk]) -> list[str]:
    """What streamed, in order, runs merged: "thinking 0", "text", "call"."""
    out: list[str] = []
    for c in chunks[:-1]:
        kind = "text" if c.delta else "call" if c.tool_calls else ""
        kind = f"thinking {c.reasoning[0].index}" if c.reasoning else kind
        if kind and (not out or out[-1] != kind):
            out.append(kind)
    return out


def _again(first: Request, final: StreamChunk, said: str, result: str) -> Request:
    """The tool loop's next request: the answer as the assistant's turn, saved and reloaded as a
    replay or an export does, then the call's result."""
    assert final.tool_calls
    turn = Message("assistant", said, final.tool_calls, reasoning=final.reasoning or ())
    turn = Message.from_dict(json.loads(json.dumps(turn.to_dict())))
    call = final.tool_calls[0]
    return Request(first.model, (*first.messages, turn, Message("tool", result, tool_call_id=call.id, name=call.name)))


# -- Anthropic -------------------------------------------------------------------------------


async def test_anthropic_thinking_streams_block_by_block_and_goes_back_unmodified(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    d: AnthropicDialect = _use("anthropic", wire, monkeypatch)
    blocks = [
        thinking_block(["The user ", "asks about Paris."], SIG_A),
        redacted_block(REDACTED),
        text_block(["Let me check. "]),
        thinking_block(["A tool ", "will say."], SIG_B),
        tool_use_block("toolu_01", "weather", ['{"city": ', '"Paris"}']),
    ]
    usage = {"output_tokens": 90, "output_tokens_details": {"thinking_tokens": 61}}
    wire.queue(d.blocks(blocks, "tool_use", usage), d.answer(["21 °C."]))
    first = _ask(d, think="low")
    chunks, error = await collect(first)
    assert error is None
    assert _kinds(chunks) == ["thinking 0", "thinking 1", "text", "thinking 2", "call"]
    pieces = [p for p in _pieces(chunks) if p[1]]
    assert pieces == [(0, "The user "), (0, "asks about Paris."), (2, "A tool "), (2, "will say.")], "as they came"
    final = _final(chunks)
    assert final.reasoning == (
        Reasoning("The user asks about Paris.", 0, SIG_A),
        Reasoning("", 1, redacted=REDACTED),
        Reasoning("A tool will say.", 2, SIG_B),
    )
    assert final.usage is not None and (final.usage.completion_tokens, final.usage.reasoning_tokens) == (90, 61)

    chunks, error = await collect(_again(first, final, text(chunks), "21 °C in Paris"))
    assert error is None and text(chunks) == "21 °C."
    assistant = wire.seen[-1].json["messages"][1]
    assert assistant["role"] == "assistant"
    sent = [b for b, _ in blocks]
    assert assistant["content"] == [
        {"type": "thinking", "thinking": "The user asks about Paris.", "signature": SIG_A},
        sent[1],  # the redacted block exactly as it came
        {"type": "thinking", "thinking": "A tool will say.", "signature": SIG_B},
        {"type": "text", "text": "Let me check. "},
        {"type": "tool_use", "id": "toolu_01", "name": "weather", "input": {"city": "Paris"}},
    ]
    body = wire.seen[-1].body.decode()
    assert all(f'"{s}"' in body for s in (SIG_A, SIG_B, REDACTED)), "byte for byte"


async def test_anthropic_usage_without_a_thinking_count_says_none(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    d: AnthropicDialect = _use("anthropic", wire, monkeypatch)
    wire.queue(d.blocks([thinking_block(["Hm."], SIG_A), text_block(["Hi."])], "end_turn"))
    chunks, error = await collect(_ask(d))
    usage = _final(chunks).usage
    assert error is None and usage is not None and usage.reasoning_tokens is None and usage.completion_tokens == 12


# -- Gemini ----------------------------------------------------------------------------------


async def test_gemini_thoughts_and_every_signature_stream_and_go_back_on_their_parts(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    d: GoogleDialect = _use("google", wire, monkeypatch)
    call = {"functionCall": {"id": "c1", "name": "weather", "args": {"city": "Paris"}}, "thoughtSignature": CALL_SIG}
    events: list[list[dict[str, Any]]] = [
        [{"text": "Weighing ", "thought": True}],
        [{"text": "the options.", "thought": True, "thoughtSignature": THOUGHT_SIG}],
        [{"text": "Let me check."}],
        [{"text": "Now the tool.", "thought": True}],
        [call],
        [{"text": "", "thoughtSignature": TEXT_SIG}],  # Gemini 3's last signature, on empty text
    ]
    wire.queue(d.parts(events, usage=(40, 20), thoughts=35), d.answer(["21 °C."]))
    first = _ask(d, think="low")
    chunks, error = await collect(first)
    assert error is None
    assert _kinds(chunks)[:4] == ["thinking 0", "text", "thinking 1", "call"]
    assert [p for p in _pieces(chunks) if p[1]] == [(0, "Weighing "), (0, "the options."), (1, "Now the tool.")]
    final = _final(chunks)
    assert final.reasoning == (
        Reasoning("Weighing the options.", 0, THOUGHT_SIG),
        Reasoning("Now the tool.", 1),
        Reasoning("", 2, TEXT_SIG),
    ), "the signature on the empty last chunk is kept"
    assert final.tool_calls and final.tool_calls[0].signature == CALL_SIG
    usage = final.usage
    assert usage is not None and (usage.completion_tokens, usage.reasoning_tokens) == (55, 35), "thoughts billed"

    chunks, error = await collect(_again(first, final, text(chunks), "21 °C in Paris"))
    assert error is None and text(chunks) == "21 °C."
    model_turn = wire.seen[-1].json["contents"][1]
    assert model_turn["role"] == "model"
    assert model_turn["parts"] == [
        {"text": "Weighing the options.", "thought": True, "thoughtSignature": THOUGHT_SIG},
        {"text": "Now the tool.", "thought": True},
        {"text": "Let me check."},
        {"text": "", "thoughtSignature": TEXT_SIG},
        {"functionCall": {"name": "weather", "args": {"city": "Paris"}}, "thoughtSignature": CALL_SIG},
    ]


# -- Ollama ----------------------------------------------------------------------------------


async def test_ollama_thinking_streams_beside_the_text_and_goes_back_on_the_message(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    d: OllamaDialect = _use("ollama", wire, monkeypatch)
    model = "qwen3:8b"
    calls = [{"function": {"name": "weather", "arguments": {"city": "Paris"}}}]
    lines: list[dict[str, Any]] = [
        {"thinking": "Paris, "},
        {"thinking": "so a tool."},
        {"content": "Checking."},
        {"thinking": "Now call it."},
        {"tool_calls": calls},
    ]
    wire.queue(d.messages(lines, usage=(30, 80)), d.answer(["21 °C."], served=model))
    first = Request(f"ollama:{model}", (Message("user", "Warmer in Paris?"),), think="high")
    chunks, error = await collect(first)
    assert error is None
    assert _kinds(chunks) == ["thinking 0", "text", "thinking 1", "call"]
    assert _pieces(chunks) == [(0, "Paris, "), (0, "so a tool."), (1, "Now call it.")]
    final = _final(chunks)
    assert final.reasoning == (Reasoning("Paris, so a tool.", 0), Reasoning("Now call it.", 1))
    usage = final.usage
    assert usage is not None and (usage.completion_tokens, usage.reasoning_tokens) == (80, None), "not reported"

    chunks, error = await collect(_again(first, final, text(chunks), "21 °C in Paris"))
    assert error is None and text(chunks) == "21 °C."
    assistant = wire.seen[-1].json["messages"][1]
    assert (assistant["role"], assistant["content"]) == ("assistant", "Checking.")
    assert assistant["thinking"] == "Paris, so a tool.Now call it."


# -- a stream cut mid-thought ----------------------------------------------------------------


def _cut_mid_thought(d: Any) -> Any:
    if isinstance(d, AnthropicDialect):
        reply = d.blocks([thinking_block(["First ", "thought, ", "more"], SIG_A), text_block(["Hi"])], "end_turn")
        cut = 5  # message_start, the block's start, a ping, "First ", "thought, "
    elif isinstance(d, GoogleDialect):
        events = [[{"text": p, "thought": True}] for p in ("First ", "thought, ", "more")] + [[{"text": "Hi"}]]
        reply, cut = d.parts(events), 2
    else:
        lines = [{"thinking": p} for p in ("First ", "thought, ", "more")] + [{"content": "Hi"}]
        reply, cut = d.messages(lines), 2
    reply.parts = [*reply.parts[:cut], CUT]
    return reply


@pytest.mark.parametrize("name", ["anthropic", "google", "ollama"])
async def test_a_stream_cut_mid_thought_keeps_what_was_shown(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    d = _use(name, wire, monkeypatch)
    wire.queue(_cut_mid_thought(d))
    chunks, error = await collect(_ask(d))
    assert isinstance(error, ProviderUnavailableError) and "mid-answer" in str(error), error
    assert "".join(r.text for c in chunks for r in c.reasoning or ()) == "First thought, "
    assert not any(c.finish_reason for c in chunks)


async def test_an_overload_after_thinking_was_shown_is_not_asked_again(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retrying would show the thinking twice: once it is shown, the error is the user's to see."""
    d: AnthropicDialect = _use("anthropic", wire, monkeypatch)
    thought = d.blocks([thinking_block(["Hmm, ", "let me see."], SIG_A)], "end_turn").parts[:5]
    error = ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    wire.queue(Reply(200, {}, [*thought, *sse(error)]), d.answer(["Hi."]))
    chunks, failed = await collect(_ask(d), retries=2)
    assert isinstance(failed, ProviderError) and "Overloaded" in str(failed), failed
    assert "".join(r.text for c in chunks for r in c.reasoning or ()) == "Hmm, let me see."
    assert len(wire.seen) == 1


def test_thinking_goes_back_only_to_the_provider_that_thought_it(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conversation that moves from Claude to Gemini and back: Gemini is not sent Claude's signed
    thinking (it would refuse it), and Claude gets its own back exactly as it gave it."""
    import asyncio

    from recorder import Recorder
    from shell import loaded_shell, magics

    from llmring_jupyter.answer.options import Options

    a: AnthropicDialect = _use("anthropic", wire, monkeypatch)
    g: GoogleDialect = _use("google", wire, monkeypatch)
    wire.queue(
        a.blocks([thinking_block(["France's capital."], SIG_A), text_block(["Paris."])], "end_turn"),
        g.answer(["Still Paris."]),
        a.answer(["Yes."]),
    )
    cells: list[tuple[str, AnthropicDialect | GoogleDialect, str]] = [
        ("one", a, "Capital of France?"),
        ("two", g, "Sure?"),
        ("three", a, "Really?"),
    ]
    for shell in loaded_shell():
        session = magics(shell).session
        for cell, d, prompt in cells:
            session.pre_run_cell(type("Info", (), {"cell_id": cell, "raw_cell": ""})())
            asyncio.run(session.ask(prompt, Options.of(f"{d.provider}:{d.model}", {}), Recorder()))
    to_gemini, to_claude = json.dumps(wire.seen[-2].json), json.dumps(wire.seen[-1].json)
    assert "Paris." in to_gemini and SIG_A not in to_gemini and "France's capital." not in to_gemini
    assert SIG_A in to_claude and "France's capital." in to_claude
