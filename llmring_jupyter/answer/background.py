"""Background answers: the question runs as a task on a loop of its own thread, so its cell returns at once.

Not on the kernel's loop: a cell that does not await (``time.sleep``, a long
computation) holds that loop, and the answer would stop streaming until the
cell ended. On its own thread the answer reads the network and sends its view's
messages meanwhile (IOPub sends are thread-safe: ipykernel sends them from its
own thread). The thread is shared by every background answer, so an answer that
waits for an earlier one of its conversation waits on the same loop.

The task owns the asking cell's output: ipykernel keeps that cell as the
parent of everything the task displays or prints (context variables, which
the task takes from the cell that starts it), so the live view, the final
static answer and an error line land there, whatever cell runs meanwhile. A
kernel interrupt stops the running cell only; a background answer has its Stop
button, and a restart ends it.

:class:`PendingResult` is what ``_llm`` holds meanwhile: it fills in as the
answer streams, and awaiting it gives the finished :class:`~.result.Result`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import threading
from collections.abc import Callable, Coroutine, Generator
from functools import cache
from typing import Any

from ..exceptions import UsageError, advise
from ..providers.errors import LLMError
from ..providers.types import Request
from ..result import Result
from .sinks import Output, Relay

#: The view's status while its question waits for an earlier background answer of its conversation.
QUEUED = "queued"


class PendingResult:
    """A background answer's :class:`~.result.Result`, filling in while it streams.

    ``done`` says whether it ended; ``text`` is the text so far; ``await`` it
    (or call :meth:`wait` where no event loop runs on this thread) for the
    finished Result, which raises like a failing cell if the answer failed.
    Once done, every attribute of the Result reads through (``usage``,
    ``finish_reason``, ...).
    """

    def __init__(self, requested: str) -> None:
        self.requested = requested
        self._parts: list[str] = []
        self._result: Result | None = None
        self._bug: BaseException | None = None  # our own code failed: re-raised with its traceback
        self._finished = threading.Event()
        self._task: concurrent.futures.Future[None] | None = None
        self._stop: Callable[[], None] | None = None
        self._stop_asked = False
        self._loop_thread = threading.current_thread()  # the kernel's: wait() there would block it

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    @property
    def text(self) -> str:
        return self._result.text if self._result is not None else "".join(self._parts)

    @property
    def result(self) -> Result | None:
        """The finished Result, or None while the answer runs."""
        return self._result

    def stop(self) -> None:
        """What the Stop button does: end the answer, keeping the text so far."""
        self._stop_asked = True
        if self._stop is not None:
            self._stop()

    def ended(self) -> asyncio.Future[None]:
        """A future of the running loop that ends when the answer does: what a later answer waits on."""
        assert self._task is not None, "started by start()"
        return asyncio.wrap_future(self._task)

    def when_done(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (on the answers' thread) once the answer has ended."""
        assert self._task is not None, "started by start()"
        self._task.add_done_callback(lambda _: callback())

    def __await__(self) -> Generator[Any, None, Result]:
        return self._wait().__await__()

    async def _wait(self) -> Result:
        if self._task is not None and not self.done:
            # shield: interrupting the cell that awaits must not cancel the answer itself
            await asyncio.shield(asyncio.wrap_future(self._task))
        return self._outcome()

    def wait(self, timeout: float | None = None) -> Result:
        """Block until the answer ends, for code that cannot ``await``; raises like a failing cell."""
        if not self.done and threading.current_thread() is self._loop_thread:
            raise UsageError(
                "_llm.wait() would block the kernel (and this answer's Stop): use `await _llm` in a cell instead."
            )
        if not self._finished.wait(timeout):
            raise TimeoutError(f"The answer from {self.requested} did not end within {timeout} s; it goes on.")
        return self._outcome()

    def _outcome(self) -> Result:
        if self._bug is not None:
            raise self._bug
        assert self._result is not None
        self._result.raise_for_error()
        return self._result

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._result is None:
            raise AttributeError(f"{name} is known once the answer ends (it is still streaming): `await _llm` first")
        return getattr(self._result, name)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        if self._result is not None:
            return repr(self._result).replace("<Result", "<PendingResult done", 1)
        return f"<PendingResult {self.requested} streaming, {len(self.text):,} characters so far>"

    def _repr_markdown_(self) -> str:
        return self.text

    def _fill(self, text: str) -> None:
        self._parts.append(text)

    def _end(self, result: Result | None, bug: BaseException | None = None) -> None:
        self._result, self._bug = result, bug
        self._finished.set()


