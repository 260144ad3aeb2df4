"""``chat_stream``: resolve a name to its models, and stack the engine's provider layers for them.

A name is an alias of the lockfile or ``provider:model``; each model it stands for
gets its own stack (:mod:`.layers`: transport, idle bound, rate limit, retries), tried in
order by the fallback layer. A model is retried before the next is tried.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import AsyncGenerator, Iterable

from . import external, layers, lockfile, registry, retry
from .errors import DEFAULT_IDLE_TIMEOUT, UnknownModelError
from .types import ModelRef, Request, StreamChunk


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
    lock = lockfile.load(path) if path else None
    aliases = lock.aliases(profile) if lock else {}
    if name not in aliases:
        where = f"in {path}" if path else "(no llmring.lock found here or in a parent folder)"
        known = ", ".join(sorted(aliases)) or "none"
        raise UnknownModelError(
            f"Unknown model alias {name!r} {where}; aliases: {known}. "
            "Use provider:model (e.g. openai:gpt-4o-mini) or add the alias to llmring.lock."
        )
    wire = lock.wire(name, profile) if lock else None  # how its openai: models are spoken to, if said
    refs = [ModelRef.parse(m) for m in aliases[name]]
    return tuple(
        dataclasses.replace(r, options=(("wire", wire),)) if wire and r.provider == "openai" else r for r in refs
    )


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
    send = layers.fallback(
        [
            layers.retrying(
                layers.paced(layers.bounded(layers.transport(ref, log, backend), idle_timeout, ref), ref),
                retries,
                log,
                ref,
            )
            for ref in candidates
        ]
    )
    async with contextlib.aclosing(send(request)) as chunks:
        async for chunk in chunks:
            yield chunk
