"""OpenAI chat completions, streamed through the official ``openai`` SDK.

Usage arrives in a separate last chunk whose ``choices`` is empty (asked for with
``stream_options.include_usage``), so the final chunk is yielded only when the body
ends. The SDK ends silently when the body stops short; a stream that never sent a
``finish_reason`` is reported as ``incomplete``.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any

import openai

from ._common import (
    ClientCache,
    ToolCallAssembler,
    error_message,
    http_error,
    is_transport_error,
    malformed,
    split_options,
    unreachable,
)
from .errors import PROVIDER_KEYS, MissingKeyError, ProviderError
from .types import Message, Request, StreamChunk, Usage

KEY_VARS = PROVIDER_KEYS["openai"]
_FINISH = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


def _client(key: str | None, base_url: str | None) -> openai.AsyncOpenAI:
    # No retries: an error must reach the user now, not after a silent second attempt.
    return openai.AsyncOpenAI(
        api_key=key, base_url=base_url, max_retries=0, timeout=openai.Timeout(600.0, connect=10.0)
    )


_clients: ClientCache[openai.AsyncOpenAI] = ClientCache(_client)


def _message(m: Message) -> dict[str, Any]:
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


class OpenAIProvider:
    name = "openai"

    async def stream(self, model: str, request: Request) -> AsyncIterator[StreamChunk]:
        key = os.environ.get(KEY_VARS[0])
        if not key:
            raise MissingKeyError(self.name, KEY_VARS)
        client = _clients.get(key, os.environ.get("OPENAI_BASE_URL") or None)
        create = client.chat.completions.create
        kwargs = split_options(create, request.options)
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if request.max_tokens is not None:
            kwargs["max_completion_tokens"] = request.max_tokens  # max_tokens is deprecated
        if request.tools:
            kwargs["tools"] = list(request.tools)
        served, finish, usage = model, None, None
        calls = ToolCallAssembler()
        started = False
        try:
            stream = await create(
                model=model,
                messages=[_message(m) for m in request.messages],
                stream=True,
                stream_options={"include_usage": True},
                **kwargs,
            )
            started = True
            async with stream:  # closes the HTTP response on cancel, aclose or error
                async for chunk in stream:
                    served = chunk.model or served
                    if chunk.usage is not None:
                        u = chunk.usage
                        cached = getattr(u.prompt_tokens_details, "cached_tokens", None)
                        usage = Usage.of(u.prompt_tokens, u.completion_tokens, cached_tokens=cached)
                    for choice in chunk.choices[:1]:
                        delta = choice.delta
                        for piece in (delta.tool_calls or ()) if delta else ():
                            fn = piece.function
                            calls.add(piece.index, id=piece.id, name=fn and fn.name, arguments=fn and fn.arguments)
                        text = delta and (delta.content or getattr(delta, "refusal", None))
                        if text:  # a refusal is the model's answer too: show it
                            yield StreamChunk(delta=text)
                        if choice.finish_reason:
                            finish = _FINISH.get(choice.finish_reason, "stop")
        except openai.APIStatusError as exc:
            message = error_message(exc.body, exc.message)
            raise http_error(
                self.name, exc.status_code, message, model=model, key_vars=KEY_VARS, headers=exc.response.headers
            ) from None
        except openai.APIConnectionError as exc:
            raise unreachable(self.name, client.base_url, exc, started=started) from exc
        except openai.APIError as exc:  # an error event inside a 200 stream
            message = error_message(exc.body, exc.message)
            raise ProviderError(f"{self.name} failed mid-answer: {message}", provider=self.name) from None
        except json.JSONDecodeError as exc:
            raise malformed(self.name, exc) from exc
        except Exception as exc:
            if is_transport_error(exc):
                raise unreachable(self.name, client.base_url, exc, started=started) from exc
            raise
        tool_calls = calls.calls()
        yield StreamChunk(
            model=served, finish_reason=finish or "incomplete", usage=usage, tool_calls=tool_calls or None
        )
