"""Types that answers are asked to fit, shared by the structured-output tests."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from pydantic import BaseModel


class Paper(BaseModel):
    title: str
    year: int
    topics: list[str]
    venue: str | None = None


@dataclasses.dataclass
class Point:
    x: float
    y: int = 0


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


#: A JSON Schema as a user writes one, with a bound the answer must keep.
PERSON: dict[str, Any] = {
    "title": "Person",
    "type": "object",
    "properties": {"name": {"type": "string", "minLength": 3}, "age": {"type": "integer", "minimum": 18}},
    "required": ["name", "age"],
}
