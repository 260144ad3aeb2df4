"""Ollama on the ``ollama`` SDK's ``AsyncClient`` (``/api/chat``, NDJSON lines).

Why it is built this way:

- ``await client.chat(..., stream=True)`` returns the stream: llmring forgot the
  ``await`` and every stream failed.
- The SDK's stream holds its HTTP response in ``async with``, so closing it inside
  ``contextlib.aclosing`` hangs up at once; an httpx event hook also records the
  response, to read ``retry-after`` (the SDK's ``ResponseError`` drops headers).
- Its stream path lets raw httpx and JSON errors through, and ends silently when the
  body ends without ``"done": true``; both are turned into what the user can act on.
- No key: a local Ollama needs none (the SDK itself sends ``OLLAMA_API_KEY`` if set).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import ollama
import pydantic

from ._common import (
    ClientCache,
    ToolCallAssembler,
    close_responses,
    http_error,
    is_transport_error,
    malformed,
    step,
    track_response,
    unreachable,
)
from .errors import AuthenticationError, ModelNotFoundError, ProviderError, ProviderUnavailableError
from .types import Message, Request, StreamChunk, Usage

DEFAULT_HOST = "http://127.0.0.1:11434"
_TOP_LEVEL = ("think", "format", "keep_alive")  # chat() arguments, not model ``options``
_FINISH = {"stop": "stop", "length": "length"}

try:  # the SDK's own normalisation ("localhost" -> "http://localhost:11434"), for messages
    from ollama._client import _parse_host
except ImportError:  # pragma: no cover - a future SDK without it

    def _parse_host(host: str | None) -> str:
        return host or DEFAULT_HOST


def _new_client(_key: str | None, host: str | None) -> ollama.AsyncClient:
    return ollama.AsyncClient(host, event_hooks={"response": [track_response]})


_clients: ClientCache[ollama.AsyncClient] = ClientCache(_new_client)


def _messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """Ollama takes our roles as they are; tool results name their tool, calls carry objects."""
    names = {c.id: c.name for m in messages for c in m.tool_calls}
    out: list[dict[str, Any]] = []
    for m in messages:
        message: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.tool_calls:
            message["tool_calls"] = [
                {"function": {"name": c.name, "arguments": json.loads(c.arguments or "{}")}} for c in m.tool_calls
            ]
        if m.role == "tool" and m.tool_call_id:
            message["tool_name"] = names.get(m.tool_call_id, m.tool_call_id)
        out.append(message)
    return out


def _response_error(
    exc: ollama.ResponseError, model: str, host: str, headers: Any, *, mid_stream: bool
) -> ProviderError:
    status, message = exc.status_code, str(exc.error).strip()
    if status < 0 or mid_stream:  # an {"error": ...} line inside a 200 stream
        return ProviderError(f"ollama stopped the answer with an error: {message}", provider="ollama")
    if status in (401, 403):
        return AuthenticationError(
            f"Ollama at {host} refused the request (HTTP {status}): {message}. For cloud "
            "models run `ollama signin`, or set OLLAMA_API_KEY to a valid key.",
            provider="ollama",
            status=status,
        )
    if status == 404:
        return ModelNotFoundError(
            f"Ollama at {host} has no model {model!r} (HTTP 404): {message}. Run `ollama pull {model}`.",
            provider="ollama",
            status=status,
        )
    return http_error("ollama", status, message, model=model, key_vars=("OLLAMA_API_KEY",), headers=headers)


class OllamaProvider:
    name = "ollama"

    async def stream(self, model: str, request: Request) -> AsyncIterator[StreamChunk]:
        host = _parse_host(os.environ.get("OLLAMA_HOST", "").strip() or DEFAULT_HOST)
        client = _clients.get(None, host)
        options = {k: v for k, v in request.options.items() if k not in _TOP_LEVEL}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.max_tokens is not None:
            options["num_predict"] = request.max_tokens
        extra = {k: request.options[k] for k in _TOP_LEVEL if k in request.options}
        opened: list[Any] = []  # the HTTP response, for its headers and to close it
        received, last, n_calls = False, None, 0
        calls = ToolCallAssembler()
        try:
            sdk_stream = await client.chat(
                model=model,
                messages=_messages(request.messages),
                stream=True,
                tools=list(request.tools) or None,
                options=options or None,
                **extra,
            )
            async with contextlib.aclosing(sdk_stream):
                while last is None:
                    try:
                        part = await step(sdk_stream, opened)
                    except StopAsyncIteration:
                        break
                    received = True
                    if part.message.content:
                        yield StreamChunk(delta=part.message.content)
                    for call in part.message.tool_calls or ():  # whole: Ollama does not split them
                        calls.add(
                            n_calls, name=call.function.name, arguments=json.dumps(dict(call.function.arguments or {}))
                        )
                        n_calls += 1
                    if part.done:
                        last = part
        except ollama.ResponseError as exc:
            headers = opened[-1].headers if opened else None
            raise _response_error(exc, model, host, headers, mid_stream=received) from None
        except (json.JSONDecodeError, pydantic.ValidationError) as exc:
            raise malformed("ollama", exc) from None
        except Exception as exc:
            if not (is_transport_error(exc) or isinstance(exc, ConnectionError)):
                raise
            if received or "Connect" not in type(exc).__name__:
                raise unreachable("ollama", host, exc, started=received) from None
            raise ProviderUnavailableError(
                f"Ollama is not reachable at {host}: start it with `ollama serve` "
                f"or set OLLAMA_HOST ({exc or type(exc).__name__}).",
                provider="ollama",
            ) from None
        finally:
            await close_responses(opened)
        tool_calls = calls.calls()
        if last is None:
            yield StreamChunk(model=model, finish_reason="incomplete", tool_calls=tool_calls or None)
            return
        finish = "tool_calls" if tool_calls else _FINISH.get(last.done_reason or "stop", "stop")
        yield StreamChunk(
            model=last.model or model,
            finish_reason=finish,
            usage=Usage.of(last.prompt_eval_count, last.eval_count),
            tool_calls=tool_calls or None,
        )
