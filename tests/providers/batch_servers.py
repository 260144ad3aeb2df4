"""Local servers speaking each provider's batch API, written from the providers' documentation.

Each keeps its batches' state and moves them one step along their ``plan`` each time the
client reads them (so a test drives ``queued`` → ``in_progress`` → ``completed`` by polling),
answers every row with ``Answer to: <the row's last user text>``, and can be told to error
some rows (``errored``), to expire (``expire_after``: that many rows done, the rest expired) or
to refuse the upload. Results come back in reverse order, as no API promises any. The routes
sit on :class:`~wire_server.WireServer`, so the real SDKs speak real HTTP to them;
``submitted`` counts the batches created, for the no-second-submission checks.
"""

from __future__ import annotations

import datetime
import email.parser
import email.policy
import functools
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wire_server import Reply, Seen, WireServer

_ids = itertools.count(1)


class Router(dict[tuple[str, str], Callable[[Seen], Reply]]):
    """Routes by ``(method, regular expression of the path)``: the wire server looks a request up with
    ``get((method, path))``; the match's groups reach the handler as ``seen.groups``."""

    def get(self, key: tuple[str, str], default: Any = None) -> Any:
        method, path = key
        path = path.split("?", 1)[0]
        for (m, pattern), handler in self.items():
            found = re.fullmatch(pattern, path)
            if m == method and found:
                return functools.partial(_call, handler, found.groups())
        return default


def _call(handler: Callable[..., Reply], groups: tuple[str, ...], seen: Seen) -> Reply:
    return handler(seen, *groups)


