"""The provider side of the answer engine: layers of one signature, ``Request → chunks``.

Everything between a request and a provider's wire is a :data:`Send`, and each
concern is a layer that takes a ``Send`` and is one, as httpx's transports and
ASGI middleware are. :func:`~.routing.chat_stream` stacks them::

    fallback        the lockfile's next model, before the first chunk, never after a 401
      retrying      transient faults before the first chunk; each wait is heard by the log
        paced       each attempt waits for room under the provider's rate limits (a --map's pacer)
          bounded   a silence longer than the idle timeout fails the stream
            transport  the adapter (or a user's backend), the served model named provider:model

The layers above these (replay, budget) live with the session and take the same
signature, so a live cell, a background answer, a column and a map row all run one
stack. Every layer closes what it wraps as soon as its consumer
stops (``aclosing``): the provider stops generating, and billing, at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import math
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence

from . import external, inputs, pacing, registry, retry
from .adapter import Adapter
from .errors import AuthenticationError, LLMError, ProviderError, StreamTimeoutError
from .types import ModelRef, Request, StreamChunk

#: The one signature of the engine: a request in, its chunks out as they arrive.
Send = Callable[[Request], AsyncGenerator[StreamChunk, None]]


def shown(chunk: StreamChunk) -> bool:
    """Whether ``chunk`` shows the user something: after it, another request would splice two answers.

    A count alone shows nothing, so a failure after it may still be retried.
    """
    return bool(chunk.delta or chunk.reasoning or chunk.tool_calls or chunk.finish_reason)


def transport(ref: ModelRef, log: retry.AttemptLog, backend: object | None = None) -> Send:
    """The bottom layer: ``ref``'s adapter, or a user's ``backend`` serving every name."""

    def send(request: Request) -> AsyncGenerator[StreamChunk, None]:
        if ref.options:  # the lockfile's for this model; the cell's own -o wins
            request = dataclasses.replace(request, options=dict(ref.options) | request.options)
        # not a generator itself: the SDK is imported when the request is made, before the
        # idle bound's clock starts, so an import is never taken for the provider's silence
        if backend is not None:
            log.sending(str(ref), 0.0)
            return external.stream(backend, request)
        imported = time.perf_counter()
        adapter = registry.get(ref.provider)
        log.sending(str(ref), time.perf_counter() - imported)
        return _served(adapter, ref, request)

    return send


async def _served(adapter: Adapter, ref: ModelRef, request: Request) -> AsyncGenerator[StreamChunk, None]:
    """The adapter's stream, with the final chunk's model named ``provider:model``."""
    # before anything is sent: images fitted to the provider's limits, or refused; an adapter
    # that declares no inputs takes text alone
    takes = getattr(adapter, "inputs", inputs.TEXT_ONLY)
    request = inputs.prepare(takes, ref, request)
    stream = adapter.stream(ref.model, request)
    try:
        async for chunk in stream:
            if chunk.finish_reason is not None:
                chunk = dataclasses.replace(chunk, model=f"{adapter.name}:{chunk.model or ref.model}")
            yield chunk
    except ProviderError as exc:
        refusal = inputs.refused(takes, ref, request, exc)
        if refusal is None:
            raise
        raise refusal from None
    finally:
        await stream.aclose()  # close the HTTP stream now, not at garbage collection


def bounded(send: Send, idle_timeout: float | None, ref: ModelRef) -> Send:
    """Fail with a clear error when the stream goes silent for longer than ``idle_timeout``.

    One ``asyncio.timeout`` spans the stream, and a watchdog expires it once the
    provider has been silent for ``idle_timeout`` since the next chunk was asked
    for. The watchdog wakes about once per ``idle_timeout``, so a chunk costs one
    clock read, not a timeout context of its own (~10 µs, as much as the rest of
    our per-chunk work).
    """

    async def send_bounded(request: Request) -> AsyncGenerator[StreamChunk, None]:
        stream = send(request)  # first: what it does before its first chunk is no silence of the provider's
        loop = asyncio.get_running_loop()
        limit = math.inf if idle_timeout is None else idle_timeout
        asked = loop.time()
        watchdog: asyncio.TimerHandle | None = None
        try:
            # asyncio.timeout, not wait_for: the generator must keep running in the
            # consumer's task (the SDKs' anyio cancel scopes require it).
            async with asyncio.timeout(None) as deadline:

                def check() -> None:
                    nonlocal watchdog
                    if loop.time() >= asked + limit:
                        deadline.reschedule(loop.time())  # expire now: cancels the wait for a chunk
                    else:
                        watchdog = loop.call_at(asked + limit, check)

                if math.isfinite(limit):
                    watchdog = loop.call_at(asked + limit, check)
                async for chunk in stream:
                    yield chunk
                    asked = loop.time()
        except TimeoutError:
            raise StreamTimeoutError(
                f"{ref} sent nothing for {idle_timeout:g} s, so the stream was closed; try again.",
                provider=ref.provider,
            ) from None
        finally:
            if watchdog is not None:
                watchdog.cancel()
            await stream.aclose()

    return send_bounded


def paced(send: Send, ref: ModelRef) -> Send:
    """Hold each attempt until the provider's rate limits leave room, and let the pacer see how it
    ended (:mod:`.pacing`; without a pacer, as for a single cell, it passes straight through).

    Below the retries, so a retry waits for room like a first request; above the idle bound,
    so a wait for room is never taken for the provider's silence.
    """

    async def held(pacer: pacing.Pacer, request: Request) -> AsyncGenerator[StreamChunk, None]:
        async with pacer.attempt(ref.provider), contextlib.aclosing(send(request)) as chunks:
            async for chunk in chunks:
                yield chunk

    def send_paced(request: Request) -> AsyncGenerator[StreamChunk, None]:
        pacer = pacing.PACER.get()
        # no pacer (a single cell): no layer that every chunk would pass through for nothing
        return send(request) if pacer is None else held(pacer, request)

    return send_paced


async def _first_to_start(
    request: Request, sends: Iterable[Send], again: Callable[[LLMError, int], Awaitable[bool]]
) -> AsyncGenerator[StreamChunk, None]:
    """Stream ``request`` through the first of ``sends`` that does not fail before showing anything.

    An attempt that fails before its first shown chunk is followed by the next where
    ``again(error, attempt)`` says so (it may wait first); one that failed after would splice
    two answers, and one whose key was rejected would fail the same way again (or, worse,
    silently bill another account): their errors are raised.
    """
    for attempt, send in enumerate(sends, 1):
        started = False  # whether the attempt has shown the user anything: then no other may replace it
        try:
            async with contextlib.aclosing(send(request)) as chunks:
                async for chunk in chunks:
                    started = started or shown(chunk)
                    yield chunk
            return
        except AuthenticationError:
            raise
        except LLMError as exc:
            if started or not await again(exc, attempt):
                raise


def retrying(send: Send, retries: int, log: retry.AttemptLog, ref: ModelRef) -> Send:
    """Send again, after the wait :mod:`.retry` gives, a request that failed before showing anything."""
    retries = max(retries, 0)

    async def again(exc: LLMError, attempt: int) -> bool:
        why = retry.reason(exc)
        wait = retry.delay(exc, attempt) if why and attempt <= retries else None
        if wait is None:
            if attempt > 1:
                exc.append(f"Gave up after {attempt} attempts")
            return False
        log.waiting(retry.Retry(str(ref), why or "", attempt + 1, retries + 1, wait))
        await asyncio.sleep(wait)  # Stop and interrupts cancel this at once
        return True

    def send_retrying(request: Request) -> AsyncGenerator[StreamChunk, None]:
        return _first_to_start(request, itertools.repeat(send, retries + 1), again)

    return send_retrying


def fallback(sends: Sequence[Send]) -> Send:
    """Try each model's stack in order until one starts (see :func:`_first_to_start`: never after
    the first chunk was shown, nor after a rejected key)."""

    if len(sends) == 1:  # nothing to fall back to: its errors are raised as they are, with no layer per chunk
        return sends[0]

    async def again(exc: LLMError, attempt: int) -> bool:
        return attempt < len(sends)

    def send_fallback(request: Request) -> AsyncGenerator[StreamChunk, None]:
        return _first_to_start(request, sends, again)

    return send_fallback
