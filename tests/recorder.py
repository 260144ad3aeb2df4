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

    def start(self, request: Request, on_stop: Callable[[], None]) -> None:
        pass

    def retrying(self, retry: Retry | None) -> None:
        self.retries.append(retry)

    def delta(self, text: str) -> None:
        self.deltas.append(text)

    def streaming(self) -> None:
        pass

    def finish(self, result: Result) -> None:
        self.result = result

    @property
    def text(self) -> str:
        return "".join(self.deltas)
