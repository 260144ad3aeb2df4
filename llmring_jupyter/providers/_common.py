"""Helpers the HTTP adapters share, so every provider fails and reuses clients alike.

- :class:`ClientCache`: one SDK client per (event loop, key, base URL), so connections
  are reused while a key or URL set later in the session is still picked up.
- :func:`http_error`: an HTTP error status → our typed error, one actionable line.
- :func:`unreachable`: a transport failure → :class:`ProviderUnavailableError` naming the address.
- :func:`is_transport_error`: httpx / httpx2 transport failures, whichever the SDK uses.
- :func:`retry_after`, :func:`error_message`: read a provider's error response.
- :class:`ToolCallAssembler`: tool calls streamed in pieces, keyed by index.
- :class:`ReasoningAssembler`: thinking blocks streamed in pieces, keyed by the wire's block.
- :func:`function_spec`: a tool in OpenAI's function shape (Ollama's too).
- :func:`split_options`: user options → SDK keyword arguments, unknown ones as ``extra_body``.
- :func:`track_response`, :func:`step`, :func:`close_responses`: close an SDK's HTTP
  response as soon as its stream stops, when the SDK itself leaves that to the GC.

Nothing here imports an SDK.
"""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import sys
import time
import weakref
from collections.abc import AsyncIterator, Callable, Hashable, Mapping
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from . import pacing
from .errors import (
    AuthenticationError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    RouteNotFoundError,
    sentences,
)
from .types import Reasoning, Tool, ToolCall

C = TypeVar("C")
T = TypeVar("T")


class ClientCache(Generic[C]):
    """SDK clients by (key, base URL), per event loop.

    Per loop because an async HTTP pool is bound to the loop it was made on (tests and
    scripts run several loops; a kernel runs one, so there this is a plain cache).
    """

    def __init__(self, factory: Callable[..., C]) -> None:
        self._factory = factory
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str | None, ...], C]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, key: str | None, *where: str | None) -> C:
        """The client for ``key`` and ``where`` (base URL, API version...: the factory's arguments)."""
        clients = self._by_loop.setdefault(asyncio.get_running_loop(), {})
        if (key, *where) not in clients:
            clients[(key, *where)] = self._factory(key, *where)
        return clients[(key, *where)]


def error_message(body: Any, fallback: str = "") -> str:
    """The provider's own explanation from a JSON error body (``{"error": {"message": ...}}``
    for OpenAI and Anthropic, ``{"error": "..."}`` for Ollama), else ``fallback``."""
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            inner = inner.get("message") or inner.get("type")
        if isinstance(inner, str) and inner.strip():
            return inner.strip()
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return fallback


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait, from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            return float(ms) / 1000
    except ValueError:
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def http_error(
    provider: str,
    status: int,
    message: str,
    *,
    model: str,
    key_variable: str | None = None,
    headers: Mapping[str, str] | None = None,
    url: str | None = None,
    route_hint: str = "Check the base URL setting",
) -> ProviderError:
    """The typed error for an HTTP error status, saying what to do about it."""
    message = message.strip().rstrip(".")  # the sentence goes on after it
    said = f": {message}" if message else ""
    if status in (401, 403):
        keys = key_variable or "the API key"
        verb = "rejected the API key in" if status == 401 else "refused access with the API key in"
        return AuthenticationError(
            sentences(f"{provider} {verb} {keys} (HTTP {status}){said}", "Check the key"),
            provider=provider,
            status=status,
            key_variable=key_variable,
        )
    if status == 404 and model not in message:  # the route is missing, not the model
        where = f" {url}" if url else ""
        return RouteNotFoundError(
            sentences(f"{provider} has no API route{where} (HTTP 404){said}", route_hint),
            provider=provider,
            status=status,
        )
    if status == 404:
        return ModelNotFoundError(
            sentences(
                f"{provider} has no model {model!r}, or this key cannot use it (HTTP 404){said}",
                "Check the model name",
            ),
            provider=provider,
            status=status,
        )
    if status == 429:
        wait = retry_after(headers)
        when = f"retry after {wait:g} s" if wait else "retry in a moment"
        return RateLimitError(
            sentences(f"{provider}:{model} is rate limited (HTTP 429){said}; {when}"),
            provider=provider,
            status=status,
            retry_after=wait,
        )
    if status >= 500:
        what, todo = f"{provider}:{model} failed with HTTP {status}{said}", "Try again in a moment"
    else:
        what, todo = f"{provider}:{model} refused the request (HTTP {status}){said}", "Check the request's options"
    return ProviderError(
        sentences(what, todo), provider=provider, status=status, retry_after=retry_after(headers), said=message
    )


