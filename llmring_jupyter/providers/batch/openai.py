"""OpenAI's Batch API through the official SDK: a JSONL file of chat completion requests.

``files.create(purpose="batch")`` uploads one line per row (``custom_id``, ``method``, ``url``,
``body``: the live request's body without ``stream``), ``batches.create`` runs it within 24 h,
``batches.retrieve`` reports ``validating`` → ``in_progress`` → ``finalizing`` → ``completed``
(or ``expired``, ``cancelling``/``cancelled``, ``failed``) with ``request_counts``. Answers come
in the output file, failed and expired rows in the error file, in no particular order.
An expired batch's output file still holds the rows it finished.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from .. import openai as live
from .. import openai_chat
from .._common import error_message
from ..errors import BatchError
from ..types import Request, ToolCall, Usage
from .jobs import BatchJob, BatchStatus, Counts, Limits, Row, RowEnd, answered, failed, flat, key_of, speaking

ENDPOINT = "/v1/chat/completions"
#: Tokens OpenAI lets one model have queued in batches depends on the account's tier: say it here.
TOKENS_VARIABLE = "OPENAI_BATCH_QUEUE_TOKENS"
_STATUS: dict[str, BatchStatus] = {
    "validating": "queued",
    "in_progress": "in_progress",
    "finalizing": "finalizing",
    "completed": "completed",
    "expired": "expired",
    "cancelling": "cancelling",
    "cancelled": "cancelled",
    "failed": "failed",
}


class API:
    provider = "openai"

    def __init__(self) -> None:
        queued = os.environ.get(TOKENS_VARIABLE, "").strip()
        self.limits = Limits(requests=50_000, bytes=200 * 2**20, tokens=int(queued) if queued else None)
        self._adapter = live.OpenAIProvider()

    def _client(self) -> tuple[openai.AsyncOpenAI, Any]:
        key = key_of(self.provider)
        return self._adapter.client(key), key

    def entry(self, model: str, custom_id: str, request: Request) -> dict[str, Any]:
        return {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": flat(live.body(model, request))}

    async def submit(self, model: str, entries: Sequence[dict[str, Any]]) -> BatchJob:
        client, key = self._client()
        lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries).encode()
        async with speaking(self._adapter, model, key):
            try:
                uploaded = await client.files.create(file=("batch.jsonl", lines), purpose="batch")
            except openai.APIStatusError as exc:
                if exc.status_code in (401, 403):
                    raise
                said = error_message(exc.body, exc.message)
                raise BatchError(
                    f"openai refused the batch's input file (HTTP {exc.status_code}): {said}. Nothing was submitted.",
                    provider=self.provider,
                    status=exc.status_code,
                ) from None
            batch = await client.batches.create(input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window="24h")
        job = BatchJob(self.provider, batch.id, f"openai:{model}", tuple(str(e["custom_id"]) for e in entries))
        return _job(job, batch)

    async def poll(self, job: BatchJob) -> BatchJob:
        client, key = self._client()
        async with speaking(self._adapter, job.model, key):
            return _job(job, await client.batches.retrieve(job.id))

    async def results(self, job: BatchJob) -> list[Row]:
        client, key = self._client()
        async with speaking(self._adapter, job.model, key):
            batch = await client.batches.retrieve(job.id)
            rows: list[Row] = []
            for file_id in (batch.output_file_id, batch.error_file_id):
                if file_id:
                    content = await client.files.content(file_id)
                    rows += [_row(json.loads(line)) for line in content.text.splitlines() if line.strip()]
        return rows

    async def cancel(self, job: BatchJob) -> BatchJob:
        client, key = self._client()
        async with speaking(self._adapter, job.model, key):
            try:
                return _job(job, await client.batches.cancel(job.id))
            except openai.ConflictError:  # it ended meanwhile: nothing to cancel
                return _job(job, await client.batches.retrieve(job.id))


def _job(job: BatchJob, batch: Any) -> BatchJob:
    status = _STATUS.get(batch.status, "in_progress")
    counts = batch.request_counts
    total = counts.total if counts and counts.total else len(job.rows)
    done, errored = (counts.completed, counts.failed) if counts else (0, 0)
    left = max(0, total - done - errored)
    shown = Counts(
        succeeded=done,
        errored=errored,
        expired=left if status == "expired" else 0,
        cancelled=left if status == "cancelled" else 0,
        pending=0 if batch.status in ("expired", "cancelled", "failed", "completed") else left,
    )
    errors = getattr(batch.errors, "data", None) or []
    note = "; ".join(e.message for e in errors if getattr(e, "message", None)) or None
    return job.with_status(status, shown, note)


def _row(line: dict[str, Any]) -> Row:
    """One line of the output or error file."""
    custom_id = str(line.get("custom_id"))
    response = line.get("response") or {}
    error = line.get("error")
    if error:
        end: RowEnd = "expired" if error.get("code") == "batch_expired" else "errored"
        return failed(custom_id, end, error.get("message") or error.get("code") or "failed")
    if response.get("status_code") != 200:
        said = error_message(response.get("body"), f"HTTP {response.get('status_code')}")
        return failed(custom_id, "errored", f"openai refused the row (HTTP {response.get('status_code')}): {said}")
    completion = ChatCompletion.model_validate(response["body"])
    choice = completion.choices[0]
    message = choice.message
    calls = tuple(
        ToolCall(c.id, c.function.name, c.function.arguments, n)
        for n, c in enumerate(message.tool_calls or ())
        if c.type == "function"
    )
    u = completion.usage
    usage = None
    if u is not None:
        cached = getattr(u.prompt_tokens_details, "cached_tokens", None)
        usage = Usage.of(u.prompt_tokens, u.completion_tokens, cached_tokens=cached)
    finish = openai_chat.FINISH.get(choice.finish_reason or "stop", "stop")
    text = message.content or message.refusal or ""
    return answered(custom_id, text, model=f"openai:{completion.model}", finish=finish, usage=usage, tool_calls=calls)
