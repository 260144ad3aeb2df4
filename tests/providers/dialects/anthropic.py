"""Anthropic Messages streaming, as the API sends it.

Named SSE events whose data repeats the name in ``type``: ``message_start`` (the
message with empty content, the served model and input usage), then per content
block ``content_block_start``, ``content_block_delta`` (``text_delta`` or
``input_json_delta``, the latter beginning with an empty ``partial_json``) and
``content_block_stop``; then ``message_delta`` (``stop_reason`` and usage holding
``output_tokens``) and ``message_stop``. ``ping`` events may come anywhere (the API
sends one right after the first ``content_block_start``). Errors are
``{"type": "error", "error": {"type", "message"}}``, as the HTTP body (with a
``request_id``) or as an ``event: error`` inside a 200 stream.
"""

from __future__ import annotations

import base64
from typing import Any, ClassVar

import anthropic
from providers.dialects import Call, Exchanged, Part, Tokens, key_env
from wire_server import Reply, Seen, sse

from llmring_jupyter.providers.json_mode import ANSWER_TOOL_DESCRIPTION

_STOP = {"stop": "end_turn", "length": "max_tokens", "content_filter": "refusal"}
_ERROR_TYPE = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_PING = ("ping", {"type": "ping"})
Block = tuple[dict[str, Any], list[dict[str, Any]]]  # a content block as it starts, and its deltas


def text_block(parts: list[str]) -> Block:
    return {"type": "text", "text": ""}, [{"type": "text_delta", "text": p} for p in parts]


def tool_use_block(call_id: str, name: str, parts: list[str]) -> Block:
    block = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
    return block, [{"type": "input_json_delta", "partial_json": p} for p in ["", *parts]]


def thinking_block(parts: list[str], signature: str) -> Block:
    """A ``thinking`` block: it starts empty, its text comes in ``thinking_delta`` pieces, then
    one ``signature_delta``."""
    deltas = [{"type": "thinking_delta", "thinking": p} for p in parts]
    return {"type": "thinking", "thinking": "", "signature": ""}, [
        *deltas,
        {"type": "signature_delta", "signature": signature},
    ]


def redacted_block(data: str) -> Block:
    """A ``redacted_thinking`` block: its opaque data whole in its start, no deltas."""
    return {"type": "redacted_thinking", "data": data}, []


