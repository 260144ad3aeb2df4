"""OpenAI's Responses API (``/v1/responses``): the request's shape and the stream's events.

The request is a list of input items: messages, the model's earlier ``function_call`` items
with their ``function_call_output`` items, and its ``reasoning`` items, sent back unmodified
before the item that followed them (with ``store=false`` nothing is kept on OpenAI's side,
so a reasoning item travels as its ``encrypted_content``, asked for with ``include``).

The stream is typed events, each with a ``sequence_number``: ``response.created``, then per
output item ``response.output_item.added`` … ``.done`` with text, reasoning-summary and
function-argument deltas between them (addressed by ``output_index``), then exactly one of
``response.completed``, ``response.incomplete`` (``max_output_tokens``: our ``length``) or
``response.failed``; an ``error`` event may come instead. A reasoning item's
``encrypted_content`` is whole only in its ``output_item.done`` event.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import openai.resources.responses.responses  # noqa: F401  (the SDK imports it on first use: here, ahead)
from openai.types import responses as events

from ._common import mid_answer
from .adapter import Answer, Piece
from .errors import ProviderError
from .json_mode import chat_completions_format, takes_json_schema
from .openai_chat import data_url
from .thinking import openai_reasons
from .types import Attachment, Message, Reasoning, Request, StreamFinish, Tool, Usage

#: ``incomplete_details.reason`` → our finish
_INCOMPLETE: dict[str, StreamFinish] = {"max_output_tokens": "length", "content_filter": "content_filter"}
#: The HTTP status an ``error`` / ``response.failed`` code stands for: a server error is retried
#: (before any text) as a 500 would be
_ERROR_STATUS = {"server_error": 500}
#: A summary's parts, joined into the one block of their reasoning item
_PART_BREAK = "\n\n"


def _part(a: Attachment) -> dict[str, Any]:
    if a.kind == "image":
        return {"type": "input_image", "image_url": data_url(a), "detail": "auto"}
    return {"type": "input_file", "filename": a.name or "document.pdf", "file_data": data_url(a)}


def _reasoning(r: Reasoning) -> dict[str, Any]:
    summary = [{"type": "summary_text", "text": r.text}] if r.text else []
    return {"type": "reasoning", "id": r.id, "summary": summary, "encrypted_content": r.encrypted}


def _items(m: Message) -> list[dict[str, Any]]:
    if m.role == "tool":  # the images a tool gave (an MCP tool's) go back in its output, after its text
        output: str | list[dict[str, Any]] = m.content
        if m.attachments:
            output = [{"type": "input_text", "text": m.content}, *map(_part, m.attachments)]
        return [{"type": "function_call_output", "call_id": m.tool_call_id or "", "output": output}]
    if m.attachments:  # text first, then each image or document as a content part
        return [{"role": m.role, "content": [{"type": "input_text", "text": m.content}, *map(_part, m.attachments)]}]
    if m.role != "assistant":
        return [{"role": m.role, "content": m.content}]
    # OpenAI's own reasoning items (another provider's thinking is not OpenAI's to read)
    out = [_reasoning(r) for r in m.reasoning if r.id and r.encrypted]
    if m.content or not m.tool_calls:
        out.append({"role": "assistant", "content": m.content})
    out += [{"type": "function_call", "call_id": c.id, "name": c.name, "arguments": c.arguments} for c in m.tool_calls]
    return out


def _tool(t: Tool) -> dict[str, Any]:
    """A function tool as the Responses API takes it: at the top level, not strict (the
    schema is the user's as written; strict mode would make every parameter required)."""
    out: dict[str, Any] = {"type": "function", "name": t.name, "parameters": t.parameters, "strict": False}
    return out | ({"description": t.description} if t.description else {})


def params(model: str, request: Request, effort: str | None, summary: bool) -> dict[str, Any]:
    """The arguments of ``responses.create`` for ``request`` (the user's options aside).

    ``summary``: ask for reasoning summaries (the thinking shown as it streams).
    """
    kwargs: dict[str, Any] = {"input": [i for m in request.messages for i in _items(m)], "store": False}
    if request.temperature is not None:
        kwargs["temperature"] = request.temperature
    if request.max_tokens is not None:
        kwargs["max_output_tokens"] = request.max_tokens
    if request.tools:
        kwargs["tools"] = [_tool(t) for t in request.tools]
    fmt = request.response_format
    if fmt is not None:
        schema = fmt.name if fmt.schema is not None else None
        if takes_json_schema(model, schema):
            chat = chat_completions_format(fmt)
            kwargs["text"] = {"format": {"type": chat["type"], **chat.get("json_schema", {})}}
        else:
            kwargs["text"] = {"format": {"type": "json_object"}}
    if openai_reasons(model):  # asking a model that does not reason for its reasoning is a 400
        kwargs["include"] = ["reasoning.encrypted_content"]
        reasoning = {"effort": effort} if effort else {}
        if summary:
            reasoning["summary"] = "auto"
        if reasoning:
            kwargs["reasoning"] = reasoning
    return kwargs


def _usage(u: Any) -> Usage | None:
    if u is None:
        return None
    cached = getattr(getattr(u, "input_tokens_details", None), "cached_tokens", None)
    thought = getattr(getattr(u, "output_tokens_details", None), "reasoning_tokens", None)
    return Usage.of(u.input_tokens, u.output_tokens, cached_tokens=cached, reasoning_tokens=thought)


def failure(answer: Answer, code: str | None, message: str) -> ProviderError:
    """An ``error`` event or a ``response.failed`` as the error the user reads."""
    return mid_answer("openai", answer.model, message or code or "no reason given", _ERROR_STATUS.get(code or ""))


class _Positions:
    """Output indexes → the position of each call (or reasoning block) among its kind, in order."""

    def __init__(self) -> None:
        self._at: dict[int, int] = {}

    def __call__(self, output_index: int) -> int:
        return self._at.setdefault(output_index, len(self._at))


async def read(stream: Any, answer: Answer) -> AsyncGenerator[Piece, None]:
    """The pieces of a Responses stream; its end, count, model and reasoning items go on ``answer``."""
    call = _Positions()
    streamed: set[int] = set()  # calls whose arguments arrived in pieces
    async for event in stream:
        kind = event.type
        if kind in ("response.output_text.delta", "response.refusal.delta"):  # a refusal is an answer too
            if event.delta:
                yield event.delta
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            if event.delta:
                yield answer.thinking.add(event.output_index, text=event.delta)
        elif kind == "response.reasoning_summary_part.added" and event.summary_index > 0:
            yield answer.thinking.add(event.output_index, text=_PART_BREAK)
        elif kind == "response.function_call_arguments.delta":
            streamed.add(event.output_index)
            yield answer.calls.add(call(event.output_index), arguments=event.delta)
        elif kind in ("response.output_item.added", "response.output_item.done"):
            item, at = event.item, event.output_index
            if item.type == "function_call" and (kind.endswith("added") or at not in streamed):
                whole = kind.endswith("done")  # its arguments were not streamed: they come whole here
                yield answer.calls.add(
                    call(at), id=item.call_id, name=item.name, arguments=item.arguments if whole else ""
                )
            elif item.type == "reasoning" and kind.endswith("done"):  # its encrypted content is whole only here
                answer.thinking.add(at, id=item.id, encrypted=item.encrypted_content)
        elif kind in ("response.created", "response.in_progress"):
            answer.model = event.response.model or answer.model
        elif kind in ("response.completed", "response.incomplete"):
            response = event.response
            answer.model, answer.usage, answer.ended = response.model or answer.model, _usage(response.usage), True
            if kind == "response.incomplete":
                reason = getattr(response.incomplete_details, "reason", None) or ""
                answer.finish = _INCOMPLETE.get(reason, "length")
        elif kind == "response.failed":
            error = event.response.error
            raise failure(answer, getattr(error, "code", None), getattr(error, "message", ""))
        elif kind == "error":
            raise failure(answer, event.code, event.message)


def _build_event_models() -> None:
    """Have the SDK build its event models now. It builds each on first use (``defer_build``),
    as it imports its ``responses`` resource: up to seconds for the first response, which would
    otherwise fall between the request and its first token. Done at import (with that resource,
    above), so the background preload does it where the notebook names an OpenAI model ahead."""
    response = {"id": "", "model": "", "output": [], "usage": {"input_tokens": 0}}
    events.ResponseCreatedEvent.model_construct(type="response.created", sequence_number=0, response=response)
    item = {"type": "message", "id": "", "content": []}
    events.ResponseOutputItemAddedEvent.model_construct(
        type="response.output_item.added", sequence_number=0, output_index=0, item=item
    )
    events.ResponseTextDeltaEvent.model_construct(
        type="response.output_text.delta", delta="", item_id="", output_index=0, content_index=0, sequence_number=0
    )


_build_event_models()
