"""A user-supplied backend: any object with a compatible ``chat_stream(request)``.

llmring's ``LLMRing`` is the model: ``chat_stream`` takes its pydantic
``LLMRequest`` and yields chunks with ``delta``, ``model``, ``finish_reason``,
``usage`` (a dict) and ``tool_calls`` (OpenAI-shaped dicts). Other objects get
our :class:`~.types.Request` as is. Either way the chunks are normalised to our
contract (exactly one final chunk, last) so the footer and ``_llm`` read the
same whichever backend answered. :mod:`.routing` adds the idle timeout.
"""

from __future__ import annotations

import contextlib
import inspect
import json
from collections.abc import AsyncGenerator
from typing import Any

from . import keys
from ._common import error_message, function_spec, http_error
from .errors import (
    AuthenticationError,
    ConfigurationError,
    LLMError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    StreamTimeoutError,
    UnsupportedInputError,
    sentences,
)
from .json_mode import chat_completions_format
from .types import STREAM_FINISHES, Message, ModelRef, Request, StreamChunk, StreamFinish, ToolCall, Usage

# Provider words for how an answer ended → ours (llmring passes some through unmapped).
_FINISH: dict[str, StreamFinish] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "function_call": "tool_calls",
    "safety": "content_filter",
}


def name_of(backend: object) -> str:
    """How errors and timeouts name the backend: its class."""
    return type(backend).__name__


def _llmring_message(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in m.tool_calls
        ]
    if m.tool_call_id:
        out["tool_call_id"] = m.tool_call_id
    return out


def convert(backend: object, request: Request) -> Any:
    """llmring's ``LLMRequest`` for llmring's own objects, else our ``request`` unchanged.

    llmring is imported only when the backend is one of its objects (so it is
    already loaded): importing it costs seconds.
    """
    if type(backend).__module__.partition(".")[0] != "llmring":
        return request
    try:
        from llmring.schemas import LLMRequest
    except ImportError:
        return request
    if any(m.attachments for m in request.messages):  # llmring's messages would drop them silently
        raise UnsupportedInputError(
            f"{name_of(backend)} (llmring) is sent text only here: leave out the images and files."
        )
    fields: dict[str, Any] = {
        "model": request.model,
        "messages": [_llmring_message(m) for m in request.messages],
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
    }
    if request.tools:
        fields["tools"] = [function_spec(t) for t in request.tools]  # llmring takes OpenAI's shape
    if request.response_format is not None:  # llmring maps it to each provider's own structured mode
        fields["response_format"] = chat_completions_format(request.response_format)
    if request.options:
        fields["extra_params"] = dict(request.options)
    return LLMRequest(**fields)


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _usage(value: Any) -> Usage | None:
    if value is None or isinstance(value, Usage | dict):
        return Usage.coerce(value)
    fields = ("prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "cache_creation_tokens")
    return Usage.coerce({f: getattr(value, f, None) for f in fields})


def _tool_calls(value: Any) -> tuple[ToolCall, ...]:
    """ToolCalls from OpenAI-shaped dicts, flat dicts or objects."""
    calls = []
    for n, call in enumerate(value or ()):
        if isinstance(call, ToolCall):
            calls.append(call)
            continue
        fn = _get(call, "function") or call
        arguments = _get(fn, "arguments")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments or {})
        calls.append(ToolCall(_get(call, "id") or f"call_{n}", _get(fn, "name") or "", arguments))
    return tuple(calls)


def _finish(value: Any) -> StreamFinish:
    """Our word for how the backend's answer ended; a word we do not know ended it normally."""
    word = str(getattr(value, "value", value)).lower().rpartition(".")[2]  # finishreason.stop
    if word in STREAM_FINISHES:
        return word
    return _FINISH.get(word, "stop")


