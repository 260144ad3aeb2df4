"""OpenAI's Chat Completions: the request's shape and the stream's chunks.

What OpenAI-compatible servers (vLLM, llama.cpp, LM Studio, DeepSeek, OpenRouter...) speak;
OpenAI's own models are asked through the Responses API (:mod:`.openai_responses`).
Usage arrives in a separate last chunk whose ``choices`` is empty (asked for with
``stream_options.include_usage``), so the end is known only when the body ends. The
thinking of compatible servers streams as ``delta.reasoning_content`` (DeepSeek,
llama.cpp) or ``delta.reasoning`` (vLLM, OpenRouter); OpenAI's models send none here.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator
from typing import Any

from ._common import function_spec
from .adapter import Answer, Piece
from .json_mode import chat_completions_format, takes_json_schema
from .types import Attachment, Message, Request, StreamFinish, Usage

FINISH: dict[str, StreamFinish] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}
#: Where compatible servers put the thinking in a delta
_THINKING = ("reasoning_content", "reasoning")


def data_url(a: Attachment) -> str:
    return f"data:{a.media_type};base64,{base64.b64encode(a.data).decode()}"


def _part(a: Attachment) -> dict[str, Any]:
    if a.kind == "image":
        return {"type": "image_url", "image_url": {"url": data_url(a)}}
    return {"type": "file", "file": {"filename": a.name or "document.pdf", "file_data": data_url(a)}}


def _messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """The wire messages. A tool message holds text only, so the images tools gave (an MCP tool's)
    follow a step's results as one user message, each after the name of the tool that gave it."""
    out: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    for m in messages:
        if m.role != "tool" and images:
            out.append({"role": "user", "content": images})
            images = []
        out.append(_message(m))
        if m.role == "tool" and m.attachments:
            images += [{"type": "text", "text": f"The images {m.name or 'the tool'} returned:"}]
            images += map(_part, m.attachments)
    if images:
        out.append({"role": "user", "content": images})
    return out


def _message(m: Message) -> dict[str, Any]:
    if m.role == "tool":
        return {"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content}
    if m.attachments:  # text first, then each image or document as a content part
        return {"role": m.role, "content": [{"type": "text", "text": m.content}, *map(_part, m.attachments)]}
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["content"] = m.content or None
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in m.tool_calls
        ]
    return out


def params(model: str, request: Request, effort: str | None) -> dict[str, Any]:
    """The arguments of ``chat.completions.create`` for ``request`` (the user's options aside)."""
    kwargs: dict[str, Any] = {"messages": _messages(request.messages)}
    if request.temperature is not None:
        kwargs["temperature"] = request.temperature
    if request.max_tokens is not None:
        kwargs["max_completion_tokens"] = request.max_tokens  # max_tokens is deprecated
    if request.tools:
        kwargs["tools"] = [function_spec(t) for t in request.tools]
    if effort is not None:
        kwargs["reasoning_effort"] = effort
    fmt = request.response_format
    if fmt is not None:
        schema = fmt.name if fmt.schema is not None else None
        new = takes_json_schema(model, schema)
        kwargs["response_format"] = chat_completions_format(fmt) if new else {"type": "json_object"}
    return kwargs


async def read(stream: Any, answer: Answer) -> AsyncGenerator[Piece, None]:
    """The pieces of a Chat Completions stream; its end, count and model go on ``answer``."""
    async for chunk in stream:
        answer.model = chunk.model or answer.model
        if chunk.usage is not None:
            u = chunk.usage
            cached = getattr(u.prompt_tokens_details, "cached_tokens", None)
            thought = getattr(u.completion_tokens_details, "reasoning_tokens", None)
            answer.usage = Usage.of(
                u.prompt_tokens, u.completion_tokens, cached_tokens=cached, reasoning_tokens=thought
            )
        for choice in chunk.choices[:1]:
            delta = choice.delta
            if delta is not None:
                thinking = next((t for f in _THINKING if isinstance(t := getattr(delta, f, None), str) and t), None)
                if thinking:
                    yield answer.thinking.add(0, text=thinking)
                for piece in delta.tool_calls or ():
                    fn = piece.function
                    yield answer.calls.add(piece.index, id=piece.id, name=fn and fn.name, arguments=fn and fn.arguments)
                text = delta.content or getattr(delta, "refusal", None)
                if text:  # a refusal is the model's answer too: show it
                    yield text
            if choice.finish_reason:
                answer.finish, answer.ended = FINISH.get(choice.finish_reason, "stop"), True
