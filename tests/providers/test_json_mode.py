"""OpenAI's strict schema dialect, made from the plain schemas structured output sends."""

from __future__ import annotations

import dataclasses

from pydantic import BaseModel

from llmring_jupyter.answer import structured
from llmring_jupyter.providers.json_mode import strict_schema


@dataclasses.dataclass
class Point:
    x: float
    y: int = 0


class Paper(BaseModel):
    title: str
    default: str = "kept: a property may be named default"
    points: list[Point]
    venue: str | None = None


def test_every_object_is_closed_and_every_property_required_optional_ones_nullable() -> None:
    shape = structured.resolve(list[Paper], False, {})
    assert shape is not None
    sent = structured.response_format(shape).schema
    assert sent is not None
    strict = strict_schema(sent)
    assert strict is not None
    paper = strict["properties"]["items"]["items"]
    assert paper["additionalProperties"] is False
    assert paper["required"] == ["title", "default", "points", "venue"]
    assert paper["properties"]["default"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert paper["properties"]["venue"]["anyOf"] == [{"type": "string"}, {"type": "null"}]  # already nullable
    point = paper["properties"]["points"]["items"]
    assert point["required"] == ["x", "y"] and point["additionalProperties"] is False
    assert "default" not in str(point["properties"]["y"])


def test_a_free_form_object_has_no_strict_form() -> None:
    for tp in (dict[str, int], {"type": "object"}):
        shape = structured.resolve(tp, False, {})
        assert shape is not None
        sent = structured.response_format(shape).schema
        assert sent is not None and strict_schema(sent) is None
