"""One notebook's session: its conversations, and the path every question takes.

The ``%%llm`` magic and the Python API (``await llmring_jupyter.chat(...)``)
both ask through :meth:`Session.ask`, so a cell and a loop in code behave alike:
same conversation, same streaming view, same footer, same recorded turns.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any, Protocol

from . import attachments, llm_log, replay, stream, structured
from ._amend import Amending
from .conversation import Conversations, Limits
from .interpolate import Prompt
from .options import Options
from .providers import Message, Request, chat_stream, external, pricing, resolve
from .providers.retry import AttemptLog
from .result import Result
from .schema import Shape
from .spend import Budget, Ledger


class Settings(Protocol):
    """What a session reads from its configuration (LLMMagics' traitlets)."""

    default_model: str
    idle_timeout: float
    retries: int
    update_rate: float
    lockfile: str | None
    profile: str | None
    backend: Any
    history_turns: int
    history_tokens: int
    resend_incomplete: bool
    cache: str
    cache_path: str | None
    log_path: str | None

    @property  # read-only: traitlets' stubs type a nullable Float as int | None
    def budget_usd(self) -> float | None: ...

    budget_tokens: int | None


class Session:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.conversations = Conversations()
        self.ledger = Ledger()
        self.log = llm_log.Log()
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

    def request(self, prompt: str | Prompt, opts: Options, shape: Shape | None = None) -> tuple[Request, int]:
        """The exact request a question makes, and how many earlier turns were left out.

        ``shape`` is the type the answer must have (``--schema`` / ``--json``), resolved by the caller.
        """
        s = self.settings
        chat = self.conversations.get(opts.conversation) if opts.history else None
        earlier: list[Message] = []
        dropped = 0
        if chat is not None and not opts.new:  # --new forgets the turns when it asks
            limits = Limits(s.history_turns, s.history_tokens, s.resend_incomplete)
            earlier, dropped = chat.context(self._peek_key(), limits)
        system = opts.system if opts.system is not None else (chat.system if chat else None)
        messages = ([Message("system", system)] if system else []) + earlier
        messages.append(_user_message(prompt, opts.attach))
        request = Request(
            opts.model or s.default_model,
            tuple(messages),
            temperature=opts.temperature,
            max_tokens=opts.max_tokens,
            response_format=structured.response_format(shape) if shape else None,
            options=dict(opts.provider_options),
        )
        return request, dropped

    def _peek_key(self) -> str:
        return f"{self._cell}#{self._calls}"

    async def ask(
        self, prompt: str | Prompt, opts: Options, output: stream.Output, shape: Shape | None = None
    ) -> Result:
        """Stream the answer into ``output`` and record the turn (whatever its outcome).

        A stored answer (replay cache) streams instead of the model; otherwise the
        budget is checked before anything is sent and watched while it streams. With a
        ``shape``, the answer is validated before it is shown: ``data`` holds its value.
        """
        s = self.settings
        request, dropped = self.request(prompt, opts, shape)
        # a bad name fails here, before any output
        refs = resolve(request.model, lockfile_path=s.lockfile, profile=s.profile) if s.backend is None else ()
        resolved = " → ".join(map(str, refs)) or f"{external.name_of(s.backend)}:{request.model}"
        priced = str(refs[0]) if refs else None  # what the budget estimates the price of
        cached = replay.Question(s.cache, opts.cache, s.cache_path, request, resolved)
        if s.log_path:
            self.log.check(s.log_path)
        budget = Budget(s.budget_usd, s.budget_tokens)
        if cached.recording is None:
            self.ledger.check(request, priced, budget)  # refuses before anything is sent
        if opts.history and opts.new:
            self.conversations.new(opts.conversation)
            self.log.forget(opts.conversation)
        key = self._next_key()
        shown = Amending(output, cached.origin, functools.partial(structured.conclude, shape) if shape else None)
        log = AttemptLog()
        chunks = cached.chunks(
            lambda: self.ledger.watch(
                chat_stream(
                    request,
                    lockfile_path=s.lockfile,
                    profile=s.profile,
                    idle_timeout=s.idle_timeout,
                    backend=s.backend,
                    retries=s.retries if opts.retries is None else opts.retries,
                    log=log,
                ),
                request,
                priced,
                budget,
                shown.stop,
            )
        )
        chat = opts.conversation if opts.history else None
        await stream.run(
            request,
            chunks,
            shown,
            interval=1 / s.update_rate,
            price=pricing.price,
            chat=chat,
            dropped_turns=dropped,
            log=log,
        )
        result = shown.result
        assert result is not None  # stream.run always finishes its output
        asked = request.messages[-1]  # the question as sent, with its images and documents
        if chat is not None:
            self.conversations.get(chat).record(key, asked.content, result, asked.attachments)
        self.ledger.add(result)
        cached.keep(result)  # the files last: one that cannot be written loses no answer
        if s.log_path:
            self.log.append(s.log_path, asked.content, result)
        return result


def _user_message(prompt: str | Prompt, attach: tuple[str, ...]) -> Message:
    """The question as sent: its text, inlined text files after it, then its images and documents."""
    prompt = Prompt(prompt) if isinstance(prompt, str) else prompt
    files_text, files = attachments.load_files(attach)
    text = f"{prompt.text}\n\n{files_text}" if files_text else prompt.text
    return Message("user", text, attachments=prompt.attachments + files)
