"""OpenAI's Responses API streaming (``POST /v1/responses``), as the API sends it.

Named SSE events (``event: <type>`` and a ``data:`` object whose ``type`` repeats it), each
with a ``sequence_number`` counting from 0: ``response.created`` and
``response.in_progress`` (the response so far, ``usage: null``), then per output item
``response.output_item.added``, its deltas (``response.output_text.delta`` inside a
``content_part``, ``response.reasoning_summary_text.delta`` inside a ``summary_part``,
``response.function_call_arguments.delta``), their ``.done`` events and
``response.output_item.done`` (a reasoning item's ``encrypted_content`` whole only here),
then ``response.completed`` / ``response.incomplete`` (``incomplete_details.reason``) /
``response.failed`` (``error``) carrying the whole response and its ``usage``
(``input_tokens_details.cached_tokens``, ``output_tokens_details.reasoning_tokens``). An
``error`` event (``code``, ``message``, ``param``) may come instead. HTTP errors are
``{"error": {"message", "type", "param", "code"}}``. There is no ``[DONE]``.

The first part of a reply holds the events before the first text delta, so a test that
keeps the first parts of a reply keeps some text.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, ClassVar

from providers.dialects import Call, Exchanged, Part, Tokens, key_env
from providers.dialects.openai_chat import DIALECT as CHAT
from wire_server import Reply, Seen, sse

from llmring_jupyter.providers.json_mode import strict_schema

#: An output item to stream: ("message", text pieces), ("reasoning", summary parts (each a list
#: of pieces), encrypted content, id) or ("call", call id, name, argument pieces)
Item = tuple[Any, ...]
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


class _Events:
    """Events of one response, numbered in order."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, kind: str, **fields: Any) -> tuple[str, dict[str, Any]]:
        event = {"type": kind, "sequence_number": self.count, **fields}
        self.count += 1
        return kind, event


