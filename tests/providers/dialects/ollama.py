"""Ollama's ``/api/chat`` streaming wire format: NDJSON, one JSON object a line.

Text lines are ``{"model", "created_at", "message": {"role": "assistant", "content"},
"done": false}``; the last line has ``"done": true``, ``done_reason`` and the token
counts. Tool calls arrive whole in ``message.tool_calls`` (arguments an object, no id),
followed by a ``done`` line whose ``done_reason`` is still ``stop``. Errors are
``{"error": "..."}``, as a body with an HTTP status or as a line inside a 200 stream.
Ollama itself sends no ``retry-after``; a proxy in front of it (or ollama.com) may,
so the 429 reply carries one.
"""

from __future__ import annotations

import base64
import json
from typing import Any, ClassVar

from providers.dialects import Call, Exchanged, Part, Tokens, key_env
from wire_server import Reply, Seen

_NDJSON = "application/x-ndjson"

#: The models this Ollama has pulled, with the capabilities ``/api/show`` reports for each:
#: among them a house model whose name says nothing, and gemma3:1b, text-only though
#: the larger gemma3 models see images.
MODELS: dict[str, list[str]] = {
    "llama3.2:3b": ["completion", "tools"],
    "llama3.2-vision:latest": ["completion", "vision"],
    "mistral-small3.1:latest": ["completion", "vision", "tools"],
    "house-eyes:7b": ["completion", "vision"],
    "gemma3:1b": ["completion"],
    "qwen3:8b": ["completion", "tools", "thinking"],
    "gpt-oss:20b": ["completion", "tools", "thinking"],
}
_CREATED = "2025-07-14T09:26:41.{:09d}Z"


