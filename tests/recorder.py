"""An Output that keeps what a stream sent it (the real outputs draw it instead).

For the tool loop it also keeps each tool-call block it was shown, answers approvals
with ``decide`` and, with ``stop_when``, clicks Stop 0.1 s after a call reaches one of
those states.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any

from llmring_jupyter.providers import chat_stream
from llmring_jupyter.providers.retry import AttemptLog, Retry
from llmring_jupyter.providers.types import Request, StreamChunk
from llmring_jupyter.result import Result, Thought, ToolRun


class Recorder:
    def __init__(self, decide: Callable[[ToolRun], Any] | None = None, stop_when: tuple[str, ...] = ()) -> None:
        self.deltas: list[str] = []
        self.result: Result | None = None
        self.retries: list[Retry | None] = []
        self.events: list[tuple[str, str]] = []  # ("start", model), ("status", state), ("finish", reason), in order
        self.stop: Callable[[], None] | None = None  # what the view's Stop button would call
        self.blocks: list[ToolRun] = []
        self.thoughts: list[Thought] = []  # each state of each thinking phase, as shown
        self.thinking: list[str] = []  # the thinking deltas
        self.decide = decide
        self.stop_when = stop_when

    def start(self, request: Request, on_stop: Callable[[], None]) -> None:
        self.events.append(("start", request.model))
        self.stop = on_stop

    def retrying(self, retry: Retry | None) -> None:
        self.retries.append(retry)

    def delta(self, text: str) -> None:
        self.deltas.append(text)

    def streaming(self) -> None:
        self.events.append(("status", "streaming"))

    def status(self, state: str) -> None:
        self.events.append(("status", state))

    def thought(self, thought: Thought) -> None:
        self.thoughts.append(thought)

    def think(self, text: str) -> None:
        self.thinking.append(text)

    def tool(self, run: ToolRun) -> None:
        self.blocks.append(run)
        if run.status in self.stop_when and self.stop is not None:
            asyncio.get_running_loop().call_later(0.1, self.stop)

    async def approve(self, run: ToolRun) -> bool:
        assert self.decide is not None, "nothing should have been asked"
        decision = self.decide(run)
        return (await decision) if asyncio.iscoroutine(decision) else bool(decision)

    def finish(self, result: Result) -> None:
        self.result = result
        self.events.append(("finish", result.finish_reason))

    @property
    def text(self) -> str:
        return "".join(self.deltas)


def open_stream(request: Request, step: int, log: AttemptLog) -> AsyncGenerator[StreamChunk, None]:
    """The provider layer, one step of a tool exchange at a time, as the session opens it (no cache)."""
    return chat_stream(request, log=log)
