"""The client side: a real kernel (tests/kernel_session.py) whose IOPub frames are weighed.

Bytes are the sum of the ZMQ frames' lengths of each IOPub message as the
client received it (topic, delimiter, HMAC signature, header, parent header,
metadata, content, buffers): what actually crossed the socket.

Arrival times come from a second IOPub subscriber on its own thread that does
nothing but stamp each message (``time.time()`` right after ``recv_multipart``),
so they do not include the time the client spends acting on earlier messages
(answering the view's comm_open, say). The client's GIL switch interval is
lowered so that thread is not kept waiting by the client's own work.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import probe  # only its cell-text helpers run client-side
import zmq
from _paths import BENCH
from kernel_session import Execution, Kernel, Msg


def _weigh(kernel: Kernel) -> None:
    """Make the kernel client record each IOPub message's wire size."""
    channel = kernel.kc.iopub_channel

    def recv(**kwargs: Any) -> dict[str, Any]:
        frames = channel.socket.recv_multipart(**kwargs)
        _ident, signed = channel.session.feed_identities(frames)
        msg: dict[str, Any] = channel.session.deserialize(signed)
        msg["wire"] = {"bytes": sum(len(f) for f in frames)}
        return msg

    channel._recv = recv


class ArrivalClock(threading.Thread):
    """Stamps every IOPub message of the kernel when it reaches this process (msg_id → time)."""

    def __init__(self, kernel: Kernel) -> None:
        super().__init__(name="arrival-clock", daemon=True)
        self.arrived: dict[str, float] = {}
        self._socket: zmq.Socket[bytes] = zmq.Context.instance().socket(zmq.SUB)
        self._socket.setsockopt(zmq.SUBSCRIBE, b"")
        self._socket.connect(kernel.kc._make_url("iopub"))
        self._done = threading.Event()
        self.start()

    def run(self) -> None:
        while not self._done.is_set():
            if self._socket.poll(50):
                frames = self._socket.recv_multipart()
                arrived = time.time()
                header = frames[frames.index(b"<IDS|MSG>") + 2]
                self.arrived[json.loads(header)["msg_id"]] = arrived
        self._socket.close(linger=0)

    def stamp(self, messages: list[Msg], timeout: float = 5.0) -> None:
        """Give each message its arrival time (``msg["wire"]["t"]``)."""
        deadline = time.monotonic() + timeout
        for m in messages:
            msg_id = m["header"]["msg_id"]
            while msg_id not in self.arrived and time.monotonic() < deadline:
                time.sleep(0.001)
            m["wire"]["t"] = self.arrived[msg_id]
        self.arrived.clear()  # what is left is from before these messages

    def close(self) -> None:
        self._done.set()
        self.join(5)


class BenchKernel:
    """A fresh kernel with the extension and the probe loaded, and weighed IOPub."""

    def __init__(self, *, view: bool = True) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="llmring-bench-")
        self.kernel = Kernel(cwd=Path(self._dir.name))
        _weigh(self.kernel)
        sys.setswitchinterval(1e-4)  # see the module's docstring
        self._clock = ArrivalClock(self.kernel)
        while not self._clock.arrived:  # subscribed once it hears a cell
            self.kernel.run("pass")

        self._view = view
        self._page_has_module = False

    def _as_view(self, msg: Msg, kernel: Kernel) -> None:
        """Behave as the browser view does once rendered: the first view of the page asks for
        the view's module (later ones reuse it), then each says ready from its synced text."""
        state = msg["content"]["data"].get("state", {}) if msg["msg_type"] == "comm_open" else {}
        if state.get("_model_name") != "AnyModel":
            return
        comm = msg["content"]["comm_id"]
        if not self._page_has_module:
            kernel.send_custom(comm, {"kind": "module"})
            self._page_has_module = True
        kernel.send_custom(comm, {"kind": "ready", "length": len(state.get("text", ""))})

    def setup(self, load_ext: bool = True, install: bool = True) -> Execution:
        return self.must(probe.setup_code(str(BENCH), load_ext, install))

    def rss(self) -> int:
        """The kernel's resident set size now, in bytes."""
        return int(self.must("print(probe.rss())").stdout)

    def run(self, code: str, timeout: float = 600) -> tuple[Execution, float]:
        """Run a cell as a frontend would; also return the time the request left the client."""
        sent = time.time()
        run = self.kernel.run(code, timeout=timeout, during=self._as_view if self._view else None)
        self._clock.stamp(run.messages)
        return run, sent

    def must(self, code: str, timeout: float = 600) -> Execution:
        run, _ = self.run(code, timeout)
        if not run.ok:
            raise RuntimeError(f"benchmark cell failed:\n{code}\n{run.error}")
        return run

    def report(self) -> dict[str, Any]:
        """What the probe recorded for the previous cell: chunk times, CPU, RSS."""
        path = Path(self._dir.name) / "report.json"
        self.must(f"probe.report({str(path)!r})")
        report: dict[str, Any] = json.loads(path.read_text())
        return report

    def close(self) -> None:
        self._clock.close()
        self.kernel.close()
        self._dir.cleanup()

    def __enter__(self) -> BenchKernel:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