class AnthropicDialect:
    provider = "anthropic"
    model = "claude-haiku-4-5"
    key_env: ClassVar[dict[str, str]] = key_env("anthropic", "sk-ant-wire-test-0123456789abcdef")
    call_ids = True
    caches = True

    def base_url_env(self, url: str) -> dict[str, str]:
        return {"ANTHROPIC_BASE_URL": url}

    def _start(self, served: str, input_tokens: int, cached: int = 0) -> tuple[str, dict[str, Any]]:
        return (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_01WireTest",
                    "type": "message",
                    "role": "assistant",
                    "model": served,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": input_tokens - cached,  # excludes the cached ones
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": cached,
                        "output_tokens": 1,
                        "service_tier": "standard",
                    },
                },
            },
        )

    def _opening(self, served: str, input_tokens: int, block: dict[str, Any], cached: int = 0) -> str:
        """message_start, the first content_block_start and a ping: sent back to back."""
        start = ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block})
        return "".join(sse(self._start(served, input_tokens, cached), start, _PING))

    def _text(self, parts: list[str], served: str, input_tokens: int = 11, cached: int = 0) -> list[str]:
        opening = self._opening(served, input_tokens, {"type": "text", "text": ""}, cached)
        deltas = [
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}},
            )
            for p in parts
        ]
        return [opening, *sse(*deltas)]

    def _end(self, stop_reason: str, output_tokens: int) -> list[str]:
        return sse(
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": output_tokens},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        )

    def answer(
        self, parts: list[str], *, finish: str = "stop", served: str = "", usage: Tokens = (11, 7), cached: int = 0
    ) -> Reply:
        served = served or self.model
        body = self._text(parts, served, usage[0], cached) + self._end(_STOP[finish], usage[1])
        return Reply(200, {"request-id": "req_wire"}, body)

    def tool_call(self, name: str, argument_parts: list[str], call_id: str) -> Reply:
        return self.tool_calls([(call_id, name, argument_parts)])

    def tool_calls(self, calls: list[Call], text: list[str] | None = None) -> Reply:
        """Each call is a ``tool_use`` block whose ``input_json_delta`` pieces begin with an empty one."""
        blocks: list[Block] = [text_block(text)] if text else []
        blocks += [tool_use_block(call_id, name, parts) for call_id, name, parts in calls]
        return self.blocks(blocks, "tool_use")

    def blocks(self, blocks: list[Block], stop_reason: str, usage: dict[str, Any] | None = None) -> Reply:
        """A step of content blocks, each ``(content_block, deltas)``, then ``message_delta`` with
        ``usage`` (default: 12 output tokens) and ``message_stop``."""
        events: list[Any] = [self._start(self.model, 40)]
        for index, (block, deltas) in enumerate(blocks):
            events.append(
                ("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})
            )
            if index == 0:
                events.append(_PING)
            events += [
                ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas
            ]
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        events += [
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                    "usage": usage or {"output_tokens": 12},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        return Reply(200, {"request-id": "req_wire"}, sse(*events))

    def sent_tools(self, seen: Seen) -> list[tuple[str, str, dict[str, Any]]]:
        return [(t["name"], t.get("description", ""), t["input_schema"]) for t in seen.json.get("tools", [])]

    def sent_exchange(self, seen: Seen) -> list[Exchanged]:
        out: list[Exchanged] = []
        for m in seen.json["messages"]:
            for block in m["content"] if isinstance(m["content"], list) else ():
                if block["type"] == "tool_use":
                    assert m["role"] == "assistant" and block["id"]
                    out.append(("call", block["name"], block["input"], None))
                elif block["type"] == "tool_result":
                    assert m["role"] == "user"
                    out.append(("result", block["tool_use_id"], block["content"]))
        return out

    def in_stream_error(self, parts: list[str], message: str) -> Reply:
        error = ("error", {"type": "error", "error": {"type": "overloaded_error", "message": message}})
        return Reply(200, {}, self._text(parts, self.model) + sse(error))

    def without_end_marker(self, parts: list[str], input_tokens: int = 11) -> Reply:
        """``message_start`` (its input count), the text, and no ``message_delta`` or ``message_stop``."""
        return Reply(200, {}, self._text(parts, self.model, input_tokens))

    def malformed(self, parts: list[str]) -> Reply:
        truncated = (
            'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_del\n\n'
        )
        return Reply(200, {}, self._text(parts, self.model) + [truncated])

    def http_error(self, status: int, message: str, retry_after: float | None = None) -> Reply:
        body = {
            "type": "error",
            "error": {"type": _ERROR_TYPE.get(status, "api_error"), "message": message},
            "request_id": "req_wire",
        }
        headers = {"request-id": "req_wire"}
        if status == 429 and retry_after is not None:
            headers |= {"retry-after": str(retry_after), "anthropic-ratelimit-requests-remaining": "0"}
        return Reply.json(body, status, headers)

    def sent_parts(self, seen: Seen) -> list[Part]:
        blocks = [b for m in seen.json["messages"] if isinstance(m["content"], list) for b in m["content"]]
        blocks += [  # a tool's images, inside its result
            inner
            for b in blocks
            if b["type"] == "tool_result" and isinstance(b["content"], list)
            for inner in b["content"]
        ]
        return [
            (b["type"], b["source"]["media_type"], base64.b64decode(b["source"]["data"]))
            for b in blocks
            if b["type"] in ("image", "document")
        ]

    def sent_messages(self, seen: Seen) -> list[tuple[str, str]]:
        body = seen.json

        def text(content: Any) -> str:
            if isinstance(content, list):
                return "".join(b.get("text", "") for b in content if b.get("type") == "text")
            return content or ""

        system = [("system", text(body["system"]))] if body.get("system") else []
        return system + [(m["role"], text(m["content"])) for m in body["messages"]]

    def sent_format(self, seen: Seen) -> dict[str, Any]:
        return {k: seen.json[k] for k in ("output_config", "tools", "tool_choice") if k in seen.json}

    def json_request(self, name: str, schema: dict[str, Any] | None) -> dict[str, Any]:
        if schema is None:  # no native mode for any object: the answer is a forced tool call's input
            tool = {"name": "answer", "description": ANSWER_TOOL_DESCRIPTION, "input_schema": {"type": "object"}}
            return {"tools": [tool], "tool_choice": {"type": "tool", "name": "answer"}}
        return {"output_config": {"format": {"type": "json_schema", "schema": anthropic.transform_schema(schema)}}}

    def sent_options(self, seen: Seen) -> dict[str, Any]:
        return {k: seen.json[k] for k in ("temperature", "max_tokens") if k in seen.json}


DIALECT = AnthropicDialect()
