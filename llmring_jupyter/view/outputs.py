"""Where an answer is shown: the live widget in a kernel, plain text in a terminal.

Both implement :class:`~..answer.sinks.Output`.
"""

from __future__ import annotations

import asyncio
import html
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any, TextIO

from .. import render
from ..answer.sinks import Quiet
from ..providers.retry import Retry, retry_line, retry_status
from ..providers.types import Request
from ..render import thinking, tool_calls
from ..result import Result, Thought, ToolRun

#: The live view is made this long after the question left, or at the first token if sooner:
#: a question that fails at once (a bad key) never makes one.
LIVE_AFTER = 0.25
#: The answer so far is written into the notebook's output this often, so a notebook saved
#: mid-stream (JupyterLab autosaves every 120 s) holds it as readable static text.
SAVE_INTERVAL = 5.0


class WidgetOutput:
    """An answer as two outputs: the answer so far (static), and the live view after it.

    The first output is what a notebook saved mid-stream holds, refreshed every
    :data:`SAVE_INTERVAL`; while a live view follows it, the view hides it.
    The live view is the anywidget; when the answer ends, it is
    replaced, in the same output, by the static bundle from :mod:`.render`, and
    closed so no comm is left open (the first output is emptied: it holds no data). Where no
    frontend runs our views (nbclient, papermill), no view is made at all: the
    first output becomes the answer, and no widget state reaches the notebook.
    """

    def __init__(self, fmt: str = "markdown") -> None:
        self._fmt = fmt
        self._request: Request | None = None
        self._on_stop: Callable[[], None] = lambda: None
        self._parts: list[str] = []
        self._saved: Any = None
        self._saved_at = 0.0
        self._started: float | None = None  # time.monotonic() when the question left
        self._held = False  # the answer-so-far output is still empty, for the view to come up first
        self._view: Any = None
        self._handle: Any = None
        self._timer: asyncio.TimerHandle | None = None
        self._status = "waiting"
        self._retry: dict[str, Any] = {}
        self._blocks: dict[str, dict[str, Any]] = {}  # tool-call and thinking blocks by id, for a view made later
        self._thinking: dict[str, list[str]] = {}  # each thinking phase's text, by its block's id
        self._id = uuid.uuid4().hex[:16]  # names the text-so-far output, for pages that open the notebook later

    def start(self, request: Request, on_stop: Callable[[], None]) -> None:
        self._request, self._on_stop = request, on_stop
        self._started = time.monotonic()
        try:
            self._timer = asyncio.get_running_loop().call_later(LIVE_AFTER, self._go_live)
        except RuntimeError:  # no loop runs this stream: nothing would call the timer
            self._go_live()

    def place(self, model: str) -> None:
        """Show the answer-so-far output now, while the asking cell still runs: a background
        answer's cell ends at once, and output shown after it would reach no cell."""
        self._request = self._request or Request(model, ())
        self._save()

    def retrying(self, retry: Retry | None) -> None:
        if retry is None:  # a request is sent: after a retry's wait, the view waits for it again
            if self._status == "retrying":
                self._set_status("waiting")
        else:
            self._retry = retry_status(retry)
            if self._view is not None:
                self._view.retry = self._retry
            self._set_status("retrying")
            if self._view is None:
                self._go_live()  # a wait for a retry is long enough to show

    def delta(self, text: str) -> None:
        self._parts.append(text)
        if self._view is None:
            self._go_live()  # sends the text so far, this delta included
        else:
            self._view.push(text)
        if time.monotonic() - self._saved_at >= SAVE_INTERVAL:
            self._refresh()

    def streaming(self) -> None:
        self._set_status("streaming")

    def tool(self, run: ToolRun) -> None:
        self._block(tool_calls.view_message(run))

    def thought(self, thought: Thought) -> None:
        self._thinking.setdefault(thought.key, [])
        self._block(thinking.view_message(thought))

    def think(self, text: str) -> None:
        key = next(reversed(self._thinking))
        self._thinking[key].append(text)
        if self._view is not None:
            self._view.think(key, text)

    def _block(self, message: dict[str, Any]) -> None:
        self._blocks[message["id"]] = message
        if self._view is None:
            self._go_live()  # a call or a thought is worth showing at once; the view is given every block
        else:
            self._view.block(message)

    async def approve(self, run: ToolRun) -> bool:
        """Run / Skip in the view; where no frontend runs it (nbclient) no one can say yes: Skip."""
        if self._view is None:
            self._go_live()
        return False if self._view is None else await self._view.ask(run.key)

    def _set_status(self, status: str) -> None:
        """The view's status, kept until there is a view to show it."""
        self._status = status
        if self._view is not None:
            self._view.status = status

    def status(self, state: str) -> None:
        """Say what the answer waits for before its first token (an earlier answer, say)."""
        self._set_status(state)

    def finish(self, result: Result) -> None:
        self._held = False  # what the view's "ready" would have shown is not wanted now
        if self._timer is not None:
            self._timer.cancel()
        if not result.text and not result.tool_calls and not result.reasoning and result.exception is not None:
            # nothing to show; the error line says it all. Failed before anything was shown
            # (a bad key): there is no output at all; else each one is emptied (no data:
            # frontends show nothing for it, not even a blank line)
            if self._saved is not None:
                self._saved.update({}, raw=True)
            if self._view is not None:
                self._handle.update({}, raw=True)
                self._close_view("")
            return
        data, metadata = render.bundle(result, fmt=self._fmt)
        if self._view is None:
            if self._saved is None:  # done before anything was shown
                from IPython.display import display

                display(data, metadata=metadata, raw=True)
            else:
                self._saved.update(data, metadata=metadata, raw=True)
            return
        self._saved.update({}, raw=True)  # no data: frontends show nothing for it, not even a blank line
        self._handle.update(data, metadata=metadata, raw=True)
        self._close_view(data["text/html"])

    def _close_view(self, final_html: str) -> None:
        """Close the live view, once a page that opened the notebook mid-stream can show the end.

        After the display updates: the page that ran the cell has then emptied its text so
        far, so only other pages still hold it (:meth:`.widget.ViewAnchor.ended`).
        """
        from .widget import anchor

        anchor().ended(self._id, final_html)
        self._view.close_once_initialized()

    def _go_live(self) -> None:
        from IPython.display import display

        from .widget import FRONTEND, StreamView

        self._timer = None
        if self._view is not None or self._request is None or not FRONTEND.is_set():
            self._save()  # no view follows: the answer so far is what the cell shows
            return
        # the answer so far comes first (what a notebook saved mid-stream holds), but empty until
        # the view has rendered and hides it: shown while the view comes up, it would flash
        self._save(held=True)
        try:  # "ready" may be handled on a comm subshell's thread: the reveal runs on this loop
            loop = asyncio.get_running_loop()
            on_ready: Callable[[], object] = lambda: loop.call_soon_threadsafe(self._reveal)  # noqa: E731
        except RuntimeError:  # no loop: the reveal waits for the next refresh
            on_ready = lambda: None  # noqa: E731
        view = StreamView(
            on_stop=self._on_stop,
            on_ready=on_ready,
            started=self._started,
            model_label=self._request.model,
            format=self._fmt,
            status=self._status,
            retry=self._retry,
        )
        if self._parts:
            view.push("".join(self._parts))
        for message in self._blocks.values():
            view.block(message)
            if message["id"] in self._thinking:
                view.think(message["id"], "".join(self._thinking[message["id"]]))
        self._view = view
        self._handle = display(view, display_id=True)

    def _refresh(self) -> None:
        self._saved_at, self._held = time.monotonic(), False
        self._save().update(self._so_far(), raw=True)

    def _reveal(self) -> None:
        """A page has rendered the view, which hides the answer so far: it may hold text now."""
        if self._held:
            self._refresh()

    def _save(self, held: bool = False) -> Any:
        """The answer-so-far output, shown the first time the answer is worth showing.

        Not at start: a question that fails at once leaves no output at all. ``held``: it
        holds no data yet (a frontend shows nothing for it) until a page has rendered the
        view, or :data:`SAVE_INTERVAL` passed.
        """
        if self._saved is None:
            from IPython.display import display

            self._held = held
            self._saved = display({} if held else self._so_far(), raw=True, display_id=True)
            self._saved_at = time.monotonic()
        return self._saved

    def _so_far(self) -> dict[str, str]:
        """The answer so far as static output, marked so the live view after it can hide it.

        Its markdown source in one ``<pre>``, not rendered: every page showing the
        notebook re-renders this output at each refresh, so it must cost little
        however long the answer grows, and the frontend must find no math in it.
        """
        text = "".join(self._parts)
        model = self._request.model if self._request else ""
        note = "still answering when this notebook was saved" if text else "waiting for the first token…"
        foot = f'<div class="llmring-footer" style="{render.FOOTER_STYLE}">{html.escape(f"{model} · {note}")}</div>'
        body = render.answer_html(text, "text") if text else ""
        return {
            # the answer's id as a class: the one attribute JupyterLab's sanitiser keeps in an untrusted notebook
            "text/html": f'<div class="llmring-so-far llmring-so-far-{self._id} tex2jax_ignore mathjax_ignore">'
            f"{body}{foot}</div>",
            "text/plain": f"{text}\n\n— {model} · {note}",
        }


