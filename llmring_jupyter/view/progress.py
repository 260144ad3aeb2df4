"""The one view of a ``--map`` run: counts, pace, cost and a Stop button; then a static summary.

A small anywidget of its own (its script is inline: a few lines that write text, never HTML), updated
a few times a second with the run's :class:`~.answer.mapping.Tally`. When the run ends, the same
output becomes the static summary and preview table of :mod:`.render.map_summary`, and the widget
is closed. Where no frontend runs views (nbclient, papermill) only the summary is shown; in a
terminal, a line.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

import anywidget
import traitlets

from ..answer.mapping import Tally
from ..map_result import MapResult
from ..render.map_summary import map_bundle, summary_line

_ESM = """
function line(s) {
  const total = s.total == null ? "?" : s.total.toLocaleString();
  const parts = [`${s.done.toLocaleString()} / ${total} rows`, `${s.running} running`];
  if (s.failed) parts.push(`${s.failed} failed`);
  if (s.replayed) parts.push(`${s.replayed} replayed`);
  parts.push(`${s.rate} rows/s`);
  if (s.eta != null) parts.push(`ETA ${s.eta} s`);
  parts.push(`${s.tokens.toLocaleString()} tokens`);
  if (s.cost) parts.push(s.cost);
  if (s.waiting) parts.push(`${s.waiting} retries waiting`);
  if (s.rate_limited) parts.push(`${s.rate_limited} rate-limited`);
  return `${s.model} · ` + parts.join(" · ");
}
function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "llmring-map-progress";
  box.style.cssText = "font-size:12px;display:flex;gap:8px;align-items:center;padding:2px 0";
  const bar = document.createElement("progress");
  const text = document.createElement("span");
  const stop = document.createElement("button");
  stop.textContent = "Stop";
  stop.className = "llmring-map-stop";
  stop.onclick = () => { stop.disabled = true; model.send({ kind: "stop" }); };
  box.append(bar, text, stop);
  el.append(box);
  const draw = () => {
    const s = model.get("state");
    if (!s || s.done == null) return;
    text.textContent = line(s);
    if (s.total) { bar.max = s.total; bar.value = s.done; } else { bar.removeAttribute("value"); }
  };
  model.on("change:state", draw);
  draw();
}
export default { render };
"""


class ProgressWidget(anywidget.AnyWidget):
    _esm = _ESM
    state = traitlets.Dict({}).tag(sync=True)

    def __init__(self, on_stop: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_stop = on_stop
        self.on_msg(self._receive)

    def _receive(self, _widget: Any, content: dict[str, Any], _buffers: list[bytes]) -> None:
        if isinstance(content, dict) and content.get("kind") == "stop":
            self._on_stop()

    def __repr__(self) -> str:  # what a notebook saved mid-run holds for this output
        return "(progress of a --map run)"


class WidgetProgress:
    """A map's :class:`~.answer.mapping.Progress` in a notebook: the live widget, then the summary."""

    def __init__(self) -> None:
        self._view: ProgressWidget | None = None
        self._handle: Any = None

    def start(self, tally: Tally, stop: Callable[[], None]) -> None:
        from IPython.display import display

        from .widget import FRONTEND

        if FRONTEND.is_set():
            self._view = ProgressWidget(stop, state=tally.to_dict())
            self._handle = display(self._view, display_id=True)

    def update(self, tally: Tally) -> None:
        if self._view is not None:
            self._view.state = tally.to_dict()

    def finish(self, result: MapResult, tally: Tally) -> None:
        from IPython.display import display

        data = map_bundle(result, tally.model)
        if self._view is None:
            display(data, raw=True)
            return
        self._handle.update(data, raw=True)
        self._view.close()


class TerminalProgress:
    """A map's progress in a terminal: one line at the end (Ctrl-C is the Stop button)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._out = stream or sys.stdout

    def start(self, tally: Tally, stop: Callable[[], None]) -> None:
        pass

    def update(self, tally: Tally) -> None:
        pass

    def finish(self, result: MapResult, tally: Tally) -> None:
        print(f"{tally.model} · map · {summary_line(result)}", file=self._out)
