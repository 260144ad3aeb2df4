"""Anthropic Messages, streamed through the official ``anthropic`` SDK.

The raw event stream (``messages.create(stream=True)``) is read rather than the SDK's
``messages.stream()`` helper: it costs less per chunk and we need only the deltas.
The system prompt is a parameter, not a message; ``max_tokens`` is required (4096 when
unset). Input tokens arrive in ``message_start`` (passed on at once, so an answer cut
later keeps them), the stop reason and output tokens in ``message_delta``. The SDK ends
silently when the body stops before ``message_stop``; that is reported as ``incomplete``.
Mid-stream connection errors escape this SDK as raw httpx2 exceptions, which the
skeleton's transport check catches.

Thinking arrives as ``thinking`` blocks (``thinking_delta`` pieces, then one
``signature_delta``) and ``redacted_thinking`` blocks (opaque ``data``), before the text
and tool calls they led to; they go back unmodified, first in the assistant turn, or the
next request of a tool loop is refused. How ``--think`` is asked: :mod:`.thinking`.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import AsyncGenerator
from typing import Any

import anthropic

from . import keys, thinking
from ._common import ClientCache, error_message, mid_answer, split_options, status_error, track_response, unreachable
from .adapter import Answer, Piece, WireAdapter
from .errors import LLMError, UnsupportedThinkingError
from .images import ImageLimits
from .inputs import Inputs
from .json_mode import ANSWER_TOOL, ANSWER_TOOL_DESCRIPTION, note, strict_schema
from .tokens import estimate_tokens
from .types import Attachment, Message, Reasoning, Request, ResponseFormat, StreamFinish, Tool, Usage

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MAX_TOKENS = 4096
#: Models older than structured outputs (``output_config.format``): a forced tool call instead.
_NO_OUTPUT_FORMAT = (
    "claude-3",
    "claude-2",
    "claude-instant",
    "claude-sonnet-4-0",
    "claude-opus-4-0",
    "claude-sonnet-4-2025",
    "claude-opus-4-2025",
)
#: Our finish reason for Anthropic's ``stop_reason`` (a live stream's, and a batch row's)
FINISH: dict[str, StreamFinish] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
#: The HTTP status an ``event: error`` inside a 200 stream stands for, by its error type: the
#: overloads and server errors that another attempt may heal (the others are never sent mid-stream).
_STREAM_ERROR_STATUS = {"api_error": 500, "overloaded_error": 529}


def _client(key: str | None, base_url: str | None) -> anthropic.AsyncAnthropic:
    # No retries: an error must reach the user now, not after a silent second attempt.
    return anthropic.AsyncAnthropic(
        api_key=key,
        base_url=base_url,
        max_retries=0,
        timeout=anthropic.Timeout(600.0, connect=10.0),
        http_client=anthropic.DefaultAsyncHttpxClient(event_hooks={"response": [track_response]}),  # rate-limit headers
    )


_clients: ClientCache[anthropic.AsyncAnthropic] = ClientCache(_client)


def _tool(tool: Tool) -> dict[str, Any]:
    """A tool as Anthropic's Messages API describes it: its schema is ``input_schema``."""
    out: dict[str, Any] = {"name": tool.name, "input_schema": tool.parameters}
    return out | ({"description": tool.description} if tool.description else {})


#: Past 1568 px or ~1.15 megapixels the API shrinks an image itself (slower, same tokens); 5 MB at most.
INPUTS = Inputs(
    images=ImageLimits(max_side=1568, max_pixels=1_150_000, max_bytes=5 * 2**20),
    documents=True,
    text_only=re.compile(r"claude-(2|instant)"),
    vision_example="anthropic:claude-3-5-sonnet-latest",
)


def _block(a: Attachment) -> dict[str, Any]:
    source = {"type": "base64", "media_type": a.media_type, "data": base64.b64encode(a.data).decode()}
    return {"type": a.kind, "source": source}  # "image" or "document", as Anthropic names them


def _messages(messages: tuple[Message, ...]) -> tuple[str, list[dict[str, Any]]]:
    """(system prompt, messages): tool results become user turns, merged as Anthropic asks."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "tool":
            content: str | list[dict[str, Any]] = m.content
            if m.attachments:  # a tool's images go inside its result
                content = [{"type": "text", "text": m.content}, *map(_block, m.attachments)]
            block = {"type": "tool_result", "tool_use_id": m.tool_call_id or "", "content": content}
            last = out[-1] if out else None
            if last and last["role"] == "user" and isinstance(last["content"], list):
                last["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        elif m.role == "assistant" and (m.tool_calls or m.reasoning):
            blocks = [b for r in m.reasoning if (b := _thinking_block(r))]
            blocks += [{"type": "text", "text": m.content}] if m.content else []
            blocks += [
                {"type": "tool_use", "id": c.id, "name": c.name, "input": json.loads(c.arguments or "{}")}
                for c in m.tool_calls
            ]
            out.append({"role": "assistant", "content": blocks})
        elif m.attachments:  # images and documents first, then the text, as Anthropic advises
            out.append({"role": m.role, "content": [*map(_block, m.attachments), {"type": "text", "text": m.content}]})
        elif m.role != "system":
            out.append({"role": m.role, "content": m.content})
    return system, out


def _thinking_block(r: Reasoning) -> dict[str, Any] | None:
    """A thinking block as it came: a redacted one's data, or the text with its signature (a
    block without one is not Anthropic's, or was cut before it ended: the API would refuse it)."""
    if r.redacted:
        return {"type": "redacted_thinking", "data": r.redacted}
    if r.signature:
        return {"type": "thinking", "thinking": r.text, "signature": r.signature}
    return None