class OpenAIDialect:
    provider = "openai"
    model = "gpt-4o-mini"
    key_env: ClassVar[dict[str, str]] = key_env("openai", "sk-wire-test-0123456789abcdef")
    call_ids = True
    caches = True

    def base_url_env(self, url: str) -> dict[str, str]:
        return {"OPENAI_BASE_URL": f"{url}/v1"}

    # -- the stream ---------------------------------------------------------------------------
    def _response(self, served: str, status: str, output: list[Any], **more: Any) -> dict[str, Any]:
        return {
            "id": "resp_wire0001",
            "object": "response",
            "created_at": 1735689600,
            "status": status,
            "background": False,
            "error": None,
            "incomplete_details": None,
            "instructions": None,
            "max_output_tokens": None,
            "model": served,
            "output": output,
            "parallel_tool_calls": True,
            "previous_response_id": None,
            "reasoning": {"effort": None, "summary": None},
            "store": False,
            "temperature": 1.0,
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto",
            "tools": [],
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": None,
            "user": None,
            "metadata": {},
            **more,
        }

    def stream(
        self,
        items: Sequence[Item],
        *,
        end: str | None = "completed",
        finish: str = "stop",
        served: str = "",
        usage: Tokens = (11, 7),
        cached: int = 0,
        reasoning_tokens: int = 0,
    ) -> list[str]:
        """The SSE parts of a response streaming ``items`` in order; ``end``: completed,
        incomplete (``finish`` says why), failed, or None (the body just stops)."""
        served, ev = served or self.model, _Events()
        head = [
            ev("response.created", response=self._response(served, "in_progress", [])),
            ev("response.in_progress", response=self._response(served, "in_progress", [])),
        ]
        parts: list[str] = []
        output: list[dict[str, Any]] = []
        for at, item in enumerate(items):
            events, done = self._item(ev, at, item)
            first, *rest = events
            # the events before the first delta ride with the head (or the last part)
            if not parts:
                parts.append("".join(sse(*head, *first)))
            else:
                parts[-1] += "".join(sse(*first))
            parts += ["".join(sse(*group)) for group in rest]
            output.append(done)
        if not parts:
            parts.append("".join(sse(*head)))
        prompt, completion = usage
        counts = {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": completion,
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "total_tokens": prompt + completion,
        }
        if end == "completed":
            parts += sse(ev("response.completed", response=self._response(served, "completed", output, usage=counts)))
        elif end == "incomplete":
            why = {"reason": _INCOMPLETE[finish]}
            response = self._response(served, "incomplete", output, usage=counts, incomplete_details=why)
            parts += sse(ev("response.incomplete", response=response))
        elif end == "failed":
            error = {"code": "server_error", "message": "The model failed to answer"}
            parts += sse(ev("response.failed", response=self._response(served, "failed", output, error=error)))
        return parts

    def _item(self, ev: _Events, at: int, item: Item) -> tuple[list[list[Any]], dict[str, Any]]:
        """An item's events in groups (the first: up to its first delta; one group per delta;
        the last: its end) and the item as done."""
        kind = item[0]
        if kind == "message":
            text = "".join(item[1])
            where = {"item_id": f"msg_wire{at}", "output_index": at}
            start = {"id": f"msg_wire{at}", "type": "message", "status": "in_progress", "role": "assistant"}
            done = {**start, "status": "completed", "content": [_text(text)]}
            return [
                [
                    ev("response.output_item.added", output_index=at, item={**start, "content": []}),
                    ev("response.content_part.added", **where, content_index=0, part=_text("")),
                ],
                *[[ev("response.output_text.delta", **where, content_index=0, delta=p, logprobs=[])] for p in item[1]],
                [
                    ev("response.output_text.done", **where, content_index=0, text=text, logprobs=[]),
                    ev("response.content_part.done", **where, content_index=0, part=_text(text)),
                    ev("response.output_item.done", output_index=at, item=done),
                ],
            ], done
        if kind == "reasoning":
            _, summary, encrypted, rid = item
            texts = ["".join(pieces) for pieces in summary]
            begun: dict[str, Any] = {"id": rid, "type": "reasoning", "summary": [], "encrypted_content": None}
            done = {**begun, "summary": [_summary(t) for t in texts], "encrypted_content": encrypted}
            groups = [[ev("response.output_item.added", output_index=at, item=begun)]]
            for n, pieces in enumerate(summary):
                where = {"item_id": rid, "output_index": at, "summary_index": n}
                groups[-1].append(ev("response.reasoning_summary_part.added", **where, part=_summary("")))
                groups += [[ev("response.reasoning_summary_text.delta", **where, delta=p)] for p in pieces]
                groups[-1] += [
                    ev("response.reasoning_summary_text.done", **where, text=texts[n]),
                    ev("response.reasoning_summary_part.done", **where, part=_summary(texts[n])),
                ]
            return [*groups, [ev("response.output_item.done", output_index=at, item=done)]], done
        _, call_id, name, pieces = item
        arguments = "".join(pieces)
        where = {"item_id": f"fc_wire{at}", "output_index": at}
        start = {"id": f"fc_wire{at}", "type": "function_call", "status": "in_progress", "call_id": call_id}
        start |= {"name": name, "arguments": ""}
        done = {**start, "status": "completed", "arguments": arguments}
        return [
            [ev("response.output_item.added", output_index=at, item=start)],
            *[[ev("response.function_call_arguments.delta", **where, delta=p)] for p in pieces],
            [
                ev("response.function_call_arguments.done", **where, arguments=arguments),
                ev("response.output_item.done", output_index=at, item=done),
            ],
        ], done

    # -- the Dialect protocol -----------------------------------------------------------------
    def answer(
        self, parts: list[str], *, finish: str = "stop", served: str = "", usage: Tokens = (11, 7), cached: int = 0
    ) -> Reply:
        end = "completed" if finish == "stop" else "incomplete"
        events = self.stream([("message", parts)], end=end, finish=finish, served=served, usage=usage, cached=cached)
        return Reply(200, {"x-request-id": "req_wire"}, events)

    def tool_call(self, name: str, argument_parts: list[str], call_id: str) -> Reply:
        return self.tool_calls([(call_id, name, argument_parts)])

    def tool_calls(self, calls: list[Call], text: list[str] | None = None) -> Reply:
        items: list[Item] = [("message", text)] if text else []
        items += [("call", call_id, name, parts) for call_id, name, parts in calls]
        return Reply(200, {}, self.stream(items, usage=(40, 12)))

    def in_stream_error(self, parts: list[str], message: str) -> Reply:
        events = self.stream([("message", parts)], end=None)
        error = _Events()
        error.count = 99
        return Reply(200, {}, [*events, *sse(error("error", code="server_error", message=message, param=None))])

    def without_end_marker(self, parts: list[str]) -> Reply:
        return Reply(200, {}, self.stream([("message", parts)], end=None))

    def malformed(self, parts: list[str]) -> Reply:
        truncated = 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"msg_\n\n'
        return Reply(200, {}, [*self.stream([("message", parts)], end=None), truncated])

    def http_error(self, status: int, message: str, retry_after: float | None = None) -> Reply:
        return CHAT.http_error(status, message, retry_after)

    # -- reading what the SDK sent ------------------------------------------------------------
    def sent_tools(self, seen: Seen) -> list[tuple[str, str, dict[str, Any]]]:
        tools = [t for t in seen.json.get("tools", []) if t["type"] == "function"]
        assert all("function" not in t and t["strict"] is False for t in tools), tools  # the Responses shape
        return [(t["name"], t.get("description", ""), t["parameters"]) for t in tools]

    def sent_exchange(self, seen: Seen) -> list[Exchanged]:
        out: list[Exchanged] = []
        for item in seen.json["input"]:
            if item.get("type") == "function_call":
                assert item["call_id"]
                out.append(("call", item["name"], json.loads(item["arguments"]), None))
            elif item.get("type") == "function_call_output":
                output = item["output"]  # text, or text and images as input parts
                if isinstance(output, list):
                    output = "".join(p["text"] for p in output if p["type"] == "input_text")
                out.append(("result", item["call_id"], output))
        return out

    def sent_reasoning(self, seen: Seen) -> list[tuple[str, str]]:
        """The reasoning items sent back, in order: (id, encrypted content)."""
        return [(i["id"], i["encrypted_content"]) for i in seen.json["input"] if i.get("type") == "reasoning"]

    def sent_parts(self, seen: Seen) -> list[Part]:
        out = []
        for item in seen.json["input"]:
            parts = item.get("output") if item.get("type") == "function_call_output" else item.get("content")
            for p in parts if isinstance(parts, list) else ():
                if p["type"] in ("input_image", "input_file"):
                    url = p["image_url"] if p["type"] == "input_image" else p["file_data"]
                    head, _, data = url.partition(";base64,")
                    kind = "image" if p["type"] == "input_image" else "document"
                    out.append((kind, head.removeprefix("data:"), base64.b64decode(data)))
        return out

    def sent_messages(self, seen: Seen) -> list[tuple[str, str]]:
        out = [("system", seen.json["instructions"])] if seen.json.get("instructions") else []
        for item in seen.json["input"]:
            if "role" not in item:
                continue
            content = item["content"]
            if isinstance(content, list):
                content = "".join(p.get("text", "") for p in content)
            out.append(("system" if item["role"] == "developer" else item["role"], content))
        return out

    def sent_format(self, seen: Seen) -> dict[str, Any]:
        return {k: seen.json[k] for k in ("text",) if k in seen.json}

    def json_request(self, name: str, schema: dict[str, Any] | None) -> dict[str, Any]:
        if schema is None:
            return {"text": {"format": {"type": "json_object"}}}
        strict = {"name": name.replace("[", "_").strip("]"), "schema": strict_schema(schema), "strict": True}
        return {"text": {"format": {"type": "json_schema", **strict}}}

    def sent_options(self, seen: Seen) -> dict[str, Any]:
        body = seen.json
        out = {k: body[k] for k in ("temperature",) if k in body}
        if body.get("max_output_tokens") is not None:
            out["max_tokens"] = body["max_output_tokens"]
        return out


def _text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _summary(text: str) -> dict[str, Any]:
    return {"type": "summary_text", "text": text}


DIALECT = OpenAIDialect()
