"""An offline batch API for the ``demo`` model, so notebooks, docs and tests can show ``--batch``.

It behaves as the real ones do, in seconds instead of hours: a submitted job is ``queued``,
then ``in_progress`` with its rows finishing one after another over
``LLMRING_DEMO_BATCH_SECONDS`` (default 3), then ``completed``; a cancelled one keeps the rows
finished by then. Each row's answer is the demo model's own, made at submit time. A job is a
JSON file under ``.llmring/demo-batches`` beside the notebook, so it outlives the kernel: a
re-run after a restart finds it, as it would find a provider's batch.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..demo import DemoProvider
from ..errors import BatchError
from ..types import Message, Request, ResponseFormat, StreamFinish, Usage
from .jobs import BatchJob, BatchStatus, Counts, Limits, Row, answered

FOLDER = Path(".llmring") / "demo-batches"
DEFAULT_SECONDS = 3.0


def _seconds() -> float:
    return float(os.environ.get("LLMRING_DEMO_BATCH_SECONDS", DEFAULT_SECONDS))


class API:
    provider = "demo"
    limits = Limits(requests=100_000, bytes=256 * 2**20)

    def entry(self, model: str, custom_id: str, request: Request) -> dict[str, Any]:
        fmt = request.response_format
        body: dict[str, Any] = {
            "model": model or "chat",
            "messages": [m.to_dict() for m in request.messages],
            "max_tokens": request.max_tokens,
            "options": request.options,
        }
        if fmt is not None:
            body["response_format"] = {"name": fmt.name, "schema": fmt.schema}
        return {"custom_id": custom_id, "body": body}

    async def submit(self, model: str, entries: Sequence[dict[str, Any]]) -> BatchJob:
        answers = [await _answer(e) for e in entries]
        job = BatchJob("demo", f"demobatch_{uuid.uuid4().hex[:12]}", f"demo:{model or 'chat'}", _ids(entries))
        _save(job, {"answers": answers, "seconds": _seconds(), "started": time.time(), "cancelled_at": None})
        return await self.poll(job)

    async def poll(self, job: BatchJob) -> BatchJob:
        state = _load(job)
        done = _done(state, len(job.rows))
        n = len(job.rows)
        if state["cancelled_at"] is not None:
            status: BatchStatus = "cancelled"
            counts = Counts(succeeded=done, cancelled=n - done)
        elif done == n:
            status, counts = "completed", Counts(succeeded=n)
        else:
            status = "queued" if time.time() - state["started"] < state["seconds"] / 10 else "in_progress"
            counts = Counts(succeeded=done, pending=n - done)
        return job.with_status(status, counts)

    async def results(self, job: BatchJob) -> list[Row]:
        state = _load(job)
        rows = []
        for answer in state["answers"][: _done(state, len(job.rows))]:
            usage = Usage(**answer["usage"])
            rows.append(
                answered(
                    answer["custom_id"],
                    answer["text"],
                    model="demo:" + answer["model"],
                    finish=answer["finish"],
                    usage=usage,
                )
            )
        return rows

    async def cancel(self, job: BatchJob) -> BatchJob:
        state = _load(job)
        if _done(state, len(job.rows)) < len(job.rows) and state["cancelled_at"] is None:
            state["cancelled_at"] = time.time()
            _save(job, state)
        return await self.poll(job)


def _ids(entries: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(str(e["custom_id"]) for e in entries)


def _done(state: dict[str, Any], n: int) -> int:
    """How many rows have finished by now (or by the cancel): one after another over the job's seconds."""
    until = state["cancelled_at"] or time.time()
    seconds = float(state["seconds"])
    if seconds <= 0:
        return n
    return min(n, int(n * max(0.0, until - state["started"]) / seconds))


async def _answer(entry: dict[str, Any]) -> dict[str, Any]:
    body = entry["body"]
    fmt = body.get("response_format")
    request = Request(
        f"demo:{body['model']}",
        tuple(Message.from_dict(m) for m in body["messages"]),
        max_tokens=body.get("max_tokens"),
        response_format=ResponseFormat(fmt["name"], fmt["schema"]) if fmt else None,
        options=body.get("options", {}) | {"delay": 0},
    )
    text: list[str] = []
    finish: StreamFinish = "stop"
    usage = Usage()
    async for chunk in DemoProvider().stream(body["model"], request):
        text.append(chunk.delta)
        if chunk.finish_reason is not None:
            finish, usage = chunk.finish_reason, chunk.usage or usage
    return {
        "custom_id": entry["custom_id"],
        "text": "".join(text),
        "model": body["model"],
        "finish": finish,
        "usage": usage.to_dict(),
    }


def _path(job: BatchJob) -> Path:
    return FOLDER / f"{job.id}.json"


def _save(job: BatchJob, state: dict[str, Any]) -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    _path(job).write_text(json.dumps(state))


def _load(job: BatchJob) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads(_path(job).read_text())
    except FileNotFoundError:
        raise BatchError(
            f"The demo batch {job.id} is gone ({_path(job)} was removed): its rows go again on the next run.",
            provider="demo",
        ) from None
    return state
