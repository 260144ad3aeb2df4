"""The ``demo`` model with tools: it calls the first tool, then answers with its result.

Deterministic, so tutorials and tests can show a whole tool exchange without a
key: given tools and a fresh question, it says which tool it will use and calls
the first one, with arguments built from its schema (a string parameter gets a
word from the prompt, preferring names such as "Paris"), its JSON streamed in
pieces like a real model's; once the results are back, it answers with them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .types import Message, Request, StreamChunk, ToolCall

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]{2,}")


def wants_tool(request: Request) -> bool:
    """Whether this request is for a call (tools given, and no results yet for this question)."""
    last = request.messages[-1] if request.messages else None
    return bool(request.tools) and last is not None and last.role == "user"


def call_chunks(request: Request) -> tuple[str, list[StreamChunk], ToolCall]:
    """The text before the call, the call's streamed pieces, and the whole call."""
    tool = request.tools[0]
    words = _candidates(next((m.content for m in reversed(request.messages) if m.role == "user"), ""))
    arguments = json.dumps(_value(tool.parameters, words), ensure_ascii=False)
    call = ToolCall("demo_call_1", tool.name, arguments)
    third = max(1, len(arguments) // 3)
    parts = [arguments[i : i + third] for i in range(0, len(arguments), third)]
    pieces = [StreamChunk(tool_calls=(ToolCall(call.id, call.name, parts[0]),))]
    pieces += [StreamChunk(tool_calls=(ToolCall("", "", p),)) for p in parts[1:]]
    return f"Let me ask `{tool.name}`.", pieces, call


def answer(messages: tuple[Message, ...]) -> str:
    """The answer once the tools' results are back, quoting them."""
    results: list[Message] = []
    for m in reversed(messages):
        if m.role != "tool":
            break
        results.insert(0, m)
    lines = "\n".join(f"- `{m.name or 'tool'}` said: {m.content.strip()[:200]}" for m in results)
    return f"\n\nHere is what the tools told me:\n\n{lines}\n\nThat is my answer, built from their results."


def _candidates(prompt: str) -> list[str]:
    words = _WORD.findall(prompt)
    names = [w for i, w in enumerate(words) if w[0].isupper() and i > 0]
    rest = sorted(set(words) - set(names), key=lambda w: (-len(w), w.lower()))
    return list(dict.fromkeys(names + rest)) or ["demo"]


def _value(schema: dict[str, Any], words: list[str]) -> Any:
    """A value that fits ``schema``; strings take the next word from ``words``."""
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return _value(next((o for o in options if o.get("type") != "null"), options[0]), words)
    kind = schema.get("type")
    if kind == "object":
        required = schema.get("required", [])
        return {k: _value(v, words) for k, v in schema.get("properties", {}).items() if k in required}
    if kind == "array":
        return [_value(schema.get("items", {"type": "string"}), words)]
    if kind == "integer":
        return 3
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    word = words.pop(0) if len(words) > 1 else words[0]
    return word
