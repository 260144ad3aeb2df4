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
from .providers.retry import AttemptLog, Retry
from .providers.tokens import estimate_usage
from .providers.types import FinishReason, Request, StreamChunk, StreamFinish, ToolCall, Usage
from .result import Result, Timings

#: Deltas reach the browser at most this often (the first one at once): about
#: one frame, so the text looks live while an answer costs a few hundred
#: messages instead of one per token.
DEFAULT_INTERVAL = 1 / 30
#: The loop wakes at least this often while a stream waits, so an interrupt ends it
#: within about this long in any state (well inside the 250 ms a stop may take).
HEARTBEAT = 0.1


class Output(Protocol):
    """Where a streaming answer is shown while it arrives."""

    def start(self, request: Request, on_stop: Callable[[], None]) -> None: ...
    def retrying(self, retry: Retry | None) -> None:
        """A failed request will be retried after ``retry.wait`` s; None: it is being sent."""

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
    first_token_at: float | None = None  # time.perf_counter() of the first text
    model: str | None = None
    finish_reason: StreamFinish | None = None
    usage: Usage | None = None
    tool_calls: tuple[ToolCall, ...] = ()


async def _consume(chunks: AsyncIterator[StreamChunk], into: _Collected, on_delta: Callable[[str], None]) -> None:
    async for chunk in chunks:
        if chunk.delta:
            if into.first_token_at is None:
                into.first_token_at = time.perf_counter()
            into.parts.append(chunk.delta)
            on_delta(chunk.delta)
        if chunk.finish_reason is not None:
            into.model = chunk.model or into.model
            into.finish_reason = chunk.finish_reason
            into.usage = Usage.coerce(chunk.usage)
            into.tool_calls = tuple(chunk.tool_calls or ())


class _Heartbeat:
    """Wakes the event loop every :data:`HEARTBEAT` s while a stream waits.

    A kernel interrupt (SIGINT) reaches ipykernel's handler only when the loop's
    ``select()`` returns; a silent stream would otherwise leave it asleep until the next
    byte or the idle watchdog, so an interrupt took up to a minute.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._handle = loop.call_later(HEARTBEAT, self._beat)

    def _beat(self) -> None:
        self._handle = self._loop.call_later(HEARTBEAT, self._beat)

    def cancel(self) -> None:
        self._handle.cancel()


def _timings(started_at: float, started: float, first_token_at: float | None, log: AttemptLog) -> Timings:
    """First token from when the (last) request was sent: not our imports, not retry waits."""
    sent = log.sent_at if log.sent_at is not None else started
    return Timings(
        started_at,
        None if first_token_at is None else first_token_at - sent,
        time.perf_counter() - started,
        waited=max(0.0, sent - started),
        import_s=log.import_s,
    )


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
    log: AttemptLog | None = None,
) -> Result:
    """Stream ``chunks`` into ``output`` and return the :class:`Result`.

    The Stop button cancels only the consuming task: the cell goes on, records
    the partial answer and ends normally. A kernel interrupt cancels the cell
    itself: the partial answer is recorded too, and the result says
    ``interrupted`` so the caller can end the cell with an error (Run All stops).
    Provider errors end in a result whose ``error`` says what to do.
    ``log`` is the :class:`AttemptLog` the stream reports to: retries are shown as they
    wait and recorded, and the first token is timed from when the request was sent.
    """
    loop = asyncio.get_running_loop()
    log = log or AttemptLog()
    log.listeners.append(output.retrying)
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

    task = asyncio.ensure_future(_consume(chunks, collected, on_delta))
    if stopped:  # Stop was clicked before the request went out
        task.cancel()
    heartbeat = _Heartbeat(loop)
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
    finally:
        heartbeat.cancel()
    coalescer.flush()

    text = "".join(collected.parts)
    model = collected.model or log.model  # the model served, or the one last asked: not the alias
    usage = collected.usage
    if usage is None and (text or collected.finish_reason is not None):  # billed, but not counted
        usage = estimate_usage(request.messages, text)
    finish: FinishReason
    if interrupted or stopped:
        finish = "cancelled"
    elif error is not None:
        finish = "error"
    else:
        finish = collected.finish_reason or "incomplete"
        if finish == "incomplete":  # maybe cut short: fail the cell so Run All does not build on it
            error = ProviderError(
                f"{model or request.model} ended the answer without its end marker, so it may be cut "
                "short; the partial answer is kept in _llm. Run the cell again for a full one."
            )
    result = Result(
        text=text,
        requested=request.model,
        model=model,
        finish_reason=finish,
        usage=usage,
        timings=_timings(started_at, started, collected.first_token_at, log),
        messages=request.messages,
        parameters=request.parameters(),
        tool_calls=collected.tool_calls,
        error=_describe(error),
        exception=error,
        interrupted=interrupted,
        cost=price(model, usage) if price else None,
        chat=chat,
        dropped_turns=dropped_turns,
        retries=tuple(log.retries),
    )
    output.finish(result)
    return result
