"""What --map reads rows from, and the MapResult it builds: input order, the input's index, one
column per field, an error column."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import pandas as pd  # type: ignore[import-untyped]
import pytest

from llmring_jupyter.answer import options
from llmring_jupyter.answer.schema import shape_of
from llmring_jupyter.context.interpolate import interpolate
from llmring_jupyter.context.rows import rows_of
from llmring_jupyter.exceptions import UsageError
from llmring_jupyter.map_result import MapResult
from llmring_jupyter.result import Result


def test_a_series_keeps_its_index_and_a_generator_is_read_lazily() -> None:
    series = rows_of(pd.Series(["a", "b"], index=[7, 9]))
    assert (list(series.items), series.total, list(series.index)) == (["a", "b"], 2, [7, 9])
    read: list[int] = []

    def feed() -> Iterator[int]:
        for i in range(3):
            read.append(i)
            yield i

    rows = rows_of(feed())
    assert rows.total is None and read == []
    assert next(rows.items) == 0 and read == [0]


def test_records_and_table_rows_answer_columns_by_attribute_and_item() -> None:
    (row,) = rows_of([{"values": 3, "name": "x"}]).items  # a column named like a dict method is the column
    assert interpolate("{{row.values}} {{row['name']}}", {"row": row}).text == "3 x"
    assert interpolate("{{row}}", {"row": row}).text == "values: 3\nname: x"


@pytest.mark.parametrize("value", ["text", {"a": 1}, 5])
def test_what_is_not_rows_is_refused_in_one_line(value: object) -> None:
    with pytest.raises(UsageError, match="--map needs a list"):
        rows_of(value, "thing")


def test_a_map_result_becomes_a_frame_on_the_input_index_with_a_column_per_field() -> None:
    shape = shape_of(dict[str, int])
    ok = dataclasses.replace(Result.unasked("demo", "stop", data={"n": 1}, shape=shape), text='{"n": 1}')
    failed = Result.unasked("demo", "error", error="refused", shape=shape)
    frame = MapResult((ok, failed), index=pd.Index(["a", "b"])).to_pandas()
    assert list(frame.columns) == ["n", "error"] and list(frame.index) == ["a", "b"]
    assert frame.loc["a", "n"] == 1 and frame.loc["b", "error"] == "refused"
    texts = MapResult((dataclasses.replace(Result.unasked("demo", "stop"), text="hi"),)).to_pandas()
    assert texts.to_dict("records") == [{"text": "hi", "error": None}]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("--concurrency 2", "--concurrency is for --map NAME"),
        ("--map rows --concurrency 0", "at least 1"),
        ("--map rows --chat notes", "join no conversation"),
        ("--map rows --approve", "leave out --approve"),
    ],
)
def test_map_options_that_cannot_work_are_refused_in_one_line(line: str, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        options.parse(line)


def test_map_options_are_read_from_the_line() -> None:
    opts = options.parse("demo --map reviews --concurrency 8")
    assert opts is not None and (opts.rows, opts.concurrency) == ("reviews", 8)


def test_a_polars_table_is_answered_row_by_row_in_order_and_lines_up_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import polars as pl
    from shell import loaded_shell

    import llmring_jupyter

    monkeypatch.setenv("LLMRING_DEMO_DELAY", "0")
    people = pl.DataFrame({"name": ["ada", "bob", "cy"], "age": [36, 41, 29]})
    for _ in loaded_shell():
        prompt = "Person {{row.name}} aged {{row['age']}}"
        result = asyncio.run(llmring_jupyter.map(prompt, people, "demo:echo", cache=False))
    assert result.texts == ["Person ada aged 36", "Person bob aged 41", "Person cy aged 29"]
    joined = pd.DataFrame(people.to_dicts()).join(result.to_pandas()).to_dict("index")  # by position
    assert joined[1] == {"name": "bob", "age": 41, "text": "Person bob aged 41", "error": None}
