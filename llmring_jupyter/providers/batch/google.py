"""Gemini's batch mode through google-genai: inline requests, one long-running batch per job.

``batches.create(model, src=[InlinedRequest])`` posts ``models/M:batchGenerateContent`` with the
rows inline (20 MB at most; each row's ``metadata`` carries its custom id), ``batches.get``
reads the operation: ``BATCH_STATE_PENDING`` → ``RUNNING`` → ``SUCCEEDED`` (or ``FAILED``,
``CANCELLED``, ``EXPIRED`` after 48 hours), and once it has ended, the inlined responses, in
the order of the requests. The SDK reports no counts while a job runs, and an expired job
returns no rows at all: every one of them goes again.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from google.genai import types

from .. import google as live
from ..types import Request, ToolCall
from .jobs import BatchJob, BatchStatus, Counts, Limits, Row, answered, failed, key_of, speaking

_STATUS: dict[str, BatchStatus] = {
    "JOB_STATE_QUEUED": "queued",
    "JOB_STATE_PENDING": "queued",
    "JOB_STATE_RUNNING": "in_progress",
    "JOB_STATE_PAUSED": "in_progress",
    "JOB_STATE_UPDATING": "in_progress",
    "JOB_STATE_SUCCEEDED": "completed",
    "JOB_STATE_PARTIALLY_SUCCEEDED": "completed",
    "JOB_STATE_FAILED": "failed",
    "JOB_STATE_CANCELLING": "cancelling",
    "JOB_STATE_CANCELLED": "cancelled",
    "JOB_STATE_EXPIRED": "expired",
}
ID_KEY = "custom_id"  # the metadata entry that names each row


class API:
    provider = "google"
    limits = Limits(requests=100_000, bytes=20 * 2**20)  # inline requests; a file would take 2 GB

    def __init__(self) -> None:
        self._adapter = live.GoogleProvider()

    def _client(self) -> tuple[Any, Any]:
        key = key_of(self.provider)
        return self._adapter.client(key), key

    def entry(self, model: str, custom_id: str, request: Request) -> dict[str, Any]:
        contents, config = live.body(model, request)
        shown = [types.Content.model_validate(c).model_dump(mode="json", exclude_none=True) for c in contents]
        return {
            "contents": shown,
            "config": config.model_dump(mode="json", exclude_none=True),
            "metadata": {ID_KEY: custom_id},
        }

    async def submit(self, model: str, entries: Sequence[dict[str, Any]]) -> BatchJob:
        client, key = self._client()
        src = [types.InlinedRequest.model_validate(e) for e in entries]
        async with speaking(self._adapter, model, key):
            batch = await client.aio.batches.create(model=model, src=src)
        rows = tuple(str(e["metadata"][ID_KEY]) for e in entries)
        return _job(BatchJob(self.provider, batch.name, f"google:{model}", rows), batch)

    async def poll(self, job: BatchJob) -> BatchJob:
        client, key = self._client()
        async with speaking(self._adapter, job.model, key):
            return _job(job, await client.aio.batches.get(name=job.id))

    async def results(self, job: BatchJob) -> list[Row]:
        client, key = self._client()
        async with speaking(self._adapter, job.model, key):
            batch = await client.aio.batches.get(name=job.id)
        responses = (batch.dest.inlined_responses if batch.dest else None) or []
        rows = []
        for position, inlined in enumerate(responses):
            custom_id = (inlined.metadata or {}).get(ID_KEY) or job.rows[position]
            rows.append(_row(custom_id, inlined, job.model))
        return rows

    async def cancel(self, job: BatchJob) -> BatchJob:
        client, key = self._client()
        async with speaking(self._adapter, job.model, key):
            await client.aio.batches.cancel(name=job.id)
            return _job(job, await client.aio.batches.get(name=job.id))


def _job(job: BatchJob, batch: Any) -> BatchJob:
    state = str(getattr(batch.state, "value", batch.state) or "JOB_STATE_PENDING")
    status = _STATUS.get(state, "in_progress")
    n = len(job.rows)
    responses = (batch.dest.inlined_responses if batch.dest else None) or []
    errored = sum(1 for r in responses if r.error is not None)
    if status == "completed":
        counts = Counts(succeeded=len(responses) - errored, errored=errored + n - len(responses))
    elif status == "expired":
        counts = Counts(expired=n)
    elif status == "cancelled":
        counts = Counts(succeeded=len(responses) - errored, errored=errored, cancelled=n - len(responses))
    else:
        counts = Counts(pending=n)  # Gemini's API counts nothing while a job runs
    note = getattr(batch.error, "message", None) if getattr(batch, "error", None) else None
    return job.with_status(status, counts, note)


def _row(custom_id: str, inlined: types.InlinedResponse, model: str) -> Row:
    if inlined.error is not None or inlined.response is None:
        said = inlined.error.message if inlined.error and inlined.error.message else "no response"
        return failed(custom_id, "errored", f"google refused the row: {said}")
    response = inlined.response
    candidate = response.candidates[0] if response.candidates else None
    text: list[str] = []
    calls: list[ToolCall] = []
    for part in (candidate.content.parts or []) if candidate and candidate.content else []:
        if part.function_call:
            signature = base64.b64encode(part.thought_signature).decode() if part.thought_signature else None
            call = part.function_call
            calls.append(
                ToolCall(
                    call.id or f"call_{len(calls)}", call.name or "", json.dumps(call.args or {}), len(calls), signature
                )
            )
        elif part.text and not part.thought:
            text.append(part.text)
    finish = live.finish_of(candidate.finish_reason) if candidate and candidate.finish_reason else "stop"
    if response.prompt_feedback and response.prompt_feedback.block_reason:
        finish = "content_filter"
    if calls and finish == "stop":
        finish = "tool_calls"
    served = f"google:{response.model_version}" if response.model_version else model
    return answered(
        custom_id,
        "".join(text),
        model=served,
        finish=finish,
        usage=live.usage_of(response.usage_metadata),
        tool_calls=tuple(calls),
    )
