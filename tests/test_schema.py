"""Python types → JSON Schema and validation: what tools and structured output both rely on."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from llmring_jupyter.answer.schema import Mismatch, inline_refs, shape_of, signature_of
from llmring_jupyter.exceptions import SchemaError


class Paper(BaseModel):
    title: str
    year: int
    topics: list[str]


@dataclass
class Point:
    x: float
    y: float = 0.0


class Unit(enum.Enum):
    C = "C"
    F = "F"


def get_weather(city: str, unit: Literal["C", "F"] = "C", near: Point | None = None, scale: Unit = Unit.C) -> str:
    """The current weather in a city.

    Args:
        city: Name of the city.
    """
    return city


def test_a_model_list_has_an_inlined_schema_and_keeps_a_field_named_title() -> None:
    shape = shape_of(list[Paper])
    assert "$defs" not in str(shape.schema) and "$ref" not in str(shape.schema)
    assert shape.schema["items"]["properties"]["title"] == {"type": "string"}
    assert shape.name == "list[Paper]"


def test_a_valid_answer_becomes_the_typed_value() -> None:
    value = shape_of(list[Paper]).validate_json('[{"title": "A", "year": 2020, "topics": ["x"]}]')
    assert value == [Paper(title="A", year=2020, topics=["x"])]
    assert shape_of(Point).validate_json('{"x": 1}') == Point(1.0)


@pytest.mark.parametrize(
    ("text", "path", "reason"),
    [
        ('[{"title": "A", "year": "soon", "topics": []}]', "[0].year", "integer"),
        ('[{"title": "A", "year": 1}]', "[0].topics", "required"),
        ('{"title": "A"', "", "not valid JSON"),
    ],
)
def test_the_first_mismatch_is_named_by_path_and_reason(text: str, path: str, reason: str) -> None:
    with pytest.raises(Mismatch) as info:
        shape_of(list[Paper]).validate_json(text)
    assert info.value.path == path and reason in info.value.reason.lower() + info.value.reason


def test_a_json_schema_dict_is_checked_with_its_own_rules() -> None:
    shape = shape_of({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]})
    assert shape.validate_json('{"n": 3}') == {"n": 3}
    with pytest.raises(Mismatch) as info:
        shape.validate_json('{"n": "three"}')
    assert info.value.path == "n" and "integer" in info.value.reason
    with pytest.raises(SchemaError):
        shape_of({"type": 12})


def test_a_signature_becomes_a_described_schema() -> None:
    sig = signature_of(get_weather)
    assert sig.name == "get_weather" and sig.description == "The current weather in a city."
    props = sig.parameters["properties"]
    assert props["city"] == {"type": "string", "description": "Name of the city."}
    assert props["unit"]["enum"] == ["C", "F"] and props["unit"]["default"] == "C"
    assert props["scale"]["enum"] == ["C", "F"]
    assert sig.parameters["required"] == ["city"] and sig.parameters["additionalProperties"] is False


def test_arguments_are_validated_and_typed_before_a_call() -> None:
    sig = signature_of(get_weather)
    args = sig.arguments('{"city": "Oslo", "near": {"x": 2}}')
    assert args == {"city": "Oslo", "unit": "C", "near": Point(2.0), "scale": Unit.C}
    for bad, path in (('{"city": 3}', "city"), ('{"unit": "K", "city": "x"}', "unit"), ('{"city": "x", "z": 1}', "z")):
        with pytest.raises(Mismatch) as info:
            sig.arguments(bad)
        assert info.value.path == path
    with pytest.raises(Mismatch):
        sig.arguments("[1, 2]")


def _no_hint(city, days: int) -> None:  # type: ignore[no-untyped-def]
    pass


def _opaque(handle: Any, f: type(open)) -> None:  # type: ignore[valid-type]
    pass


def _positional(city: str, /) -> None:
    pass


@pytest.mark.parametrize(("fn", "named"), [(_no_hint, "'city'"), (_opaque, "'f'"), (_positional, "city")])
def test_an_undescribable_signature_names_the_parameter(fn: Any, named: str) -> None:
    with pytest.raises(SchemaError) as info:
        signature_of(fn)
    assert named in str(info.value) and "\n" not in str(info.value)


def test_a_recursive_type_is_refused_rather_than_sent_with_refs() -> None:
    with pytest.raises(SchemaError):
        inline_refs({"$ref": "#/$defs/Node", "$defs": {"Node": {"properties": {"next": {"$ref": "#/$defs/Node"}}}}})
