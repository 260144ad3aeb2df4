"""``chat_stream``: resolve a name, try its models in order, retry, bound silences.

Retries and fallback to the next model happen only before the first chunk (once
text has been shown, another request would splice two answers) and never after an
authentication error (the next model would fail the same way, or worse, silently
bill another account). A model is retried (:mod:`.retry`) before the next is tried.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from collections.abc import AsyncGenerator, Iterable

from . import external, inputs, lockfile, pacing, registry, retry
from .adapter import Adapter
from .errors import AuthenticationError, LLMError, ProviderError, StreamTimeoutError, UnknownModelError
from .types import ModelRef, Request, StreamChunk

DEFAULT_IDLE_TIMEOUT = 60.0


def resolve(
    name: str, *, lockfile_path: str | os.PathLike[str] | None = None, profile: str | None = None
) -> tuple[ModelRef, ...]:
    """The ordered ``provider:model`` candidates a name stands for."""
    name = name.strip()
    if ":" in name or registry.canonical(name.lower()) in registry.providers():
        ref = ModelRef.parse(name)
        if not ref.model and ref.provider != "demo":  # demo alone means demo:chat
            example = registry.example(ref.provider)
            raise UnknownModelError(
                f"{name!r} names a provider but no model: write {ref.provider}:MODEL, e.g. {ref.provider}:{example}."
            )
        return (ref,)
    path = lockfile.find(explicit=lockfile_path)
    aliases = lockfile.load(path).aliases(profile) if path else {}
    if name not in aliases:
        where = f"in {path}" if path else "(no llmring.lock found here or in a parent folder)"
        known = ", ".join(sorted(aliases)) or "none"
        raise UnknownModelError(
            f"Unknown model alias {name!r} {where}; aliases: {known}. "
            "Use provider:model (e.g. openai:gpt-4o-mini) or add the alias to llmring.lock."
        )
    return tuple(ModelRef.parse(m) for m in aliases[name])


def providers_named(
    names: Iterable[str], *, lockfile_path: str | os.PathLike[str] | None = None, profile: str | None = None
) -> set[str]:
    """The providers ``names`` and every alias of the lockfile (if one is found) would use."""
    out = {ref.provider for name in names for ref in resolve(name, lockfile_path=lockfile_path, profile=profile)}
    path = lockfile.find(explicit=lockfile_path)
    if path is not None:
        for models in lockfile.load(path).aliases(profile).values():
            out |= {ModelRef.parse(m).provider for m in models}
    return out


async def chat_stream(
    request: Request,
    *,
    lockfile_path: str | os.PathLike[str] | None = None,
    profile: str | None = None,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    backend: object | None = None,
    retries: int = retry.DEFAULT_RETRIES,
    log: retry.AttemptLog | None = None,
) -> AsyncGenerator[StreamChunk, None]:
    """Stream the answer to ``request`` as :class:`StreamChunk` objects.

    Text chunks carry ``delta``; exactly one final chunk carries
    ``finish_reason``, ``usage`` and the ``model`` served, as ``provider:model``.
    Errors are raised as :class:`~.errors.LLMError` subclasses. ``backend``: any
    object with a compatible ``chat_stream(request)`` (llmring's ``LLMRing``)
    serves the request instead of the built-in adapters (retried alike).

    A failure before the first chunk that another attempt may heal is retried up to
    ``retries`` times (see :mod:`.retry`), then the next model of the alias is tried.
    ``log`` hears when each request is sent and each retry's wait begins.
    """
    log = log or retry.AttemptLog()
    if backend is not None:  # the backend resolves the name; named by its class in a timeout
        candidates: tuple[ModelRef, ...] = (ModelRef(external.name_of(backend), request.model),)
    else:
        candidates = resolve(request.model, lockfile_path=lockfile_path, profile=profile)
    for index, ref in enumerate(candidates):
        last = index == len(candidates) - 1
        for attempt in range(1, max(retries, 0) + 2):
            started = False
            try:
                async with pacing.attempt(ref.provider):  # a --map's rate limiter: waits for room
                    if backend is not None:
                        log.sending(str(ref), 0.0)
                        source = external.stream(backend, request)
                    else:
                        imported = time.perf_counter()
                        adapter = registry.get(ref.provider)  # imports the SDK: not part of any silence
                        log.sending(str(ref), time.perf_counter() - imported)
                        source = _served(adapter, ref, request)
                    # aclosing: a consumer's aclose() must reach the adapter now, closing the HTTP
                    # request at once rather than at garbage collection (the model would keep billing)
                    async with contextlib.aclosing(_bounded(source, idle_timeout, ref)) as chunks:
                        async for chunk in chunks:
                            # a count alone shows the user nothing: until text, a call or the end, retry
                            started = started or bool(chunk.delta or chunk.tool_calls or chunk.finish_reason)
                            yield chunk
                return
            except AuthenticationError:
                raise
            except LLMError as exc:
                if started:
                    raise
                why = retry.reason(exc)
                wait = retry.delay(exc, attempt) if why and attempt <= retries else None
                if wait is None:
                    if attempt > 1:
                        exc.append(f"Gave up after {attempt} attempts")
                    if last:
                        raise
                    break  # the next model of the alias
                log.waiting(retry.Retry(str(ref), why or "", attempt + 1, retries + 1, wait))
                await asyncio.sleep(wait)  # Stop and interrupts cancel this at once


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
                served = chunk.model or ref.model
                chunk = StreamChunk(
                    chunk.delta, f"{adapter.name}:{served}", chunk.finish_reason, chunk.usage, chunk.tool_calls
                )
            yield chunk
    except ProviderError as exc:
        refusal = inputs.refused(takes, ref, request, exc)
        if refusal is None:
            raise
        raise refusal from None
    finally:
        await stream.aclose()  # close the HTTP stream now, not at garbage collection


async def _bounded(
    stream: AsyncGenerator[StreamChunk, None], idle_timeout: float | None, ref: ModelRef
) -> AsyncGenerator[StreamChunk, None]:
    """Fail with a clear error when the stream goes silent for too long.

    One ``asyncio.timeout`` spans the stream, and a watchdog expires it once
    the provider has been silent for ``idle_timeout`` since the next chunk was
    asked for. The watchdog wakes about once per ``idle_timeout``, so a chunk
    costs one clock read, not a timeout context of its own (~10 µs, as much as
    the rest of our per-chunk work).
    """
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
