"""OpenAI chat completions streaming, as the API and compatible servers send it.

A compatible server (vLLM, llama.cpp, Ollama, DeepSeek...) without the Responses API:
``/v1/responses`` answers 404 (:attr:`ChatCompletionsDialect.routes`, installed on the wire
server by the fixtures), so the adapter switches to chat completions.

``data:`` lines of ``chat.completion.chunk`` objects (no ``event:`` names): a first
chunk with the role, content chunks, a chunk with ``finish_reason`` and an empty
delta, then (with ``stream_options.include_usage``) a usage-only chunk whose
``choices`` is ``[]``, then ``data: [DONE]``. Every chunk before the last carries
``"usage": null``. Errors are ``{"error": {"message", "type", "param", "code"}}``,
as the HTTP body or as a ``data:`` line inside a 200 stream. Compatible servers stream their
thinking as ``delta.reasoning_content`` (DeepSeek, llama.cpp) or ``delta.reasoning`` (vLLM).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from providers.dialects import Call, Exchanged, Part, Tokens, key_env
from wire_server import Reply, Seen, sse

from llmring_jupyter.providers.json_mode import strict_schema

_FINISH = {"stop": "stop", "length": "length", "content_filter": "content_filter"}
_ERROR_TYPE = {
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
}


def no_responses_route(seen: Seen) -> Reply:
    """What a server without the Responses API answers to ``POST /v1/responses`` (vLLM's FastAPI)."""
    return Reply.json({"detail": "Not Found"}, 404)


class ChatCompletionsDialect:
    provider = "openai"
    model = "gpt-4o-mini"
    key_env: ClassVar[dict[str, str]] = key_env("openai", "sk-wire-test-0123456789abcdef")
    call_ids = True
    caches = True
    routes: ClassVar[dict[tuple[str, str], Callable[[Seen], Reply]]] = {("POST", "/v1/responses"): no_responses_route}

    def base_url_env(self, url: str) -> dict[str, str]:
        return {"OPENAI_BASE_URL": f"{url}/v1"}

    def _chunk(self, served: str, choices: list[dict[str, Any]], usage: Any = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-Bwire0001",
            "object": "chat.completion.chunk",
            "created": 1735689600,
            "model": served,
            "service_tier": "default",
            "system_fingerprint": "fp_0ba0d124f1",
            "choices": choices,
            "usage": usage,
        }

    def _delta(self, served: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return self._chunk(served, [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}])

    def _text(self, parts: list[str], served: str) -> list[dict[str, Any]]:
        first = self._delta(served, {"role": "assistant", "content": "", "refusal": None})
        return [first] + [self._delta(served, {"content": p}) for p in parts]

    def _usage(self, served: str, usage: tuple[int, int], cached: int = 0) -> dict[str, Any]:
        prompt, completion = usage
        return self._chunk(
            served,
            [],
            {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
        )

    def answer(
        self,
        parts: list[str],
        *,
        finish: str = "stop",
        served: str = "",
        usage: Tokens = (11, 7),
        cached: int = 0,
        thinking: Sequence[str] = (),
        thinking_field: str = "reasoning_content",
    ) -> Reply:
        served = served or self.model
        events = [
            *(self._delta(served, {"role": "assistant", "content": None, thinking_field: t}) for t in thinking),
            *self._text(parts, served),
            self._delta(served, {}, _FINISH[finish]),
            self._usage(served, usage, cached),
            "data: [DONE]\n\n",
        ]
        return Reply(200, {"x-request-id": "req_wire"}, sse(*events))

    def tool_call(self, name: str, argument_parts: list[str], call_id: str) -> Reply:
        return self.tool_calls([(call_id, name, argument_parts)])

    def tool_calls(self, calls: list[Call], text: list[str] | None = None) -> Reply:
        m = self.model
        events: list[Any] = [self._delta(m, {"role": "assistant", "content": "" if text else None, "refusal": None})]
        events += [self._delta(m, {"content": p}) for p in text or ()]
        for index, (call_id, name, parts) in enumerate(calls):
            start = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
            events.append(self._delta(m, {"tool_calls": [start]}))
            events += [self._delta(m, {"tool_calls": [{"index": index, "function": {"arguments": p}}]}) for p in parts]
        events += [self._delta(m, {}, "tool_calls"), self._usage(m, (40, 12)), "data: [DONE]\n\n"]
        return Reply(200, {}, sse(*events))

    def sent_tools(self, seen: Seen) -> list[tuple[str, str, dict[str, Any]]]:
        fns = [t["function"] for t in seen.json.get("tools", []) if t["type"] == "function"]
        return [(f["name"], f.get("description", ""), f["parameters"]) for f in fns]

    def sent_exchange(self, seen: Seen) -> list[Exchanged]:
        out: list[Exchanged] = []
        for m in seen.json["messages"]:
            for c in m.get("tool_calls") or ():
                assert c["type"] == "function" and c["id"]
                out.append(("call", c["function"]["name"], json.loads(c["function"]["arguments"]), None))
            if m["role"] == "tool":
                out.append(("result", m["tool_call_id"], m["content"]))
        return out

    def in_stream_error(self, parts: list[str], message: str) -> Reply:
        error = {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
        return Reply(200, {}, sse(*self._text(parts, self.model), error))

    def without_end_marker(self, parts: list[str]) -> Reply:
        return Reply(200, {}, sse(*self._text(parts, self.model)))

    def malformed(self, parts: list[str]) -> Reply:
        truncated = 'data: {"id":"chatcmpl-Bwire0001","object":"chat.completion.chunk","choi\n\n'
        return Reply(200, {}, sse(*self._text(parts, self.model), truncated))

    def http_error(self, status: int, message: str, retry_after: float | None = None) -> Reply:
        kind, code = _ERROR_TYPE.get(status, ("invalid_request_error", None))
        headers = {"x-request-id": "req_wire"}
        if status == 429 and retry_after is not None:
            headers |= {
                "retry-after": str(retry_after),
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": f"{retry_after}s",
            }
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        return Reply.json(body, status, headers)

    def sent_parts(self, seen: Seen) -> list[Part]:
        out = []
        for m in seen.json["messages"]:
            for p in m.get("content") if isinstance(m.get("content"), list) else ():
                if p["type"] in ("image_url", "file"):
                    url = p["image_url"]["url"] if p["type"] == "image_url" else p["file"]["file_data"]
                    head, _, data = url.partition(";base64,")
                    kind = "image" if p["type"] == "image_url" else "document"
                    out.append((kind, head.removeprefix("data:"), base64.b64decode(data)))
        return out

    def sent_messages(self, seen: Seen) -> list[tuple[str, str]]:
        out = []
        for m in seen.json["messages"]:
            content = m.get("content") or ""
            if isinstance(content, list):
                content = "".join(p.get("text", "") for p in content)
            out.append(("system" if m["role"] == "developer" else m["role"], content))
        return out

    def sent_format(self, seen: Seen) -> dict[str, Any]:
        return {k: seen.json[k] for k in ("response_format",) if k in seen.json}

    def json_request(self, name: str, schema: dict[str, Any] | None) -> dict[str, Any]:
        if schema is None:
            return {"response_format": {"type": "json_object"}}
        strict = {"name": name.replace("[", "_").strip("]"), "schema": strict_schema(schema), "strict": True}
        return {"response_format": {"type": "json_schema", "json_schema": strict}}

    def sent_options(self, seen: Seen) -> dict[str, Any]:
        body = seen.json
        out = {k: body[k] for k in ("temperature",) if k in body}
        tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        if tokens is not None:
            out["max_tokens"] = tokens
        return out


DIALECT = ChatCompletionsDialect()
