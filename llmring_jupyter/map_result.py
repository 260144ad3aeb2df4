"""The outcome of a ``--map`` or ``--batch``: one :class:`~.result.Result` per input row.

Apart from :mod:`.result` (one answer and its parts) because a run of many rows has concerns
of its own: which rows are answered, their records and DataFrame, the totals over the rows,
and, for a batch, rows that fill in while the provider's batches run.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from .exceptions import Interrupted, UsageError
from .providers.types import Usage
from .result import Result, Timings


@dataclass(frozen=True)
class MapResult(Sequence[Result]):
    """The answers of a ``--map`` (or ``map()``): one :class:`Result` per input row, in input order.

    A row that failed holds its error (``errors`` lists them by position); a row that never ran
    (Stop, an interrupt, the budget) is a cancelled result whose error says so. Rows keep no
    ``messages``: a run of 100,000 rows would hold every prompt otherwise.
    """

    results: tuple[Result, ...]
    index: Any = field(default=None, repr=False, compare=False)  # the input's pandas index, if it had one
    timings: Timings = field(default_factory=lambda: Timings(time.time(), None, 0.0))  # the whole run
    stopped: str | None = None  # why the run ended before every row, if it did
    interrupted: bool = False  # a kernel interrupt ended it

    def __len__(self) -> int:
        return len(self.results)

    @overload
    def __getitem__(self, i: int) -> Result: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Result]: ...
    def __getitem__(self, i: int | slice) -> Result | Sequence[Result]:
        return self.results[i]

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.results]

    @property
    def data(self) -> list[Any]:
        """Each row's validated value (``--schema`` / ``--json``); None where a row failed."""
        return [r.data if r.error is None else None for r in self.results]

    @property
    def errors(self) -> dict[int, str]:
        """Position in the input (from 0) → why that row has no answer."""
        return {i: r.error or r.finish_reason for i, r in enumerate(self.results) if not answered(r)}

    @property
    def replayed(self) -> int:
        """Rows answered from the replay cache: nothing was sent for them."""
        return sum(r.replayed is not None for r in self.results)

    @property
    def usage(self) -> Usage | None:
        known = [r.usage for r in self.results if r.usage is not None and r.replayed is None]
        if not known:
            return None
        return Usage.of(
            sum(u.prompt_tokens for u in known),
            sum(u.completion_tokens for u in known),
            estimated=any(u.estimated for u in known),
        )

    @property
    def cost(self) -> float | None:
        """US dollars spent on the rows the price table knows (replayed rows cost nothing)."""
        known = [r.cost for r in self.results if r.cost is not None]
        return sum(known) if known else None

    def to_pandas(self) -> Any:
        """A DataFrame, one row per input row on the input's index: with a schema one column per
        field (a value that is not an object: a ``data`` column), else a ``text`` column; and ``error``."""
        import pandas as pd  # type: ignore[import-untyped]

        records = self.records()
        frame = pd.DataFrame.from_records(records, index=self.index if self.index is not None else None)
        if "error" not in frame.columns:
            frame["error"] = None
        return frame

    def records(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The rows as plain records (``to_pandas``'s columns), the first ``limit`` of them."""
        return [_record(r) for r in self.results[:limit]]

    def raise_for_error(self) -> None:
        """Raise if the kernel was interrupted, or if no row has an answer (the first failure's error);
        the answered rows are kept either way."""
        if self.interrupted:
            done = len(self) - len(self.errors)
            raise Interrupted(f"The kernel was interrupted after {done:,} of {len(self):,} rows; _llm keeps them.")
        if self.results and not any(answered(r) for r in self.results) and self.stopped is None:
            failed = next((r for r in self.results if r.exception is not None), self.results[0])
            if failed.exception is None:
                raise UsageError(f"Every row failed; the first: {failed.error}")
            failed.raise_for_error()

    def __repr__(self) -> str:
        failed = len(self.errors)
        return f"<MapResult {len(self)} rows, {len(self) - failed} answered, {failed} failed>"


def answered(result: Result) -> bool:
    """Whether a row (or any answer) has its answer: it ended normally, without an error."""
    return result.error is None and result.finish_reason in ("stop", "length", "tool_calls")


def _record(result: Result) -> dict[str, Any]:
    """One row of :meth:`MapResult.to_pandas`."""
    error = None if answered(result) else (result.error or result.finish_reason)
    if result.shape is None:
        return {"text": result.text, "error": error}
    value = result.shape.dump(result.data) if result.data is not None and error is None else None
    if value is None or isinstance(value, dict):
        return {**(value or {}), "error": error}
    return {"data": value, "error": error}


@dataclass(frozen=True, eq=False)
class BatchMapResult(MapResult):
    """A ``--batch`` run's :class:`MapResult`: its rows fill in as the provider's batches finish.

    ``jobs`` are the provider batches as last polled; ``done`` says whether every row has
    come back (or its batch ended without it). ``await`` it, or call :meth:`wait`, for the end.
    A row still in a batch is a cancelled result whose error names the batch.
    """

    jobs: tuple[Any, ...] = ()  # providers.batch.jobs.BatchJob, as last polled
    note: str | None = None  # what the poller last had to say: a provider unreachable, a key refused
    _finished: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)
    _future: Any = field(default=None, repr=False, compare=False)  # the poller, on the background loop

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    def __await__(self) -> Generator[Any, None, BatchMapResult]:
        return self._wait().__await__()

    async def _wait(self) -> BatchMapResult:
        if self._future is not None and not self.done:
            await asyncio.shield(asyncio.wrap_future(self._future))  # an interrupt stops the wait, not the batch
        return self

    def wait(self, timeout: float | None = None) -> BatchMapResult:
        """Block until every batch has ended and its rows are in (the batches poll on their own thread)."""
        if not self._finished.wait(timeout):
            raise TimeoutError(f"The batches did not end within {timeout} s; they go on (re-run the cell to look).")
        return self

    def _fill(self, rows: dict[int, Result], jobs: tuple[Any, ...], note: str | None = None) -> None:
        """Rows that came back, the jobs as polled, the poller's note: the poller's only way in."""
        results = list(self.results)
        for position, result in rows.items():
            results[position] = result
        object.__setattr__(self, "results", tuple(results))
        object.__setattr__(self, "jobs", jobs)
        object.__setattr__(self, "note", note)

    def __repr__(self) -> str:
        waiting = sum(1 for r in self.results if r.finish_reason == "cancelled" and r.error and "batch" in r.error)
        state = "done" if self.done else f"{waiting:,} rows in batches"
        return super().__repr__().replace("<MapResult", f"<BatchMapResult ({state})", 1)
