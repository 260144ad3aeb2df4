"""The client side: a real kernel (tests/kernel_session.py) whose IOPub frames are weighed.

Bytes are the sum of the ZMQ frames' lengths of each IOPub message as the
client received it (topic, delimiter, HMAC signature, header, parent header,
metadata, content, buffers): what actually crossed the socket. Receive time
is ``time.time()`` right after ``recv_multipart``, before deserialising.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import probe  # only its cell-text helpers run client-side
from _paths import BENCH
from kernel_session import Execution, Kernel, Msg


def _weigh(kernel: Kernel) -> None:
    """Make the kernel client stamp each IOPub message with its wire size and arrival time."""
    channel = kernel.kc.iopub_channel

    def recv(**kwargs: Any) -> dict[str, Any]:
        frames = channel.socket.recv_multipart(**kwargs)
        arrived = time.time()
        _ident, signed = channel.session.feed_identities(frames)
        msg = channel.session.deserialize(signed)
        msg["wire"] = {"bytes": sum(len(f) for f in frames), "t": arrived}
        return msg

    channel._recv = recv


def _as_view(msg: Msg, kernel: Kernel) -> None:
    """Behave as the browser view does once it has rendered: say ready from its synced text."""
    if msg["msg_type"] == "comm_open":
        state = msg["content"]["data"].get("state", {})
        if state.get("_model_name") == "AnyModel":
            kernel.send_custom(msg["content"]["comm_id"], {"kind": "ready", "length": len(state.get("text", ""))})


class BenchKernel:
    """A fresh kernel with the extension and the probe loaded, and weighed IOPub."""

    def __init__(self, *, view: bool = True) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="llmring-bench-")
        self.kernel = Kernel(cwd=Path(self._dir.name))
        _weigh(self.kernel)
        self._view = view

    def setup(self, load_ext: bool = True, install: bool = True) -> Execution:
        return self.must(probe.setup_code(str(BENCH), load_ext, install))

    def rss(self) -> int:
        """The kernel's resident set size now, in bytes."""
        return int(self.must("print(probe.rss())").stdout)

    def run(self, code: str, timeout: float = 600) -> tuple[Execution, float]:
        """Run a cell as a frontend would; also return the time the request left the client."""
        sent = time.time()
        return self.kernel.run(code, timeout=timeout, during=_as_view if self._view else None), sent

    def must(self, code: str, timeout: float = 600) -> Execution:
        run, _ = self.run(code, timeout)
        if not run.ok:
            raise RuntimeError(f"benchmark cell failed:\n{code}\n{run.error}")
        return run

    def report(self) -> dict[str, Any]:
        """What the probe recorded for the previous cell: chunk times, CPU, RSS."""
        path = Path(self._dir.name) / "report.json"
        self.must(f"probe.report({str(path)!r})")
        return json.loads(path.read_text())

    def close(self) -> None:
        self.kernel.close()
        self._dir.cleanup()

    def __enter__(self) -> BenchKernel:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
