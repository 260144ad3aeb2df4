"""Where an answer streams: the :class:`Output` protocol every sink implements, and two bases.

A live cell's view, a terminal, a side-by-side column, a background answer and a ``--map``
row differ in their sink only; the engine and the stream runner (:mod:`.stream`) speak to
this protocol. :class:`Quiet` shows nothing (a sink names only the calls it acts on);
:class:`Relay` hands every call on (a wrapper names only the calls it adds to).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..providers.retry import Retry
from ..providers.types import Request
from ..result import Result, Thought, ToolRun


class Output(Protocol):
    """Where a streaming answer is shown while it arrives."""

    def start(self, request: Request, on_stop: Callable[[], None]) -> None: ...
    def retrying(self, retry: Retry | None) -> None:
        """A failed request will be retried after ``retry.wait`` s; None: it is being sent."""

    def delta(self, text: str) -> None: ...
    def streaming(self) -> None: ...
    def thought(self, thought: Thought) -> None:
        """Show or update one thinking phase's section (by ``thought.key``): it begins, ends, or learns its tokens."""

    def think(self, text: str) -> None:
        """More (coalesced) text of the thinking phase shown last."""

    def tool(self, run: ToolRun) -> None: ...  # show or update one tool call's block (by run.key)
    async def approve(self, run: ToolRun) -> bool: ...  # ask the user whether to run it
    def finish(self, result: Result) -> None: ...


class Quiet:
    """An :class:`Output` that shows nothing and refuses every tool call: the base of the
    sinks that act on a few calls (a ``--map`` row, the terminal), so each one names only those."""

    def start(self, request: Request, on_stop: Callable[[], None]) -> None:
        pass

    def retrying(self, retry: Retry | None) -> None:
        pass

    def delta(self, text: str) -> None:
        pass

    def streaming(self) -> None:
        pass

    def thought(self, thought: Thought) -> None:
        pass

    def think(self, text: str) -> None:
        pass

    def tool(self, run: ToolRun) -> None:
        pass

    async def approve(self, run: ToolRun) -> bool:
        return False  # no one is there to say yes

    def finish(self, result: Result) -> None:
        pass


class Relay:
    """An :class:`Output` that hands each call on to another: the base of the wrappers that
    add to a few calls (:mod:`.background`, :mod:`.amend`), so each one names only those."""

    def __init__(self, inner: Output) -> None:
        self._inner = inner

    def start(self, request: Request, on_stop: Callable[[], None]) -> None:
        self._inner.start(request, on_stop)

    def retrying(self, retry: Retry | None) -> None:
        self._inner.retrying(retry)

    def delta(self, text: str) -> None:
        self._inner.delta(text)

    def streaming(self) -> None:
        self._inner.streaming()

    def thought(self, thought: Thought) -> None:
        self._inner.thought(thought)

    def think(self, text: str) -> None:
        self._inner.think(text)

    def tool(self, run: ToolRun) -> None:
        self._inner.tool(run)

    async def approve(self, run: ToolRun) -> bool:
        return await self._inner.approve(run)

    def finish(self, result: Result) -> None:
        self._inner.finish(result)
