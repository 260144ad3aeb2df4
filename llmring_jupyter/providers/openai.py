"""OpenAI chat completions, streamed through the official ``openai`` SDK.

Usage arrives in a separate last chunk whose ``choices`` is empty (asked for with
``stream_options.include_usage``), so the final chunk is yielded only when the body
ends. The SDK ends silently when the body stops short; a stream that never sent a
``finish_reason`` is reported as ``incomplete``.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import AsyncGenerator
from typing import Any

import openai

from . import keys
from ._common import (
    ClientCache,
    error_message,
    function_spec,
    mid_answer,
    split_options,
    status_error,
    track_response,
    unreachable,
)
from .adapter import Answer, Piece, WireAdapter
from .errors import LLMError
from .images import ImageLimits
from .inputs import Inputs
from .json_mode import chat_completions_format, note
from .types import Attachment, Message, Request, ResponseFormat, StreamFinish, Usage

DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: Models older than JSON-schema mode (``response_format`` type ``json_schema``): JSON mode only.
_NO_JSON_SCHEMA = ("gpt-3.5", "gpt-4-")
_FINISH: dict[str, StreamFinish] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


def _client(key: str | None, base_url: str | None) -> openai.AsyncOpenAI:
    # No retries: an error must reach the user now, not after a silent second attempt.
    return openai.AsyncOpenAI(
        api_key=key,
        base_url=base_url,
        max_retries=0,
        timeout=openai.Timeout(600.0, connect=10.0),
        http_client=openai.DefaultAsyncHttpxClient(event_hooks={"response": [track_response]}),  # rate-limit headers
    )


_clients: ClientCache[openai.AsyncOpenAI] = ClientCache(_client)


#: Images past 2048 px (or 768 px on the short side) are shrunk by the API anyway; PDFs as file parts.
INPUTS = Inputs(
    images=ImageLimits(max_side=2048, max_pixels=2048 * 768, max_bytes=20 * 2**20),
    documents=True,
    text_only=re.compile(r"(gpt-3\.5|o1-mini|o3-mini|gpt-4(-0314|-0613)?$|davinci|babbage)"),
    vision_example="openai:gpt-4o-mini",
)


def _part(a: Attachment) -> dict[str, Any]:
    url = f"data:{a.media_type};base64,{base64.b64encode(a.data).decode()}"
    if a.kind == "image":
        return {"type": "image_url", "image_url": {"url": url}}
    return {"type": "file", "file": {"filename": a.name or "document.pdf", "file_data": url}}


def _message(m: Message) -> dict[str, Any]:
    if m.attachments:  # text first, then each image or document as a content part
        return {"role": m.role, "content": [{"type": "text", "text": m.content}, *map(_part, m.attachments)]}
    if m.role == "tool":
        return {"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content}
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["content"] = m.content or None
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in m.tool_calls
        ]
    return out


def _response_format(model: str, fmt: ResponseFormat) -> dict[str, Any]:
    """Structured output as chat completions asks for it: a strict JSON schema where one can be said."""
    old = model == "gpt-4" or model.startswith(_NO_JSON_SCHEMA)
    if fmt.schema is not None and old:
        note(
            f"openai:{model} cannot answer to a JSON schema: it is asked for a JSON object, checked against {fmt.name}."
        )
    return {"type": "json_object"} if old else chat_completions_format(fmt)


def body(model: str, request: Request) -> dict[str, Any]:
    """The chat completions call's arguments for ``request``, unstreamed: a live answer adds the
    streaming ones, a batch row sends them as they are (unknown options under ``extra_body``)."""
    kwargs = split_options(openai.resources.chat.AsyncCompletions.create, request.options)
    if request.temperature is not None:
        kwargs["temperature"] = request.temperature
    if request.max_tokens is not None:
        kwargs["max_completion_tokens"] = request.max_tokens  # max_tokens is deprecated
    if request.tools:
        kwargs["tools"] = [function_spec(t) for t in request.tools]
    if request.response_format is not None:
        kwargs.setdefault("response_format", _response_format(model, request.response_format))
    return {"model": model, "messages": [_message(m) for m in request.messages], **kwargs}


class OpenAIProvider(WireAdapter):
    name = "openai"
    inputs = INPUTS

    def address(self) -> str:
        return os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL

    async def answer(
        self, model: str, request: Request, key: keys.Key | None, answer: Answer
    ) -> AsyncGenerator[Piece, None]:
        client = _clients.get(key.value if key else None, os.environ.get("OPENAI_BASE_URL") or None)
        kwargs = body(model, request)
        stream = await client.chat.completions.create(**kwargs, stream=True, stream_options={"include_usage": True})
        answer.started = True
        async with stream:  # closes the HTTP response on cancel, aclose or error
            async for chunk in stream:
                answer.model = chunk.model or answer.model
                if chunk.usage is not None:
                    u = chunk.usage
                    cached = getattr(u.prompt_tokens_details, "cached_tokens", None)
                    answer.usage = Usage.of(u.prompt_tokens, u.completion_tokens, cached_tokens=cached)
                for choice in chunk.choices[:1]:
                    delta = choice.delta
                    for piece in (delta.tool_calls or ()) if delta else ():
                        fn = piece.function
                        yield answer.calls.add(
                            piece.index, id=piece.id, name=fn and fn.name, arguments=fn and fn.arguments
                        )
                    text = delta and (delta.content or getattr(delta, "refusal", None))
                    if text:  # a refusal is the model's answer too: show it
                        yield text
                    if choice.finish_reason:
                        answer.finish, answer.ended = _FINISH.get(choice.finish_reason, "stop"), True

    def error(self, exc: Exception, model: str, answer: Answer) -> LLMError | None:
        if isinstance(exc, openai.APIStatusError):
            return status_error(self.name, exc, model=model, key_variable=answer.key_variable)
        if isinstance(exc, openai.APIConnectionError):
            return unreachable(self.name, self.address(), exc, started=answer.started)
        if isinstance(exc, openai.APIError):  # an error event inside a 200 stream
            return mid_answer(self.name, answer.model, error_message(exc.body, exc.message))
        return None
