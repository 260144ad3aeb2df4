"""The live view of one streaming answer: an anywidget.

Only deltas travel to the browser (custom messages ``{kind: "delta", at,
text}``), so an answer costs bytes in proportion to its length, not its
square. The synced ``text`` trait is a catch-up snapshot for views that render
late; it is refreshed only until the browser says it is ready.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

_STATIC = Path(__file__).parent / "static"

#: Refresh the synced snapshot this often until the view reports it is ready
#: (only needed where the kernel cannot handle the view's messages mid-cell).
SNAPSHOT_INTERVAL = 1.0


class StreamView(anywidget.AnyWidget):
    _esm = _STATIC / "view.js"
    _css = _STATIC / "view.css"

    text = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("waiting").tag(sync=True)
    model_label = traitlets.Unicode("").tag(sync=True)
    stop_supported = traitlets.Bool(True).tag(sync=True)

    def __init__(self, *, on_stop: Callable[[], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._answer: list[str] = []
        self._length = 0
        self._on_stop = on_stop
        self._ready = False
        self._snapshot_at = 0.0
        self.on_msg(self._handle)

    @property
    def answer(self) -> str:
        return "".join(self._answer)

    def push(self, delta: str) -> None:
        """Send one (coalesced) delta to the browser."""
        at = self._length
        self._answer.append(delta)
        self._length += len(delta)
        self.send({"kind": "delta", "at": at, "text": delta})
        if not self._ready and time.monotonic() - self._snapshot_at >= SNAPSHOT_INTERVAL:
            self._snapshot_at = time.monotonic()
            self.text = self.answer

    def close(self) -> None:
        """Close the view and its ``layout`` child, which ipywidgets would leave open (one comm per cell)."""
        self.layout.close()
        super().close()

    def _handle(self, _widget: Any, content: dict[str, Any], _buffers: list[bytes]) -> None:
        kind = content.get("kind") if isinstance(content, dict) else None
        if kind == "ready":
            self._ready = True
            at = int(content.get("length") or 0)
            if 0 <= at < self._length:
                self.send({"kind": "delta", "at": at, "text": self.answer[at:]})
        elif kind == "stop" and self._on_stop is not None:
            self._on_stop()