async def stream(backend: Any, request: Request) -> AsyncGenerator[StreamChunk, None]:
    """The backend's answer as our chunks: deltas as they come, one final chunk at the end."""
    name = name_of(backend)
    try:
        chunks = backend.chat_stream(convert(backend, request))
        if inspect.isawaitable(chunks):  # an async def returning an iterator
            chunks = await chunks
        chunks = aiter(chunks)
    except (AttributeError, TypeError) as exc:
        raise ProviderError(f"The backend {name} has no usable chat_stream(request): {exc}", provider=name) from None
    model, finish, usage = None, None, None
    calls: tuple[ToolCall, ...] = ()
    try:
        async with contextlib.AsyncExitStack() as stack:
            if hasattr(chunks, "aclose"):  # stop means stop: close the backend's request now
                stack.push_async_callback(chunks.aclose)
            async for chunk in chunks:
                if delta := _get(chunk, "delta"):
                    yield StreamChunk(delta=str(delta))
                model = _get(chunk, "model") or model
                usage = _usage(_get(chunk, "usage")) or usage
                calls = _tool_calls(_get(chunk, "tool_calls")) or calls
                if (reason := _get(chunk, "finish_reason")) is not None:
                    finish = _finish(reason)
    except LLMError:
        raise
    except Exception as exc:
        mapped = llmring_error(exc, request.model)
        if mapped is not None:
            raise mapped from None  # one line; its message says what the provider said
        raise ProviderError(f"The backend {name} failed: {type(exc).__name__}: {exc}", provider=name) from exc
    yield StreamChunk(
        model=model or request.model, finish_reason=finish or "incomplete", usage=usage, tool_calls=calls or None
    )


# llmring's error classes → ours, when the provider's HTTP error is not at hand (first match wins)
_LLMRING_ERRORS: tuple[tuple[str, type[LLMError], str], ...] = (
    ("ProviderAuthenticationError", AuthenticationError, "Check the key"),
    ("ProviderRateLimitError", RateLimitError, "Retry in a moment"),
    ("ModelNotFoundError", ModelNotFoundError, "Check the model name"),
    ("ProviderTimeoutError", StreamTimeoutError, "Try again in a moment"),
    ("TimeoutError", StreamTimeoutError, "Try again in a moment"),
    ("NetworkError", ProviderUnavailableError, "Check the provider's address and your connection"),
    ("ProviderNotFoundError", ConfigurationError, "Check the provider's name and its API key"),
    ("ModelCapabilityError", UnsupportedInputError, "Leave out what the model cannot take, or ask another model"),
    ("ConfigurationError", ConfigurationError, "Check llmring's settings"),
    ("LockfileError", ConfigurationError, "Check llmring.lock"),
)


def llmring_error(exc: Exception, requested: str) -> LLMError | None:
    """Ours for one of llmring's typed errors, so retries and the one-line advice apply as they
    do for our own adapters; None for any other exception.

    The SDK's HTTP error that llmring wraps (its cause) gives the very line our adapters
    give; failing that, llmring's class says what kind of failure it was.
    """
    if type(exc).__module__.partition(".")[0] != "llmring":
        return None
    ref = ModelRef.parse(requested) if ":" in requested else ModelRef("", requested)
    provider = str(getattr(exc, "provider", None) or ref.provider or "llmring")
    found = keys.find(provider)
    key_variable = found.variable if found else None
    cause = exc.__cause__ or getattr(exc, "original", None)
    status = getattr(cause, "status_code", None) or getattr(cause, "code", None)
    if cause is not None and isinstance(status, int) and 400 <= status < 600:
        body = getattr(cause, "body", None) or getattr(cause, "error", None)
        response = getattr(cause, "response", None)
        return http_error(
            provider,
            status,
            error_message(body, str(getattr(cause, "message", "") or cause)),
            model=ref.model,
            key_variable=key_variable,
            headers=getattr(response, "headers", None),
        )
    said = str(getattr(exc, "message", "") or exc)
    for cls_name, ours, todo in _LLMRING_ERRORS:
        if any(c.__name__ == cls_name for c in type(exc).__mro__):
            line = sentences(f"{provider}: {said}", todo)
            if ours is AuthenticationError:
                return AuthenticationError(line, provider=provider, key_variable=key_variable)
            if ours is RateLimitError:
                return RateLimitError(line, provider=provider, retry_after=getattr(exc, "retry_after", None))
            if issubclass(ours, ProviderError):
                return ours(line, provider=provider)
            return ours(line)
    return None
