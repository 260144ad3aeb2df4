"""``--map``: one prompt over many rows, each answered through the same path as a cell.

Every row is a question of its own (:meth:`.session.Session.answer_one`: replay cache, budget,
retries, fallback, tools), recorded in no conversation, streaming into a sink that only counts
(:class:`RowSink`); one :class:`Progress` view shows the whole run. A fixed set of workers reads
the rows lazily, so 100,000 rows from a generator never hold 100,000 prompts or requests at once.
The workers are answers in flight like any other: the session's owner (:mod:`.inflight`) runs them,
ends them (Stop, an interrupt, the cell run again) and paces their requests with the one limiter
per provider that every run in flight shares (:mod:`.ratelimit`), so two runs at once keep to one
provider's limits; a run's ``--concurrency`` is its number of workers. Answers go into the
replay cache as they finish, so a run that was stopped, interrupted or lost with its kernel sends
only the rows that have none when it runs again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Protocol

from ..context.interpolate import Prompt, interpolate
from ..context.rows import Rows, rows_of
from ..exceptions import BudgetError, UsageError
from ..map_result import MapResult, answered
from ..providers import pricing, resolve
from ..providers.errors import RateLimitError
from ..providers.retry import Retry
from ..providers.types import Usage
from ..records.spend import Budget, input_tokens
from ..render.footer import dollars
from ..result import Result, Timings
from .options import Options
from .ratelimit import Pace, ceiling
from .schema import Shape
from .session import Session
from .sinks import Quiet

#: Output tokens a row is assumed to take in an estimate, when --max-tokens does not say.
ASSUMED_OUTPUT = 256
#: A row that is still rate limited after its retries waits for the limiter and goes again,
#: this many times, before its 429 is recorded as its error.
REQUEUES = 5
TICK = 0.25  # seconds between updates of the progress view


@dataclass
class Tally:
    """A run as the progress view shows it."""

    total: int | None  # rows, when the input has a length
    model: str
    done: int = 0  # rows finished, answered or failed, replayed ones included
    failed: int = 0
    replayed: int = 0
    running: int = 0
    waiting: int = 0  # rows waiting to retry after a failed attempt
    tokens: int = 0
    cost: float | None = None
    rate_limited: int = 0  # 429s and overloads the provider answered
    started: float = field(default_factory=time.perf_counter)
    ended: float | None = None
    stopped: str | None = None  # why the run ended early

    @property
    def seconds(self) -> float:
        return (self.ended or time.perf_counter()) - self.started

    @property
    def rate(self) -> float:
        """Rows a second, not counting the replayed ones (they cost no time)."""
        sent = self.done - self.replayed
        return sent / self.seconds if sent and self.seconds > 0 else 0.0

    @property
    def eta(self) -> float | None:
        if self.total is None or not self.rate:
            return None
        return (self.total - self.done) / self.rate

    def add(self, result: Result) -> None:
        self.done += 1
        self.failed += not answered(result)
        if result.replayed is not None:
            self.replayed += 1
            return
        if result.usage is not None:
            self.tokens += result.usage.total_tokens
        if result.cost is not None:
            self.cost = (self.cost or 0.0) + result.cost

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "model": self.model,
            "done": self.done,
            "failed": self.failed,
            "replayed": self.replayed,
            "running": self.running,
            "waiting": self.waiting,
            "tokens": self.tokens,
            "cost": None if self.cost is None else dollars(self.cost),
            "rate": round(self.rate, 2),
            "eta": None if self.eta is None else round(self.eta),
            "rate_limited": self.rate_limited,
            "seconds": round(self.seconds, 1),
            "stopped": self.stopped,
        }


class Progress(Protocol):
    """Where a map's run is shown: one view for every row."""

    def start(self, tally: Tally, stop: Callable[[], None]) -> None: ...
    def update(self, tally: Tally) -> None: ...
    def finish(self, result: MapResult, tally: Tally) -> None: ...


class RowSink(Quiet):
    """The :class:`~.sinks.Output` of one row: nothing is shown, retries are counted; a run
    refuses --approve before it starts."""

    def __init__(self, tally: Tally) -> None:
        self._tally = tally
        self._waiting = False

    def retrying(self, retry: Retry | None) -> None:
        if (retry is not None) != self._waiting:
            self._waiting = retry is not None
            self._tally.waiting += 1 if self._waiting else -1

    def finish(self, result: Result) -> None:
        self.retrying(None)


