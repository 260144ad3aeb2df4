"""What every provider's batch API shares: the job, one set of statuses, the limits, the split.

Each provider names its states its own way (OpenAI ``validating``…``completed``, Anthropic
``in_progress``/``canceling``/``ended``, Gemini ``JOB_STATE_…``); each module maps them to
:data:`BatchStatus` so a notebook shows one vocabulary. Rows are matched to results by their
``custom_id`` (OpenAI and Anthropic return them in no particular order), and a finished row
comes back as the chunks a live stream would have ended with, so it joins the replay cache
and a ``MapResult`` exactly as a live answer does.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, Protocol

from .. import keys
from .._common import is_transport_error, unreachable
from ..adapter import Answer, WireAdapter
from ..errors import BatchError, LLMError, MissingKeyError
from ..types import Request, StreamChunk, StreamFinish, ToolCall, Usage

#: One vocabulary for every provider's batch states.
BatchStatus = Literal[
    "queued", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled", "failed"
]
#: States after which nothing more will finish: the rows without a result go again on the next run.
ENDED: tuple[BatchStatus, ...] = ("completed", "expired", "cancelled", "failed")
#: How a row of a batch ended (``None`` in :class:`Row`: not yet).
RowEnd = Literal["succeeded", "errored", "expired", "cancelled"]


@dataclass(frozen=True)
class Limits:
    """How much one provider batch may hold: requests, bytes of input, and (OpenAI) tokens queued per model."""

    requests: int
    bytes: int
    tokens: int | None = None


@dataclass(frozen=True)
class Counts:
    """Rows by outcome, as far as the provider reports them while the batch runs."""

    succeeded: int = 0
    errored: int = 0
    expired: int = 0
    cancelled: int = 0
    pending: int = 0

    def __str__(self) -> str:
        said = [f"{n:,} {name}" for name, n in asdict(self).items() if n]
        return ", ".join(said) or "no rows counted yet"


@dataclass(frozen=True)
class BatchJob:
    """One provider batch: enough to find it again after a kernel restart (all of it is JSON)."""

    provider: str
    id: str  # the provider's own id: batch_…, msgbatch_…, batches/…
    model: str  # provider:model
    rows: tuple[str, ...]  # the custom ids submitted, in order
    status: BatchStatus = "queued"
    counts: Counts = field(default_factory=Counts)
    created_at: float = field(default_factory=time.time)
    cost: float | None = None  # US dollars at the batch price: estimated before, counted once rows finish
    cost_estimated: bool = True  # the price is half the live one (the table has no batch price), or a guess
    note: str | None = None  # the provider's own words on a failed or refused batch
    fetched: bool = False  # its results were read once it ended: a row still unanswered goes again

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    def with_status(self, status: BatchStatus, counts: Counts | None = None, note: str | None = None) -> BatchJob:
        return replace(self, status=status, counts=counts or self.counts, note=note or self.note)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"rows": list(self.rows)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchJob:
        fields = dict(data)
        fields["rows"] = tuple(fields["rows"])
        fields["counts"] = Counts(**fields.get("counts") or {})
        return cls(**fields)


@dataclass(frozen=True)
class Row:
    """One row's outcome: the chunks a live stream would have ended with, or why it failed."""

    custom_id: str
    end: RowEnd
    chunks: tuple[StreamChunk, ...] = ()
    error: str | None = None


def answered(
    custom_id: str,
    text: str,
    *,
    model: str,
    finish: StreamFinish,
    usage: Usage | None,
    tool_calls: tuple[ToolCall, ...] = (),
) -> Row:
    """A finished row, as the chunks of the stream that would have said it."""
    final = StreamChunk(model=model, finish_reason=finish, usage=usage, tool_calls=tool_calls or None)
    return Row(custom_id, "succeeded", ((StreamChunk(delta=text),) if text else ()) + (final,))


def failed(custom_id: str, end: RowEnd, error: str) -> Row:
    return Row(custom_id, end, error=error)


class BatchAPI(Protocol):
    """One provider's batch API: what :mod:`...answer.batch` needs of it."""

    provider: str
    limits: Limits

    def entry(self, model: str, custom_id: str, request: Request) -> dict[str, Any]:
        """One row as the batch's input holds it: the live request's body, not streamed, with its custom id."""

    async def submit(self, model: str, entries: Sequence[dict[str, Any]]) -> BatchJob:
        """Upload and submit one batch (entries within :attr:`limits`); returns at once."""

    async def poll(self, job: BatchJob) -> BatchJob:
        """The job's status and counts now."""

    async def results(self, job: BatchJob) -> list[Row]:
        """The rows that ended, so far as the provider returns them (all of a completed job, the
        finished ones of an expired or cancelled one where the provider keeps them)."""

    async def cancel(self, job: BatchJob) -> BatchJob:
        """Ask the provider to stop the job; rows already finished are kept."""


def size(entry: dict[str, Any]) -> int:
    """Bytes of one entry as a JSONL line."""
    return len(json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()) + 1


def split(entries: Sequence[dict[str, Any]], limits: Limits, tokens: Sequence[int] = ()) -> list[range]:
    """The entries as consecutive groups, each within ``limits``: as few batches as the limits allow.

    ``tokens``: each entry's estimated input tokens, for a limit on tokens queued. An entry that
    alone passes a limit can be in no batch: that is said before anything is submitted.
    """
    groups: list[range] = []
    start, used, queued = 0, 0, 0
    for i, entry in enumerate(entries):
        n, t = size(entry), (tokens[i] if i < len(tokens) else 0)
        if n > limits.bytes or (limits.tokens is not None and t > limits.tokens):
            why = f"{n / 2**20:,.1f} MB" if n > limits.bytes else f"{t:,} tokens"
            raise BatchError(
                f"Row {i}'s request is {why}, more than one batch may hold "
                f"({limits.bytes / 2**20:,.0f} MB, {limits.tokens or 0:,} tokens queued); "
                "ask that row live (without --batch) or make it smaller. Nothing was submitted.",
            )
        full = (
            i - start >= limits.requests
            or used + n > limits.bytes
            or (limits.tokens is not None and queued + t > limits.tokens)
        )
        if full:
            groups.append(range(start, i))
            start, used, queued = i, 0, 0
        used, queued = used + n, queued + t
    if start < len(entries):
        groups.append(range(start, len(entries)))
    return groups


def flat(kwargs: dict[str, Any]) -> dict[str, Any]:
    """SDK keyword arguments as a JSON body: ``extra_body`` merged in, as the SDK would send them."""
    out = {k: v for k, v in kwargs.items() if k != "extra_body"}
    return out | dict(kwargs.get("extra_body") or {})


def key_of(provider: str) -> keys.Key:
    """The provider's key, as a live answer finds it; nothing is sent without one."""
    key = keys.find(provider)
    if key is None:
        raise MissingKeyError(provider, keys.PROVIDER_KEYS[provider])
    return key


@contextlib.asynccontextmanager
async def speaking(adapter: WireAdapter, model: str, key: keys.Key) -> AsyncIterator[None]:
    """The SDK's exceptions as the live adapter types them: a refused key, a missing route, an
    unreachable provider (which the poller retries) each say so in one line."""
    try:
        yield
    except LLMError:
        raise
    except Exception as exc:
        answer = Answer(model, key.variable)
        mapped = adapter.error(exc, model, answer)
        if mapped is None and is_transport_error(exc):
            mapped = unreachable(adapter.name, adapter.address(), exc, started=False)
        if mapped is None:
            raise
        raise mapped from None