@dataclass
class Batch:
    id: str
    rows: list[tuple[str, str]]  # (custom id, the row's last user text), in the order sent
    plan: list[str]  # the states still to come, one per read
    status: str
    errored: set[str] = field(default_factory=set)
    expire_after: int | None = None
    cancelled: bool = False
    reads: int = 0

    def advance(self) -> None:
        self.reads += 1
        if self.plan:
            self.status = self.plan.pop(0)

    def done(self) -> list[tuple[str, str]]:
        """The rows finished so far: all at the end, half while running, those before an expiry."""
        if self.cancelled:
            return self.rows[: len(self.rows) // 2]
        if self.expire_after is not None and self.status in ("expired", "ended"):
            return self.rows[: self.expire_after]
        if self.status in ("completed", "ended", "succeeded"):
            return self.rows
        if self.status in ("in_progress", "finalizing", "cancelling", "cancelled", "canceling"):
            return self.rows[: len(self.rows) // 2]
        return []


def answer(text: str) -> str:
    return f"Answer to: {text}"


class BatchServer:
    """What the three servers share: batches by id, the plan, the counters."""

    running = "in_progress"  # the provider's word for a batch under way

    def __init__(self) -> None:
        self.batches: dict[str, Batch] = {}
        self.submitted = 0
        self.plan = ["in_progress", "completed"]
        self.errored: set[str] = set()
        self.expire_after: int | None = None
        self.refuse_upload = False
        self.unavailable = False  # reading a batch answers 503 while this is set
        self.closed = False
        self.server = WireServer(Router(self.routes()))

    @property
    def url(self) -> str:
        return self.server.url

    def routes(self) -> dict[tuple[str, str], Callable[..., Reply]]:
        raise NotImplementedError

    def new(self, prefix: str, rows: list[tuple[str, str]], status: str) -> Batch:
        self.submitted += 1
        batch = Batch(f"{prefix}{next(_ids):04d}", rows, list(self.plan), status, set(self.errored), self.expire_after)
        self.batches[batch.id] = batch
        return batch

    def close(self) -> None:
        """Stop serving (a test may stop it early, to be unreachable)."""
        if not self.closed:
            self.closed = True
            self.server.close()


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")


def _last_user(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            content = m["content"]
            return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)
    return ""


class OpenAIBatches(BatchServer):
    """``POST /v1/files`` (purpose=batch), ``POST /v1/batches``, ``GET /v1/batches/{id}``,
    ``POST /v1/batches/{id}/cancel``, ``GET /v1/files/{id}/content`` (output and error JSONL)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.sent_lines: list[dict[str, Any]] = []
        super().__init__()

    def routes(self) -> dict[tuple[str, str], Callable[..., Reply]]:
        return {
            ("POST", r"/v1/files"): self.upload,
            ("POST", r"/v1/batches"): self.create,
            ("GET", r"/v1/batches/([^/]+)"): self.retrieve,
            ("POST", r"/v1/batches/([^/]+)/cancel"): self.cancel,
            ("GET", r"/v1/files/([^/]+)/content"): self.content,
        }

    def upload(self, seen: Seen) -> Reply:
        if self.refuse_upload:
            return Reply.json(
                {"error": {"message": "File is larger than allowed", "type": "invalid_request_error"}}, 400
            )
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + seen.headers["content-type"].encode() + b"\r\n\r\n" + seen.body
        )
        parts: dict[Any, Any] = {
            p.get_param("name", header="content-disposition"): p.get_payload(decode=True) for p in message.iter_parts()
        }
        assert parts["purpose"] == b"batch"
        file_id = f"file-{next(_ids):04d}"
        self.files[file_id] = parts["file"]
        return Reply.json(
            {
                "id": file_id,
                "object": "file",
                "bytes": len(parts["file"]),
                "created_at": 1,
                "filename": "batch.jsonl",
                "purpose": "batch",
                "status": "processed",
            }
        )

    def create(self, seen: Seen) -> Reply:
        body = seen.json
        lines = [json.loads(line) for line in self.files[body["input_file_id"]].decode().splitlines()]
        self.sent_lines += lines
        rows = [(line["custom_id"], _last_user(line["body"]["messages"])) for line in lines]
        batch = self.new("batch_", rows, "validating")
        batch.input = body["input_file_id"]  # type: ignore[attr-defined]
        return Reply.json(self.shape(batch))

    def shape(self, batch: Batch) -> dict[str, Any]:
        done = batch.done()
        ended = batch.status in ("completed", "expired", "cancelled", "failed")
        failed = sum(1 for cid, _ in done if cid in batch.errored)
        out = {
            "id": batch.id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "input_file_id": getattr(batch, "input", "file-0"),
            "completion_window": "24h",
            "status": batch.status,
            "created_at": 1735689600,
            "request_counts": {"total": len(batch.rows), "completed": len(done) - failed, "failed": failed},
            "output_file_id": f"file-out-{batch.id}" if ended else None,
            "error_file_id": f"file-err-{batch.id}" if ended else None,
        }
        return out

    def retrieve(self, seen: Seen, batch_id: str) -> Reply:
        if self.unavailable:
            return Reply.json({"error": {"message": "The server is overloaded", "type": "server_error"}}, 503)
        batch = self.batches.get(batch_id)
        if batch is None:
            return Reply.json({"error": {"message": f"No batch found with id '{batch_id}'."}}, 404)
        batch.advance()
        return Reply.json(self.shape(batch))

    def cancel(self, seen: Seen, batch_id: str) -> Reply:
        batch = self.batches[batch_id]
        batch.status, batch.plan = "cancelling", ["cancelled"]
        return Reply.json(self.shape(batch))

    def content(self, seen: Seen, file_id: str) -> Reply:
        kind, _, batch_id = file_id.removeprefix("file-").partition("-")
        batch = self.batches[batch_id]
        done = batch.done()
        lines = []
        if kind == "out":
            for cid, text in reversed(done):
                if cid not in batch.errored:
                    lines.append(
                        {
                            "id": f"batch_req_{cid}",
                            "custom_id": cid,
                            "response": {"status_code": 200, "request_id": "req_1", "body": _completion(text)},
                            "error": None,
                        }
                    )
        else:
            for cid, _ in done:
                if cid in batch.errored:
                    lines.append(
                        {
                            "id": f"batch_req_{cid}",
                            "custom_id": cid,
                            "response": {
                                "status_code": 400,
                                "request_id": "req_2",
                                "body": {
                                    "error": {"message": "Invalid 'messages': empty.", "type": "invalid_request_error"}
                                },
                            },
                            "error": None,
                        }
                    )
            if batch.status == "expired":
                for cid, _ in batch.rows[len(done) :]:
                    lines.append(
                        {
                            "id": f"batch_req_{cid}",
                            "custom_id": cid,
                            "response": None,
                            "error": {
                                "code": "batch_expired",
                                "message": "This request could not be executed before the completion window expired.",
                            },
                        }
                    )
        return Reply(200, {}, ["".join(json.dumps(line) + "\n" for line in lines)], "application/octet-stream")


def _completion(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-batch",
        "object": "chat.completion",
        "created": 1735689600,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer(text), "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


class AnthropicBatches(BatchServer):
    """``POST /v1/messages/batches``, ``GET /v1/messages/batches/{id}``, ``…/cancel``, ``…/results`` (JSONL)."""

    def __init__(self) -> None:
        self.sent_requests: list[dict[str, Any]] = []
        super().__init__()
        self.plan = ["in_progress", "ended"]

    def routes(self) -> dict[tuple[str, str], Callable[..., Reply]]:
        return {
            ("POST", r"/v1/messages/batches"): self.create,
            ("GET", r"/v1/messages/batches/([^/]+)"): self.retrieve,
            ("POST", r"/v1/messages/batches/([^/]+)/cancel"): self.cancel,
            ("GET", r"/v1/messages/batches/([^/]+)/results"): self.results,
        }

    def create(self, seen: Seen) -> Reply:
        requests = seen.json["requests"]
        self.sent_requests += requests
        batch = self.new(
            "msgbatch_", [(r["custom_id"], _last_user(r["params"]["messages"])) for r in requests], "in_progress"
        )
        return Reply.json(self.shape(batch))

    def shape(self, batch: Batch) -> dict[str, Any]:
        done = batch.done()
        ended = batch.status == "ended"
        errored = sum(1 for cid, _ in done if cid in batch.errored)
        left = len(batch.rows) - len(done)
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": {
                "processing": 0 if ended else left,
                "succeeded": len(done) - errored,
                "errored": errored,
                "canceled": left if ended and batch.cancelled else 0,
                "expired": left if ended and batch.expire_after is not None else 0,
            },
            "created_at": _now(),
            "expires_at": _now(),
            "ended_at": _now() if ended else None,
            "archived_at": None,
            "cancel_initiated_at": _now() if batch.cancelled else None,
            "results_url": f"{self.url}/v1/messages/batches/{batch.id}/results" if ended else None,
        }

    def retrieve(self, seen: Seen, batch_id: str) -> Reply:
        batch = self.batches[batch_id]
        batch.advance()
        return Reply.json(self.shape(batch))

    def cancel(self, seen: Seen, batch_id: str) -> Reply:
        batch = self.batches[batch_id]
        batch.status, batch.plan = "canceling", ["ended"]
        batch.cancelled = True
        return Reply.json(self.shape(batch))

    def results(self, seen: Seen, batch_id: str) -> Reply:
        batch = self.batches[batch_id]
        done = batch.done()
        lines = []
        for cid, text in reversed(done):
            if cid in batch.errored:
                result = {
                    "type": "errored",
                    "error": {
                        "type": "error",
                        "error": {
                            "type": "invalid_request_error",
                            "message": "messages: at least one message is required",
                        },
                    },
                }
            else:
                result = {"type": "succeeded", "message": _message(text)}
            lines.append({"custom_id": cid, "result": result})
        kind = "canceled" if batch.cancelled else "expired" if batch.expire_after is not None else None
        for cid, _ in batch.rows[len(done) :] if kind else ():
            lines.append({"custom_id": cid, "result": {"type": kind}})
        return Reply(200, {}, ["".join(json.dumps(line) + "\n" for line in lines)], "application/binary")


def _message(text: str) -> dict[str, Any]:
    return {
        "id": "msg_batch",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5-20251001",
        "content": [{"type": "text", "text": answer(text)}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0,
        },
    }


class GoogleBatches(BatchServer):
    """``POST /{version}/models/{model}:batchGenerateContent`` (inline requests), ``GET /{version}/batches/{id}``
    (the operation; its output once done), ``POST /{version}/batches/{id}:cancel``."""

    running = "BATCH_STATE_RUNNING"

    def __init__(self) -> None:
        self.sent_requests: list[dict[str, Any]] = []
        super().__init__()
        self.plan = [self.running, "BATCH_STATE_SUCCEEDED"]

    def routes(self) -> dict[tuple[str, str], Callable[..., Reply]]:
        return {
            ("POST", r"/[^/]+/models/([^/:]+):batchGenerateContent"): self.create,
            ("GET", r"/[^/]+/batches/([^/:]+)"): self.get,
            ("POST", r"/[^/]+/batches/([^/:]+):cancel"): self.cancel,
        }

    def create(self, seen: Seen, model: str) -> Reply:
        requests = seen.json["batch"]["inputConfig"]["requests"]["requests"]
        self.sent_requests += requests
        rows = [(r["metadata"]["custom_id"], r["request"]["contents"][-1]["parts"][0]["text"]) for r in requests]
        batch = self.new("", rows, "BATCH_STATE_PENDING")
        batch.rows_meta = [r.get("metadata") for r in requests]  # type: ignore[attr-defined]
        return Reply.json(self.shape(batch, model))

    def shape(self, batch: Batch, model: str = "gemini-2.5-flash") -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
            "model": f"models/{model}",
            "displayName": "llmring batch",
            "createTime": _now(),
            "updateTime": _now(),
            "state": batch.status,
            "name": f"batches/{batch.id}",
        }
        out: dict[str, Any] = {"name": f"batches/{batch.id}", "metadata": metadata}
        if batch.status in ("BATCH_STATE_SUCCEEDED", "BATCH_STATE_CANCELLED"):
            done = self.rows_done(batch)
            metadata["output"] = {"inlinedResponses": {"inlinedResponses": done}}
            metadata["endTime"] = _now()
            out["done"] = True
        return out

    def rows_done(self, batch: Batch) -> list[dict[str, Any]]:
        rows = batch.rows if batch.status == "BATCH_STATE_SUCCEEDED" else batch.rows[: len(batch.rows) // 2]
        out = []
        for cid, text in rows:  # Gemini keeps the order of the requests
            if cid in batch.errored:
                out.append(
                    {
                        "error": {"code": 400, "message": "Request contains an invalid argument."},
                        "metadata": {"custom_id": cid},
                    }
                )
            else:
                out.append({"response": _gemini(text), "metadata": {"custom_id": cid}})
        return out

    def get(self, seen: Seen, batch_id: str) -> Reply:
        batch = self.batches[batch_id]
        batch.advance()
        return Reply.json(self.shape(batch))

    def cancel(self, seen: Seen, batch_id: str) -> Reply:
        batch = self.batches[batch_id]
        batch.status, batch.plan = "BATCH_STATE_CANCELLED", []
        batch.cancelled = True
        return Reply.json({})


def _gemini(text: str) -> dict[str, Any]:
    return {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": answer(text)}]}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
        "modelVersion": "gemini-2.5-flash",
    }