@dataclass(frozen=True)
class Estimate:
    """What a run would send: ``--dry-run`` shows it; a budget compares it before anything is sent."""

    rows: int | None  # None: the input has no length (a generator): per row only
    input_tokens: int  # counted from every row's prompt (or the first row's, per row)
    output_tokens: int  # assumed: --max-tokens, else ASSUMED_OUTPUT a row
    cost: float | None
    output_per_row: int
    stored: int = 0  # rows the replay cache answers: nothing is sent for them

    def line(self) -> str:
        rows = f"{self.rows:,} rows" if self.rows is not None else "per row (the input has no length)"
        if self.stored:
            rows += f" ({self.stored:,} stored in the replay cache: no cost)"
        cost = "cost unknown (the price table does not know the model)" if self.cost is None else dollars(self.cost)
        return (
            f"Estimate for {rows}: about {self.input_tokens:,} input tokens (counted) + "
            f"{self.output_tokens:,} output tokens (assumed: {self.output_per_row:,} a row), {cost}."
        )


class Template:
    """The cell's prompt, filled in for one row: ``{{row}}`` is the row, the notebook's names the rest."""

    def __init__(self, text: str, namespace: Mapping[str, Any], max_chars: int) -> None:
        self.text, self.namespace, self.max_chars = text, namespace, max_chars

    def fill(self, row: Any) -> Prompt:
        names = ChainMap({"row": row}, self.namespace)  # type: ignore[arg-type]  # only read
        return interpolate(self.text, names, self.max_chars)


def row_options(opts: Options) -> Options:
    """A row's options: recorded in no conversation, stored in the replay cache unless --no-cache."""
    return dataclasses.replace(opts, history=False, new=False, cache=True if opts.cache is None else opts.cache)


