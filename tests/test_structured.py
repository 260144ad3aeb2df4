"""Structured output without a kernel: resolving --schema, the request's format, validation, the error lines."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any, Literal

import pytest
from answer_types import PERSON, Colour, Paper, Point
from pydantic import BaseModel
from typing_extensions import TypedDict

from llmring_jupyter.answer import structured
from llmring_jupyter.answer.options import Options, parse
from llmring_jupyter.answer.schema import Mismatch
from llmring_jupyter.exceptions import AnswerMismatch, UsageError
from llmring_jupyter.providers import Message, Request, ResponseFormat, ToolCall, chat_stream
from llmring_jupyter.providers.types import FinishReason
from llmring_jupyter.result import Result, Timings, answer_text


class Label(TypedDict):
    name: str
    colour: Colour
    score: float
    kind: Literal["a", "b"]


JSON_SCHEMA = PERSON
NAMESPACE = {"Paper": Paper, "Point": Point, "Label": Label, "person": JSON_SCHEMA, "models": dataclasses}


def result(text: str, finish: FinishReason = "stop") -> Result:
    return Result(text, "demo", "demo", finish, None, Timings(0, None, 0.1), ())


# -- the line and chat()'s keywords ------------------------------------------------------


def test_schema_and_json_are_options_of_the_line() -> None:
    assert parse("--schema 'list[Paper]'") == Options(schema="list[Paper]")
    assert parse("demo --json") == Options(models=("demo",), json=True)
    assert Options.of(None, {"schema": Paper}).schema is Paper
    assert parse("--schema Paper").shown_as == "json" and parse("").shown_as == "markdown"  # type: ignore[union-attr]


@pytest.mark.parametrize("line", ["--schema Paper --json", "--json --format code", "--schema Paper --format text"])
def test_contradictions_are_one_usage_line(line: str) -> None:
    with pytest.raises(UsageError) as info:
        parse(line)
    assert "\n" not in str(info.value)


# -- resolving --schema NAME ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "root"),
    [
        ("Paper", "Paper", "object"),
        ("list[Paper]", "list[Paper]", "array"),
        ("Point", "Point", "object"),
        ("Label", "Label", "object"),
        ("person", "person", "object"),
        ("dict[str, Paper]", "dict[str, Paper]", "object"),
        ("Paper | None", "Paper | None", None),
        ("Literal['yes', 'no']", "Literal['yes', 'no']", "string"),
    ],
)
def test_a_name_from_the_notebook_becomes_its_shape(text: str, name: str, root: str | None) -> None:
    shape = structured.resolve(text, False, NAMESPACE)
    assert shape is not None and shape.name == name
    assert shape.schema.get("type") == root


def test_a_type_or_schema_passed_to_chat_is_used_as_it_is() -> None:
    assert structured.resolve(Paper, False, {}).schema["required"] == ["title", "year", "topics"]  # type: ignore[union-attr]
    assert structured.resolve(JSON_SCHEMA, False, {}).name == "Person"  # type: ignore[union-attr]
    assert structured.resolve(None, False, {}) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Missing", "Missing is not defined in the notebook"),
        ("list[Missing]", "Missing is not defined"),
        ("models._os", "does not exist"),
        ("__import__('os').system('x')", "only a type name"),
        ("Paper(", "not a type name"),
        ("Paper.nothing", "Paper.nothing does not exist"),
    ],
)
def test_a_bad_name_is_one_line_and_nothing_runs(text: str, says: str) -> None:
    with pytest.raises(UsageError) as info:
        structured.resolve(text, False, NAMESPACE)
    assert says in str(info.value) and "\n" not in str(info.value)


# -- what the provider is asked for ------------------------------------------------------


def test_an_object_schema_is_sent_as_it_is_and_a_list_inside_an_object() -> None:
    paper = structured.resolve(Paper, False, {})
    papers = structured.resolve(list[Paper], False, {})
    assert paper is not None and papers is not None
    assert structured.response_format(paper) == ResponseFormat("Paper", paper.schema)
    wrapped = structured.response_format(papers).schema
    assert wrapped is not None and wrapped["type"] == "object" and wrapped["required"] == ["items"]
    assert wrapped["properties"]["items"] == papers.schema


def test_json_asks_for_any_object_without_a_schema() -> None:
    shape = structured.resolve(None, True, {})
    assert shape is not None
    assert structured.response_format(shape) == ResponseFormat("a JSON object", None)
    assert structured.value_of(shape, '{"a": [1]}') == {"a": [1]}
    with pytest.raises(Mismatch):
        structured.value_of(shape, "[1, 2]")


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tp", "text", "value"),
    [
        (Paper, '{"title": "A", "year": 2020, "topics": []}', Paper(title="A", year=2020, topics=[])),
        (
            list[Paper],
            '{"items": [{"title": "A", "year": 1, "topics": ["x"]}]}',
            [Paper(title="A", year=1, topics=["x"])],
        ),
        (Point, '{"x": 1.5, "y": 2}', Point(1.5, 2)),
        (JSON_SCHEMA, '{"name": "Ada", "age": 36}', {"name": "Ada", "age": 36}),
        (
            Label,
            '{"name": "n", "colour": "red", "score": 1, "kind": "a"}',
            {"name": "n", "colour": Colour.RED, "score": 1.0, "kind": "a"},
        ),
        (int, '{"value": 7}', 7),
    ],
)
def test_an_answer_becomes_the_typed_value(tp: Any, text: str, value: Any) -> None:
    shape = structured.resolve(tp, False, {})
    assert shape is not None
    done = structured.conclude(shape, result(text))
    assert done.exception is None and done.data == value and done.text == text


def test_nulls_a_strict_mode_writes_for_left_out_fields_are_dropped_but_real_nulls_kept() -> None:
    shape = structured.resolve(list[Point], False, {})
    assert shape is not None
    assert structured.value_of(shape, '{"items": [{"x": 1, "y": null}]}') == [Point(1.0, 0)]
    paper = structured.resolve(Paper, False, {})
    assert paper is not None
    assert structured.value_of(paper, '{"title": "A", "year": 1, "topics": [], "venue": null}').venue is None
    with pytest.raises(Mismatch) as info:  # a required field stays required
        structured.value_of(paper, '{"title": null, "year": 1, "topics": []}')
    assert info.value.path == "title"


@pytest.mark.parametrize(
    ("tp", "text", "says"),
    [
        (
            list[Paper],
            '{"items": [{"title": "A", "year": "soon", "topics": []}]}',
            "does not fit list[Paper]: at [0].year: ",
        ),
        (Paper, '{"title": "A", "year": 1}', "does not fit Paper: at topics: Field required"),
        (JSON_SCHEMA, '{"name": "Ada", "age": 12}', "does not fit Person: at age: 12 is less than the minimum of 18"),
        (Point, '{"x": 1,', "does not fit Point: not valid JSON"),
        (list[Paper], "[]", "does not fit list[Paper]: expected an object with the key 'items'"),
    ],
)
def test_a_nonconforming_answer_fails_with_one_line_naming_the_schema_and_mismatch(
    tp: Any, text: str, says: str
) -> None:
    shape = structured.resolve(tp, False, {})
    done = structured.conclude(shape, result(text))
    assert isinstance(done.exception, AnswerMismatch)
    assert says in done.exception.message and "_llm.text" in done.exception.message
    assert "\n" not in done.exception.message and done.error == done.exception.message
    assert done.data is None and done.text == text


def test_a_cut_answer_says_it_was_cut_not_that_the_json_is_broken() -> None:
    shape = structured.resolve(Paper, False, {})
    done = structured.conclude(shape, result('{"title": "A", "ye', finish="length"))
    assert done.exception is not None
    message = str(done.exception)
    assert "cut at the token limit" in message and "--max-tokens" in message
    assert "JSON (" not in message and "does not fit" not in message


@pytest.mark.parametrize(("spec", "any_json", "name"), [(Paper, False, "Paper"), (None, True, "a JSON object")])
def test_a_blocked_answer_fails_saying_so(spec: Any, any_json: bool, name: str) -> None:
    done = structured.conclude(structured.resolve(spec, any_json, {}), result("", finish="content_filter"))
    assert done.exception is not None
    assert done.error == f"The provider's content filter blocked the answer, so it has no data to fit {name}."


@pytest.mark.parametrize("finish", ["cancelled", "tool_calls", "error"])
def test_only_a_finished_answer_is_validated(finish: FinishReason) -> None:
    shape = structured.resolve(Paper, False, {})
    done = structured.conclude(shape, result('{"ti', finish=finish))
    assert done.exception is None and done.data is None


# -- the demo model answers schemas --------------------------------------------------------


async def _demo(fmt: ResponseFormat, prompt: str, **kw: Any) -> tuple[str, str | None]:
    request = Request("demo", (Message("user", prompt),), response_format=fmt, options={"delay": 0}, **kw)
    text, finish = "", None
    async for chunk in chat_stream(request):
        text += chunk.delta
        finish = chunk.finish_reason or finish
    return text, finish


class Nested(BaseModel):
    id: int
    when: str
    tags: dict[str, int]
    point: Point | None
    colour: Colour
    pair: tuple[int, str]
    flag: bool


@pytest.mark.parametrize("tp", [Paper, list[Paper], Point, Label, JSON_SCHEMA, Nested, list[int], dict[str, float]])
def test_the_demo_model_answers_json_that_fits(tp: Any) -> None:
    shape = structured.resolve(tp, False, {})
    assert shape is not None
    text, finish = asyncio.run(_demo(structured.response_format(shape), "Extract every transformer paper"))
    assert finish == "stop"
    structured.value_of(shape, text)  # raises if it does not fit


def test_the_demo_models_strings_are_the_prompts_words() -> None:
    shape = structured.resolve(list[Paper], False, {})
    assert shape is not None
    text, _ = asyncio.run(_demo(structured.response_format(shape), "Extract every transformer paper"))
    papers = structured.value_of(shape, text)
    assert len(papers) == 2 and papers[0].title == "Extract every" and papers[0].year > 2020
    assert papers[0] != papers[1]


def test_the_demo_model_honours_bounds_and_any_json() -> None:
    shape = structured.resolve(JSON_SCHEMA, False, {})
    assert shape is not None
    text, _ = asyncio.run(_demo(structured.response_format(shape), "Name someone"))
    assert structured.value_of(shape, text)["age"] >= 18
    text, _ = asyncio.run(_demo(ResponseFormat("a JSON object", None), "Summarise the weather today"))
    assert json.loads(text)["answer"].startswith("Summarise")


def test_the_demo_model_cuts_json_at_max_tokens() -> None:
    shape = structured.resolve(list[Paper], False, {})
    assert shape is not None
    text, finish = asyncio.run(_demo(structured.response_format(shape), "Extract papers", max_tokens=5))
    assert finish == "length"
    assert "cut at the token limit" in str(structured.conclude(shape, result(text, "length")).exception)


def test_demo_echo_still_echoes_so_tests_can_send_any_json() -> None:
    fmt = ResponseFormat("Paper", {"type": "object"})
    request = Request("demo:echo", (Message("user", '{"year": "soon"}'),), response_format=fmt, options={"delay": 0})

    async def run() -> str:
        return "".join([c.delta async for c in chat_stream(request)])

    assert asyncio.run(run()) == '{"year": "soon"}'


def test_typing_names_need_no_import_on_the_line() -> None:
    shape = structured.resolve("Optional[Paper]", False, {"Paper": Paper})
    assert shape is not None and {"type": "null"} in shape.schema["anyOf"]


def test_with_tools_the_value_is_read_from_the_last_steps_text() -> None:
    call = ToolCall("c1", "get_weather", '{"city": "Paris"}')
    exchange = (
        Message("assistant", "Let me look.", (call,)),
        Message("tool", "sunny", tool_call_id="c1"),
        Message("assistant", '{"x": 1}'),
    )
    done = structured.conclude(
        structured.resolve(Point, False, {}), dataclasses.replace(result('Let me look.{"x": 1}'), exchange=exchange)
    )
    assert done.exception is None and done.data == Point(1.0, 0)
    assert answer_text(dataclasses.replace(result("Let me look."), exchange=exchange[:2])) == ""
