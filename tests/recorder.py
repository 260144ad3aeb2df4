"""An Output that keeps what a stream sent it (the real outputs draw it instead)."""

from __future__ import annotations

from collections.abc import Callable

from llmring_jupyter.providers.retry import Retry
from llmring_jupyter.providers.types import Request
from llmring_jupyter.result import Result


class Recorder:
    def __init__(self) -> None:
        self.deltas: list[str] = []
        self.result: Result | None = None
        self.retries: list[Retry | None] = []
        self.events: list[tuple[str, str]] = []  # ("start", model), ("status", state), ("finish", reason), in order
        self.stop: Callable[[], None] | None = None  # what the view's Stop button would call

    def start(self, request: Request, on_stop: Callable[[], None]) -> None:
        self.events.append(("start", request.model))
        self.stop = on_stop

    def retrying(self, retry: Retry | None) -> None:
        self.retries.append(retry)

    def delta(self, text: str) -> None:
        self.deltas.append(text)

    def streaming(self) -> None:
        self.events.append(("status", "streaming"))

    def status(self, state: str) -> None:
        self.events.append(("status", state))

    def finish(self, result: Result) -> None:
        self.result = result
        self.events.append(("finish", result.finish_reason))

    @property
    def text(self) -> str:
        return "".join(self.deltas)
