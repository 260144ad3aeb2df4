"""One notebook's session: its conversations, and the path every question takes.

The ``%%llm`` magic and the Python API (``await llmring_jupyter.chat(...)``)
both ask through :meth:`Session.ask`, so a cell and a loop in code behave alike:
same conversation, same streaming view, same footer, same recorded turns.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

from . import stream
from .conversation import DEFAULT, Conversations, Limits
from .providers import Message, Request, chat_stream, pricing, resolve
from .result import Result


class Settings(Protocol):
    """What a session reads from its configuration (LLMMagics' traitlets)."""

    default_model: str
    idle_timeout: float
    update_rate: float
    lockfile: str | None
    profile: str | None
    backend: Any
    history_turns: int
    history_tokens: int
    resend_incomplete: bool


@dataclass(frozen=True)
class Question:
    prompt: str
    model: str | None = None
    chat: str = DEFAULT
    new: bool = False  # start the chat afresh
    history: bool = True  # False: send the prompt alone and record nothing
    system: str | None = None  # for this answer; else the chat's own system prompt
    temperature: float | None = None
    max_tokens: int | None = None
    options: tuple[tuple[str, Any], ...] = ()


class Session:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.conversations = Conversations()
        self._cell = "start"
        self._calls = 0

    def pre_run_cell(self, info: Any) -> None:
        """IPython event: note which cell runs, so its turns are keyed by it.

        JupyterLab and Notebook 7 send a cell id with each execution; where
        none is sent (nbclient, older frontends), the cell's text stands in:
        re-running an unchanged cell still replaces its turn.
        """
        cell_id = getattr(info, "cell_id", None)
        raw = getattr(info, "raw_cell", "") or ""
        self._cell = cell_id or "text:" + hashlib.sha1(raw.encode()).hexdigest()[:16]
        self._calls = 0

    def _next_key(self) -> str:
        key = f"{self._cell}#{self._calls}"  # several questions from one cell (a loop) stay apart
        self._calls += 1
        return key

    def request(self, question: Question) -> tuple[Request, int]:
        """The exact request a question makes, and how many earlier turns were left out."""
        s = self.settings
        chat = self.conversations.get(question.chat) if question.history else None
        earlier, dropped = [], 0
        if chat is not None and not question.new:  # --new forgets the turns when it asks
            limits = Limits(s.history_turns, s.history_tokens, s.resend_incomplete)
            earlier, dropped = chat.context(self._peek_key(), limits)
        system = question.system if question.system is not None else (chat.system if chat else None)
        messages = ([Message("system", system)] if system else []) + earlier
        messages.append(Message("user", question.prompt))
        request = Request(
            question.model or s.default_model,
            tuple(messages),
            temperature=question.temperature,
            max_tokens=question.max_tokens,
            options=dict(question.options),
        )
        return request, dropped

    def _peek_key(self) -> str:
        return f"{self._cell}#{self._calls}"

    async def ask(self, question: Question, output: stream.Output) -> Result:
        """Stream the answer into ``output`` and record the turn (whatever its outcome)."""
        s = self.settings
        request, dropped = self.request(question)
        if s.backend is None:  # a bad name fails here, before any output
            resolve(request.model, lockfile_path=s.lockfile, profile=s.profile)
        if question.history and question.new:
            self.conversations.new(question.chat)
        key = self._next_key()
        chunks = chat_stream(
            request, lockfile_path=s.lockfile, profile=s.profile, idle_timeout=s.idle_timeout, backend=s.backend
        )
        chat = question.chat if question.history else None
        result = await stream.run(
            request, chunks, output, interval=1 / s.update_rate, price=pricing.price, chat=chat, dropped_turns=dropped
        )
        if chat is not None:
            self.conversations.get(chat).record(key, question.prompt, result)
        return result