class TerminalOutput(Quiet):
    """Prints the answer as it arrives, then its footer: terminal IPython has no widgets
    (and Ctrl-C is its Stop button)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._out = stream or sys.stdout
        self._thought: dict[str, bool] = {}  # the thinking phases printed, by key: whether ended

    def retrying(self, retry: Retry | None) -> None:
        if retry is not None:
            self._out.write(f"[{retry_line(retry)}]\n")
            self._out.flush()

    def delta(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def thought(self, thought: Thought) -> None:
        """A phase's first line as it begins, its last when it ends; later updates (its tokens)
        are left to the footer: printed text cannot change."""
        if thought.key in self._thought:
            if self._thought[thought.key]:
                return
            self._out.write(f"\n💭 {thought.label()}\n\n")
        elif thought.at_end:
            self._out.write(f"\n{thinking.block_text(thought)}\n\n")
        else:
            self._out.write("💭 Thinking…\n")  # its text follows as it comes
        self._thought[thought.key] = thought.seconds is not None or thought.at_end
        self._out.flush()

    def think(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def tool(self, run: ToolRun) -> None:
        if run.status in ("done", "error", "skipped", "cancelled"):
            self._out.write(f"\n{tool_calls.block_text(run)}\n")
            self._out.flush()

    async def approve(self, run: ToolRun) -> bool:
        """A y/n prompt: terminal IPython has no buttons."""
        answer = await asyncio.to_thread(input, f"\nRun {tool_calls.signature(run)}? [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    def finish(self, result: Result) -> None:
        if result.text or result.tool_calls or result.exception is None:
            self._out.write(f"\n\n— {render.footer_text(result)}\n")
            self._out.flush()
