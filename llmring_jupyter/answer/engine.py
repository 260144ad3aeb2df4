"""The answer engine: the one stack of layers every request of every answer goes through.

A live cell, a background answer, a side-by-side column and a ``--map`` row differ
only in their sink (the :class:`~.sinks.Output` they stream into) and in who
schedules them; their requests all take this path, each layer of the same
signature, ``Request → chunks`` (:data:`~..providers.layers.Send`)::

    replay      a stored answer streams instead (key: the whole request); a fresh one is recorded
    budget      refuses before sending (the session's check); counts every answer in flight
    chat_stream the provider layers: fallback, retries, rate limit, idle bound, the adapter

The agent loop (:mod:`.agent`) runs on top: one step of a tool loop is one request.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Callable
from typing import Protocol

from ..providers import chat_stream
from ..providers.layers import Send
from ..providers.retry import AttemptLog
from ..providers.types import Request, StreamChunk
from ..records import replay
from ..records.spend import Budget, Flight, Ledger


class Route(Protocol):
    """Where the provider layers send a request: the settings chat_stream reads."""

    lockfile: str | None
    profile: str | None
    idle_timeout: float
    backend: object | None


def stack(
    route: Route,
    cached: replay.Question,
    ledger: Ledger,
    flight: Flight,
    budget: Budget,
    stop: Callable[[str], None],
    retries: int,
) -> Callable[[Request, int, AttemptLog], AsyncGenerator[StreamChunk, None]]:
    """One answer's stack: ``open(request, step, log)`` streams step ``step`` of its tool loop, the
    attempts (retries, the request sent) heard by that step's ``log``."""

    def open_step(request: Request, step: int, log: AttemptLog) -> AsyncGenerator[StreamChunk, None]:
        provider: Send = functools.partial(
            chat_stream,
            lockfile_path=route.lockfile,
            profile=route.profile,
            idle_timeout=route.idle_timeout,
            backend=route.backend,
            retries=retries,
            log=log,
        )
        return cached.layer(ledger.layer(provider, flight, budget, stop), step)(request)

    return open_step
