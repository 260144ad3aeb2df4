"""Answers that are data: what ``--schema NAME`` / ``--json`` / ``schema=`` ask for, and what came back.

The type comes from the notebook (:func:`resolve`), goes to the provider as a
:class:`~.providers.types.ResponseFormat` (:func:`response_format`), and the
answer's text is checked against it once the stream ends (:func:`conclude`):
``_llm.data`` is the validated value, ``_llm.text`` the raw JSON, and an answer
that does not fit fails the cell with one line naming the type and the first
mismatch. :func:`value_of` is the validation itself, a function of the shape
and the text alone, so a replayed answer is checked exactly as a live one.

Every provider's structured mode takes an object at the schema's root, so a
list (``list[Paper]``) or a scalar is asked for inside a one-field object
(``{"items": [...]}``) and unwrapped here.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import json
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any

from ..exceptions import AnswerMismatch, UsageError
from ..providers.types import ResponseFormat
from ..result import Result, answer_text
from .schema import Mismatch, Shape, shape_of

ANY_JSON = "a JSON object"


def resolve(spec: Any, any_json: bool, namespace: Mapping[str, Any]) -> Shape | None:
    """The shape an answer must have: ``spec`` is a type, a JSON Schema dict, or (from the
    ``%%llm`` line) the text of a name in ``namespace`` such as ``Paper`` or ``list[Paper]``."""
    if any_json:
        return _any_object()
    if spec is None:
        return None
    if isinstance(spec, str):
        return shape_of(_evaluate(spec, namespace), name=spec)
    return shape_of(spec)


@cache
def _any_object() -> Shape:
    return shape_of({"type": "object"}, name=ANY_JSON)


def response_format(shape: Shape) -> ResponseFormat:
    """What the provider is asked for: the shape's schema, wrapped where its root is not an object."""
    if shape is _any_object():
        return ResponseFormat(shape.name, None)
    key = _wrapper_key(shape.schema)
    if key is None:
        return ResponseFormat(shape.name, shape.schema)
    wrapped = {"type": "object", "properties": {key: shape.schema}, "required": [key], "additionalProperties": False}
    return ResponseFormat(shape.name, wrapped)


def value_of(shape: Shape, text: str) -> Any:
    """The validated value of an answer's ``text``; :class:`~.schema.Mismatch` names the first problem."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise Mismatch("", f"not valid JSON ({exc})") from None
    key = _wrapper_key(shape.schema)
    if key is not None and shape is not _any_object():
        if not isinstance(raw, dict) or key not in raw:
            raise Mismatch("", f"expected an object with the key {key!r} around the value")
        raw = raw[key]
    return shape.check(_without_unasked_nulls(raw, shape.schema))


def conclude(shape: Shape | None, result: Result) -> Result:
    """``result`` with its validated ``data``, or failed with one line saying why it has none.

    Only a finished answer is validated: a stopped one keeps its partial text and no
    data, a failed one keeps its own error, and a step that calls tools is not the
    answer yet. A cut or blocked one fails saying so, since the next cell expects data.
    """
    if shape is None or result.finish_reason not in ("stop", "length", "content_filter"):
        return result
    # A shape's name is a type (Paper) or a phrase (a JSON object): "fit" reads well before either.
    if result.finish_reason == "content_filter":  # the next cell would build on nothing: say so
        return _failed(
            result, f"The provider's content filter blocked the answer, so it has no data to fit {shape.name}."
        )
    text = answer_text(result)
    if result.finish_reason == "length":
        return _failed(
            result,
            f"The answer was cut at the token limit before its JSON ended ({len(text):,} characters), so it "
            f"cannot fit {shape.name}: raise --max-tokens and run the cell again; the partial text is in _llm.text.",
        )
    try:
        data = value_of(shape, text)
    except Mismatch as exc:
        where = f"at {exc.path}: " if exc.path else ""
        return _failed(
            result, f"The answer does not fit {shape.name}: {where}{exc.reason}. The raw text is in _llm.text."
        )
    return dataclasses.replace(result, data=data, shape=shape)


def _failed(result: Result, message: str) -> Result:
    error = AnswerMismatch(message)
    return dataclasses.replace(result, error=error.message, exception=error)


def _wrapper_key(schema: dict[str, Any]) -> str | None:
    """The key a non-object root is sent under (``items`` for arrays), or None for an object."""
    kind = schema.get("type")
    if kind == "object":
        return None
    return "items" if kind == "array" else "value"


def _allows_null(schema: Any) -> bool:
    if not isinstance(schema, dict) or not schema:
        return True  # {} (any value), or something we cannot read: leave the value to the check
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_allows_null(s) for key in ("anyOf", "oneOf") for s in schema.get(key, ()))


def _without_unasked_nulls(value: Any, schema: dict[str, Any]) -> Any:
    """``value`` without the nulls a strict provider mode writes for optional fields left out.

    OpenAI's strict mode must list every field as required, so an optional one is
    sent as nullable and comes back ``null``; the type itself may not accept None.
    """
    for option in schema.get("anyOf", ()):
        if isinstance(value, dict) and isinstance(option, dict) and option.get("type") == "object":
            return _without_unasked_nulls(value, option)
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        props, required = schema["properties"], set(schema.get("required", ()))
        return {
            k: _without_unasked_nulls(v, props.get(k, {}))
            for k, v in value.items()
            if v is not None or k in required or _allows_null(props.get(k))
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_without_unasked_nulls(v, schema["items"]) for v in value]
    return value


# -- --schema NAME: a type expression read from the notebook, never run -------------------


def _evaluate(text: str, namespace: Mapping[str, Any]) -> Any:
    """The type ``text`` names: names, attributes, subscripts (``list[Paper]``), ``|`` and
    constants only — the line is read, not executed, so ``--schema`` cannot call anything."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise UsageError(
            f"--schema {text}: not a type name; write e.g. --schema Paper or --schema 'list[Paper]'."
        ) from None
    return _node(tree.body, text, namespace)


def _node(node: ast.expr, text: str, ns: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        if node.id in ns:
            return ns[node.id]
        if hasattr(builtins, node.id):
            return getattr(builtins, node.id)
        if hasattr(typing, node.id):  # Literal, Optional … without an import
            return getattr(typing, node.id)
        raise UsageError(f"--schema {text}: {node.id} is not defined in the notebook; define or import it first.")
    if isinstance(node, ast.Attribute):
        owner = _node(node.value, text, ns)
        if node.attr.startswith("_") or not hasattr(owner, node.attr):
            raise UsageError(f"--schema {text}: {ast.unparse(node)} does not exist.")
        return getattr(owner, node.attr)
    if isinstance(node, ast.Subscript):
        args = node.slice
        items = tuple(_node(e, text, ns) for e in args.elts) if isinstance(args, ast.Tuple) else _node(args, text, ns)
        try:
            return _node(node.value, text, ns)[items]
        except TypeError as exc:
            raise UsageError(f"--schema {text}: {exc}.") from None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _node(node.left, text, ns) | _node(node.right, text, ns)
    if isinstance(node, ast.Constant):
        return node.value
    raise UsageError(f"--schema {text}: only a type name such as Paper or list[Paper] can go here.")
