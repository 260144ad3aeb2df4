"""The functions a model may call: what it is told about them, and how a call is run."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

import pytest

from llmring_jupyter.answer.tools import Toolbox
from llmring_jupyter.exceptions import SchemaError, UsageError
from llmring_jupyter.providers.types import ToolCall
from llmring_jupyter.result import ToolRun


def get_weather(city: str, unit: Literal["C", "F"] = "C") -> str:
    """The current weather in a city.

    Args:
        city: where to look
    """
    return f"18 °{unit} in {city}"


@dataclass
class Point:
    x: int
    y: int


async def distance(a: Point, b: Point) -> dict[str, float]:
    """How far apart two points are."""
    await asyncio.sleep(0)
    return {"distance": ((a.x - b.x) ** 2 + (a.y - b.y) ** 2) ** 0.5}


def _run(name: str, arguments: str) -> ToolRun:
    return ToolRun(ToolCall("c1", name, arguments), step=1, at=0)


def test_names_are_looked_up_in_the_notebook_and_described_from_signature_and_docstring() -> None:
    box = Toolbox.of(["get_weather", distance], {"get_weather": get_weather})
    weather, dist = box.tools
    assert (weather.name, weather.description) == ("get_weather", "The current weather in a city.")
    assert weather.parameters["properties"]["unit"] == {"enum": ["C", "F"], "type": "string", "default": "C"}
    assert weather.parameters["properties"]["city"]["description"] == "where to look"
    assert weather.parameters["required"] == ["city"]
    assert dist.parameters["properties"]["a"]["properties"]["x"] == {"type": "integer"}, "dataclasses are inlined"


@pytest.mark.parametrize(
    ("specs", "namespace", "says"),
    [
        (["nowhere"], {}, "There is no function nowhere in the notebook"),
        (["x"], {"x": 3}, "Tools must be functions; got int"),
        (["get_weather", "not a name"], {"get_weather": get_weather}, "--tools takes function names"),
    ],
)
def test_a_bad_tool_fails_before_anything_is_sent(specs: list[str], namespace: dict[str, Any], says: str) -> None:
    with pytest.raises(UsageError, match=says):
        Toolbox.of(specs, namespace)


def test_a_signature_that_cannot_be_described_names_its_parameter() -> None:
    def lookup(table, row: int) -> str:  # type: ignore[no-untyped-def]
        return ""

    with pytest.raises(SchemaError, match="parameter 'table' has no type hint"):
        Toolbox.of([lookup], {})


def test_a_lambda_has_no_name_a_model_can_call() -> None:
    with pytest.raises(UsageError, match="A tool needs a name of letters, digits and _"):
        Toolbox.of([lambda: "x"], {})


def test_two_functions_with_one_name_are_refused() -> None:
    def get_weather(city: str) -> str:
        return city

    with pytest.raises(UsageError, match="Two tools are named get_weather"):
        Toolbox.of([globals()["get_weather"], get_weather], {})


def test_arguments_are_validated_before_the_call() -> None:
    calls: list[Any] = []

    def record(n: int) -> int:
        calls.append(n)
        return n

    box = Toolbox.of([record], {})
    bad = box.check(_run("record", '{"n": "many"}'))
    assert bad.status == "error" and calls == []
    assert bad.error is not None and "invalid arguments for record: n:" in bad.error
    assert box.check(_run("record", '{"n": 1, "extra": 2}')).status == "error", "unknown arguments are refused"
    assert box.check(_run("record", "not json")).status == "error"
    ok = box.check(_run("record", '{"n": "7"}'))
    assert ok.status == "running" and ok.arguments == {"n": 7}


def test_a_name_the_model_invents_is_never_looked_up() -> None:
    box = Toolbox.of([get_weather], {})
    run = box.check(_run("eval", '{"code": "1"}'))
    assert run.status == "error"
    assert run.error == "Error: there is no tool named 'eval'; the tools are: get_weather."


async def test_sync_and_async_tools_run_with_parsed_arguments_and_are_timed() -> None:
    box = Toolbox.of([get_weather, distance], {})
    weather = await box.call(box.check(_run("get_weather", '{"city": "Oslo"}')))
    assert (weather.status, weather.result, weather.shown()) == ("done", "18 °C in Oslo", "18 °C in Oslo")
    far = await box.call(box.check(_run("distance", '{"a": {"x": 0, "y": 0}, "b": {"x": 3, "y": 4}}')))
    assert far.arguments == {"a": Point(0, 0), "b": Point(3, 4)}, "nested arguments arrive as their types"
    assert far.result == {"distance": 5.0} and far.shown() == '{"distance": 5.0}'
    assert far.seconds is not None and far.seconds >= 0


async def test_an_exception_is_the_tools_result_not_a_failure() -> None:
    def broken(q: str) -> str:
        raise KeyError(q)

    box = Toolbox.of([broken], {})
    run = await box.call(box.check(_run("broken", '{"q": "x"}')))
    assert run.status == "error" and run.error == "Error: KeyError: 'x'"


async def test_a_sync_tool_runs_off_the_event_loop_so_stop_is_heard() -> None:
    started = threading.Event()

    def slow(seconds: float) -> str:
        started.set()
        time.sleep(seconds)
        return "late"

    box = Toolbox.of([slow], {})
    task = asyncio.ensure_future(box.call(box.check(_run("slow", '{"seconds": 1.0}'))))
    await asyncio.to_thread(started.wait, 2)
    began = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.perf_counter() - began < 0.5, "cancelling must not wait for the thread"


# -- through the session: chat(tools=...), %config LLMMagics.tools / approve_tools, the terminal ------------


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Any:
    from shell import loaded_shell

    monkeypatch.setenv("LLMRING_DEMO_DELAY", "0")
    yield from loaded_shell()


def test_chat_takes_the_functions_themselves(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import llmring_jupyter

    seen: list[str] = []

    def lookup(name: str) -> str:
        seen.append(name)
        return "found"

    result = llmring_jupyter.chat_sync("Look up Ada please", "demo", tools=[lookup])
    assert seen == ["Ada"] and result.tool_calls[0].result == "found"
    assert '🔧 lookup(name="Ada")' in capsys.readouterr().out, "the terminal prints the call and its result"


def test_the_default_tools_setting_is_used_and_the_line_overrides_it(shell: Any) -> None:
    from shell import magics

    seen: list[str] = []

    def lookup(name: str) -> str:
        seen.append(name)
        return "x"

    def first() -> str:
        return "first"

    shell.user_ns.update(lookup=lookup, first=first)
    m = magics(shell)
    m.tools = ["lookup"]
    shell.run_cell_magic("llm", "demo", "Find Turing")
    assert seen == ["Turing"]
    shell.run_cell_magic("llm", "demo --no-history --tools first", "Find Hopper")
    assert seen == ["Turing"], "--tools replaces the default"


@pytest.mark.parametrize(("typed", "runs"), [("y", True), ("n", False)])
def test_approve_tools_asks_in_the_terminal(
    shell: Any, monkeypatch: pytest.MonkeyPatch, typed: str, runs: bool
) -> None:
    from shell import magics

    seen: list[str] = []
    prompts: list[str] = []

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        return typed

    monkeypatch.setattr("builtins.input", answer)

    def lookup(name: str) -> str:
        seen.append(name)
        return "x"

    shell.user_ns["lookup"] = lookup
    magics(shell).approve_tools = True
    shell.run_cell_magic("llm", "demo --tools lookup", "Find Lovelace")
    assert prompts == ['\nRun lookup(name="Lovelace")? [y/N] ']
    assert seen == (["Lovelace"] if runs else [])


def test_dry_run_names_the_tools_and_the_markdown_export_shows_the_calls(
    shell: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    def lookup(name: str) -> str:
        return "found it"

    shell.user_ns["lookup"] = lookup
    shell.run_cell_magic("llm", "demo --tools lookup --dry-run", "Find Curie")
    shell.run_cell_magic("llm", "demo --tools lookup", "Find Curie")
    shell.run_line_magic("llm", f"export {tmp_path / 'chat.md'}")
    out = capsys.readouterr().out
    assert "Tools: lookup." in out
    text = (tmp_path / "chat.md").read_text()
    assert text.index("Let me ask") < text.index('🔧 lookup(name="Curie")') < text.index("→ found it")


@pytest.mark.parametrize("line", ['demo -o tools=\'[{"type": "function"}]\'', "demo -o functions=[]"])
def test_raw_provider_tool_shapes_are_refused_with_the_way_to_give_tools(line: str) -> None:
    from llmring_jupyter.answer.options import parse

    with pytest.raises(UsageError, match="named with --tools NAME"):
        parse(line)


def test_a_replayed_tool_exchange_calls_no_function(shell: Any, tmp_path: Any) -> None:
    from shell import magics

    seen: list[str] = []

    def lookup(name: str) -> str:
        seen.append(name)
        return f"{name} was a mathematician"

    shell.user_ns["lookup"] = lookup
    m = magics(shell)
    m.cache, m.cache_path = "replay", str(tmp_path / "cache.sqlite")
    shell.run_cell_magic("llm", "demo --tools lookup --no-history", "Who was Noether?")
    first = shell.user_ns["_llm"]
    shell.run_cell_magic("llm", "demo --tools lookup --no-history", "Who was Noether?")
    again = shell.user_ns["_llm"]
    assert seen == ["Noether"], "the second answer was replayed: the function was not called again"
    assert again.replayed is not None and again.text == first.text and again.steps == 2
    assert [r.result for r in again.tool_calls] == ["Noether was a mathematician"]
