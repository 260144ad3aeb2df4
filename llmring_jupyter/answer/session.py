"""One notebook's session: its conversations, and the path every question takes.

The ``%%llm`` magic and the Python API (``await llmring_jupyter.chat(...)``)
both ask through :meth:`Session.ask`, so a cell and a loop in code behave alike:
same conversation, same streaming view, same footer, same recorded turns.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Protocol

from ..context import attachments
from ..context.conversation import Conversation, Conversations, Limits
from ..context.interpolate import Prompt
from ..providers import Message, Request, external, pricing, resolve
from ..providers.json_mode import each_note_once
from ..providers.types import THINK_LEVELS, ThinkLevel
from ..records import llm_log, replay
from ..records.spend import Budget, Ledger
from ..result import Result
from . import agent, background, engine, sinks, structured
from .amend import Amending
from .inflight import InFlight
from .mcp import config as mcp_config
from .mcp import tools as mcp_tools
from .mcp.servers import Servers
from .options import Options
from .schema import Shape
from .tools import Toolbox


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
    tools: list[Any]  # default tools: functions, or their names in the notebook
    approve_tools: bool
    think: str | None  # the --think level when a line gives none
    show_thinking: bool
    mcp_servers: dict[str, Any]  # {"mcpServers": {...}} or its inner mapping, as in .mcp.json

    def namespace(self) -> Mapping[str, Any]: ...  # the notebook's variables: where tool names are looked up

    @property  # read-only: traitlets' stubs type a nullable Float as int | None
    def budget_usd(self) -> float | None: ...

    budget_tokens: int | None


class Session:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.conversations = Conversations()
        self.ledger = Ledger()
        self.log = llm_log.Log()
        self.inflight = InFlight()
        self._cell = "start"
        self._calls = 0
        self.mcp = Servers(lambda: mcp_config.configured(Path.cwd(), settings.mcp_servers))

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

    def toolbox(self, opts: Options) -> Toolbox:
        """The functions this question lets the model call; a bad name or signature fails here."""
        specs = self.settings.tools if opts.tools is None else opts.tools
        if not specs:
            return Toolbox({}, {})
        return Toolbox.of(specs, self.settings.namespace(), lambda spec: mcp_tools.resolve(spec, self.mcp))

    def request(
        self,
        prompt: str | Prompt,
        opts: Options,
        shape: Shape | None = None,
        key: str | None = None,
        toolbox: Toolbox | None = None,
    ) -> tuple[Request, int]:
        """The exact request a question makes, and how many earlier turns were left out.

        ``shape`` is the type the answer must have (``--schema`` / ``--json``), resolved by the caller;
        ``toolbox`` the functions the model may call.
        ``key``: the turn's key, taken when its cell ran (a background question
        builds its request later, when other cells may be running).
        """
        s = self.settings
        chat = self.conversations.get(opts.conversation) if opts.history else None
        earlier: list[Message] = []
        dropped = 0
        if chat is not None and not opts.new:  # --new forgets the turns when it asks
            limits = Limits(s.history_turns, s.history_tokens, s.resend_incomplete)
            earlier, dropped = chat.context(key or self._peek_key(), limits, self._provider(opts))
        system = opts.system if opts.system is not None else (chat.system if chat else None)
        messages = ([Message("system", system)] if system else []) + earlier
        messages.append(_user_message(prompt, opts.attach))
        request = Request(
            opts.model or s.default_model,
            tuple(messages),
            temperature=opts.temperature,
            max_tokens=opts.max_tokens,
            response_format=structured.response_format(shape) if shape else None,
            tools=toolbox.tools if toolbox else (),
            options=dict(opts.provider_options),
            think=_level(opts.think or s.think),
            show_thinking=s.show_thinking,
        )
        return request, dropped

    def _provider(self, opts: Options) -> str | None:
        """The provider a question goes to first (None: a backend's, unknown): the one whose
        thinking earlier turns may send back."""
        s = self.settings
        if s.backend is not None:
            return None
        return resolve(opts.model or s.default_model, lockfile_path=s.lockfile, profile=s.profile)[0].provider

    def _peek_key(self) -> str:
        return f"{self._cell}#{self._calls}"

    def question(self, prompt: str | Prompt, opts: Options, shape: Shape | None = None) -> Question:
        """Take a question as its cell runs: check the model names, start a --new conversation,
        fix the turn's key and the background answers it must wait for."""
        s = self.settings
        if s.backend is None:  # a bad name fails here, before any output
            for name in opts.models or (s.default_model,):
                resolve(name, lockfile_path=s.lockfile, profile=s.profile)
        toolbox = self.toolbox(opts)  # so does a bad tool
        if s.log_path:
            self.log.check(s.log_path)
        if opts.history and opts.new:
            self.conversations.new(opts.conversation)
            self.log.forget(opts.conversation)
        chat = self.conversations.get(opts.conversation) if opts.history else None
        key = self._next_key()
        self.inflight.replace(key)
        return Question(prompt, opts, key, chat, self.inflight.earlier(chat), shape, toolbox=toolbox)

    async def ask(
        self, prompt: str | Prompt, opts: Options, output: sinks.Output, shape: Shape | None = None
    ) -> Result:
        """Stream the answer into ``output`` and record the turn (whatever its outcome).

        With a ``shape``, the answer is validated before it is shown: ``data`` holds its value.
        """
        return await self.answer(self.question(prompt, opts, shape), output)

    def ask_in_background(
        self, prompt: str | Prompt, opts: Options, output: sinks.Output, shape: Shape | None = None
    ) -> background.PendingResult:
        """Start the answer as a task and return its filling result at once; a later question
        in the same conversation waits for it."""
        question = self.question(prompt, opts, shape)
        pending = background.start(lambda out: self.answer(question, out), output, self._model(opts))
        self.inflight.track(question.key, question.chat, pending)
        return pending

    def _model(self, opts: Options, index: int = 0) -> str:
        return opts.models[index] if opts.models else self.settings.default_model

    async def answer(self, question: Question, output: sinks.Output) -> Result:
        """Wait for the earlier background turns of the conversation, then ask and record."""
        (output,) = await self.wait_turn(question, [output])
        return await self.answer_one(question, question.opts, output)

    async def wait_turn(self, question: Question, outputs: list[sinks.Output]) -> list[sinks.Output]:
        """Wait for the background turns asked earlier in the conversation (see :meth:`InFlight.wait_turn`)."""
        models = [self._model(question.opts, i) for i in range(len(outputs))]
        return await self.inflight.wait_turn(question.earlier, outputs, models)

    def resolved(self, request: Request) -> tuple[str, str | None]:
        """What the replay cache knows the request's model as (every candidate), and what its
        price is looked up by (the first; None with a backend)."""
        s = self.settings
        refs = resolve(request.model, lockfile_path=s.lockfile, profile=s.profile) if s.backend is None else ()
        resolved = " → ".join(map(str, refs)) or f"{external.name_of(s.backend)}:{request.model}"
        return resolved, str(refs[0]) if refs else None

    def stored(self, request: Request, opts: Options) -> bool:
        """Whether the replay cache holds an answer this request would replay (so it costs nothing)."""
        s = self.settings
        return replay.Question(s.cache, opts.cache, s.cache_path, request, self.resolved(request)[0]).origin is not None

    async def answer_one(self, question: Question, opts: Options, output: sinks.Output) -> Result:
        """One model's answer to ``question`` (side by side: one column's); records it unless told not to.

        A stored answer (replay cache) streams instead of the model; otherwise the
        budget is checked before anything is sent and watched while it streams. With a
        ``shape``, the answer is validated before it is shown: ``data`` holds its value.
        """
        s = self.settings
        shape = question.shape
        request, dropped = self.request(question.prompt, opts, shape, question.key, question.toolbox)
        resolved, priced = self.resolved(request)
        cached = replay.Question(s.cache, opts.cache, s.cache_path, request, resolved)
        budget = Budget(s.budget_usd, s.budget_tokens)
        with self.ledger.flying(priced) as flight:  # counts against every answer's budget until added
            if cached.recording is None:
                self.ledger.check(request, flight, budget)  # refuses before anything is sent
            shown = Amending(output, cached.origin, functools.partial(structured.conclude, shape) if shape else None)
            retries = s.retries if opts.retries is None else opts.retries

            chat = opts.conversation if opts.history else None
            await each_note_once(  # a note about the request is said once, not once per step or retry
                agent.run(
                    request,
                    engine.stack(s, cached, self.ledger, flight, budget, shown.stop, retries),
                    shown,
                    question.toolbox,
                    max_steps=opts.max_steps,
                    approve=opts.approve if opts.approve is not None else (True if s.approve_tools else None),
                    replay=cached,
                    interval=1 / s.update_rate,
                    price=pricing.price,
                    chat=chat,
                    dropped_turns=dropped,
                )
            )
            result = shown.result
            assert result is not None  # the answer always finishes its output
            asked = request.messages[-1]  # the question as sent, with its images and documents
            if question.chat is not None and question.records:
                question.chat.record(question.key, asked.content, result, asked.attachments)
            self.ledger.add(result)
        cached.keep(result)  # the files last: one that cannot be written loses no answer
        if s.log_path:
            self.log.append(s.log_path, asked.content, result)
        return result


def _level(think: str | None) -> ThinkLevel | None:
    """The level as the request's type (the options and the setting allow only these)."""
    return next((level for level in THINK_LEVELS if level == think), None)


def _user_message(prompt: str | Prompt, attach: tuple[str | PathLike[str], ...]) -> Message:
    """The question as sent: its text, inlined text files after it, then its images and documents."""
    prompt = Prompt(prompt) if isinstance(prompt, str) else prompt
    files_text, files = attachments.load_files(attach)
    text = f"{prompt.text}\n\n{files_text}" if files_text else prompt.text
    return Message("user", text, attachments=prompt.attachments + files)


@dataclass
class Question:
    """A question as its cell asked it: what a later (background) answer needs to keep its place."""

    prompt: str | Prompt
    opts: Options
    key: str  # the turn's key: the asking cell's, whatever cell runs when the answer ends
    chat: Conversation | None  # where the turn is recorded; None with --no-history
    earlier: list[background.PendingResult] = field(default_factory=list)  # to wait for first
    shape: Shape | None = None  # the type the answer must have (--schema / --json)
    records: bool = True  # side by side records the kept answer itself
    toolbox: Toolbox | None = None  # the functions the model may call (--tools)
