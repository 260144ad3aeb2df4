"""A real Jupyter kernel driven over ZMQ, as a frontend drives it.

Tests send cells and comm messages and read back every IOPub message: what
the kernel really sent to the browser, not what our code says it sent.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel
from jupyter_core.utils import ensure_event_loop
from kernel_guard import check

Msg = dict[str, Any]


def _is_anchor(state: dict[str, Any]) -> bool:
    """The kernel's view anchor: a view model (it has the view's id) with no status."""
    return "view_id" in state and "status" not in state


@dataclass
class Execution:
    reply: Msg
    messages: list[Msg] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        status: str = self.reply["content"]["status"]
        return status == "ok"

    @property
    def error(self) -> str:
        """The error the user sees: ename, evalue and the rendered traceback lines."""
        c = self.reply["content"]
        return "\n".join([f"{c.get('ename')}: {c.get('evalue')}", *c.get("traceback", [])])

    @property
    def stdout(self) -> str:
        return self._stream("stdout")

    @property
    def stderr(self) -> str:
        return self._stream("stderr")

    def _stream(self, name: str) -> str:
        return "".join(m["content"]["text"] for m in self.of("stream") if m["content"]["name"] == name)

    def of(self, msg_type: str) -> list[Msg]:
        return [m for m in self.messages if m["msg_type"] == msg_type]

    @property
    def deltas(self) -> list[dict[str, Any]]:
        """The custom messages the live view received, in order."""
        out = []
        for m in self.of("comm_msg"):
            data = m["content"]["data"]
            if data.get("method") == "custom":
                out.append(data["content"])
        return out

    @property
    def final(self) -> Msg:
        """The content of the last display update: the static answer that replaced the view."""
        updates = self.of("update_display_data")
        assert updates, "the live view was never replaced by a static answer"
        content: Msg = updates[-1]["content"]
        return content

    @property
    def answers(self) -> list[Msg]:
        """The static answers that replaced a live view, in order (not the refreshes of the
        answer-so-far output that a notebook saved mid-stream holds)."""
        return [
            m["content"]
            for m in self.of("update_display_data")
            if m["content"]["data"].get("text/plain")
            and "llmring-so-far" not in m["content"]["data"].get("text/html", "")
        ]

    @property
    def widget_comms(self) -> tuple[set[str], set[str]]:
        opened = {
            m["content"]["comm_id"]
            for m in self.of("comm_open")
            if m["content"]["data"].get("state", {}).get("_model_name") == "AnyModel"
        }
        closed = {m["content"]["comm_id"] for m in self.of("comm_close")}
        return opened, closed

    @property
    def answer_comms(self) -> tuple[set[str], set[str]]:
        """Every comm the cell opened (the view and its children) and closed, except the one
        comm per kernel that stays open on purpose (llmring_jupyter.view.widget.ViewAnchor)."""
        opened = {
            m["content"]["comm_id"]
            for m in self.of("comm_open")
            if not _is_anchor(m["content"]["data"].get("state", {}))
        }
        closed = {m["content"]["comm_id"] for m in self.of("comm_close")}
        return opened, closed


class Kernel:
    def __init__(
        self,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        log: Path | None = None,
        *,
        frontend: bool = True,
    ) -> None:
        """``log``: a file that receives everything the kernel process writes to its own
        stdout and stderr (its log lines, warnings, crashes), not the cells' output.

        ``frontend``: answer each view model's creation with "initialized", as the
        browser's widget manager does; without it the kernel behaves as under nbclient."""
        check("a kernel")
        self.frontend = frontend
        kernel_env = {**os.environ, **(env or {})}
        self._ours: set[str] = set()
        self._greetings: dict[str, str] = {}  # the "initialized" messages sent as a frontend: msg id -> comm id
        self.elsewhere: list[Msg] = []  # IOPub messages of other cells (background answers), as they came
        self._log = open(log, "ab") if log is not None else None  # noqa: SIM115 - closed in close()
        redirect: dict[str, Any] = {"stdout": self._log, "stderr": self._log} if self._log else {}
        self.km, self.kc = start_new_kernel(
            kernel_name="python3", cwd=str(cwd or Path.cwd()), env=kernel_env, **redirect
        )

    def run(
        self,
        code: str,
        *,
        timeout: float = 60,
        cell_id: str | None = None,
        during: Callable[[Msg, Kernel], None] | None = None,
        tick: Callable[[Kernel], None] | None = None,
    ) -> Execution:
        """Execute a cell; ``during`` sees each IOPub message as it arrives (to click Stop, say),
        and ``tick`` is called whenever 20 ms pass without one (to act at a chosen moment).

        ``cell_id`` is sent as JupyterLab sends it, in the request's metadata.
        """
        msg_id = self._execute(code, cell_id)
        self._ours = {msg_id}  # replies to comm messages we send are this cell's output too
        execution = Execution(reply={})
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                msg = self.kc.get_iopub_msg(timeout=max(0.01, min(remaining, 0.02) if tick else remaining))
            except queue.Empty:
                if tick is not None and time.monotonic() < deadline:
                    tick(self)
                    continue
                raise TimeoutError(f"cell did not finish within {timeout} s: {code[:80]!r}") from None
            if (
                self.frontend
                and msg["msg_type"] == "comm_open"
                and "view_id" in msg["content"]["data"].get("state", {})
            ):
                # What the kernel sends back is not this cell's output (JupyterLab shows none of it);
                # close() checks it for faults.
                comm_id = msg["content"]["comm_id"]
                self._greetings[self.send_custom(comm_id, {"kind": "initialized"}, ours=False)] = comm_id
            if msg["parent_header"].get("msg_id") not in self._ours:
                self.elsewhere.append(msg)
                continue
            execution.messages.append(msg)
            if during is not None:
                during(msg, self)
            if (
                msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"
                and msg["parent_header"]["msg_id"] == msg_id
            ):
                break
        while True:
            reply = self.kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                execution.reply = reply
                return execution

    def later(self, source: Execution | str, until: Callable[[Execution], bool], timeout: float = 60) -> Execution:
        """A finished cell's output including what arrived after its reply (a background
        answer's), once ``until`` holds for it; other cells' messages stay in ``elsewhere``.
        ``source`` may also be the id of a message sent with :meth:`send_custom` (a click)."""
        if isinstance(source, str):
            msg_id, execution = source, Execution(reply={})
        else:
            msg_id, execution = source.reply["parent_header"]["msg_id"], source
        deadline = time.monotonic() + timeout
        while True:
            now = Execution(execution.reply, [*execution.messages, *self._of(msg_id)])
            if until(now):
                return now
            if time.monotonic() > deadline:
                raise TimeoutError(f"the output of {msg_id} did not reach the expected state in {timeout} s")
            try:
                self.elsewhere.append(self.kc.get_iopub_msg(timeout=0.05))
            except queue.Empty:
                pass

    def _of(self, msg_id: str) -> list[Msg]:
        return [m for m in self.elsewhere if m["parent_header"].get("msg_id") == msg_id]

    def wait_closed(self, opened: set[str], closed: set[str], timeout: float = 10) -> None:
        """Wait until every comm of ``opened`` is closed (``closed``: those a cell's own output closed), in
        reply to whatever closed it: a view that ended moments after it opened closes when the
        frontend's "initialized" arrives (or ``INIT_GRACE`` on), so its ``comm_close`` may come after the
        cell, parented by that message."""
        deadline = time.monotonic() + timeout
        while not opened <= closed | {m["content"]["comm_id"] for m in self.elsewhere if _is(m, "comm_close")}:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the live views {sorted(opened - closed)} were not closed in {timeout} s")
            try:
                self.elsewhere.append(self.kc.get_iopub_msg(timeout=0.05))
            except queue.Empty:
                pass

    def _execute(self, code: str, cell_id: str | None) -> str:
        if cell_id is None:
            msg_id: str = self.kc.execute(code)
            return msg_id
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        msg = self.kc.session.msg("execute_request", content, metadata={"cellId": cell_id})
        self.kc.shell_channel.send(msg)
        sent: str = msg["header"]["msg_id"]
        return sent

    def send_custom(self, comm_id: str, content: dict[str, Any], *, ours: bool = True) -> str:
        """What the view's ``model.send(content)`` puts on the wire; returns the message's id.

        ``ours``: what the kernel sends in reply counts as the running cell's output."""
        msg = self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": content}})
        self.kc.shell_channel.send(msg)
        if ours:
            self._ours.add(msg["header"]["msg_id"])
        return str(msg["header"]["msg_id"])

    def run_answering(self, code: str, answer: Callable[[Msg], str], **kw: Any) -> tuple[Execution, list[Msg]]:
        """Execute a cell that asks for input (``input()``, ``getpass``), answering each
        ``input_request`` on the stdin channel as a frontend does; also returns the requests."""
        requests: list[Msg] = []
        done = threading.Event()

        def serve() -> None:  # the cell blocks until answered: no IOPub to wait on meanwhile
            try:
                while not done.is_set():
                    try:
                        msg = self.kc.get_stdin_msg(timeout=0.1)
                    except queue.Empty:
                        continue
                    requests.append(msg)
                    self.kc.input(answer(msg))
            finally:
                ensure_event_loop().close()  # the one jupyter_client's blocking calls made for this thread

        thread = threading.Thread(target=serve, name="stdin", daemon=True)
        thread.start()
        try:
            return self.run(code, **kw), requests
        finally:
            done.set()
            thread.join(5)

    def interrupt(self) -> None:
        self.km.interrupt_kernel()

    def close(self) -> None:
        """Shut the kernel down; fails if handling an "initialized" it was sent raised or wrote to stderr.

        The one line allowed is the race a real frontend meets too: a short answer's view
        closed (after ``INIT_GRACE``) before its "initialized" arrived, and the kernel's comm
        manager says "No such comm"."""
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)
        if self._log is not None:
            self._log.close()
        faults = []
        for m in self.elsewhere:
            comm_id, c = self._greetings.get(m["parent_header"].get("msg_id", "")), m["content"]
            if comm_id is None:
                continue
            if m["msg_type"] == "error":  # ipywidgets shows a failing message handler's traceback
                faults.append(f"{c['ename']}: {c['evalue']}")
            elif m["msg_type"] == "stream" and c["name"] == "stderr" and c["text"] != f"No such comm: {comm_id}\n":
                faults.append(c["text"])
        assert not faults, f"the kernel failed to handle a view's 'initialized': {faults}"


def _is(msg: Msg, kind: str) -> bool:
    return bool(msg["header"]["msg_type"] == kind)