def _ask_for_thinking(model: str, request: Request, kwargs: dict[str, Any]) -> None:
    """``--think`` as ``thinking``, ``output_config.effort`` and room in ``max_tokens`` (see :mod:`.thinking`)."""
    explicit = kwargs.get("max_tokens")  # set by the request or the options: a budget must fit under it
    asked = thinking.anthropic(model, request.think, request.show_thinking, explicit, DEFAULT_MAX_TOKENS)
    fmt = request.response_format
    if fmt is not None and not _native_json(model, fmt) and request.think != "off":
        if request.think is not None:  # Anthropic refuses thinking when a tool call is forced
            raise UnsupportedThinkingError(
                f"anthropic:{model} cannot think while it answers {fmt.name} as a forced tool call: "
                "leave out --think, or ask a model with structured outputs for this type."
            )
        return  # nothing asked: only to show the thinking, which a forced call would refuse
    if "thinking" in kwargs:  # the user's own, in the options
        return
    if "output_config" in asked:
        kwargs["output_config"] = {**kwargs.get("output_config", {}), **asked.pop("output_config")}
    kwargs.update(asked)


def _native_json(model: str, fmt: ResponseFormat) -> bool:
    """Whether ``model`` has a structured-output mode for ``fmt`` (else: a forced tool call)."""
    return fmt.schema is not None and strict_schema(fmt.schema) is not None and not model.startswith(_NO_OUTPUT_FORMAT)


def _ask_for_json(model: str, fmt: ResponseFormat, tools: bool, kwargs: dict[str, Any]) -> bool:
    """Ask for structured output in ``kwargs``: ``output_config`` where the model has it, else a forced
    call of the answer tool, whose input is the answer (then True)."""
    if fmt.schema is not None and _native_json(model, fmt):
        schema = {"type": "json_schema", "schema": anthropic.transform_schema(fmt.schema)}
        kwargs["output_config"] = {"format": schema} | kwargs.get("output_config", {})  # beside an effort
        return False
    why = f"has no structured-output mode for {fmt.name}" if fmt.schema else "has no mode for any JSON object"
    note(f"anthropic:{model} {why}: the answer is asked for as the input of a forced tool call.")
    schema = fmt.schema or {"type": "object"}
    kwargs["tools"] = [
        *kwargs.get("tools", ()),
        {"name": ANSWER_TOOL, "description": ANSWER_TOOL_DESCRIPTION, "input_schema": schema},
    ]
    # with tools of the user's the model may call those first; the answer tool ends the answer
    kwargs.setdefault("tool_choice", {"type": "any"} if tools else {"type": "tool", "name": ANSWER_TOOL})
    return True


def body(model: str, request: Request) -> tuple[dict[str, Any], bool]:
    """The Messages call's arguments for ``request``, unstreamed (a live answer adds ``stream``, a
    batch row sends them as its ``params``), and whether the answer comes as the forced answer
    tool's input."""
    options = dict(request.options)
    if request.temperature is not None:
        options["temperature"] = request.temperature  # not an SDK keyword: sent via extra_body
    kwargs = split_options(anthropic.resources.AsyncMessages.create, options)
    system, messages = _messages(request.messages)
    if system:
        kwargs["system"] = system
    if request.tools:
        kwargs["tools"] = [_tool(t) for t in request.tools]
    if request.max_tokens is not None:
        kwargs["max_tokens"] = request.max_tokens
    _ask_for_thinking(model, request, kwargs)
    kwargs.setdefault("max_tokens", DEFAULT_MAX_TOKENS)  # required by the API
    fmt = request.response_format
    forced = fmt is not None and _ask_for_json(model, fmt, bool(request.tools), kwargs)
    return {"model": model, "messages": messages, **kwargs}, forced


