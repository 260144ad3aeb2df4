"""What the offline ``demo`` model answers when asked for JSON: a value that fits the schema.

It is built from the schema and the prompt's words, deterministically, so
notebooks, Binder and tests show structured output without a key: strings are
words of the prompt, numbers count up (a field named like ``year`` looks like
one), lists have two items, every property is filled, enums and constants are
honoured, and bounds (``minimum``, ``maxItems``, ``minLength`` …) are kept.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .types import ResponseFormat

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]{2,}")
_FORMATS = {
    "date": "2024-05-01",
    "date-time": "2024-05-01T12:00:00Z",
    "time": "12:00:00",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "email": "{word}@example.org",
    "uri": "https://example.org/{word}",
}


def answer(fmt: ResponseFormat, prompt: str) -> str:
    """The JSON text of a value fitting ``fmt`` (any object when it has no schema)."""
    words = _WORD.findall(prompt) or ["demo"]
    if fmt.schema is None:
        value: Any = {"answer": " ".join(words[:6]), "words": words[:4]}
    else:
        value = _Filler(words).value(fmt.schema, "")
    return json.dumps(value, indent=2, ensure_ascii=False)


class _Filler:
    def __init__(self, words: list[str]) -> None:
        self._words = words
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def value(self, schema: Any, name: str) -> Any:
        if not isinstance(schema, dict) or not schema:
            return self._text(1)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][self._next() % len(schema["enum"])]
        for key in ("anyOf", "oneOf", "allOf"):
            if schema.get(key):
                options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
                return self.value(options[0], name)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        return getattr(self, f"_{kind}", self._string)(schema, name)

    def _object(self, schema: dict[str, Any], name: str) -> dict[str, Any]:
        props = schema.get("properties") or {}
        if not props and isinstance(schema.get("additionalProperties"), dict):  # dict[str, X]
            return {self._text(1).lower(): self.value(schema["additionalProperties"], "") for _ in range(2)}
        return {key: self.value(sub, key) for key, sub in props.items()}

    def _array(self, schema: dict[str, Any], name: str) -> list[Any]:
        if "prefixItems" in schema:  # a tuple
            return [self.value(s, name) for s in schema["prefixItems"]]
        count = max(schema.get("minItems", 0), min(2, schema.get("maxItems", 2)))
        return [self.value(schema.get("items", {}), name) for _ in range(count)]

    def _string(self, schema: dict[str, Any], name: str) -> str:
        text = self._text(1 if schema.get("format") else 2)
        if schema.get("format") in _FORMATS:
            text = _FORMATS[schema["format"]].format(word=text.lower())
        text = text.ljust(schema.get("minLength", 0), "x")
        return text[: schema["maxLength"]] if "maxLength" in schema else text

    def _integer(self, schema: dict[str, Any], name: str) -> int:
        base = 2020 if "year" in name.lower() else 0
        return int(self._bounded(schema, base + self._next()))

    def _number(self, schema: dict[str, Any], name: str) -> float:
        return float(self._bounded(schema, self._next() + 0.5))

    def _boolean(self, schema: dict[str, Any], name: str) -> bool:
        return self._next() % 2 == 1

    def _null(self, schema: dict[str, Any], name: str) -> None:
        return None

    def _bounded(self, schema: dict[str, Any], value: float) -> float:
        low: float = schema.get("minimum", schema.get("exclusiveMinimum", -math.inf) + 1)
        high: float = schema.get("maximum", schema.get("exclusiveMaximum", math.inf) - 1)
        return min(max(value, low), high)

    def _text(self, count: int) -> str:
        picked = [self._words[(self._n + i) % len(self._words)] for i in range(count)]
        self._n += count
        return " ".join(picked).capitalize()
