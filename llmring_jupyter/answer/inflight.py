"""The one owner of the answers in flight: who runs, who waits for whom, who is replaced.

Background answers run while later cells run, so three rules need one place that
knows every running answer: a cell run again stops every earlier run of itself (its
output is gone); a question waits for the background turns asked earlier in its
conversation (so its request holds them); and an answer ends in one registry,
not three. Only this module and :mod:`.background` see a pending answer's task.
The budget across answers in flight is :class:`~..records.spend.Ledger`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from typing import Any

from ..context.conversation import Conversation
from ..exceptions import Interrupted
from ..result import Result
from . import background, stream


class InFlight:
    """The running background answers of one session, by the turn they answer and by conversation."""

    def __init__(self) -> None:
        self._by_turn: dict[str, list[background.PendingResult]] = {}
        self._by_chat: dict[int, list[background.PendingResult]] = {}

    def replace(self, turn: str) -> None:
        """The cell of ``turn`` runs again: every earlier run's output is gone, so stop them."""
        for replaced in self._by_turn.get(turn, []):
            replaced.stop()

    def earlier(self, chat: Conversation | None) -> list[background.PendingResult]:
        """The background turns of ``chat`` still running: a new question waits for them."""
        return [p for p in self._by_chat.get(id(chat), []) if not p.done] if chat is not None else []

    def track(self, turn: str, chat: Conversation | None, pending: background.PendingResult) -> None:
        """Know ``pending`` until it ends."""
        keys: list[tuple[dict[Any, list[background.PendingResult]], Any]] = [(self._by_turn, turn)]
        if chat is not None:
            keys.append((self._by_chat, id(chat)))
        for registry, key in keys:
            registry.setdefault(key, []).append(pending)

        def forget() -> None:
            for registry, key in keys:
                _drop(registry, key, pending)

        pending.when_done(forget)

    async def wait_turn(
        self, earlier: Sequence[background.PendingResult], outputs: list[stream.Output], models: Sequence[str]
    ) -> list[stream.Output]:
        """Wait until the ``earlier`` turns have ended; meanwhile each output says so and its Stop ends its wait.

        Returns the outputs to stream into. An interrupt while waiting ends each
        output as interrupted and raises :class:`~..exceptions.Interrupted`: nothing was asked.
        """
        ends = [p.ended() for p in earlier if not p.done]
        if not ends:
            return outputs
        held = [background.Held(o) for o in outputs]
        for h, model in zip(held, models, strict=True):
            h.show(model)
        try:
            await _first(asyncio.wait(ends), _all_stopped(held))
        except asyncio.CancelledError:
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            for h, model in zip(held, models, strict=True):
                h.finish(Result.unasked(model, "cancelled", interrupted=True))
            raise Interrupted("Interrupted while waiting for an earlier answer; nothing was asked.") from None
        return list(held)


def _drop(registry: dict[Any, list[background.PendingResult]], key: Any, pending: background.PendingResult) -> None:
    """Forget an ended answer, and its key once none of its answers runs."""
    answers = registry.get(key, [])
    if pending in answers:
        answers.remove(pending)
    if not answers:
        registry.pop(key, None)


async def _first(*waits: Coroutine[Any, Any, Any]) -> None:
    """Wait until the first of ``waits`` ends; cancel the others."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def _all_stopped(held: list[background.Held]) -> None:
    for h in held:
        await h.stopped.wait()
