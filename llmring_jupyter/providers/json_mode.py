"""What the adapters share to ask for JSON: OpenAI's strict dialect (which models take it), the forced tool, the note.

A :class:`~.types.ResponseFormat` arrives as plain JSON Schema with an object at
its root; each adapter maps it to its provider's native parameter. Where a
provider or model cannot do what is asked, :func:`note` says so in one line
before the request goes out, once an answer however many requests it makes (the
answer is still checked against the schema once it ends), rather than sending it
and hoping.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import Any, TypeVar

from .types import ResponseFormat

#: The tool a model is made to call when its answer comes as a tool call's input.
ANSWER_TOOL = "answer"
ANSWER_TOOL_DESCRIPTION = "Give the answer: its input is the answer itself, as JSON."

T = TypeVar("T")

_log = logging.getLogger("llmring_jupyter")
_said: ContextVar[set[str] | None] = ContextVar("llmring_notes_said", default=None)
_SUBSCHEMAS = ("items", "additionalProperties", "not")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
#: OpenAI's models older than JSON-schema mode (``json_schema`` formats): JSON mode only.
_NO_JSON_SCHEMA = ("gpt-3.5", "gpt-4-")


def note(message: str) -> None:
    """One line for the user before the request goes out (stderr under a cell, unless logging is set up);
    said once within :func:`each_note_once` (one answer's requests: its tool steps and retries)."""
    said = _said.get()
    if said is not None:
        if message in said:
            return
        said.add(message)
    _log.warning(message)


async def each_note_once(answer: Awaitable[T]) -> T:
    """``answer`` awaited where a note said already is not said again (one answer's requests)."""
    token = _said.set(set())
    try:
        return await answer
    finally:
        _said.reset(token)


def chat_completions_format(fmt: ResponseFormat) -> dict[str, Any]:
    """``response_format`` as chat completions takes it (OpenAI, and llmring's ``LLMRequest``):
    a JSON schema, strict where it can be said strictly, or any JSON object."""
    if fmt.schema is None:
        return {"type": "json_object"}
    strict = strict_schema(fmt.schema)
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", fmt.name).strip("_")[:64] or "answer"
    return {
        "type": "json_schema",
        "json_schema": {"name": name, "schema": strict or fmt.schema, "strict": strict is not None},
    }


def strict_schema(schema: dict[str, Any]) -> dict[str, Any] | None:
    """``schema`` in OpenAI's strict dialect, or None when it cannot be said strictly.

    Strict mode closes every object (``additionalProperties: false``) and requires
    every property, so an optional one becomes nullable (the answer then carries
    ``null`` for it, which the check above the adapters reads as left out); it has
    no ``default``. A free-form object (``dict[str, X]``, ``--json``) has no strict
    form.
    """

    def walk(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "default":
                continue
            if key == "properties" and isinstance(value, dict):  # names → schemas: keep every name
                out[key] = {name: walk(sub) for name, sub in value.items()}
            elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
                out[key] = [walk(sub) for sub in value]
            elif key in _SUBSCHEMAS:
                out[key] = walk(value)
            else:
                out[key] = value
        if out.get("type") == "object":
            props = out.get("properties")
            extra = out.get("additionalProperties", False)
            if not isinstance(props, dict) or not props or extra not in (False, None):
                raise _NotStrict
            required = set(out.get("required", ()))
            out["properties"] = {k: v if k in required else _nullable(v) for k, v in props.items()}
            out["required"] = list(props)
            out["additionalProperties"] = False
        return out

    try:
        strict: dict[str, Any] = walk(schema)  # a dict walks to a dict
    except _NotStrict:
        return None
    return strict


class _NotStrict(Exception):
    pass


def _nullable(schema: Any) -> Any:
    if isinstance(schema, dict) and (
        schema.get("type") == "null" or any(s.get("type") == "null" for s in schema.get("anyOf", ()))
    ):
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def takes_json_schema(model: str, schema_name: str | None) -> bool:
    """Whether OpenAI's ``model`` answers to a JSON schema; if one was asked of an older model, that is said."""
    old = model == "gpt-4" or model.startswith(_NO_JSON_SCHEMA)
    if old and schema_name is not None:
        note(
            f"openai:{model} cannot answer to a JSON schema: "
            f"it is asked for a JSON object, checked against {schema_name}."
        )
    return not old
