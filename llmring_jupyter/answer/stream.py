"""Run an answer's streams: coalesce deltas, honour Stop and interrupts, time it → Result.

Nothing here knows about widgets: deltas go to an :class:`~.sinks.Output` (the live
widget in a kernel, the terminal elsewhere), and the stream always ends in a
:class:`~.result.Result`, whatever happened, with the partial text kept.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..providers.errors import LLMError, ProviderError
from ..providers.keys import scrub
from ..providers.redact import public
from ..providers.retry import AttemptLog
from ..providers.tokens import estimate_usage
from ..providers.types import (
    FinishReason,
    Message,
    Notice,
    Reasoning,
    Request,
    StreamChunk,
    StreamFinish,
    ToolCall,
    Usage,
)
from ..result import Result, Timings, ToolRun
from .phases import Phases
from .sinks import Output

#: Deltas reach the browser at most this often, a display's frame (60 Hz): a delta
#: that comes when nothing was sent for a frame leaves at once (the first one, every
#: token of a model at human pace), a faster stream is sent once a frame, so the text
#: shows in the frame it could while an answer costs a few hundred messages, not one
#: per token.
DEFAULT_INTERVAL = 1 / 60
#: The loop wakes at least this often while a stream waits, so an interrupt ends it
#: within about this long in any state (well inside the 250 ms a stop may take).
HEARTBEAT = 0.1


class Coalescer:
    """Batches deltas so at most one message leaves per interval; a delta that comes when
    nothing was sent for an interval leaves at once.

    Deltas may go to several places (the answer's text, its thinking): one batch holds
    deltas for one place, and a delta for another sends the batch first.

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
        self._to = emit  # where the buffer goes
        self._last = float("-inf")
        self._timer: asyncio.TimerHandle | None = None

    def add(self, text: str, to: Callable[[str], None] | None = None) -> None:
        """Send ``text`` to ``to`` (the answer's text, by default) with the rest of its batch."""
        to = to or self._emit
        if self._buffer and to != self._to:
            self.flush()
        self._to = to
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
            now = self._loop.time()
            # on the frame clock: the chunk that carries a batch out comes a little after its frame,
            # and counting the next frame from that chunk would drift below the frame rate
            elapsed = now - self._last
            self._last = self._last + self._interval if self._interval <= elapsed < 2 * self._interval else now
            self._to(text)


class _Heartbeat:
    """Wakes the event loop every :data:`HEARTBEAT` s while a stream waits.

    A kernel interrupt (SIGINT) reaches ipykernel's handler only when the loop's
    ``select()`` returns; a silent stream — or a tool running in a worker thread, or
    an approval prompt — would otherwise leave it asleep until it ends.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._handle = loop.call_later(HEARTBEAT, self._beat)

    def _beat(self) -> None:
        self._handle = self._loop.call_later(HEARTBEAT, self._beat)

    def cancel(self) -> None:
        self._handle.cancel()


@dataclass
class Step:
    """What one request's stream brought; survives cancellation and errors."""

    parts: list[str] = field(default_factory=list)
    model: str | None = None
    finish_reason: StreamFinish | None = None
    usage: Usage | None = None
    counted: Usage | None = None  # what the provider counted before its end (an input count)
    tool_calls: tuple[ToolCall, ...] = ()  # the assembled calls of the final chunk
    reasoning: tuple[Reasoning, ...] = ()  # the whole thinking blocks of the final chunk, to send back
    notices: tuple[Notice, ...] = ()  # what the provider layer said of how it answered
    error: Exception | None = None  # ours say what to do; a bug keeps its traceback
    log: AttemptLog = field(default_factory=AttemptLog)  # its attempts (retries), and when it was sent

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _describe(error: Exception | None) -> str | None:
    """The one line ``_llm.error`` holds: ours say what to do; a bug names its type."""
    if error is None or isinstance(error, LLMError):
        return error.message if error else None
    return scrub(f"{type(error).__name__}: {error}")


Pricer = Callable[[str | None, Usage | None], float | None]
T = TypeVar("T")


class Live:
    """One answer as the user watches it: its output, Stop switch, coalescer and clock.

    An answer may take several requests (a tool exchange): they all stream into
    the same live output, and Stop or an interrupt ends whichever part is
    running — a stream, an approval prompt, a tool — through :meth:`guard`.
    The Stop button cancels only what is guarded: the cell goes on, records the
    partial answer and ends normally. A kernel interrupt cancels the cell itself:
    the partial answer is recorded too, and the result says ``interrupted`` so
    the caller can end the cell with an error (Run All stops).
    """

    def __init__(self, request: Request, output: Output, interval: float = DEFAULT_INTERVAL) -> None:
        self.loop = asyncio.get_running_loop()
        self.output = output
        self.coalescer = Coalescer(output.delta, interval, self.loop)
        self.stopped = False
        self.interrupted = False
        self.parts: list[str] = []  # the text of every step, as shown
        self.length = 0  # characters of text so far: where the next block of the answer sits
        self.first_token_at: float | None = None  # time.perf_counter() of the first token, thinking or text
        self.phases = Phases(output, self.coalescer, request.show_thinking, self._token)
        self._task: asyncio.Future[Any] | None = None
        output.start(request, self.stop)
        self.started_at, self.started = time.time(), time.perf_counter()

    @property
    def ended(self) -> bool:
        """Stop or an interrupt came: nothing more is asked or run."""
        return self.stopped or self.interrupted

    def stop(self) -> None:  # may be called from a comm-handling thread (subshells)
        self.stopped = True
        self.loop.call_soon_threadsafe(self._cancel)

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def guard(self, work: Coroutine[Any, Any, T]) -> T | None:
        """``await work`` so that Stop can cancel it; ``None`` when Stop or an interrupt ended it."""
        if self.ended:
            work.close()
            return None
        task = asyncio.ensure_future(work)
        self._task = task
        heartbeat = _Heartbeat(self.loop)
        try:
            return await task
        except asyncio.CancelledError:
            if not self.stopped:  # the cell itself was cancelled: make sure the work is too
                self.interrupted = True
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                current = asyncio.current_task()
                if current is not None:
                    current.uncancel()
            return None
        finally:
            heartbeat.cancel()
            self._task = None

    async def collect(
        self,
        request: Request,
        chunks: AsyncIterator[StreamChunk],
        on_pieces: Callable[[tuple[ToolCall, ...]], None] | None = None,
        log: AttemptLog | None = None,
    ) -> Step:
        """Stream one request into the output; tool-call pieces go to ``on_pieces`` as they come.

        ``log`` is the :class:`AttemptLog` its stream reports to: retries are shown as they wait.
        A usage the provider did not count is estimated (and marked so), but for what it
        counted before a cut.
        """
        step = Step(log=log or AttemptLog())
        step.log.listeners.append(self.output.retrying)

        first = self.phases.new_step()

        async def consume() -> None:
            async for chunk in chunks:
                if chunk.reasoning and chunk.finish_reason is None:
                    for piece in chunk.reasoning:
                        self.phases.think(piece, self.length)
                if chunk.delta:
                    self.phases.end()
                    if not self.parts:  # the answer's first text (later ones need no clock read)
                        self._token(time.perf_counter())
                    step.parts.append(chunk.delta)
                    self.parts.append(chunk.delta)
                    self.length += len(chunk.delta)
                    self.coalescer.add(chunk.delta)
                if chunk.finish_reason is not None:
                    step.model = chunk.model or step.model
                    step.finish_reason = chunk.finish_reason
                    step.usage = Usage.coerce(chunk.usage)
                    step.tool_calls = tuple(chunk.tool_calls or ())
                    step.reasoning = tuple(chunk.reasoning or ())
                    step.notices = tuple(chunk.notices or ())
                elif chunk.usage is not None:
                    step.counted = Usage.coerce(chunk.usage)
                elif chunk.tool_calls and on_pieces is not None:
                    self.phases.end()
                    self.coalescer.flush()  # text before a call reaches the view before the call
                    on_pieces(chunk.tool_calls)

        try:
            await self.guard(consume())
        except Exception as exc:  # noqa: BLE001 - kept, with its traceback: raised once the answer is recorded
            step.error = exc
        self.phases.end()
        self.coalescer.flush()
        if step.finish_reason is not None:
            tokens = step.usage.reasoning_tokens if step.usage else None
            self.phases.count(first, tokens, step.reasoning, step.notices, self.length)
        step.model = step.model or step.log.model  # the model served, or the one last asked: not the alias
        thought = "".join(t.text for t in self.phases.thoughts[first:])  # thinking is billed as output too
        billed = step.parts or thought or step.finish_reason is not None or step.counted is not None
        if step.usage is None and billed:  # but not counted at its end
            step.usage = estimate_usage(request.messages, step.text + thought, step.counted)
        return step

    def _token(self, at: float) -> None:
        """A token came at ``at`` (time.perf_counter()), text or a thinking phase's first:
        the answer's first token, or it begins to stream."""
        if self.first_token_at is None:
            self.first_token_at = at
        if not self.parts:
            self.output.streaming()

    def finish(
        self,
        request: Request,
        steps: list[Step],
        *,
        price: Pricer | None = None,
        chat: str | None = None,
        dropped_turns: int = 0,
        tool_calls: tuple[ToolRun, ...] = (),
        exchange: tuple[Message, ...] = (),
        error: Exception | None = None,
    ) -> Result:
        """The :class:`Result` of the whole answer (usage summed over its steps), shown as final."""
        last = steps[-1]
        error = error or next((s.error for s in steps if s.error), None)
        model = next((s.model for s in reversed(steps) if s.model), None)
        first = steps[0].log
        finish: FinishReason
        if self.ended:
            finish = "cancelled"
        elif last.error is not None:
            finish = "error"
        else:
            finish = last.finish_reason or "incomplete"
            if finish == "incomplete":  # maybe cut short: fail the cell so Run All does not build on it
                error = ProviderError(
                    f"{model or request.model} ended the answer without its end marker, so it may "
                    "be cut short; the partial answer is kept in _llm. Run the cell again for a full one."
                )
        usage = _total([s.usage for s in steps])
        result = Result(
            text="".join(self.parts),
            requested=request.model,
            model=model,
            finish_reason=finish,
            usage=usage,
            timings=self._timings(first),
            messages=request.messages,
            parameters=public(request.parameters()),  # what it keeps may be shown or saved: no key
            tool_calls=tool_calls,
            error=_describe(error),
            exception=error,
            interrupted=self.interrupted,
            cost=price(model, usage) if price else None,
            chat=chat,
            dropped_turns=dropped_turns,
            steps=len(steps),
            exchange=exchange,
            retries=tuple(r for step in steps for r in step.log.retries),
            thoughts=tuple(self.phases.thoughts),
            show_thinking=request.show_thinking,
            notices=tuple(dict.fromkeys(n.text for step in steps for n in step.notices)),
        )
        self.output.finish(result)
        return result

    def _timings(self, log: AttemptLog) -> Timings:
        """First token from when the first request was sent: not our imports, not retry waits."""
        sent = log.sent_at if log.sent_at is not None else self.started
        return Timings(
            self.started_at,
            None if self.first_token_at is None else self.first_token_at - sent,
            time.perf_counter() - self.started,
            waited=max(0.0, sent - self.started),
            import_s=log.import_s,
        )


def _total(usages: list[Usage | None]) -> Usage | None:
    """Usage summed over an answer's requests (cache and reasoning counts too, where any step has them);
    estimated if any step's was."""
    known = [u for u in usages if u is not None]
    if len(known) <= 1:
        return known[0] if known else None

    def some(name: str) -> int | None:
        values = [getattr(u, name) for u in known if getattr(u, name) is not None]
        return sum(values) if values else None

    return Usage.of(
        sum(u.prompt_tokens for u in known),
        sum(u.completion_tokens for u in known),
        cached_tokens=some("cached_tokens"),
        cache_creation_tokens=some("cache_creation_tokens"),
        reasoning_tokens=some("reasoning_tokens"),
        estimated=any(u.estimated for u in known),
    )


async def run(
    request: Request,
    chunks: AsyncIterator[StreamChunk],
    output: Output,
    *,
    interval: float = DEFAULT_INTERVAL,
    log: AttemptLog | None = None,
) -> Result:
    """Stream one request's ``chunks`` into ``output`` and return the :class:`Result` (see
    :class:`Live`; answers, tool exchanges included, go through :func:`.agent.run`).

    Provider errors end in a result whose ``error`` says what to do. ``log`` is the
    :class:`AttemptLog` the stream reports to.
    """
    live = Live(request, output, interval)
    step = await live.collect(request, chunks, log=log)
    return live.finish(request, [step])
