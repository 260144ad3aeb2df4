"""Gemini's ``:streamGenerateContent?alt=sse`` wire format.

Each SSE event (CRLF-separated, as Google sends them) is a whole
``GenerateContentResponse``; the last one carries ``finishReason`` and the full
``usageMetadata``. Function calls arrive whole (``args`` is an object; the ``id`` is optional).
Errors are ``{"error": {"code", "message", "status", "details"}}`` bodies; a 429
says when to retry in a ``google.rpc.RetryInfo`` detail, not in a header.
"""

from __future__ import annotations

import base64
import json
from typing import Any, ClassVar

from providers.dialects import Call, Exchanged, Part, Tokens, key_env
from wire_server import Reply, Seen

SIGNATURE = "CiQBcsjafHZ4ZXN0c2lnbmF0dXJlAAAA"  # an opaque thoughtSignature (base64), to be sent back
_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "content_filter": "SAFETY"}
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def _event(body: dict[str, Any]) -> str:
    return f"data: {json.dumps(body, ensure_ascii=False)}\r\n\r\n"


class GoogleDialect:
    provider = "google"
    model = "gemini-2.5-flash"
    key_env: ClassVar[dict[str, str]] = key_env("google", "AIzaSyWireTestSentinel0000000000000000")
    call_ids = True
    caches = True

    def base_url_env(self, url: str) -> dict[str, str]:
        return {"GOOGLE_GEMINI_BASE_URL": url}

    def _chunk(
        self,
        parts: list[dict[str, Any]],
        *,
        served: str = "",
        finish: str | None = None,
        usage: tuple[int, int] = (11, 0),
        cached: int = 0,
        thoughts: int = 0,
    ) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        prompt, completion = usage
        meta: dict[str, Any] = {
            "promptTokenCount": prompt,
            "totalTokenCount": prompt + completion,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
        }
        if finish:
            meta["candidatesTokenCount"] = completion
        if finish and thoughts:  # counted apart from the candidates, in the total too
            meta["thoughtsTokenCount"] = thoughts
            meta["totalTokenCount"] += thoughts
        if cached:  # counted in promptTokenCount too
            meta["cachedContentTokenCount"] = cached
        return {
            "candidates": [candidate],
            "usageMetadata": meta,
            "modelVersion": served or self.model,
            "responseId": "mK1haP7xLZmWz7IPxdTg-Qk",
        }

    def _texts(self, parts: list[str], **kw: Any) -> list[str]:
        return [_event(self._chunk([{"text": p}], **kw)) for p in parts]

    def answer(
        self, parts: list[str], *, finish: str = "stop", served: str = "", usage: Tokens = (11, 7), cached: int = 0
    ) -> Reply:
        events = self._texts(parts[:-1], served=served, usage=(usage[0], 0))
        last = self._chunk([{"text": parts[-1]}], served=served, finish=_FINISH[finish], usage=usage, cached=cached)
        events.append(_event(last))
        return Reply(200, {}, events)

    def parts(self, events: list[list[dict[str, Any]]], usage: Tokens = (11, 7), thoughts: int = 0) -> Reply:
        """One event per list of parts in their wire shape (``{"text", "thought": true,
        "thoughtSignature"}``, ``{"functionCall"}``...), the last ending the answer: ``usage``
        (prompt, candidates) and ``thoughts`` counted apart."""
        out = [_event(self._chunk(parts, usage=(usage[0], 0))) for parts in events[:-1]]
        last = self._chunk(events[-1], finish="STOP", usage=usage, thoughts=thoughts)
        return Reply(200, {}, [*out, _event(last)])

    def tool_call(self, name: str, argument_parts: list[str], call_id: str) -> Reply:
        return self.tool_calls([(call_id, name, argument_parts)])

    def tool_calls(self, calls: list[Call], text: list[str] | None = None) -> Reply:
        """Text events, then one event per call, each whole (Gemini does not stream arguments),
        the first with the ``thoughtSignature`` a thinking model attaches; the last one ends it."""
        events = self._texts(text or [], usage=(40, 0))
        for n, (call_id, name, parts) in enumerate(calls):
            part: dict[str, Any] = {"functionCall": {"id": call_id, "name": name, "args": json.loads("".join(parts))}}
            if n == 0:
                part["thoughtSignature"] = SIGNATURE
            last = n == len(calls) - 1
            events.append(_event(self._chunk([part], finish="STOP" if last else None, usage=(40, 5 if last else 0))))
        return Reply(200, {}, events)

    def sent_tools(self, seen: Seen) -> list[tuple[str, str, dict[str, Any]]]:
        declared = [d for t in seen.json.get("tools", []) for d in t.get("functionDeclarations", [])]
        # google-genai sends this one field under its proto name; the API reads both spellings
        return [
            (d["name"], d.get("description", ""), d.get("parametersJsonSchema", d.get("parameters_json_schema")))
            for d in declared
        ]

    def sent_exchange(self, seen: Seen) -> list[Exchanged]:
        out: list[Exchanged] = []
        for content in seen.json["contents"]:
            for part in content["parts"]:
                if "functionCall" in part:
                    assert content["role"] == "model"
                    call = part["functionCall"]
                    out.append(("call", call["name"], call.get("args", {}), part.get("thoughtSignature")))
                elif "functionResponse" in part:
                    assert content["role"] == "user"
                    response = part["functionResponse"]
                    out.append(("result", response["name"], response["response"].get("result", response["response"])))
        return out

    def in_stream_error(self, parts: list[str], message: str) -> Reply:
        error = {"error": {"code": 503, "message": message, "status": "UNAVAILABLE"}}
        return Reply(200, {}, self._texts(parts) + [_event(error)])

    def without_end_marker(self, parts: list[str]) -> Reply:
        return Reply(200, {}, self._texts(parts))

    def malformed(self, parts: list[str]) -> Reply:
        return Reply(200, {}, self._texts(parts) + ['data: {"candidates": [{"content": {"parts"\r\n\r\n'])

    def http_error(self, status: int, message: str, retry_after: float | None = None) -> Reply:
        error: dict[str, Any] = {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}
        if status == 429 and retry_after is not None:
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        }
                    ],
                },
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after}s"},
            ]
        return Reply(status, {}, [json.dumps({"error": error}, indent=2)], "application/json; charset=UTF-8")

    def sent_parts(self, seen: Seen) -> list[Part]:
        """Inline data as the SDK writes it: ``inlineData`` holding ``mime_type`` and URL-safe
        base64 (the API reads proto JSON: either spelling of a field, either base64 alphabet)."""
        parts = [p for c in seen.json["contents"] for p in c["parts"]]
        parts += [q for p in parts for q in (p.get("functionResponse") or {}).get("parts", [])]  # a tool's images
        inline = [p.get("inlineData") or p["inline_data"] for p in parts if "inlineData" in p or "inline_data" in p]
        types = [d.get("mimeType") or d["mime_type"] for d in inline]
        return [
            ("image" if t.startswith("image/") else "document", t, base64.urlsafe_b64decode(d["data"]))
            for t, d in zip(types, inline, strict=True)
        ]

    def sent_messages(self, seen: Seen) -> list[tuple[str, str]]:
        body = seen.json
        out = [("system", p["text"]) for p in (body.get("systemInstruction") or {}).get("parts", [])]
        for content in body["contents"]:
            role = "assistant" if content.get("role") == "model" else "user"
            out += [(role, p["text"]) for p in content["parts"] if "text" in p]
        return out

    def sent_format(self, seen: Seen) -> dict[str, Any]:
        config = seen.json.get("generationConfig") or {}
        return {k: config[k] for k in ("responseMimeType", "responseJsonSchema", "responseSchema") if k in config}

    def json_request(self, name: str, schema: dict[str, Any] | None) -> dict[str, Any]:
        return {"responseMimeType": "application/json"} | ({"responseJsonSchema": schema} if schema else {})

    def sent_options(self, seen: Seen) -> dict[str, Any]:
        config = seen.json.get("generationConfig") or {}
        names = {"temperature": "temperature", "maxOutputTokens": "max_tokens"}
        return {ours: config[theirs] for theirs, ours in names.items() if theirs in config}


DIALECT = GoogleDialect()
