"""``--batch``: a ``--map``'s rows through the provider's batch API, at half the price, within a day.

Every row's request is built as a live row's would be (:class:`.mapping.Map`: the same template,
options and request assembly), keyed as the replay cache keys it. Rows with a stored answer are
done; rows that a batch of this notebook already holds re-attach to it (:mod:`..records.batches`:
the job outlives the kernel); the rest are split into as few provider batches as the limits
allow and submitted, and the cell returns at once. A poller on the background answers' thread
reads the batches with backoff, and each finished row goes into the replay cache (so a later
live ``--map`` or a re-run uses it) and into the :class:`~.map_result.BatchMapResult`. A row whose
batch expired, was cancelled or failed is not lost: the next run sends it again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from dataclasses import dataclass
from typing import Any, Protocol

from ..context.rows import rows_of
from ..exceptions import UsageError
from ..map_result import BatchMapResult
from ..providers import batch as batch_api
from ..providers import pricing, resolve
from ..providers.batch.jobs import BatchJob, Row, split
from ..providers.errors import AuthenticationError, LLMError, ProviderError
from ..providers.types import Request
from ..records import replay
from ..records.batches import Jobs
from ..records.spend import input_tokens
from ..result import Result, Timings
from . import background, structured
from .mapping import ASSUMED_OUTPUT, Map

#: Seconds between polls of a provider batch (a real one takes hours), unless LLMRING_BATCH_POLL says.
POLL_SECONDS = {"demo": 0.5}
DEFAULT_POLL = 60.0
MAX_BACKOFF = 600.0


def poll_seconds(provider: str) -> float:
    said = os.environ.get("LLMRING_BATCH_POLL", "").strip()
    return float(said) if said else POLL_SECONDS.get(provider, DEFAULT_POLL)


class BatchView(Protocol):
    """Where a batch run is shown: per batch its id, status, counts and cost; then the summary."""

    def update(self, jobs: tuple[BatchJob, ...], note: str | None) -> None: ...
    def finish(self, result: BatchMapResult, jobs: tuple[BatchJob, ...], note: str | None) -> None: ...


@dataclass
class Pending:
    """A row waiting for a batch: where it goes in the result, and what makes its answer."""

    positions: list[int]  # identical requests are sent once and fill every place they stand
    request: Request


class BatchRun:
    """One ``--batch`` cell: the rows' requests, what is stored, what is held, what goes now."""

    def __init__(self, run: Map) -> None:
        settings = run.session.settings
        if settings.backend is not None:
            raise UsageError(
                "--batch needs a provider's batch API; a backend (use_backend) has none: leave out --batch."
            )
        if run.question.toolbox is not None and run.question.toolbox.tools:
            raise UsageError("--batch sends one request per row, so a tool's result cannot go back: leave out --tools.")
        if run.rows.total is None:
            raise UsageError(f"--batch needs to know every row before it submits: make {run.name} a list or a table.")
        self.run, self.shape = run, run.question.shape
        self.refs = resolve(run.model, lockfile_path=settings.lockfile, profile=settings.profile)
        self.ref = self.refs[0]  # a batch goes to one provider: the alias's first model
        self.resolved = " → ".join(map(str, self.refs))  # as the replay cache keys a live row
        self.client = batch_api.api(self.ref.provider)
        # a paid row is always stored (a re-run must not pay for it again); --no-cache only stops replaying
        self.cache = replay.Cache(settings.cache_path)
        self.replays = run.opts.cache is not False
        self.jobs_store = Jobs(settings.cache_path)
        self.pending: dict[str, Pending] = {}  # by request key
        self.jobs: dict[str, BatchJob] = {}
        rows: list[Result] = []
        for position, item in enumerate(rows_of(run.value, run.name).items):  # from the first again
            rows.append(self._row(position, item))
        self.result = BatchMapResult(tuple(rows), run.rows.index, Timings(time.time(), None, 0.0))
        self.note: str | None = None

    def _row(self, position: int, item: Any) -> Result:
        try:
            prompt = self.run.template.fill(item)
        except UsageError as exc:
            return Result.unasked(self.run.model, "error", error=exc.message)
        request, _ = self.run.session.request(prompt, self.run.opts, self.shape)
        stored = self.cache.get(request, self.resolved) if self.replays else None
        if stored is not None:  # answered before, live or in a batch: nothing is sent
            return self._answer(request, stored.steps[-1], replayed=stored.origin)
        key = replay.key_of(request, self.resolved)
        self.pending.setdefault(key, Pending([], request)).positions.append(position)
        return Result.unasked(self.run.model, "cancelled", error="waiting to be submitted in a batch")

    def _answer(self, request: Request, chunks: Any, replayed: Any = None, job: BatchJob | None = None) -> Result:
        """A row's Result from the chunks that say it (a batch's, or the replay cache's)."""
        final = next(c for c in reversed(chunks) if c.finish_reason)
        cost, _ = pricing.batch_price(final.model, final.usage) if replayed is None else (None, True)
        result = Result(
            "".join(c.delta for c in chunks),
            self.run.model,
            final.model,
            final.finish_reason,
            final.usage,
            Timings(job.created_at if job else time.time(), None, time.time() - job.created_at if job else 0.0),
            (),
            parameters=request.parameters() | {"batch": job.id} if job else request.parameters(),
            cost=cost,
            replayed=replayed,
        )
        return structured.conclude(self.shape, dataclasses.replace(result, shape=self.shape))

    async def start(self, view: BatchView) -> BatchMapResult:
        """Re-attach to this notebook's batches that hold rows, submit the rest, and poll in the background."""
        held = self.jobs_store.holding(self.pending)
        fresh: dict[str, Pending] = {}
        for key, pending in self.pending.items():
            job = held.get(key)
            if job is not None and not job.fetched:  # running, or ended while no kernel looked
                self.jobs[job.id] = job
            else:  # never sent, or its batch ended without it (expired, cancelled, errored): again
                fresh[key] = pending
        for job in self.jobs.values():
            self._mark(job, [k for k in self.pending if k in held and held[k].id == job.id])
        failure: LLMError | None = None
        try:
            await self._submit(fresh)
        except LLMError as exc:  # rows submitted before it are kept; the others go again next run
            failure = exc
            self.note = exc.message
        self.result._fill({}, tuple(self.jobs.values()), self.note)  # from here on, only the poller fills it
        view.update(tuple(self.jobs.values()), self.note)
        if self.jobs:
            future = asyncio.run_coroutine_threadsafe(self._poll(view), background._answers_loop())
            object.__setattr__(self.result, "_future", future)
        else:
            self.result._finished.set()
            view.finish(self.result, (), self.note)
        if failure is not None:
            raise failure
        return self.result

    def _mark(self, job: BatchJob, keys: list[str]) -> None:
        waiting = Result.unasked(self.run.model, "cancelled", error=f"in batch {job.id}")
        self.result._fill({p: waiting for k in keys for p in self.pending[k].positions}, tuple(self.jobs.values()))

    async def _submit(self, fresh: dict[str, Pending]) -> None:
        if not fresh:
            return
        self.run.check_budget()
        keys = list(fresh)
        model = self.ref.model
        entries = [self.client.entry(model, key, fresh[key].request) for key in keys]
        tokens = [input_tokens(fresh[key].request) for key in keys]
        for group in split(entries, self.client.limits, tokens):
            job = await self.client.submit(model, entries[group.start : group.stop])
            job = dataclasses.replace(job, cost=self._estimate(tokens[group.start : group.stop]))
            self.jobs_store.add(job, keys[group.start : group.stop])
            self.jobs[job.id] = job
            self._mark(job, keys[group.start : group.stop])

    def _estimate(self, tokens: list[int]) -> float | None:
        """The job's cost at the batch price, before it runs: its rows' input, the output assumed."""
        from ..providers.types import Usage

        out = (self.run.opts.max_tokens or ASSUMED_OUTPUT) * len(tokens)
        cost, _ = pricing.batch_price(str(self.ref), Usage.of(sum(tokens), out))
        return cost

    async def _poll(self, view: BatchView) -> None:
        """Poll every unfinished job until each has ended and its rows are in; backoff on faults."""
        wait = poll_seconds(self.ref.provider)
        backoff = wait
        try:
            while any(not j.fetched for j in self.jobs.values()):
                try:
                    for job in [j for j in self.jobs.values() if not j.fetched]:
                        await self._step(job)
                    self.note, backoff = None, wait
                except AuthenticationError as exc:  # a key without batch permission: polling will not heal it
                    self.note = exc.message + " The batches are kept: run the cell again once the key is fixed."
                    break
                except ProviderError as exc:
                    backoff = min(MAX_BACKOFF, backoff * 2)
                    self.note = f"{exc.message} Polling again in {backoff:g} s."
                view.update(tuple(self.jobs.values()), self.note)
                self.result._fill({}, tuple(self.jobs.values()), self.note)
                if any(not j.fetched for j in self.jobs.values()):
                    await asyncio.sleep(backoff)
        finally:
            self.result._fill({}, tuple(self.jobs.values()), self.note)
            self.result._finished.set()
            view.finish(self.result, tuple(self.jobs.values()), self.note)

    async def _step(self, job: BatchJob) -> None:
        polled = dataclasses.replace(await self.client.poll(job), cost=job.cost, cost_estimated=job.cost_estimated)
        if polled.ended:
            cost, estimated = self._take(polled, await self.client.results(polled))
            polled = dataclasses.replace(polled, fetched=True, cost=cost, cost_estimated=estimated)
        self.jobs[job.id] = polled
        self.jobs_store.update(polled)

    def _take(self, job: BatchJob, rows: list[Row]) -> tuple[float | None, bool]:
        """Each returned row into the replay cache and the result; the rows with none say their batch ended."""
        filled: dict[int, Result] = {}
        spent: list[float] = []
        estimated = False
        back = {r.custom_id: r for r in rows}
        for key in job.rows:
            pending = self.pending.get(key)
            if pending is None:  # a row of this job that another cell (or run) asked
                continue
            row = back.get(key)
            if row is not None and row.end == "succeeded":
                result = self._answer(pending.request, row.chunks, job=job)
                recording = replay.Recording((row.chunks,), {}, row.chunks[-1].model, time.time())
                self.cache.put(pending.request, self.resolved, recording)
                self.run.session.ledger.add(result)
                spent += [result.cost] if result.cost is not None else []
                estimated = estimated or pricing.batch_price(result.model, result.usage)[1]
            elif row is not None and row.end == "errored":
                result = Result.unasked(self.run.model, "error", error=row.error or "the row failed in its batch")
            else:
                why = f"its batch {job.id} {job.status} before it ran"
                result = Result.unasked(
                    self.run.model, "cancelled", error=f"{why}; it goes again when the cell runs again"
                )
            filled.update(dict.fromkeys(pending.positions, result))
        self.result._fill(filled, tuple(self.jobs.values()))
        return (sum(spent), estimated) if spent else (None, True)