class Map:
    """One run: its rows, their answers by position, the workers, Stop."""

    def __init__(
        self,
        session: Session,
        template: Template,
        value: Any,
        opts: Options,
        shape: Shape | None,
        *,
        name: str = "the input",
        concurrency: int | None = None,
    ) -> None:
        if session.settings.approve_tools and (opts.tools or session.settings.tools):
            raise UsageError(
                "--map cannot ask before each row's tool calls: set %config LLMMagics.approve_tools = False to map."
            )
        self.session, self.template, self.value, self.name = session, template, value, name
        self.opts = row_options(opts)
        self.rows: Rows = rows_of(value, name)
        try:
            first = next(self.rows.items)
        except StopIteration:
            raise UsageError(f"--map {name} is empty: there is no row to ask about.") from None
        self._numbered: Iterator[tuple[int, Any]] = enumerate(chain([first], self.rows.items))
        self.read = 0  # rows read so far (an input without a length is counted as it is read)
        # checked on the first row before anything is sent: a bad template, model or tool fails now
        self.question = session.question(template.fill(first), self.opts, shape)
        self.model = self.opts.model or session.settings.default_model
        self.request, _ = session.request(self.question.prompt, self.opts, shape, toolbox=self.question.toolbox)
        self.tally = Tally(self.rows.total, self.model)
        self.concurrency = concurrency
        self.pace = Pace(session.inflight.pacer, concurrency, input_tokens(self.request) + self._output_per_row())
        self.results: dict[int, Result] = {}
        self.kept_error = False  # the first failure keeps its exception (raised if every row fails)
        self._stopping = False
        self.interrupted = False

    def _output_per_row(self) -> int:
        return self.opts.max_tokens or ASSUMED_OUTPUT

    def estimate(self) -> Estimate:
        """Input tokens counted over every row without a stored answer (replayed rows cost nothing;
        an input without a length: the first row's, per row)."""
        per_row = self._output_per_row()
        rows: int | None
        if self.rows.total is None:
            tokens, rows, stored = input_tokens(self.request), None, 0
        else:
            tokens, rows, stored = 0, 0, 0
            for item in rows_of(self.value, self.name).items:
                request = self.session.request(self.template.fill(item), self.opts, self.question.shape)[0]
                rows += 1
                if self.session.stored(request, self.opts):
                    stored += 1
                else:
                    tokens += input_tokens(request)
        out = per_row * ((rows or 1) - stored)
        cost = pricing.price(self.session.resolved(self.request)[1], Usage.of(tokens, out))
        return Estimate(rows, tokens, out, cost, per_row, stored)

    def check_budget(self) -> None:
        """Refuse, before anything is sent, a run whose estimate passes what is left of the budget."""
        settings = self.session.settings
        budget = Budget(settings.budget_usd, settings.budget_tokens)
        if not budget:
            return
        est = self.estimate()
        ledger = self.session.ledger
        if budget.tokens and est.input_tokens + est.output_tokens > budget.tokens - ledger.tokens:
            left = max(0, budget.tokens - ledger.tokens)
            raise BudgetError(
                f"{est.line()} That is more than the {left:,} tokens left of the budget; nothing was sent. "
                "Raise it with %config LLMMagics.budget_tokens = … (0: no budget), or map fewer rows."
            )
        if budget.usd and est.cost is not None and est.cost > budget.usd - ledger.usd:
            left_usd = max(0.0, budget.usd - ledger.usd)
            raise BudgetError(
                f"{est.line()} That is more than the {dollars(left_usd)} left of the budget; nothing was sent. "
                "Raise it with %config LLMMagics.budget_usd = … (0: no budget), or map fewer rows."
            )

    def stop(self, why: str | None = None) -> None:
        """End the run now: rows in flight are cancelled, finished ones kept. Safe from another thread."""
        self._halt(why or "stopped")
        self.session.inflight.stop(self.question.key)

    def _halt(self, why: str) -> None:
        """The run ends early (Stop, the budget, an interrupt, the cell run again): no row starts after."""
        self.tally.stopped = self.tally.stopped or why
        self._stopping = True
        self.interrupted = self.interrupted or why == "interrupted"

    async def run(self, progress: Progress) -> MapResult:
        """Answer every row; Stop, an interrupt or the budget end it early, keeping what finished."""
        self.check_budget()
        started_at = time.time()
        progress.start(self.tally, self.stop)
        workers = self.concurrency or ceiling(self._provider())  # at most this many rows fly: the limiter decides
        ticker = asyncio.ensure_future(self._tick(progress))
        try:
            outcomes = await self.session.inflight.together(
                self.question.key, [self._work() for _ in range(workers)], pace=self.pace, on_stop=self._halt
            )
        finally:
            ticker.cancel()
            self.pace.leave()
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
                raise outcome  # a bug, or the input's own iterator failing
        self.tally.ended = time.perf_counter()
        self.tally.rate_limited = self.pace.rate_limited
        result = self._result(started_at)
        progress.finish(result, self.tally)
        return result

    def _provider(self) -> str:
        settings = self.session.settings
        if settings.backend is not None:
            return "backend"
        return resolve(self.model, lockfile_path=settings.lockfile, profile=settings.profile)[0].provider

    async def _tick(self, progress: Progress) -> None:
        while True:
            self.tally.rate_limited = self.pace.rate_limited
            progress.update(self.tally)
            await asyncio.sleep(TICK)

    async def _work(self) -> None:
        while not self._stopping:
            try:
                position, item = next(self._numbered)
            except StopIteration:
                return
            self.read = max(self.read, position + 1)
            try:
                result = await self._row(item)
            except asyncio.CancelledError:
                return  # stopped outside a stream: the row is not run
            except BudgetError as exc:  # refused before it was sent: the budget is reached
                self.stop(exc.message)
                return
            if result is None:
                return
            self._keep(position, result)

    async def _row(self, item: Any) -> Result | None:
        """One row's answer; None when the run was stopped while it ran (the row is not run)."""
        try:
            prompt = self.template.fill(item)
        except UsageError as exc:
            return Result.unasked(self.model, "error", error=exc.message)
        question = dataclasses.replace(self.question, prompt=prompt)
        for attempt in range(REQUEUES + 1):
            sink = RowSink(self.tally)
            self.tally.running += 1
            try:
                result = await self.session.answer_one(question, self.opts, sink)
            finally:
                self.tally.running -= 1
                sink.retrying(None)
            if self._stopping and result.finish_reason == "cancelled":
                return None
            if result.finish_reason == "cancelled" and result.error:  # the budget stopped it as it streamed
                self.stop(result.error)
                return None
            again = isinstance(result.exception, RateLimitError) and not result.text and attempt < REQUEUES
            if not again:
                return result
        raise AssertionError("unreachable")

    def _keep(self, position: int, result: Result) -> None:
        self.tally.add(result)
        if result.usage is not None and result.replayed is None:  # what a request takes, for the token limit
            self.pace.used(result.usage.total_tokens)
        keep = not answered(result) and not self.kept_error
        self.kept_error = self.kept_error or keep
        self.results[position] = dataclasses.replace(
            result, messages=(), exchange=(), exception=result.exception if keep else None
        )

    def _result(self, started_at: float) -> MapResult:
        seen = (max(self.results) + 1) if self.results else 0
        count = self.rows.total if self.rows.total is not None else max(seen, self.read)
        why = self.tally.stopped or "stopped"
        reason = f"the run was {why}" if why in ("stopped", "interrupted") else why
        not_run = Result.unasked(self.model, "cancelled", error=f"not run: {reason}")
        rows = tuple(self.results.get(i, not_run) for i in range(count))
        timings = Timings(started_at, None, self.tally.seconds)
        return MapResult(rows, self.rows.index, timings, self.tally.stopped, interrupted=self.interrupted)
