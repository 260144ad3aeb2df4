"""Anthropic's Message Batches through the official SDK.

``messages.batches.create(requests=[{custom_id, params}])`` takes the rows inline (``params``:
the live request's body without ``stream``); ``retrieve`` reports ``in_progress`` →
``canceling`` → ``ended`` with counts per outcome, so an ended batch is ``completed``,
``expired`` (some rows ran out of time) or ``cancelled`` by what its counts and dates say.
``results`` streams a JSONL of ``{custom_id, result: {type: succeeded|errored|canceled|expired}}``
in no particular order; results are kept 29 days.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import anthropic

from .. import anthropic as live
from .._common import error_message
from ..json_mode import ANSWER_TOOL
from ..types import Request, ToolCall
from .jobs import BatchJob, BatchStatus, Counts, Limits, Row, RowEnd, answered, failed, flat, key_of, speaking

_ROW_END: dict[str, RowEnd] = {"errored": "errored", "expired": "expired", "canceled": "cancelled"}


class API:
    provider = "anthropic"
    limits = Limits(requests=100_000, bytes=256 * 2**20)

    def __init__(self) -> None:
        self._adapter = live.AnthropicProvider()

    def _client(self) -> tuple[anthropic.AsyncAnthropic, Any]:
        key = key_of(self.provider)
        return self._adapter.client(key), key

    def entry(self, model: str, custom_id: str, request: Request) -> dict[str, Any]:
        kwargs, _ = live.body(model, request)
        return {"custom_id": custom_id, "params": flat(kwargs)}

    async def submit(self, model: str, entries: Sequence[dict[str, Any]]) -> BatchJob:
        client, key = self._client()
        async with speaking(self._adapter, model, key):
            batch = await client.messages.batches.create(requests=list(entries))
        job = BatchJob(self.provider, batch.id, f"anthropic:{model}", tuple(str(e["custom_id"]) for e in entries))
        return _job(job, batch)

    async def poll(self, job: BatchJob) -> BatchJob:
        client, key = self._client()
        async with speaking(self._adapter, job.model, key):
            return _job(job, await client.messages.batches.retrieve(job.id))

    async def results(self, job: BatchJob) -> list[Row]:
        client, key = self._client()
        async with speaking(self._adapter, job.model, key):
            batch = await client.messages.batches.retrieve(job.id)
            if not batch.results_url:  # still running: Anthropic returns results only once the batch has ended
                return []
            return [_row(line) async for line in await client.messages.batches.results(job.id)]

    async def cancel(self, job: BatchJob) -> BatchJob:
        client, key = self._client()
        async with speaking(self._adapter, job.model, key):
            return _job(job, await client.messages.batches.cancel(job.id))


def _job(job: BatchJob, batch: Any) -> BatchJob:
    c = batch.request_counts
    counts = Counts(c.succeeded, c.errored, c.expired, c.canceled, c.processing)
    status: BatchStatus
    if batch.processing_status == "in_progress":
        status = "in_progress"
    elif batch.processing_status == "canceling":
        status = "cancelling"
    elif batch.cancel_initiated_at is not None:
        status = "cancelled"
    else:
        status = "expired" if c.expired else "completed"
    return job.with_status(status, counts)


def _row(line: Any) -> Row:
    custom_id, result = line.custom_id, line.result
    if result.type != "succeeded":
        end = _ROW_END.get(result.type, "errored")
        said = error_message(result.error.model_dump() if end == "errored" else None, f"the row {result.type}")
        return failed(custom_id, end, said)
    message = result.message
    text: list[str] = []
    calls: list[ToolCall] = []
    for block in message.content:
        if block.type == "text":
            text.append(block.text)
        elif block.type == "tool_use" and block.name == ANSWER_TOOL:  # a forced answer tool: its input is the answer
            text.append(json.dumps(block.input))
        elif block.type == "tool_use":
            calls.append(ToolCall(block.id, block.name, json.dumps(block.input), len(calls)))
    tokens = live.Tokens()
    tokens.update(message.usage, final=True)
    finish = live.FINISH.get(message.stop_reason or "", "stop")
    if finish == "tool_calls" and not calls:
        finish = "stop"  # the call was the answer
    return answered(
        custom_id,
        "".join(text),
        model=f"anthropic:{message.model}",
        finish=finish,
        usage=tokens.usage(),
        tool_calls=tuple(calls),
    )
