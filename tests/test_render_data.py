"""The static output of a JSON answer: its value as a table or tree, escaped; the raw text when it has none."""

from __future__ import annotations

import html
import json
import re

from answer_types import Paper

from llmring_jupyter import render
from llmring_jupyter.answer import structured
from llmring_jupyter.providers.types import FinishReason
from llmring_jupyter.render import data
from llmring_jupyter.result import Result, Timings

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"


def answered(text: str, tp: object = list[Paper], finish: FinishReason = "stop") -> Result:
    shape = structured.resolve(tp, False, {})
    raw = Result(text, "demo", "demo", finish, None, Timings(0, None, 0.1), ())
    return structured.conclude(shape, raw)


def cells(markup: str, tag: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", markup)]


def test_a_list_of_records_is_a_table_one_row_a_record() -> None:
    result = answered(
        '{"items": [{"title": "A", "year": 2020, "topics": ["x", "y"]}, {"title": "B", "year": 2021, "topics": []}]}'
    )
    markup, plain = data.json_answer(result.text, result)
    assert cells(markup, "th") == ["title", "year", "topics", "venue"]
    assert cells(markup, "td") == ["A", "2020", "x, y", "null", "B", "2021", "[] (empty)", "null"]
    assert plain.startswith('[\n  {\n    "title": "A"')  # the value (unwrapped), pretty


def test_an_object_is_a_tree_of_keys_and_values() -> None:
    result = answered('{"name": "Ada", "langs": {"main": "en", "other": [1, 2]}, "ok": true, "none": null}', dict)
    markup, _ = data.json_answer(result.text, result)
    assert cells(markup, "th") == ["name", "langs", "main", "other", "ok", "none"]
    assert "<code>true</code>" in markup and "<code>null</code>" in markup


def test_model_text_is_escaped_in_keys_and_values() -> None:
    hostile = HOSTILE.replace('"', "'")
    result = answered(json.dumps({hostile: hostile}), dict)
    markup, _ = data.json_answer(result.text, result)
    assert "<img" not in markup and "<script" not in markup and "&lt;script&gt;" in markup


def test_a_long_list_is_shown_in_part_and_says_how_many_were_left_out() -> None:
    markup = data.value_html([{"n": i} for i in range(data.MAX_ITEMS + 5)])
    assert len(cells(markup, "td")) == data.MAX_ITEMS and "5 more" in markup


def test_without_data_the_raw_text_is_shown_pretty_when_it_parses_and_as_it_came_when_not() -> None:
    unfit = answered('{"items": [{"title": 1}]}')
    markup, plain = data.json_answer(unfit.text, unfit)
    assert plain == '{\n  "items": [\n    {\n      "title": 1\n    }\n  ]\n}' and "<pre" in markup
    cut = answered('{"items": [{"title": "<b>', finish="length")
    markup, plain = data.json_answer(cut.text, cut)
    assert plain == cut.text and "&lt;b&gt;" in markup


def test_the_bundle_of_a_json_answer_shows_the_value_and_the_footer() -> None:
    data, meta = render.bundle(answered('{"items": [{"title": "A", "year": 1, "topics": []}]}'), fmt="json")
    assert "<table" in data["text/html"] and "llmring-footer" in data["text/html"]
    assert data["text/plain"].startswith("[") and "— demo" in data["text/plain"]
    assert meta["llmring"]["finish_reason"] == "stop"
