"""Where a pacer (the rate limiter a ``--map`` run's rows keep) hooks into every request, unseen by adapters.

The engine's ``paced`` layer holds each attempt inside the pacer's :meth:`Pacer.attempt` — the
pacer may make it wait for room under the provider's limits, and learns how it ended (a 429 says
back off) — and the HTTP clients' response hook reports every response's status and headers
through :func:`heard` (rate-limit headers say how much room is left). Neither runs unless the
answering code set :data:`PACER`: a single cell pays nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, Protocol


class Pacer(Protocol):
    def attempt(self, provider: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Held while one request to ``provider`` runs: waits for room first; sees how it ends."""

    def heard(self, task: asyncio.Task[Any] | None, status: int, headers: Mapping[str, str]) -> None:
        """A response arrived for the attempt running in ``task``."""


PACER: ContextVar[Pacer | None] = ContextVar("llmring_pacer", default=None)


def heard(response: Any) -> None:
    """An httpx response (from the clients' ``event_hooks``): its status and headers, to the pacer."""
    pacer = PACER.get()
    if pacer is not None:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        pacer.heard(task, int(getattr(response, "status_code", 0)), getattr(response, "headers", {}))
