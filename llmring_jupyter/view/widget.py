"""The live view of one streaming answer: an anywidget.

Only deltas travel to the browser (custom messages ``{kind: "delta", at,
text}``), so an answer costs bytes in proportion to its length, not its
square. The synced ``text`` trait is a catch-up snapshot for views that render
late; it is refreshed only until the browser says it is ready.

The view's module (``static/view.js``, ~500 KB with KaTeX) is not sent with every widget:
each widget carries ``static/loader.js``, which asks for the module once per
page (``{kind: "module"}``) and reuses it for every later answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import anywidget
import traitlets
from IPython import get_ipython

_STATIC = Path(__file__).parent.parent / "static"

#: Refresh the synced snapshot this often until the view reports it is ready
#: (only needed where the kernel cannot handle the view's messages mid-cell).
SNAPSHOT_INTERVAL = 1.0
#: How long after it opened a view may wait for the frontend to have made its model before closing.
INIT_GRACE = 0.3
#: The ended answers whose final HTML the anchor keeps for pages that open the notebook later:
#: the most recent ones, at most this many and about this many characters in all.
KEPT_FINALS = 32
KEPT_FINALS_CHARS = 4_000_000


@cache  # the kernel's version does not change while it runs
def messages_reach_running_cells() -> bool:
    """Whether the kernel handles widget messages while an awaiting cell runs.

    ipykernel 7.4 does. Older kernels (Colab's among them) handle them only
    after the cell, or only through JupyterLab's comm subshells. There the
    Stop button is disabled (the view points to the kernel interrupt, which
    always works) and each widget carries the whole view module, since its
    request for the module would be answered only after the answer ended.
    """
    try:
        major, minor, *_ = (int(p) for p in version("ipykernel").split(".")[:2])
    except (ValueError, PackageNotFoundError):  # no ipykernel, or a version we cannot read
        return False
    return (major, minor) >= (7, 4)


@cache
def view_module() -> tuple[str, str]:
    """The view's ES module and its hash, which names it in the browser's cache."""
    code = (_STATIC / "view.js").read_text(encoding="utf-8")
    return code, hashlib.sha256(code.encode()).hexdigest()[:16]


def _let_iopub_send(timeout: float = 0.005) -> None:
    """Wait (at most ``timeout``) until the kernel's IOPub thread has sent what it was handed.

    Messages leave through that thread, which needs the GIL at each step. When
    chunks arrive in a burst our thread keeps the GIL busy, and the first token
    would wait up to the interpreter's 5 ms switch interval at every step.
    """
    thread = getattr(getattr(get_ipython(), "kernel", None), "iopub_thread", None)
    if thread is None or not hasattr(thread, "schedule"):
        return
    sent = threading.Event()
    thread.schedule(sent.set)  # runs after the sends queued before it
    sent.wait(timeout)


#: Set once a frontend has run a view model's JavaScript in this kernel (the loader says
#: ``{kind: "initialized"}`` when a model is created). Where nothing ever runs it (nbclient,
#: papermill, nbconvert), no live view is made: its state would only end up in the notebook.
FRONTEND = threading.Event()


class _ViewModel(anywidget.AnyWidget):
    """What every model of ours answers: the view's module on request, and "initialized"."""

    _esm = _STATIC / "loader.js"
    view_id = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(view_id=view_module()[1], **kwargs)
        self.initialized = threading.Event()
        self.on_msg(self._receive)

    def _receive(self, _widget: Any, content: dict[str, Any], _buffers: list[bytes]) -> None:
        kind = content.get("kind") if isinstance(content, dict) else None
        if kind == "initialized":
            self.initialized.set()
            FRONTEND.set()
            self._attached()
        elif kind == "module":
            self.send({"kind": "module", "code": view_module()[0]})
        else:
            self._handle(kind, content)

    def _attached(self) -> None:
        """A page has made this model."""

    def _handle(self, kind: Any, content: dict[str, Any]) -> None:
        pass


class ViewAnchor(_ViewModel):
    """One model with no view per kernel, open until the kernel ends, made when the extension loads.

    JupyterLab (4.4+, with ipykernel 7) handles widget messages on a kernel
    subshell per comm target: created when the target's first comm opens,
    deleted when its last one closes. Opened before the first answer, the
    subshell is made then (its "idle" status would otherwise show the kernel
    Idle during the first answer), no answer creates or deletes one (a view
    message arriving while it is deleted is dropped with an asyncio warning),
    the frontend fetches the view's module at once (the first answer shows its
    first token as quickly as later ones), and its "initialized" tells the
    kernel a frontend runs our views at all.

    It also brings ended answers to pages that opened the notebook while they
    streamed (a reload, a second tab). Such a page shows the text so far that
    the file held, and never gets the cell's later display updates: those
    reach only the page that ran the cell. Every page makes the anchor (the
    first one when it opens, later ones when they restore the kernel's
    widgets), so from the second page on the anchor sends each page the
    answers that have ended (:meth:`ended`), and ``loader.js`` puts each one
    in place of its text so far.
    """

    #: Says to ``loader.js`` that this model, alone, brings ended answers: only it listens for them,
    #: not every view on each of its deltas.
    anchor = traitlets.Bool(True).tag(sync=True)

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()  # pages attach on a comm subshell's thread
        self._pages = 0
        self._finals: OrderedDict[str, str] = OrderedDict()
        self._kept = 0  # characters of HTML in _finals

    def ended(self, answer: str, final_html: str) -> None:
        """Answer ``answer`` (its text-so-far output's ``llmring-so-far-<answer>`` class) ended as ``final_html``
        (``""`` for an answer that failed with nothing to show). Pages that attach later get it."""
        with self._lock:
            self._finals[answer] = final_html
            self._kept += len(final_html)
            while len(self._finals) > 1 and (len(self._finals) > KEPT_FINALS or self._kept > KEPT_FINALS_CHARS):
                self._kept -= len(self._finals.popitem(last=False)[1])  # the oldest goes first
            late = self._pages > 1
        if late:  # a page other than the one that ran the cell may hold its text so far
            self.send({"kind": "final", "answers": {answer: final_html}})

    def _attached(self) -> None:
        with self._lock:
            self._pages += 1
            finals = dict(self._finals) if self._pages > 1 else {}
        if finals:
            self.send({"kind": "final", "answers": finals})


@cache  # one per kernel
def anchor() -> ViewAnchor:
    return ViewAnchor()


def _settle(answer: asyncio.Future[bool], value: bool) -> None:
    if not answer.done():  # a second click, or one after Stop
        answer.set_result(value)


class StreamView(_ViewModel):
    text = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("waiting").tag(sync=True)
    retry = traitlets.Dict({}).tag(sync=True)  # while status is "retrying": reason, attempt, attempts, seconds
    model_label = traitlets.Unicode("").tag(sync=True)
    format = traitlets.Unicode("markdown").tag(sync=True)  # markdown, text, code or json (--schema / --json)
    stop_supported = traitlets.Bool(True).tag(sync=True)

    def __init__(
        self,
        *,
        on_stop: Callable[[], None] | None = None,
        on_ready: Callable[[], object] | None = None,
        started: float | None = None,
        **kwargs: Any,
    ) -> None:
        """``on_ready``: called once, when a page first renders the view (it then hides the
        answer-so-far output before it). ``started``: the answer's start (``time.monotonic()``),
        where a page's clock starts, however late the page renders the view."""
        anchor()
        live = messages_reach_running_cells()
        if not live:
            kwargs["_esm"] = view_module()[0]
        super().__init__(stop_supported=live, **kwargs)
        self._answer: list[str] = []
        self._length = 0
        self._on_stop = on_stop
        self._on_ready = on_ready
        self._ready = False
        self._snapshot_at = 0.0
        self._blocks: dict[str, dict[str, Any]] = {}  # tool-call and thinking blocks by id, re-sent on "ready"
        self._thinking: dict[str, list[str]] = {}  # each thinking block's text, re-sent on "ready"
        self._thought_length: dict[str, int] = {}
        self._asked: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[bool]]] = {}
        self._opened_at = time.monotonic()
        self._started = self._opened_at if started is None else started
        self._approving: dict[str, float] = {}  # blocks waiting for Run / Skip, since when
        self._approved = 0.0  # seconds spent waiting for them, which the clock leaves out
        self._closing: tuple[asyncio.AbstractEventLoop, asyncio.TimerHandle] | None = None  # a close scheduled

    def __repr__(self) -> str:  # the text/plain a notebook saved mid-stream holds for this output
        return f"(live view of an answer from {self.model_label or 'a model'}; its text is in the output above)"

    @property
    def answer(self) -> str:
        return "".join(self._answer)

    def push(self, delta: str) -> None:
        """Send one (coalesced) delta to the browser."""
        at = self._length
        self._answer.append(delta)
        self._length += len(delta)
        self.send({"kind": "delta", "at": at, "text": delta})
        if at == 0:
            _let_iopub_send()
        if not self._ready and time.monotonic() - self._snapshot_at >= SNAPSHOT_INTERVAL:
            self._snapshot_at = time.monotonic()
            self.text = self.answer

    def block(self, message: dict[str, Any]) -> None:
        """Show or update one tool-call block (js/tools.js) or thinking section (js/think.js);
        kept to catch up a late view."""
        self._blocks[message["id"]] = message
        self.send(message)

    def think(self, block: str, delta: str) -> None:
        """Send one (coalesced) delta of a thinking section's text; ``at`` is its offset in that text."""
        parts = self._thinking.setdefault(block, [])
        at = self._thought_length.get(block, 0)
        parts.append(delta)
        self._thought_length[block] = at + len(delta)
        self.send({"kind": "think", "id": block, "at": at, "text": delta})

    async def ask(self, block: str) -> bool:
        """Wait for the Run (True) or Skip (False) button of a block whose state is ``approve``."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bool] = loop.create_future()
        self._asked[block] = (loop, answer)
        self._approving[block] = time.monotonic()
        try:
            return await answer
        finally:
            self._asked.pop(block, None)
            self._approved += time.monotonic() - self._approving.pop(block)

    def _seconds(self) -> float:
        """How long the answer has run, without its waits for approval (the page's clock)."""
        now = time.monotonic()
        waits = self._approved + sum(now - since for since in self._approving.values())
        return max(0.0, now - self._started - waits)

    def close_once_initialized(self) -> None:
        """Close, once the frontend has made the model or :data:`INIT_GRACE` after it opened.

        Closed while the frontend still initialises it, anywidget logs "Failed to
        initialize model" in the browser's console. Only an answer that ended within
        moments of its view opening (a fault right after the first tokens) waits, and
        without blocking: the close is scheduled on the kernel's loop, which meanwhile
        goes on running other tasks and handling widget messages.
        """
        wait = INIT_GRACE - (time.monotonic() - self._opened_at)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop would run a scheduled close
            wait = 0
        if wait <= 0 or self.initialized.is_set() or not messages_reach_running_cells():
            self.close()
            return
        self._closing = (loop, loop.call_later(wait, self.close))
        if self.initialized.is_set():  # it came while the close was being scheduled
            loop.call_soon_threadsafe(self.close)

    def _attached(self) -> None:
        if self._closing is not None:  # this handler may run on a comm subshell's thread
            loop, _timer = self._closing
            loop.call_soon_threadsafe(self.close)

    def close(self) -> None:
        """Close the view and its ``layout`` child, which ipywidgets would leave open (one comm per cell)."""
        if self._closing is not None:
            self._closing[1].cancel()
        self.layout.close()
        super().close()

    def _handle(self, kind: Any, content: dict[str, Any]) -> None:
        if kind == "ready":
            if not self._ready and self._on_ready is not None:
                self._on_ready()
            self._ready = True
            self.send({"kind": "clock", "seconds": self._seconds()})
            at = int(content.get("length") or 0)
            if 0 <= at < self._length:
                self.send({"kind": "delta", "at": at, "text": self.answer[at:]})
            for message in self._blocks.values():
                self.send(message)
                if message["id"] in self._thinking:
                    self.send(
                        {"kind": "think", "id": message["id"], "at": 0, "text": "".join(self._thinking[message["id"]])}
                    )
        elif kind == "approve" and (asked := self._asked.get(str(content.get("id")))) is not None:
            loop, answer = asked  # this handler may run on a comm subshell's thread
            loop.call_soon_threadsafe(_settle, answer, content.get("run") is True)
        elif kind == "stop" and self._on_stop is not None:
            self._on_stop()
