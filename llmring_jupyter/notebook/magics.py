"""``%%llm`` and ``%llm``: parse, dispatch, nothing else."""

from __future__ import annotations

import functools
import html
import importlib
import inspect
from collections import ChainMap
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.display import display
from traitlets import Any as AnyTrait
from traitlets import Bool, CaselessStrEnum, Dict, Float, Int, List, Unicode, observe

from ..answer.stream import DEFAULT_INTERVAL
from ..context.cell_errors import ErrorLog
from ..context.conversation import Limits
from ..context.values import DEFAULT_MAX_CHARS
from ..exceptions import UsageError
from ..providers import registry
from ..providers.errors import DEFAULT_IDLE_TIMEOUT
from ..providers.retry import DEFAULT_RETRIES
from ..providers.types import THINK_LEVELS
from ..records.cache_modes import DEFAULT_PATH, MODES
from .blocking import run_blocking

if TYPE_CHECKING:
    from ..answer.options import Options
    from ..answer.session import Session
    from ..answer.sinks import Output
    from ..context.interpolate import Prompt
    from ..map_result import MapResult
    from ..result import Result
    from ..view.columns import Comparison

#: What answering imports, beyond the settings above: not at ``%load_ext``, which stays instant,
#: but in the background right after it (:meth:`LLMMagics.preload`), so a first cell does not wait.
ENGINE = (
    "..answer.options",
    "..answer.session",
    "..answer.structured",
    "..context.interpolate",
    "..render",
    "..view.outputs",
    ".commands",
)

_LIMITS = Limits()  # the history limits' defaults live with the limits themselves