class AnthropicProvider(WireAdapter):
    name = "anthropic"
    inputs = INPUTS

    def address(self) -> str:
        return os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL

    def client(self, key: keys.Key | None) -> anthropic.AsyncAnthropic:
        """The SDK client for ``key`` at the base URL set now: a live answer's, and a batch's."""
        return _clients.get(key.value if key else None, os.environ.get("ANTHROPIC_BASE_URL") or None)

    async def answer(
        self, model: str, request: Request, key: keys.Key | None, answer: Answer
    ) -> AsyncGenerator[Piece, None]:
        client = self.client(key)
        kwargs, forced = body(model, request)
        answer_block: int | None = None  # the forced answer tool's content block, whose input is the answer
        tokens = Tokens()
        stream = await client.messages.create(**kwargs, stream=True)
        answer.started = True
        async with stream:  # closes the HTTP response on cancel, aclose or error
            async for event in stream:
                kind = event.type
                if kind == "content_block_delta":
                    delta = event.delta
                    if delta.type == "text_delta" and delta.text:
                        tokens.written.append(delta.text)
                        yield delta.text
                    elif delta.type == "thinking_delta":
                        tokens.written.append(delta.thinking)
                        yield answer.thinking.add(event.index, text=delta.thinking)
                    elif delta.type == "signature_delta":
                        yield answer.thinking.add(event.index, signature=delta.signature)
                    elif delta.type == "input_json_delta":
                        tokens.written.append(delta.partial_json)
                        if event.index != answer_block:
                            yield answer.calls.add(event.index, arguments=delta.partial_json)
                        elif delta.partial_json:
                            yield delta.partial_json
                elif kind == "content_block_start" and event.content_block.type == "thinking":
                    yield answer.thinking.add(event.index, text=event.content_block.thinking)  # opens the block
                elif kind == "content_block_start" and event.content_block.type == "redacted_thinking":
                    yield answer.thinking.add(event.index, redacted=event.content_block.data)
                elif kind == "content_block_start" and event.content_block.type == "tool_use":
                    block = event.content_block
                    if forced and block.name == ANSWER_TOOL:
                        answer_block = event.index
                    else:
                        yield answer.calls.add(event.index, id=block.id, name=block.name)
                elif kind == "message_start":
                    answer.model = event.message.model or answer.model
                    tokens.update(event.message.usage, final=False)
                    if (counted := tokens.usage()) is not None:
                        yield counted  # the input count, at once: a stream cut later keeps it
                elif kind == "message_delta":
                    answer.finish = FINISH.get(event.delta.stop_reason or "", answer.finish)
                    if answer_block is not None and answer.finish == "tool_calls":
                        answer.finish = "stop"  # the call was the answer; real calls still make it tool_calls
                    tokens.update(event.usage, final=True)
                elif kind == "message_stop":
                    answer.ended = True
        answer.usage = tokens.usage()  # once the body ends, with or without its final count

    def error(self, exc: Exception, model: str, answer: Answer) -> LLMError | None:
        if isinstance(exc, anthropic.APIStatusError):
            if exc.status_code < 400:  # an `event: error` inside a 200 stream
                error = exc.body.get("error") if isinstance(exc.body, dict) else None
                kind = error.get("type") if isinstance(error, dict) else None
                status = _STREAM_ERROR_STATUS.get(kind) if isinstance(kind, str) else None
                return mid_answer(self.name, answer.model, error_message(exc.body, exc.message), status)
            return status_error(self.name, exc, model=model, key_variable=answer.key_variable)
        if isinstance(exc, anthropic.APIConnectionError):
            return unreachable(self.name, self.address(), exc, started=answer.started)
        return None


class Tokens:
    """Anthropic's token counts: input in ``message_start``, the rest updated by ``message_delta``.

    ``message_start`` carries a placeholder ``output_tokens`` (1): only ``message_delta``'s
    count is the real one, so a stream cut before it has no output count at all: its input
    count is kept and the output estimated from what was written (the usage marked estimated).
    """

    def __init__(self) -> None:
        self.prompt: int | None = None
        self.completion: int | None = None
        self.cache_read: int | None = None
        self.cache_write: int | None = None
        self.thinking: int | None = None  # of the output, the thinking: where the usage says
        self.written: list[str] = []  # the text and JSON streamed, for an estimate if no count comes

    def update(self, u: Any, *, final: bool) -> None:
        self.prompt = _first(u.input_tokens, self.prompt)
        self.cache_read = _first(u.cache_read_input_tokens, self.cache_read)
        self.cache_write = _first(u.cache_creation_input_tokens, self.cache_write)
        if final:
            self.completion = _first(u.output_tokens, self.completion)
            details = getattr(u, "output_tokens_details", None)
            self.thinking = _first(details.thinking_tokens if details else None, self.thinking)

    def usage(self) -> Usage | None:
        if self.prompt is None and self.completion is None:
            return None
        estimated = self.completion is None  # message_start's placeholder is no count
        completion = estimate_tokens("".join(self.written)) if estimated else self.completion
        # Anthropic's input_tokens excludes cached ones; our prompt_tokens counts them all.
        prompt = (self.prompt or 0) + (self.cache_read or 0) + (self.cache_write or 0)
        cached = {"cached_tokens": self.cache_read, "cache_creation_tokens": self.cache_write}
        return Usage.of(prompt, completion, **cached, reasoning_tokens=self.thinking, estimated=estimated)


def _first(value: int | None, fallback: int | None) -> int | None:
    return value if value is not None else fallback
