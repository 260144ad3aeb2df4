"""An :class:`~.sinks.Output` that lets the session finish a result before it is shown.

The footer is drawn when the stream ends, so what only the session knows — the
answer was replayed, or the budget stopped it, or its JSON's validated value
(``--schema``) — must be in the result by then.
The wrapper also hands the session the stream's Stop, for the budget to press.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ..providers.types import Request
from ..result import Replayed, Result
from .sinks import Output, Relay


class Amending(Relay):
    def __init__(
        self, output: Output, replayed: Replayed | None = None, conclude: Callable[[Result], Result] | None = None
    ) -> None:
        super().__init__(output)
        self._replayed = replayed
        self._conclude = conclude  # e.g. structured.conclude: the answer validated, live or replayed alike
        self._stop: Callable[[], None] | None = None
        self._why: str | None = None
        self.result: Result | None = None

    def start(self, request: Request, on_stop: Callable[[], None]) -> None:
        self._stop = on_stop
        self._inner.start(request, on_stop)

    def stop(self, why: str) -> None:
        """Press Stop, saying why (the answer's ``error`` then says so; its text is kept)."""
        self._why = why
        if self._stop is not None:
            self._stop()

    def finish(self, result: Result) -> None:
        if self._conclude is not None:
            result = self._conclude(result)
        if self._replayed is not None:  # nothing was sent: it cost nothing
            result = dataclasses.replace(result, replayed=self._replayed, cost=0.0)
        if self._why and result.finish_reason == "cancelled" and not result.interrupted:
            result = dataclasses.replace(result, error=self._why)
        self.result = result
        self._inner.finish(result)
