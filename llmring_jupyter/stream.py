"""Run one stream: coalesce deltas, honour Stop and interrupts, time it → Result.

Nothing here knows about widgets: deltas go to an :class:`Output` (the live
widget in a kernel, the terminal elsewhere), and the stream always ends in a
:class:`~.result.Result`, whatever happened, with the partial text kept.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol

from .providers.errors import LLMError, ProviderError
from .providers.keys import scrub
from .providers.types import FinishReason, Request, StreamChunk, StreamFinish, ToolCall, Usage
from .result import Result, Timings

#: Deltas reach the browser at most this often (the first one at once): about
#: one frame, so the text looks live while an answer costs a few hundred
#: messages instead of one per token.
DEFAULT_INTERVAL = 1 / 30


class Output(Protocol):
    """Where a streaming answer is shown while it arrives."""

    def start(self, request: Request, on_stop: Callable[[], None]) -> None: ...
    def delta(self, text: str) -> None: ...
    def streaming(self) -> None: ...
    def finish(self, result: Result) -> None: ...


class Coalescer:
    """Batches deltas so at most one message leaves per interval; never delays the first.

    While chunks flow, the first chunk after the interval sends the batch; the
    timer, set half an interval later, only serves pauses in the stream. Each
    wake-up of the kernel's loop costs about as much as parsing a chunk, so
    one per message would be the pipeline's largest cost after the send itself.
    """

    def __init__(self, emit: Callable[[str], None], interval: float, loop: asyncio.AbstractEventLoop) -> None:
        self._emit = emit
        self._interval = interval
        self._loop = loop
        self._buffer: list[str] = []
        self._last = float("-inf")
        self._timer: asyncio.TimerHandle | None = None

    def add(self, text: str) -> None:
        self._buffer.append(text)
        now = self._loop.time()
        if now - self._last >= self._interval:
            self.flush()
        elif self._timer is None:
            self._timer = self._loop.call_at(self._last + 1.5 * self._interval, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._buffer:
            text = "".join(self._buffer)
            self._buffer.clear()
            self._last = self._loop.time()
            self._emit(text)


@dataclass
class _Collected:
    """What arrived so far; survives cancellation and errors."""

    parts: list[str] = field(default_factory=list)
    first_token: float | None = None
    model: str | None = None
    finish_reason: StreamFinish | None = None
    usage: Usage | None = None
    tool_calls: tuple[ToolCall, ...] = ()


async def _consume(
    chunks: AsyncIterator[StreamChunk], into: _Collected, on_delta: Callable[[str], None], started: float
) -> None:
    async for chunk in chunks:
        if chunk.delta:
            if into.first_token is None:
                into.first_token = time.perf_counter() - started
            into.parts.append(chunk.delta)
            on_delta(chunk.delta)
        if chunk.finish_reason is not None:
            into.model = chunk.model or into.model
            into.finish_reason = chunk.finish_reason
            into.usage = Usage.coerce(chunk.usage)
            into.tool_calls = tuple(chunk.tool_calls or ())


def _describe(error: Exception | None) -> str | None:
    """The one line ``_llm.error`` holds: ours say what to do; a bug names its type."""
    if error is None or isinstance(error, LLMError):
        return error.message if error else None
    return scrub(f"{type(error).__name__}: {error}")


Pricer = Callable[[str | None, Usage | None], float | None]


async def run(
    request: Request,
    chunks: AsyncIterator[StreamChunk],
    output: Output,
    *,
    interval: float = DEFAULT_INTERVAL,
    price: Pricer | None = None,
    chat: str | None = None,
    dropped_turns: int = 0,
    conclude: Callable[[Result], Result] | None = None,
) -> Result:
    """Stream ``chunks`` into ``output`` and return the :class:`Result`.

    The Stop button cancels only the consuming task: the cell goes on, records
    the partial answer and ends normally. A kernel interrupt cancels the cell
    itself: the partial answer is recorded too, and the result says
    ``interrupted`` so the caller can end the cell with an error (Run All stops).
    Provider errors end in a result whose ``error`` says what to do.
    ``conclude`` completes the result before it is shown (structured output
    validates the answer there, so the final view shows its data).
    """
    loop = asyncio.get_running_loop()
    collected = _Collected()
    coalescer = Coalescer(output.delta, interval, loop)
    stopped = False
    task: asyncio.Future[None] | None = None

    def stop() -> None:  # may be called from a comm-handling thread (subshells)
        nonlocal stopped
        stopped = True
        if task is not None:
            loop.call_soon_threadsafe(task.cancel)

    output.start(request, stop)
    started_at, started = time.time(), time.perf_counter()

    def on_delta(text: str) -> None:
        if len(collected.parts) == 1:
            output.streaming()
        coalescer.add(text)

    task = asyncio.ensure_future(_consume(chunks, collected, on_delta, started))
    if stopped:  # Stop was clicked before the request went out
        task.cancel()
    error: Exception | None = None
    interrupted = False
    try:
        await task
    except asyncio.CancelledError:
        interrupted = not stopped
        if interrupted:  # the cell itself was cancelled: make sure the stream is too
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            this = asyncio.current_task()
            if this is not None:
                this.uncancel()
    except Exception as exc:  # noqa: BLE001 - kept, with its traceback: raised once the answer is recorded
        error = exc
    coalescer.flush()

    finish: FinishReason
    if interrupted or stopped:
        finish = "cancelled"
    elif error is not None:
        finish = "error"
    else:
        finish = collected.finish_reason or "incomplete"
        if finish == "incomplete":  # maybe cut short: fail the cell so Run All does not build on it
            error = ProviderError(
                f"{collected.model or request.model} ended the answer without its end marker, so it may "
                "be cut short; the partial answer is kept in _llm. Run the cell again for a full one."
            )
    result = Result(
        text="".join(collected.parts),
        requested=request.model,
        model=collected.model,
        finish_reason=finish,
        usage=collected.usage,
        timings=Timings(started_at, collected.first_token, time.perf_counter() - started),
        messages=request.messages,
        parameters=request.parameters(),
        tool_calls=collected.tool_calls,
        error=_describe(error),
        exception=error,
        interrupted=interrupted,
        cost=price(collected.model, collected.usage) if price else None,
        chat=chat,
        dropped_turns=dropped_turns,
    )
    if conclude is not None:
        result = conclude(result)
    output.finish(result)
    return result
