"""Structured output in a real kernel, on the offline demo model: --schema, --json, chat(schema=…)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kernel_providers import footer, one_line_error, provider_env, set_env, value
from kernel_session import Execution, Kernel
from providers.dialects import NAMES, load
from wire_server import WireServer, serving

TYPES = """
import dataclasses
import json
from typing import Literal
from pydantic import BaseModel
from typing_extensions import TypedDict

class Paper(BaseModel):
    title: str
    year: int
    topics: list[str]

@dataclasses.dataclass
class Point:
    x: float
    y: float = 0.0

class Label(TypedDict):
    name: str
    kind: Literal["bug", "idea"]

def get_weather(city: str) -> str:
    'The weather in a city.'
    return f"sunny in {city}"

person = {"title": "Person", "type": "object", "required": ["name", "age"],
          "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 18}}}
"""


@pytest.fixture(scope="module", autouse=True)
def types(kernel: Kernel) -> None:
    assert kernel.run(TYPES).ok


def ask(kernel: Kernel, line: str, prompt: str = "Extract every paper about transformers") -> Execution:
    return kernel.run(f"%%llm {line}\n{prompt}")


def test_a_list_of_models_lands_in_llm_data_and_becomes_a_dataframe(kernel: Kernel) -> None:
    run = ask(kernel, "demo --schema list[Paper]")
    assert run.ok, run.error
    assert value(kernel, "[type(p).__name__ for p in _llm.data]") == ["Paper", "Paper"]
    assert value(kernel, "json.loads(_llm.text)['items'][0]['title'] == _llm.data[0].title") is True
    frame = kernel.run(
        "import pandas as pd\ndf = pd.DataFrame([p.model_dump() for p in _llm.data])\nprint(df.shape, list(df.columns))"
    )
    assert frame.stdout.strip() == "(2, 3) ['title', 'year', 'topics']"
    assert run.final["metadata"]["llmring"]["parameters"]["response_format"] == "list[Paper]"  # provenance
    html = run.final["data"]["text/html"]
    assert "<table" in html and ">title</th>" in html and value(kernel, "_llm.data[0].title") in html


@pytest.mark.parametrize(
    ("line", "check"),
    [
        ("--schema Point", "type(_llm.data).__name__ == 'Point' and isinstance(_llm.data.x, float)"),
        ("--schema Label", "set(_llm.data) == {'name', 'kind'} and _llm.data['kind'] in ('bug', 'idea')"),
        ("--schema person", "_llm.data['age'] >= 18 and isinstance(_llm.data['name'], str)"),
        ("--json", "isinstance(_llm.data, dict) and _llm.data == json.loads(_llm.text)"),
    ],
)
def test_dataclasses_typed_dicts_json_schemas_and_any_json(kernel: Kernel, line: str, check: str) -> None:
    run = ask(kernel, f"demo {line}")
    assert run.ok, run.error
    assert value(kernel, check) is True


def test_chat_takes_the_type_itself(kernel: Kernel) -> None:
    run = kernel.run("import llmring_jupyter\nr = await llmring_jupyter.chat('Two points', 'demo', schema=list[Point])")
    assert run.ok, run.error
    assert value(kernel, "[type(p).__name__ for p in r.data]") == ["Point", "Point"]
    run = kernel.run("r = await llmring_jupyter.chat('Any object', 'demo', json=True)")
    assert run.ok, run.error
    assert value(kernel, "isinstance(r.data, dict) and r.data == json.loads(r.text)") is True


def test_the_live_view_streams_json(kernel: Kernel) -> None:
    run = ask(kernel, "demo --schema Paper")
    assert run.ok, run.error
    views = [
        m["content"]["data"]["state"]
        for m in run.of("comm_open")
        if m["content"]["data"]["state"].get("_model_name") == "AnyModel"
    ]
    assert [v["format"] for v in views] == ["json"]
    assert json.loads("".join(d["text"] for d in run.deltas if d.get("kind") == "delta"))["title"]


def test_an_answer_that_does_not_fit_fails_the_cell_in_one_line_and_keeps_the_text(kernel: Kernel) -> None:
    sent = '{"items": [{"title": "A", "year": "soon", "topics": []}]}'
    run = ask(kernel, "demo:echo --schema list[Paper]", sent)
    assert not run.ok
    assert run.reply["content"]["ename"] == "AnswerMismatch"
    assert "does not fit list[Paper]: at [0].year:" in run.reply["content"]["evalue"]
    assert len(run.reply["content"]["traceback"]) == 1  # one line, no traceback
    assert value(kernel, "_llm.text") == sent and value(kernel, "_llm.data") is None
    assert "soon" in run.final["data"]["text/plain"]  # the raw answer is what the output shows


def test_broken_json_names_the_schema_too(kernel: Kernel) -> None:
    run = ask(kernel, "demo:echo --schema Paper", '{"title": "A",')
    assert not run.ok and "does not fit Paper: not valid JSON" in run.reply["content"]["evalue"]


def test_a_cut_answer_says_it_was_cut(kernel: Kernel) -> None:
    run = ask(kernel, "demo --schema list[Paper] --max-tokens 6")
    assert not run.ok
    assert "cut at the token limit" in run.reply["content"]["evalue"]
    assert value(kernel, "_llm.finish_reason") == "length" and value(kernel, "len(_llm.text) > 0") is True


@pytest.mark.parametrize(("line", "name"), [("--json", "a JSON object"), ("--schema list[Paper]", "list[Paper]")])
def test_a_cut_answer_says_so_in_one_line_that_reads_for_any_shape(kernel: Kernel, line: str, name: str) -> None:
    run = ask(kernel, f"demo {line} --max-tokens 6")
    error = one_line_error(run)
    assert error.startswith("AnswerMismatch: The answer was cut at the token limit before its JSON ended (")
    assert f"characters), so it cannot fit {name}: raise --max-tokens and run the cell again;" in error


def test_a_bad_schema_name_fails_before_anything_is_sent(kernel: Kernel) -> None:
    run = ask(kernel, "demo --schema Papers")
    assert not run.ok and "Papers is not defined in the notebook" in run.reply["content"]["evalue"]
    assert not run.of("comm_open") and not run.of("update_display_data")


def test_the_next_cell_sees_the_json_as_the_assistants_turn(kernel: Kernel) -> None:
    kernel.run("%llm reset")
    first = kernel.run("%%llm demo --schema Paper\nOne paper about graphs", cell_id="json-1")
    assert first.ok, first.error
    answer = value(kernel, "_llm.text")
    second = kernel.run("%%llm demo:echo\nWhich year?", cell_id="json-2")
    assert second.ok, second.error
    assert value(kernel, "[(m.role, m.content) for m in _llm.messages]") == [
        ("user", "One paper about graphs"),
        ("assistant", answer),
        ("user", "Which year?"),
    ]


def test_out_binds_the_result_with_its_data(kernel: Kernel) -> None:
    run = ask(kernel, "demo --schema Point --out pt")
    assert run.ok, run.error
    assert value(kernel, "pt.data == _llm.data and pt.text == _llm.text") is True


def test_with_tools_the_final_answer_is_the_structured_one(kernel: Kernel) -> None:
    run = ask(kernel, "demo --tools get_weather --schema Label", "What is the weather in Paris? Label it.")
    assert run.ok, run.error
    assert value(kernel, "_llm.steps") == 2 and value(kernel, "_llm.tool_calls[0].result") == "sunny in Paris"
    assert value(kernel, "_llm.text.startswith('Let me ask')") is True  # the first step wrote before its call
    assert value(kernel, "set(_llm.data) == {'name', 'kind'}") is True  # from the last step's JSON alone
    html = run.final["data"]["text/html"]
    assert "get_weather" in html and "<table" in html  # the call where it happened, then the value
    assert html.index("get_weather") < html.index("<table")


# -- through each provider's real SDK and wire format ---------------------------------------


@pytest.fixture(scope="module")
def wire(kernel: Kernel) -> Iterator[WireServer]:
    for server in serving():
        set_env(kernel, provider_env(server.url))
        yield server


NOTE = (
    "anthropic:{model} has no mode for any JSON object: the answer is asked for as the input of a forced tool call.\n"
)


@pytest.mark.parametrize("name", NAMES)
def test_each_provider_is_asked_natively_and_its_answer_lands_in_llm_data(
    kernel: Kernel, wire: WireServer, name: str
) -> None:
    d = load(name)
    papers = {"items": [{"title": "Graphs", "year": 2018, "topics": ["attention"]}]}
    text = json.dumps(papers)
    wire.queue(d.answer([text[:20], text[20:]]))
    run = ask(kernel, f"{name}:{d.model} --schema list[Paper]")
    assert run.ok, run.error
    assert d.sent_format(wire.last()), "the request carried no structured-output parameter"
    assert value(kernel, "[p.model_dump() for p in _llm.data]") == papers["items"]
    assert (run.stdout, run.stderr) == ("", "")


def test_where_a_provider_cannot_it_says_so_in_one_line_before_sending(kernel: Kernel, wire: WireServer) -> None:
    d = load("anthropic")
    wire.queue(d.tool_call("answer", ['{"a": ', "1}"], "toolu_01"))
    run = ask(kernel, f"anthropic:{d.model} --json")
    assert run.ok, run.error
    notes = [i for i, m in enumerate(run.messages) if m["msg_type"] == "stream"]
    assert [run.messages[i]["content"] for i in notes] == [{"name": "stderr", "text": NOTE.format(model=d.model)}]
    deltas = [i for i, m in enumerate(run.messages) if m["msg_type"] == "comm_msg" and "delta" in str(m["content"])]
    assert notes[0] < deltas[0]  # said before the request went out, so before any answer
    assert value(kernel, "_llm.data") == {"a": 1}


def test_the_forced_call_note_is_said_once_per_answer_however_many_requests(kernel: Kernel, wire: WireServer) -> None:
    d = load("anthropic")
    wire.queue(
        d.tool_calls([("toolu_01", "get_weather", ['{"city": "Paris"}'])]),
        d.tool_call("answer", ['{"sky": ', '"sunny"}'], "toolu_02"),
    )
    run = ask(kernel, f"anthropic:{d.model} --json --tools get_weather --no-history", "The weather in Paris?")
    assert run.ok, run.error
    assert len(wire.seen) >= 2 and value(kernel, "(_llm.steps, _llm.data)") == (2, {"sky": "sunny"})
    assert run.stderr == NOTE.format(model=d.model)
    wire.queue(d.tool_call("answer", ['{"a": 1}'], "toolu_03"))
    again = ask(kernel, f"anthropic:{d.model} --json --no-history", "And now?")
    assert again.ok and again.stderr == NOTE.format(model=d.model), "each answer says it"


def test_a_replayed_answer_is_validated_again(kernel: Kernel, tmp_path: Path) -> None:
    """The replay cache keys on the schema; a validator it cannot see is checked on every replay."""
    setup = f"%config LLMMagics.cache = 'replay'\n%config LLMMagics.cache_path = {str(tmp_path / 'c.sqlite')!r}"
    assert kernel.run(setup).ok
    try:
        cell = "%%llm demo --schema list[Paper]\nPapers on caching"
        first = kernel.run(cell, cell_id="replay-1")
        assert first.ok, first.error
        live = value(kernel, "[p.model_dump() for p in _llm.data]")
        again = kernel.run(cell, cell_id="replay-1")
        assert again.ok and "replayed" in footer(again)
        assert value(kernel, "[p.model_dump() for p in _llm.data]") == live
        assert value(kernel, "type(_llm.data[0]).__name__") == "Paper"
        stricter = (
            "from pydantic import field_validator\n"
            "class Paper(Paper):\n"
            "    @field_validator('year')\n"
            "    @classmethod\n"
            "    def old(cls, v: int) -> int:\n"
            "        assert v < 2000, 'only papers before 2000'\n"
            "        return v"
        )
        assert kernel.run(stricter).ok
        replayed = kernel.run(cell, cell_id="replay-1")
        assert "replayed" in footer(replayed)  # the same request: the schema did not change
        assert "does not fit list[Paper]: at [0].year: Assertion failed, only papers before 2000" in one_line_error(
            replayed
        )
    finally:
        kernel.run(f"%config LLMMagics.cache = 'off'\n{TYPES}")