def mid_answer(provider: str, model: str, message: str, status: int | None = None) -> ProviderError:
    """An error the provider sent inside its 200 stream, instead of the rest of the answer;
    ``status``: the HTTP status it stands for, where the provider says (so that, before any
    text, an overload is retried as a 529 would be)."""
    return ProviderError(
        sentences(f"{provider}:{model} stopped the answer with an error: {message}", "Ask again for a whole answer"),
        provider=provider,
        status=status,
    )


def status_error(provider: str, exc: Any, *, model: str, key_variable: str | None) -> ProviderError:
    """``http_error`` for the ``APIStatusError`` of the OpenAI and Anthropic SDKs (one generator
    made both: ``status_code``, a JSON ``body``, ``message`` and the ``response`` headers)."""
    message = error_message(exc.body, exc.message)
    return http_error(
        provider,
        exc.status_code,
        message,
        model=model,
        key_variable=key_variable,
        headers=exc.response.headers,
        url=str(exc.response.request.url),
    )


def is_transport_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a connection failure of httpx or httpx2 (only if already loaded)."""
    kinds = tuple(m.TransportError for n in ("httpx2", "httpx") if (m := sys.modules.get(n)))
    return isinstance(exc, kinds)


#: Failures of making a connection at all (as opposed to losing one that was made).
_CONNECT_FAILURES = ("ConnectError", "ConnectTimeout", "ConnectionRefusedError", "gaierror", "SSLError")


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 8:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain


def is_connect_failure(exc: BaseException) -> bool:
    """Whether no connection was made at all (refused, DNS, TLS), rather than one lost."""
    return any(type(e).__name__.startswith(_CONNECT_FAILURES) for e in _causes(exc))


def unreachable(provider: str, address: object, exc: BaseException, *, started: bool) -> ProviderUnavailableError:
    """The error for a failed connection: refused, DNS, TLS, reset before answering, or cut mid-stream."""
    detail = ""  # the innermost cause that says something, not "Connection error."
    for cause in _causes(exc):
        detail = str(cause).strip().rstrip(".") or detail or type(cause).__name__
    connecting = is_connect_failure(exc)
    address = str(address).rstrip("/")
    if started:
        what = f"Lost the connection to {provider} at {address} mid-answer: {detail}"
        todo = "The partial answer is kept; ask again for the whole answer"
    elif connecting:
        what = f"Cannot reach {provider} at {address}: {detail}"
        todo = "Check the network, or the base URL setting"
    else:
        what = f"{provider} at {address} closed the connection before answering: {detail}"
        todo = "Try again in a moment"
    return ProviderUnavailableError(sentences(what, todo), provider=provider)


def malformed(provider: str, exc: BaseException) -> ProviderError:
    return ProviderError(
        sentences(f"{provider} sent a malformed stream event: {exc}", "Try again; if it persists, report it"),
        provider=provider,
    )


class ToolCallAssembler:
    """Collects tool calls whose id, name and JSON arguments arrive in pieces, by index.

    :meth:`add` returns the piece as a :class:`ToolCall`, for the adapter to yield:
    the view shows a call while the model is still writing it.
    """

    def __init__(self) -> None:
        self._calls: dict[int, ToolCall] = {}

    def add(
        self,
        index: int,
        *,
        id: str | None = None,
        name: str | None = None,
        arguments: str | None = None,
        signature: str | None = None,
    ) -> ToolCall:
        piece = ToolCall(id or "", name or "", arguments or "", index, signature)
        old = self._calls.get(index)
        self._calls[index] = (
            piece
            if old is None
            else ToolCall(
                old.id or piece.id,
                old.name or piece.name,
                old.arguments + piece.arguments,
                index,
                old.signature or signature,
            )
        )
        return piece

    def calls(self) -> tuple[ToolCall, ...]:
        return tuple(
            ToolCall(c.id or f"call_{n}", c.name, c.arguments or "{}", n, c.signature)
            for n, (_, c) in enumerate(sorted(self._calls.items()))
        )


class ReasoningAssembler:
    """Collects thinking blocks whose text, signature or redacted data arrive in pieces.

    ``key`` is the wire's own name for a block (Anthropic's content index, a phase of
    Gemini's or Ollama's thought parts, OpenAI's item): blocks are numbered in the order
    their first piece came, so a piece's ``index`` is already its block's place in the
    step. :meth:`add` returns the piece, for the adapter to yield as it arrives.
    """

    def __init__(self) -> None:
        self._blocks: dict[Hashable, Reasoning] = {}

    def add(
        self,
        key: Hashable,
        *,
        text: str = "",
        signature: str | None = None,
        redacted: str | None = None,
        encrypted: str | None = None,
        id: str | None = None,
    ) -> Reasoning:
        old = self._blocks.get(key)
        index = len(self._blocks) if old is None else old.index
        piece = Reasoning(text, index, signature, redacted, encrypted, id)
        self._blocks[key] = (
            piece
            if old is None
            else Reasoning(
                old.text + text,
                index,
                signature or old.signature,  # a later signature is the block's final one
                (old.redacted or "") + (redacted or "") or None,
                encrypted or old.encrypted,
                old.id or id,
            )
        )
        return piece

    def blocks(self) -> tuple[Reasoning, ...]:
        return tuple(self._blocks.values())


def function_spec(tool: Tool) -> dict[str, Any]:
    """A tool as OpenAI's chat completions (and Ollama, which follows them) describe a function."""
    function: dict[str, Any] = {"name": tool.name, "parameters": tool.parameters}
    if tool.description:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def split_options(method: Callable[..., Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """Options the SDK method knows as keywords; the rest go into the body as ``extra_body``."""
    known = inspect.signature(method).parameters
    kwargs = {k: v for k, v in options.items() if k in known}
    extra = {k: v for k, v in options.items() if k not in known}
    if extra:
        kwargs["extra_body"] = {**kwargs.get("extra_body", {}), **extra}
    return kwargs


# -- closing an SDK's HTTP response the moment a stream stops ----------------------------
# Some SDKs (google-genai) stream through nested generators that close their HTTP response
# only when garbage-collected, so ``aclose()`` on the outer one leaves the request running.
# An httpx / httpx2 ``response`` event hook records the responses opened while the adapter
# advances the SDK's iterator with :func:`step`; :func:`close_responses` closes them.

_OPENED: ContextVar[list[Any] | None] = ContextVar("llmring_opened_responses", default=None)


async def track_response(response: Any) -> None:
    """An httpx / httpx2 ``event_hooks["response"]`` hook: records the response inside :func:`step`,
    and tells a pacer (:mod:`.pacing`) its status and rate-limit headers."""
    pacing.heard(response)
    opened = _OPENED.get()
    if opened is not None:
        opened.append(response)


async def step(iterator: AsyncIterator[T], opened: list[Any]) -> T:
    """``anext(iterator)``, recording in ``opened`` the HTTP responses it opens."""
    token = _OPENED.set(opened)  # set and reset within one await: always the same context
    try:
        return await anext(iterator)
    finally:
        _OPENED.reset(token)


async def close_responses(opened: list[Any]) -> None:
    """Close the recorded responses now (closing a half-read response drops its connection)."""
    while opened:
        try:
            await opened.pop().aclose()
        except Exception:  # noqa: BLE001 - already closed or broken: nothing left to release
            pass
