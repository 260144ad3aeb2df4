"""Where an answer is shown: the live widget in a kernel, plain text in a terminal.

Both implement :class:`~.stream.Output`. The widget output ends by replacing
the live view, in the same output, with the static bundle from
:mod:`.render`, and closing the widget so no comm is left open.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

from . import render
from .providers.retry import Retry, retry_line, retry_status
from .providers.types import Request
from .result import Result


class WidgetOutput:
    def __init__(self, fmt: str = "markdown") -> None:
        self._fmt = fmt
        self._view: Any = None
        self._handle: Any = None

    def start(self, request: Request, on_stop: Callable[[], None]) -> None:
        from IPython.display import display

        from .widget import StreamView

        self._view = StreamView(on_stop=on_stop, model_label=request.model, format=self._fmt)
        self._handle = display(self._view, display_id=True)

    def retrying(self, retry: Retry | None) -> None:
        if retry is None:  # a request is sent: after a retry's wait, the view waits for it again
            if self._view.status == "retrying":
                self._view.status = "waiting"
        else:
            self._view.retry = retry_status(retry)
            self._view.status = "retrying"

    def delta(self, text: str) -> None:
        self._view.push(text)

    def streaming(self) -> None:
        self._view.status = "streaming"

    def status(self, state: str) -> None:
        """Say what the answer waits for before its first token (an earlier answer, say)."""
        self._view.status = state

    def finish(self, result: Result) -> None:
        metadata: dict[str, Any] = {}
        if not result.text and result.exception is not None:
            data = {"text/plain": ""}  # nothing to show; the error says it all
        else:
            data, metadata = render.bundle(result, fmt=self._fmt)
        self._handle.update(data, metadata=metadata, raw=True)
        self._view.close()


class TerminalOutput:
    """Prints the answer as it arrives, then its footer: terminal IPython has no widgets."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._out = stream or sys.stdout

    def start(self, request: Request, on_stop: Callable[[], None]) -> None:
        pass  # Ctrl-C is the stop button here

    def retrying(self, retry: Retry | None) -> None:
        if retry is not None:
            self._out.write(f"[{retry_line(retry)}]\n")
            self._out.flush()

    def delta(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def streaming(self) -> None:
        pass

    def finish(self, result: Result) -> None:
        if result.text or result.exception is None:
            self._out.write(f"\n\n— {render.footer_text(result)}\n")
            self._out.flush()
