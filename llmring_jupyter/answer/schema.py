"""Python types → JSON Schema, and model output validated against them.

One module serves both tools (a function's parameters) and structured output (the
type an answer must have), so a type means the same thing to both. pydantic does
the work — models, dataclasses, TypedDicts, ``Literal``, enums, ``Optional``,
lists and dicts, defaults — and is imported only when a schema is first needed.

The schemas given to adapters are plain JSON Schema with every ``$ref`` inlined
(several providers reject ``$defs``); each adapter adapts them to its dialect
(OpenAI's strict mode, Gemini's subset) itself.
"""

from __future__ import annotations

import copy
import inspect
import json
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..exceptions import SchemaError


class Mismatch(ValueError):
    """A value that does not fit its schema: ``path`` (``papers[0].year``) and ``reason``."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path or 'the value'}: {reason}")


@dataclass(frozen=True)
class Shape:
    """A type an answer must have: its name, its JSON Schema, and how a parsed value is checked."""

    name: str
    schema: dict[str, Any]
    check: Callable[[Any], Any]  # parsed JSON → the validated value; raises Mismatch
    dump: Callable[[Any], Any]  # the validated value → plain JSON data (display, logs, cache)

    def validate_json(self, text: str) -> Any:
        """The validated value of ``text``; :class:`Mismatch` names the first problem."""
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise Mismatch("", f"not valid JSON ({exc})") from None
        return self.check(raw)


def shape_of(tp: Any, name: str | None = None) -> Shape:
    """The :class:`Shape` of a type (a pydantic model, dataclass, TypedDict, ``list[Model]`` …)
    or of a JSON Schema given as a dict (checked with ``jsonschema``, which Jupyter installs)."""
    label = name or _name(tp)
    if isinstance(tp, Mapping):
        import jsonschema

        schema = inline_refs(dict(tp))
        try:
            validator = jsonschema.validators.validator_for(schema)(schema)
            validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise SchemaError(f"{label} is not a valid JSON Schema: {exc.message}") from None

        def check(value: Any) -> Any:
            error = jsonschema.exceptions.best_match(validator.iter_errors(value))
            if error is not None:
                raise Mismatch(_path(tuple(error.absolute_path)), error.message)
            return value

        return Shape(label, schema, check, lambda v: v)
    from pydantic import TypeAdapter

    try:
        adapter = TypeAdapter(tp)
        schema = adapter.json_schema()
    except Exception as exc:  # noqa: BLE001 - pydantic raises several kinds for types it cannot describe
        raise SchemaError(f"{label} cannot be described as a JSON Schema: {_first_line(exc)}") from None
    return Shape(
        label,
        inline_refs(schema),
        lambda v: _validated(lambda: adapter.validate_python(v)),
        lambda v: adapter.dump_python(v, mode="json"),
    )


@dataclass(frozen=True)
class Signature:
    """What a model is told about a function, and how its arguments are checked."""

    name: str
    description: str
    parameters: dict[str, Any]  # JSON Schema of an object
    adapter: Any  # pydantic.TypeAdapter of the arguments' TypedDict-like model

    def arguments(self, text: str) -> dict[str, Any]:
        """The function's keyword arguments from the model's JSON text, validated."""
        try:
            raw = json.loads(text or "{}")
        except ValueError as exc:
            raise Mismatch("", f"not valid JSON ({exc})") from None
        if not isinstance(raw, dict):
            raise Mismatch("", f"expected an object of arguments, got {type(raw).__name__}")
        model = _validated(lambda: self.adapter.validate_python(raw))
        return {k: getattr(model, k) for k in type(model).model_fields}


def signature_of(fn: Callable[..., Any]) -> Signature:
    """A function's name, description (its docstring) and parameters (its signature and hints)."""
    from pydantic import ConfigDict, Field, TypeAdapter, create_model

    name = getattr(fn, "__name__", None) or type(fn).__name__
    try:
        sig = inspect.signature(fn)
        hints = _hints(fn)
    except (TypeError, ValueError, NameError) as exc:
        raise SchemaError(f"Cannot read the signature of {name}: {exc}") from None
    doc = _docstring(fn)
    fields: dict[str, Any] = {}
    for param in sig.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue  # *args / **kwargs: nothing a model can be told to fill
        if param.kind is param.POSITIONAL_ONLY:
            raise SchemaError(f"{name}({param.name}, /): a model passes arguments by name; make it a normal parameter.")
        if param.name not in hints:
            raise SchemaError(f"{name}: parameter {param.name!r} has no type hint; add one (e.g. {param.name}: str).")
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (hints[param.name], Field(default, description=doc.params.get(param.name)))
    try:
        model = create_model(name, __config__=ConfigDict(extra="forbid"), **fields)
        adapter = TypeAdapter(model)
        schema = inline_refs(adapter.json_schema())
    except Exception as exc:  # noqa: BLE001 - pydantic raises several kinds for types it cannot describe
        bad = next((p for p in fields if not _describable(fields[p][0])), None)
        where = f"parameter {bad!r}" if bad else "its parameters"
        raise SchemaError(f"{name}: {where} cannot be described as JSON Schema: {_first_line(exc)}") from None
    schema.pop("title", None)
    return Signature(name, doc.description, schema, adapter)


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every ``$ref`` to ``$defs`` replaced by its definition, and titles dropped."""
    defs = schema.get("$defs", {})

    def walk(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                key = ref.removeprefix("#/$defs/")
                if key in seen:
                    raise SchemaError(f"{key} refers to itself; recursive types cannot be sent to every provider.")
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return walk({**copy.deepcopy(defs[key]), **rest}, (*seen, key))
            # a title is a string; a property *named* title holds a schema (a dict): keep that
            kept = {k: v for k, v in node.items() if k != "$defs" and not (k == "title" and isinstance(v, str))}
            return {k: walk(v, seen) for k, v in kept.items()}
        if isinstance(node, list):
            return [walk(v, seen) for v in node]
        return node

    out: dict[str, Any] = walk(schema, ())
    return out


# -- helpers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Doc:
    description: str
    params: dict[str, str]


def _docstring(fn: Callable[..., Any]) -> _Doc:
    text = inspect.getdoc(fn) or ""
    if not text:
        return _Doc("", {})
    import docstring_parser

    parsed = docstring_parser.parse(text)
    parts = [p for p in (parsed.short_description, parsed.long_description) if p]
    return _Doc("\n\n".join(parts), {p.arg_name: p.description or "" for p in parsed.params if p.description})


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    target = fn if inspect.isfunction(fn) or inspect.ismethod(fn) else getattr(fn, "__call__", fn)  # noqa: B004
    return typing.get_type_hints(target, include_extras=True)


def _describable(tp: Any) -> bool:
    from pydantic import TypeAdapter

    try:
        TypeAdapter(tp).json_schema()
    except Exception:  # noqa: BLE001 - any failure means "not describable"
        return False
    return True


def _validated(check: Callable[[], Any]) -> Any:
    from pydantic import ValidationError

    try:
        return check()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Mismatch(_path(first.get("loc", ())), first.get("msg", "invalid")) from None


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _name(tp: Any) -> str:
    if isinstance(tp, Mapping):
        return str(tp.get("title") or "the JSON schema")
    if args := typing.get_args(tp):  # list[Paper]: __name__ would say only "list"
        origin = typing.get_origin(tp)
        return f"{getattr(origin, '__name__', origin)}[{', '.join(_name(a) for a in args)}]"
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