class _Filling(Relay):
    """An :class:`~.sinks.Output` that also fills a :class:`PendingResult` and reports a failure
    in one line of its own output (no cell raises for a background answer).

    Its end is shown only once the :class:`PendingResult` holds it (:meth:`conclude`): the
    answer runs on its own thread, and a cell run on seeing the static answer must find
    ``_llm`` done and the turn in its conversation.
    """

    def __init__(self, inner: Output, pending: PendingResult) -> None:
        super().__init__(inner)
        self._pending = pending
        self._ended: Result | None = None

    def start(self, request: Request, on_stop: Callable[[], None]) -> None:
        self._pending._stop = on_stop
        self._inner.start(request, on_stop)
        if self._pending._stop_asked:
            on_stop()

    def delta(self, text: str) -> None:
        self._pending._fill(text)
        self._inner.delta(text)

    def status(self, state: str) -> None:
        say(self._inner, state)

    def finish(self, result: Result) -> None:
        self._ended = result

    def conclude(self) -> None:
        """Show the end the answer reached, if it reached one."""
        result, self._ended = self._ended, None
        if result is None:
            return
        self._inner.finish(result)
        exc = result.exception
        if isinstance(exc, LLMError):
            _say_failed(exc)
        elif exc is not None:  # our bug, or an SDK's: its real traceback, in this answer's output
            _show_traceback(exc)


@cache  # one per kernel
def _answers_loop() -> asyncio.AbstractEventLoop:
    """The loop every background answer runs on, in a thread of its own."""
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="llm background answers", daemon=True).start()
    return loop


def start(answer: Callable[[Output], Coroutine[Any, Any, Result]], output: Output, requested: str) -> PendingResult:
    """Run ``answer(output)`` on the background answers' loop and return its :class:`PendingResult` at once.

    Call it from the asking cell: the task takes that cell's context (what it shows lands there).
    """
    pending = PendingResult(requested)
    place = getattr(output, "place", None)  # the live outputs have one; the terminal's prints
    if place is not None:
        place(requested)

    filling = _Filling(output, pending)

    async def run() -> None:
        try:
            result = await answer(filling)
        except asyncio.CancelledError:  # the process is ending: nothing is left to show
            pending._end(None, UsageError(f"The answer from {requested} was cancelled before it ended."))
            raise
        except LLMError as exc:  # refused before anything was sent (a budget): one line, as any failure
            pending._end(None, exc)
            filling.conclude()
            _say_failed(exc)
        except Exception as exc:  # noqa: BLE001 - our bug: its traceback goes to the asking cell's output
            pending._end(None, exc)
            filling.conclude()
            _show_traceback(exc)
        else:
            pending._end(result)
            filling.conclude()

    pending._task = asyncio.run_coroutine_threadsafe(run(), _answers_loop())  # with this cell's context
    _RUNNING.add(pending)
    pending._task.add_done_callback(lambda _: _RUNNING.discard(pending))
    _stop_at_shutdown()
    return pending


_RUNNING: set[PendingResult] = set()  # this kernel's background answers that have not ended
SHUTDOWN_GRACE = 2.0  # seconds a shutting-down kernel gives its background answers to show their static output


@cache  # once per kernel
def _stop_at_shutdown() -> None:
    """When the kernel is asked to shut down or restart, Stop every background answer, so
    what it streamed stays in its output as a static answer instead of a dead view."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return

    def stop_all(change: dict[str, Any]) -> None:  # runs on the kernel's control thread
        if not change["new"]:
            return
        running = list(_RUNNING)
        for pending in running:
            pending.stop()
        # until each has shown its static output, which comes after its PendingResult ends
        concurrent.futures.wait([p._task for p in running if p._task is not None], timeout=SHUTDOWN_GRACE)

    shell.observe(stop_all, "exit_now")


def _say_failed(exc: LLMError) -> None:
    """A failed background answer's one line, in its own output (no cell raises for it)."""
    print(f"{type(exc).__name__}: {advise(exc).message}", file=sys.stderr)


def _show_traceback(exc: BaseException) -> None:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.showtraceback((type(exc), exc, exc.__traceback__))


def say(output: Output, state: str) -> None:
    """Show ``state`` in the output's status line, where it has one (the live view does)."""
    status = getattr(output, "status", None)
    if status is not None:
        status(state)


class Held(Relay):
    """An output shown before its request exists, while its question waits for earlier answers.

    It says why it waits, its Stop button ends the wait (the answer then ends
    stopped, before any request goes out), and the request's own start reuses
    the view instead of showing a second one.
    """

    def __init__(self, inner: Output) -> None:
        super().__init__(inner)
        self._on_stop: Callable[[], None] | None = None
        self._shown = False
        self._stop_asked = False  # at once, where the event is set a loop step later
        self.stopped = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def show(self, model: str) -> None:
        self._inner.start(Request(model, ()), self._stop)
        self._shown = True
        say(self._inner, QUEUED)

    def _stop(self) -> None:  # may be called from a comm-handling thread (subshells)
        self._stop_asked = True  # before looking for the request's Stop: start() looks the other way
        if self._on_stop is not None:
            self._on_stop()
        else:
            self._loop.call_soon_threadsafe(self.stopped.set)

    def start(self, request: Request, on_stop: Callable[[], None]) -> None:
        self._on_stop = on_stop
        if not self._shown:
            self._inner.start(request, on_stop)
            return
        say(self._inner, "waiting")
        if self._stop_asked:  # the wait ended before the event was set: the stop still counts
            on_stop()