@magics_class
class LLMMagics(Magics):
    """Talk to an LLM from a cell. Configure with ``%config LLMMagics.<name> = ...``."""

    shell: Any  # always set: the extension makes this with the running shell

    default_model = Unicode(
        "demo",
        help="Model used when a %%llm line names none: an alias or provider:model.",
    ).tag(config=True)
    idle_timeout = Float(
        DEFAULT_IDLE_TIMEOUT, help="Seconds a stream may stay silent before it fails with a timeout error."
    ).tag(config=True)
    update_rate = Float(
        1 / DEFAULT_INTERVAL, help="How many times a second new text is sent to the browser (the first at once)."
    ).tag(config=True)
    retries = Int(
        DEFAULT_RETRIES,
        help="How often a request that failed before any text (rate limit, overload, lost connection) "
        "is made again before the next model or the error; 0 turns retries off.",
    ).tag(config=True)
    lockfile = Unicode(
        None,
        allow_none=True,
        help="Path of llmring.lock (default: LLMRING_LOCKFILE_PATH, else the nearest llmring.lock).",
    ).tag(config=True)
    profile = Unicode(
        None, allow_none=True, help="Lockfile profile (default: LLMRING_PROFILE, else the file's default)."
    ).tag(config=True)
    history_turns = Int(
        _LIMITS.turns, help="At most this many earlier turns are sent with a question (oldest dropped first)."
    ).tag(config=True)
    history_tokens = Int(
        _LIMITS.tokens, help="At most about this many tokens of earlier turns are sent (oldest dropped first)."
    ).tag(config=True)
    resend_incomplete = Bool(
        _LIMITS.resend_incomplete, help="Send stopped, truncated or failed answers as context in later questions."
    ).tag(config=True)
    max_value_chars = Int(
        DEFAULT_MAX_CHARS, help="A {{variable}} in a prompt is cut to about this many characters."
    ).tag(config=True)
    cache = CaselessStrEnum(
        list(MODES),
        "off",
        help="Replay cache: 'replay' streams a stored answer to the exact same request (else asks and "
        "stores it), 'refresh' always asks and stores, 'off' neither. Per cell: --cache, --no-cache.",
    ).tag(config=True)
    cache_path = Unicode(
        None,
        allow_none=True,
        help=f"The replay cache's SQLite file (default: {DEFAULT_PATH} beside the notebook).",
    ).tag(config=True)
    budget_usd = Float(
        None, allow_none=True, help="Refuse or stop answers once this kernel has spent this many US dollars (0: none)."
    ).tag(config=True)
    budget_tokens = Int(
        None, allow_none=True, help="Refuse or stop answers once this kernel has used this many tokens (0: none)."
    ).tag(config=True)
    log_path = Unicode(
        None, allow_none=True, help="Append every answer to this SQLite file, in the llm CLI's logs schema."
    ).tag(config=True)
    tools: List[Any] = List(
        [], help="Functions (or their names in the notebook) a model may call when a %%llm line has no --tools."
    ).tag(config=True)
    approve_tools = Bool(False, help="Ask before each tool call (Run / Skip buttons; y/n in a terminal).").tag(
        config=True
    )
    think = CaselessStrEnum(
        list(THINK_LEVELS),
        None,
        allow_none=True,
        help="How hard reasoning models think when a %%llm line has no --think: "
        f"{', '.join(THINK_LEVELS)}; None: each model's own default.",
    ).tag(config=True)
    show_thinking = Bool(
        True,
        help="Show reasoning models' thinking above their answers (live, and collapsed in the saved "
        "notebook); False keeps it out of both (it is still counted, and kept in _llm.reasoning).",
    ).tag(config=True)
    mcp_servers = Dict(
        {},
        help="MCP servers whose tools a cell may give the model (--tools mcp:NAME), as in .mcp.json: "
        '{"mcpServers": {"git": {"command": "uvx", "args": ["mcp-server-git"]}, "docs": {"url": "https://…/mcp"}}}; '
        "they join the servers of the nearest .mcp.json.",
    ).tag(config=True)
    map_concurrency = Int(
        None,
        allow_none=True,
        help="At most this many requests of a --map at once (None: up to 64, 4 for Ollama, fewer while the "
        "provider's rate limits say so). Per cell: --concurrency N.",
    ).tag(config=True)
    backend = AnyTrait(
        None,
        allow_none=True,
        help="An object with a compatible chat_stream(request), e.g. llmring's LLMRing, used "
        "instead of the built-in providers.",
    ).tag(config=True)

    def __init__(self, shell: Any, *, in_kernel: bool) -> None:
        super().__init__(shell)
        self.in_kernel = in_kernel
        self.errors = ErrorLog(shell)
        self.comparisons: dict[str, Comparison] = {}  # side-by-side cells by turn key, the latest last
        self._cell: Any = None  # the running cell's pre_run_cell info, for a session made during it

    @functools.cached_property
    def session(self) -> Session:
        """Made by the first question or command that needs it: loading imports no answer engine."""
        from ..answer.session import Session

        session = Session(self)
        if self._cell is not None:
            session.pre_run_cell(self._cell)
        return session

    def pre_run_cell(self, info: Any) -> None:
        """IPython event: the session keys turns by the cell that runs (see :meth:`.Session.pre_run_cell`)."""
        self._cell = info
        if "session" in vars(self):
            self.session.pre_run_cell(info)

    def close(self) -> None:
        """Stop the MCP servers this session started, if it has begun."""
        if "session" in vars(self):
            self.session.mcp.close()

    @observe("default_model", "lockfile", "profile")
    def preload(self, _change: Any = None) -> None:
        """Import in the background what a first answer needs: the engine (:data:`ENGINE`), and the
        SDKs of the default model and the models the lockfile names."""
        names = (self.default_model,)

        def wanted() -> set[str]:
            for module in ENGINE:
                importlib.import_module(module, __package__)
            from ..providers.routing import providers_named

            return providers_named(names, lockfile_path=self.lockfile, profile=self.profile)

        registry.preload(wanted)

    @no_var_expand
    @line_cell_magic
    def llm(self, line: str, cell: str | None = None, *, awaited: bool = False) -> Any:
        """``awaited``: the cell awaits what this returns (see :mod:`._transform`)."""
        if cell is None:
            from . import commands

            ran = commands.run(self, line)
            return self._awaitable(ran, awaited) if inspect.iscoroutine(ran) else None  # %llm fix asks a model
        return self._awaitable(self._answer(line, cell), awaited)

    def _awaitable(self, answer: Coroutine[Any, Any, Any], awaited: bool) -> Any:
        if awaited:
            return answer
        if self.in_kernel:  # the kernel's loop runs this cell: it cannot also be waited on here
            answer.close()
            raise UsageError(
                "%%llm and %llm fix stream on the kernel's event loop, which code inside a function, class or "
                "lambda cannot wait for: use them at the top level of a cell, or await llmring_jupyter.chat(...)."
            )
        run_blocking(lambda: answer)
        return None

    def namespace(self) -> Mapping[str, Any]:
        """What ``{{name}}`` looks in: the user's variables, then ``Err`` (the notebook's errors)."""
        return ChainMap(self.shell.user_ns, {"Err": self.errors})

    async def _answer(self, line: str, cell: str) -> None:
        from ..answer import options
        from ..context.interpolate import interpolate

        opts = options.parse(line)
        if opts is None:
            from . import commands

            print(commands.help_text())
            return
        if opts.rows is not None:  # the prompt is a template, filled in once per row
            await self.map_rows(cell.strip(), opts)
            return
        prompt = interpolate(cell.strip(), self.namespace(), self.max_value_chars)
        if not prompt.text:
            raise UsageError("The prompt is empty: write it in the cell, below the %%llm line.")
        await self.ask(prompt, opts)

    async def ask(self, prompt: Prompt, opts: Options) -> Result | None:
        """Show the dry run, or stream the answer and bind it; None for a dry run, a background answer
        or models side by side (``_llm`` holds theirs). Raises if it failed."""
        from .. import render
        from ..answer import structured

        shape = structured.resolve(opts.schema, opts.json, self.shell.user_ns)
        if opts.dry_run:
            request, dropped = self.session.request(prompt, opts, shape, toolbox=self.session.toolbox(opts))
            display(render.dry_run_bundle(request, dropped), raw=True)
            return None
        if (opts.background or len(opts.models) > 1) and not self.in_kernel:
            raise UsageError("--background and side-by-side models need a Jupyter kernel; ask one model here.")
        if opts.background:
            self._bind(self.session.ask_in_background(prompt, opts, self.output(opts.shown_as), shape), opts.out)
            return None
        if len(opts.models) > 1:
            from ..view import columns

            results = await columns.answers(self.session, self.session.question(prompt, opts, shape), self.comparisons)
            self._bind(results, opts.out)
            columns.raise_if_all_failed(results)
            return None
        result = await self.session.ask(prompt, opts, self.output(opts.shown_as), shape)
        self._bind(result, opts.out)
        if opts.format == "code" and result.text:
            self.shell.set_next_input(render.code_of(result.text), replace=False)
        result.raise_for_error()
        return result

    async def map_rows(self, template: str, opts: Options, rows: Any = None) -> MapResult | None:
        """Answer ``template`` once per row of ``rows`` (else of the notebook's variable ``--map NAME``)
        into one progress view and bind the :class:`MapResult`; None for a dry run. Raises when no
        row has an answer, or on an interrupt (the finished rows are bound first)."""
        from .. import render
        from ..answer import structured
        from ..answer.mapping import Map, Template
        from ..context.interpolate import lookup

        name = opts.rows or "rows"
        if rows is None:
            if name.split(".")[0].split("[")[0] not in self.shell.user_ns:
                raise UsageError(f"--map {name}: the notebook has no variable {name!r}; define it first.")
            rows = lookup(name, self.shell.user_ns)
        if not template:
            raise UsageError("The prompt is empty: write it in the cell, below the %%llm line.")
        shape = structured.resolve(opts.schema, opts.json, self.shell.user_ns)
        concurrency = opts.concurrency or self.map_concurrency
        run = Map(
            self.session,
            Template(template, self.namespace(), self.max_value_chars),
            rows,
            opts,
            shape,
            name=name,
            concurrency=concurrency,
        )
        if opts.dry_run:
            bundle = render.dry_run_bundle(run.request, 0)
            line = run.estimate().line()
            if opts.batch:
                from ..answer.batch import estimate_line

                line += " " + estimate_line(run)
            display(
                {
                    "text/html": f"{bundle['text/html']}<p>{html.escape(line)}</p>",
                    "text/plain": f"{bundle['text/plain']}\n\n{line}",
                },
                raw=True,
            )
            return None
        if opts.batch:
            return await self.batch_rows(run)
        from ..view.progress import TerminalProgress, WidgetProgress

        result = await run.run(WidgetProgress() if self.in_kernel else TerminalProgress())
        self._bind(result, opts.out)
        result.raise_for_error()
        return result

    async def batch_rows(self, run: Any) -> MapResult:
        """Submit a map's rows as provider batches (or re-attach to this notebook's) and bind the
        filling :class:`BatchMapResult` at once; the batches are polled in the background."""
        from ..answer.batch import BatchRun
        from ..view.batch_view import DisplayBatchView, TerminalBatchView

        batch = BatchRun(run)
        view = DisplayBatchView(run.model) if self.in_kernel else TerminalBatchView(run.model)
        self._bind(batch.result, run.opts.out)  # bound before submitting: a refusal keeps the rows that went
        return await batch.start(view)

    def _bind(self, value: Any, out: str | None) -> None:
        """``_llm`` (and ``--out NAME``) hold a cell's result."""
        self.shell.user_ns["_llm"] = value
        if out:
            self.shell.user_ns[out] = value

    def output(self, fmt: str) -> Output:
        """Where an answer streams: the live view in a kernel, the terminal elsewhere."""
        from ..view.outputs import TerminalOutput, WidgetOutput

        return WidgetOutput(fmt) if self.in_kernel else TerminalOutput()