def jobs(path: str | None) -> list[BatchJob]:
    """This notebook's batches, as last polled (``%llm batches``)."""
    return Jobs(path).all()


def cancel(job_id: str, path: str | None) -> BatchJob:
    """Ask the provider to stop one of this notebook's batches (``%llm batch cancel ID``); its
    finished rows are kept and the others go again when their cell runs again."""
    store = Jobs(path)
    job = store.find(job_id)
    if job is None:
        known = ", ".join(j.id for j in store.all()) or "none"
        raise UsageError(f"This notebook made no batch {job_id!r} (its batches: {known}); %llm batches lists them.")
    future = asyncio.run_coroutine_threadsafe(batch_api.api(job.provider).cancel(job), background._answers_loop())
    polled = dataclasses.replace(future.result(timeout=120), cost=job.cost, cost_estimated=job.cost_estimated)
    store.update(polled)
    return polled


def estimate_line(run: Map) -> str:
    """What ``--dry-run --batch`` adds to a map's estimate: the same tokens at the batch price."""
    from ..providers.types import Usage
    from ..render.footer import dollars

    est = run.estimate()
    settings = run.session.settings
    ref = resolve(run.model, lockfile_path=settings.lockfile, profile=settings.profile)[0]
    cost, estimated = pricing.batch_price(str(ref), Usage.of(est.input_tokens, est.output_tokens))
    if cost is None:
        return "With --batch: cost unknown (the price table does not know the model), within 24 hours."
    said = "half the live price, estimated" if estimated else "the price table's batch price"
    return f"With --batch: {dollars(cost)} ({said}), within 24 hours."