def _line(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n"


class OllamaDialect:
    provider = "ollama"
    model = "llama3.2:3b"
    key_env: ClassVar[dict[str, str]] = key_env("ollama", "")
    call_ids = False
    caches = False

    def base_url_env(self, url: str) -> dict[str, str]:
        return {"OLLAMA_HOST": url}

    def _message(self, n: int, message: dict[str, Any], served: str = "") -> str:
        return _line(
            {
                "model": served or self.model,
                "created_at": _CREATED.format(n * 15731),
                "message": {"role": "assistant", **message},
                "done": False,
            }
        )

    def _texts(self, parts: list[str], served: str = "") -> list[str]:
        return [self._message(n, {"content": p}, served) for n, p in enumerate(parts)]

    def _done(self, reason: str, usage: tuple[int, int], served: str = "") -> str:
        prompt, completion = usage
        return _line(
            {
                "model": served or self.model,
                "created_at": _CREATED.format(999999),
                "message": {"role": "assistant", "content": ""},
                "done_reason": reason,
                "done": True,
                "total_duration": 412873042,
                "load_duration": 21356709,
                "prompt_eval_count": prompt,
                "prompt_eval_duration": 48231000,
                "eval_count": completion,
                "eval_duration": 331847000,
            }
        )

    def answer(
        self, parts: list[str], *, finish: str = "stop", served: str = "", usage: Tokens = (11, 7), cached: int = 0
    ) -> Reply:
        reason = {"stop": "stop", "length": "length"}[finish]  # Ollama has no content filter
        return Reply(200, {}, self._texts(parts, served) + [self._done(reason, usage, served)], _NDJSON)

    def messages(self, messages: list[dict[str, Any]], usage: Tokens = (11, 7)) -> Reply:
        """One line per message (``{"thinking"}``, ``{"content"}``...), then the ``done`` line."""
        lines = [self._message(n, {"content": "", **m}) for n, m in enumerate(messages)]
        return Reply(200, {}, [*lines, self._done("stop", usage)], _NDJSON)

    def tool_call(self, name: str, argument_parts: list[str], call_id: str) -> Reply:
        return self.tool_calls([(call_id, name, argument_parts)])

    def tool_calls(self, calls: list[Call], text: list[str] | None = None) -> Reply:
        """Text lines, then one line with every call whole (arguments objects, no ids)."""
        tool_calls = [{"function": {"name": name, "arguments": json.loads("".join(parts))}} for _, name, parts in calls]
        lines = self._texts(text or [])
        lines += [self._message(len(lines), {"content": "", "tool_calls": tool_calls}), self._done("stop", (52, 18))]
        return Reply(200, {}, lines, _NDJSON)

    def sent_tools(self, seen: Seen) -> list[tuple[str, str, dict[str, Any]]]:
        fns = [t["function"] for t in seen.json.get("tools") or [] if t["type"] == "function"]
        return [(f["name"], f.get("description", ""), f["parameters"]) for f in fns]

    def sent_exchange(self, seen: Seen) -> list[Exchanged]:
        out: list[Exchanged] = []
        for m in seen.json["messages"]:
            for c in m.get("tool_calls") or ():
                out.append(("call", c["function"]["name"], c["function"]["arguments"], None))
            if m["role"] == "tool":
                out.append(("result", m["tool_name"], m["content"]))
        return out

    def in_stream_error(self, parts: list[str], message: str) -> Reply:
        return Reply(200, {}, self._texts(parts) + [_line({"error": message})], _NDJSON)

    def without_end_marker(self, parts: list[str]) -> Reply:
        return Reply(200, {}, self._texts(parts), _NDJSON)

    def malformed(self, parts: list[str]) -> Reply:
        return Reply(200, {}, self._texts(parts) + ['{"model":"llama3.2:3b","message":{"role":\n'], _NDJSON)

    def http_error(self, status: int, message: str, retry_after: float | None = None) -> Reply:
        headers = {"Retry-After": str(retry_after)} if status == 429 and retry_after else {}
        return Reply(status, headers, [json.dumps({"error": message})], "application/json; charset=utf-8")

    def sent_parts(self, seen: Seen) -> list[Part]:
        """Ollama's ``images`` carry no media type: it is read from the bytes' signature."""
        images = [base64.b64decode(i) for m in seen.json["messages"] for i in m.get("images") or ()]
        return [("image", "image/png" if i.startswith(b"\x89PNG") else "image/jpeg", i) for i in images]

    def sent_messages(self, seen: Seen) -> list[tuple[str, str]]:
        return [(m["role"], m.get("content", "")) for m in seen.json["messages"]]  # a call may have none

    def sent_format(self, seen: Seen) -> dict[str, Any]:
        return {k: seen.json[k] for k in ("format",) if k in seen.json}

    def json_request(self, name: str, schema: dict[str, Any] | None) -> dict[str, Any]:
        return {"format": schema or "json"}

    def sent_options(self, seen: Seen) -> dict[str, Any]:
        options = seen.json.get("options") or {}
        names = {"temperature": "temperature", "num_predict": "max_tokens"}
        return {ours: options[theirs] for theirs, ours in names.items() if theirs in options}


DIALECT = OllamaDialect()


def show(seen: Seen) -> Reply:
    """``POST /api/show`` as Ollama answers it: the model's details and its capabilities, or a
    404 for a model it has not pulled (a name without a tag means ``:latest``)."""
    name = seen.json["model"]
    name = name if ":" in name else f"{name}:latest"
    if name not in MODELS:
        return Reply.json({"error": f"model '{seen.json['model']}' not found"}, 404)
    family = name.partition(":")[0].rstrip("0123456789.-")
    body: dict[str, Any] = {
        "license": "",
        "modelfile": f'# Modelfile generated by "ollama show"\nFROM /root/.ollama/models/blobs/sha256-{name}\n',
        "parameters": 'stop                           "<|eot_id|>"',
        "template": "{{ .Prompt }}",
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": "3.2B",
            "quantization_level": "Q4_K_M",
        },
        "model_info": {"general.architecture": family, "general.parameter_count": 3212749888},
        "capabilities": MODELS[name],
        "modified_at": "2025-07-14T09:26:41.123456789Z",
    }
    return Reply.json(body)
