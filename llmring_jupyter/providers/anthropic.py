"""Anthropic Messages, streamed through the official ``anthropic`` SDK.

The raw event stream (``messages.create(stream=True)``) is read rather than the SDK's
``messages.stream()`` helper: it costs less per chunk and we need only the deltas.
The system prompt is a parameter, not a message; ``max_tokens`` is required (4096 when
unset). Input tokens arrive in ``message_start``, the stop reason and output tokens in
``message_delta``. The SDK ends silently when the body stops before ``message_stop``;
that is reported as ``incomplete``. Mid-stream connection errors escape this SDK as raw
httpx2 exceptions, hence the transport check at the end.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any

import anthropic

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

KEY_VARS = PROVIDER_KEYS["anthropic"]
DEFAULT_MAX_TOKENS = 4096
_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def _client(key: str | None, base_url: str | None) -> anthropic.AsyncAnthropic:
    # No retries: an error must reach the user now, not after a silent second attempt.
    return anthropic.AsyncAnthropic(
        api_key=key, base_url=base_url, max_retries=0, timeout=anthropic.Timeout(600.0, connect=10.0)
    )


_clients: ClientCache[anthropic.AsyncAnthropic] = ClientCache(_client)


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI-shaped function tool as Anthropic wants it; others pass through."""
    fn = tool.get("function")
    if tool.get("type") != "function" or not isinstance(fn, dict):
        return tool
    out = {"name": fn["name"], "input_schema": fn.get("parameters") or {"type": "object"}}
    return out | ({"description": fn["description"]} if fn.get("description") else {})


def _messages(messages: tuple[Message, ...]) -> tuple[str, list[dict[str, Any]]]:
    """(system prompt, messages): tool results become user turns, merged as Anthropic asks."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "tool":
            block = {"type": "tool_result", "tool_use_id": m.tool_call_id or "", "content": m.content}
            last = out[-1] if out else None
            if last and last["role"] == "user" and isinstance(last["content"], list):
                last["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        elif m.role == "assistant" and m.tool_calls:
            blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
            blocks += [
                {"type": "tool_use", "id": c.id, "name": c.name, "input": json.loads(c.arguments or "{}")}
                for c in m.tool_calls
            ]
            out.append({"role": "assistant", "content": blocks})
        elif m.role != "system":
            out.append({"role": m.role, "content": m.content})
    return system, out


class AnthropicProvider:
    name = "anthropic"

    async def stream(self, model: str, request: Request) -> AsyncIterator[StreamChunk]:
        key = os.environ.get(KEY_VARS[0])
        if not key:
            raise MissingKeyError(self.name, KEY_VARS)
        client = _clients.get(key, os.environ.get("ANTHROPIC_BASE_URL") or None)
        create = client.messages.create
        options = dict(request.options)
        if request.temperature is not None:
            options["temperature"] = request.temperature  # not an SDK keyword: sent via extra_body
        kwargs = split_options(create, options)
        system, messages = _messages(request.messages)
        if system:
            kwargs["system"] = system
        if request.tools:
            kwargs["tools"] = [_tool(t) for t in request.tools]
        if request.max_tokens is not None:
            kwargs["max_tokens"] = request.max_tokens
        kwargs.setdefault("max_tokens", DEFAULT_MAX_TOKENS)  # required by the API
        served, finish, ended = model, None, False
        prompt = completion = cache_read = cache_write = None
        calls = ToolCallAssembler()
        started = False
        try:
            stream = await create(model=model, messages=messages, stream=True, **kwargs)
            started = True
            async with stream:  # closes the HTTP response on cancel, aclose or error
                async for event in stream:
                    kind = event.type
                    if kind == "content_block_delta":
                        delta = event.delta
                        if delta.type == "text_delta" and delta.text:
                            yield StreamChunk(delta=delta.text)
                        elif delta.type == "input_json_delta":
                            calls.add(event.index, arguments=delta.partial_json)
                    elif kind == "content_block_start" and event.content_block.type == "tool_use":
                        block = event.content_block
                        calls.add(event.index, id=block.id, name=block.name)
                    elif kind == "message_start":
                        served = event.message.model or served
                        u = event.message.usage
                        prompt, completion = u.input_tokens, u.output_tokens
                        cache_read, cache_write = u.cache_read_input_tokens, u.cache_creation_input_tokens
                    elif kind == "message_delta":
                        finish = _FINISH.get(event.delta.stop_reason or "", finish)
                        u = event.usage
                        completion = u.output_tokens if u.output_tokens is not None else completion
                        prompt = u.input_tokens if u.input_tokens is not None else prompt
                        cache_read = u.cache_read_input_tokens if u.cache_read_input_tokens is not None else cache_read
                        cache_write = (
                            u.cache_creation_input_tokens if u.cache_creation_input_tokens is not None else cache_write
                        )
                    elif kind == "message_stop":
                        ended = True
        except anthropic.APIStatusError as exc:
            message = error_message(exc.body, exc.message)
            if exc.status_code < 400:  # an `event: error` inside a 200 stream
                raise ProviderError(f"{self.name} failed mid-answer: {message}", provider=self.name) from None
            raise http_error(
                self.name, exc.status_code, message, model=model, key_vars=KEY_VARS, headers=exc.response.headers
            ) from None
        except anthropic.APIConnectionError as exc:
            raise unreachable(self.name, client.base_url, exc, started=started) from exc
        except json.JSONDecodeError as exc:
            raise malformed(self.name, exc) from exc
        except Exception as exc:
            if is_transport_error(exc):
                raise unreachable(self.name, client.base_url, exc, started=started) from exc
            raise
        usage = None
        if prompt is not None or completion is not None:
            # Anthropic's input_tokens excludes cached ones; our prompt_tokens counts them all.
            total_prompt = (prompt or 0) + (cache_read or 0) + (cache_write or 0)
            usage = Usage.of(total_prompt, completion, cached_tokens=cache_read, cache_creation_tokens=cache_write)
        yield StreamChunk(
            model=served,
            finish_reason=(finish or "stop") if ended else "incomplete",
            usage=usage,
            tool_calls=calls.calls() or None,
        )
