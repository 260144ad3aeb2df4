"""The one owner of the answers in flight: who runs, who waits for whom, who is stopped, at what pace.

Answers run at once in three ways — a background answer while later cells run, the columns of a
side-by-side cell, the rows of a ``--map`` — and differ only in their sink (where they stream). So
the rules for answers at once live here, in the one place that knows every running answer: a cell
run again stops every earlier run of itself (its output is gone); Stop or a kernel interrupt ends
every answer a cell runs, and the cell waits for each to end, keeping what it streamed; a question
waits for the background turns asked earlier in its conversation (so its request holds them); an
answer ends in one registry, not three; and the runs in flight share one pace per provider (its
:class:`~.ratelimit.Pacer`: two ``--map`` runs at once keep to one provider's limits, and a 429
seen by one holds the other). Only this module and :mod:`.background` see an answer's task.
The budget across answers in flight is :class:`~..records.spend.Ledger`'s.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol, TypeVar

from ..context.conversation import Conversation
from ..exceptions import Interrupted
from ..providers import pacing
from ..result import Result
from . import background, sinks
from .ratelimit import Pacer

T = TypeVar("T")


class _Stoppable(Protocol):
    def stop(self) -> None: ...


class InFlight:
    """The running answers of one session, by the turn they answer (background ones by conversation
    too), and the pace their requests keep."""

    def __init__(self) -> None:
        self._by_turn: dict[str, list[_Stoppable]] = {}
        self._by_chat: dict[int, list[background.PendingResult]] = {}
        self.pacer = Pacer()  # one Limiter per provider for every run in flight

    def stop(self, turn: str) -> None:
        """End every answer of ``turn`` now; each keeps what it streamed. Safe from another thread."""
        for answer in list(self._by_turn.get(turn, ())):
            answer.stop()

    def replace(self, turn: str) -> None:
        """The cell of ``turn`` runs again: every earlier run's output is gone, so stop them."""
        self.stop(turn)

    def earlier(self, chat: Conversation | None) -> list[background.PendingResult]:
        """The background turns of ``chat`` still running: a new question waits for them."""
        return [p for p in self._by_chat.get(id(chat), []) if not p.done] if chat is not None else []

    def track(self, turn: str, chat: Conversation | None, pending: background.PendingResult) -> None:
        """Know ``pending`` until it ends."""
        keys: list[tuple[dict[Any, list[Any]], Any]] = [(self._by_turn, turn)]
        if chat is not None:
            keys.append((self._by_chat, id(chat)))
        for registry, key in keys:
            registry.setdefault(key, []).append(pending)

        def forget() -> None:
            for registry, key in keys:
                _drop(registry, key, pending)

        pending.when_done(forget)

    async def together(
        self,
        turn: str,
        answers: Sequence[Coroutine[Any, Any, T]],
        *,
        pace: pacing.Pacer | None = None,
        on_stop: Callable[[str], None] | None = None,
    ) -> list[T | BaseException]:
        """Run ``answers`` at once as the answers of ``turn``; return each one's outcome, in order:
        what it returned, or what it raised (:class:`asyncio.CancelledError`: stopped before it could
        end on its own).

        :meth:`stop` (and the cell run again) cancels them all; so does an interrupt of the awaiting
        cell, which then still waits for every answer to end (each keeps what it streamed) and
        returns. ``on_stop`` hears first why they end early: ``"stopped"`` or ``"interrupted"``.
        ``pace``: the pacer their requests keep (a ``--map`` run's, from :attr:`pacer`).
        """
        if not answers:
            return []
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(answer, context=_context(pace)) for answer in answers]
        group = _Together(tasks, on_stop)
        self._by_turn.setdefault(turn, []).append(group)
        try:
            await group.settle()
        finally:
            _drop(self._by_turn, turn, group)
        return [_outcome(task) for task in tasks]

    async def wait_turn(
        self, earlier: Sequence[background.PendingResult], outputs: list[sinks.Output], models: Sequence[str]
    ) -> list[sinks.Output]:
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


def _drop(registry: dict[Any, list[T]], key: Any, answer: T) -> None:
    """Forget an ended answer, and its key once none of its answers runs."""
    answers = registry.get(key, [])
    if answer in answers:
        answers.remove(answer)
    if not answers:
        registry.pop(key, None)


class _Together:
    """Answers run at once under one turn (:meth:`InFlight.together`): stopped as one."""

    def __init__(self, tasks: list[asyncio.Task[Any]], on_stop: Callable[[str], None] | None) -> None:
        self._tasks = tasks
        self._on_stop = on_stop
        self._loop = asyncio.get_running_loop()

    def stop(self, why: str = "stopped") -> None:  # may be called from a comm-handling thread
        if self._on_stop is not None:
            self._on_stop(why)
        self._loop.call_soon_threadsafe(self._cancel)

    def _cancel(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def settle(self) -> None:
        """Wait until every answer has ended; an interrupt meanwhile stops them all, and the wait goes on."""
        interrupted = False
        while True:
            try:
                await asyncio.wait(self._tasks)
                return
            except asyncio.CancelledError:
                asyncio.current_task().uncancel()  # type: ignore[union-attr]
                if not interrupted:
                    interrupted = True
                    self.stop("interrupted")


def _outcome(task: asyncio.Task[T]) -> T | BaseException:
    if task.cancelled():
        return asyncio.CancelledError()
    return task.exception() or task.result()


def _context(pace: pacing.Pacer | None) -> contextvars.Context:
    """The context an answer runs in: the caller's (ipykernel's parent cell: where it shows), with
    the pacer its requests keep."""
    context = contextvars.copy_context()
    if pace is not None:
        context.run(pacing.PACER.set, pace)
    return context


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
