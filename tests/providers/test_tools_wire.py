"""Tools on every provider, through its real SDK, against its real wire format on 127.0.0.1.

The tool loop runs the Python function with the arguments the model streamed; the next
request carries the call and its result in the provider's own shape (OpenAI ``tool``
messages, Anthropic ``tool_use``/``tool_result`` blocks, Gemini ``functionCall``/
``functionResponse`` parts with the ``thoughtSignature`` kept, Ollama ``tool`` messages).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from providers.dialects import Dialect
from recorder import Recorder, open_stream
from wire_server import WireServer

from llmring_jupyter.answer import agent
from llmring_jupyter.answer.tools import Toolbox
from llmring_jupyter.providers import Message, Request
from llmring_jupyter.result import Result

BY_NAME = ("google", "ollama")  # results name their function; the others name the call's id
CITY = ['{"city": ', '"Par', 'is"}']


def weather(city: str, unit: str = "C") -> str:
    """The current weather in a city.

    Args:
        city: the city's name
    """
    if city == "Atlantis":
        raise LookupError("no such city")
    return f"21 °{unit} in {city}"


def _ask(d: Dialect, box: Toolbox, prompt: str = "Warmer in Paris or Oslo?", **kw: Any) -> tuple[Result, Recorder]:
    request = Request(f"{d.provider}:{d.model}", (Message("user", prompt),), tools=box.tools)
    out = Recorder(kw.pop("decide", None))
    return asyncio.run(agent.run(request, open_stream, out, box, **kw)), out


def _result_key(d: Dialect, call_id: str, name: str) -> str:
    return name if d.provider in BY_NAME else call_id


def test_a_streamed_call_runs_the_function_and_its_result_goes_back_natively(
    dialect: Dialect, wire: WireServer
) -> None:
    d = dialect
    wire.queue(d.tool_calls([("call_1", "weather", CITY)], text=["Let me check. "]), d.answer(["Paris: ", "21 °C."]))
    result, out = _ask(d, Toolbox.of([weather], {}), interval=0)
    assert result.error is None, result.error
    assert result.text == "Let me check. Paris: 21 °C." and result.finish_reason == "stop" and result.steps == 2
    (run,) = result.tool_calls
    assert (run.status, run.arguments, run.result) == ("done", {"city": "Paris", "unit": "C"}, "21 °C in Paris")
    first, second = wire.seen[-2], wire.seen[-1]
    ((name, description, schema),) = d.sent_tools(first)
    assert (name, description) == ("weather", "The current weather in a city.")
    assert schema["properties"]["city"] == {"type": "string", "description": "the city's name"}
    assert schema["required"] == ["city"]
    signature = "CiQBcsjafHZ4ZXN0c2lnbmF0dXJlAAAA" if d.provider == "google" else None
    assert d.sent_exchange(second) == [
        ("call", "weather", {"city": "Paris"}, signature),
        ("result", _result_key(d, "call_1", "weather"), "21 °C in Paris"),
    ]
    assert ("user", "Warmer in Paris or Oslo?") in d.sent_messages(second)
    pieces = [b.call.arguments for b in out.blocks if b.status == "streaming"]
    if d.provider in ("openai", "anthropic"):  # their wire streams arguments; Gemini and Ollama send calls whole
        assert len(pieces) >= 2 and pieces[0] != pieces[-1], f"the call's arguments must show as they stream: {pieces}"
    assert pieces and pieces[-1].replace(" ", "") == '{"city":"Paris"}'


def test_parallel_calls_all_run_in_order_and_all_results_go_back(dialect: Dialect, wire: WireServer) -> None:
    d = dialect
    calls = [("call_a", "weather", CITY), ("call_b", "weather", ['{"city": "Oslo"}'])]
    wire.queue(d.tool_calls(calls), d.answer(["Paris is warmer."]))
    result, _ = _ask(d, Toolbox.of([weather], {}))
    assert [r.result for r in result.tool_calls] == ["21 °C in Paris", "21 °C in Oslo"]
    exchange = d.sent_exchange(wire.seen[-1])
    assert [e[0] for e in exchange] == ["call", "call", "result", "result"]
    assert [e[1:] for e in exchange[2:]] == [
        (_result_key(d, "call_a", "weather"), "21 °C in Paris"),
        (_result_key(d, "call_b", "weather"), "21 °C in Oslo"),
    ]


def test_a_raising_tool_and_invalid_arguments_go_back_as_errors(dialect: Dialect, wire: WireServer) -> None:
    d = dialect
    calls = [("call_x", "weather", ['{"city": "Atlantis"}']), ("call_y", "weather", ['{"city": 42, "unit": "K"}'])]
    wire.queue(d.tool_calls(calls), d.answer(["Sorry."]))
    result, _ = _ask(d, Toolbox.of([weather], {}))
    assert result.ok and [r.status for r in result.tool_calls] == ["error", "error"]
    results = [e[2] for e in d.sent_exchange(wire.seen[-1]) if e[0] == "result"]
    assert results[0] == "Error: LookupError: no such city"
    assert results[1].startswith("Error: invalid arguments for weather: city: Input should be a valid string")


def test_the_step_limit_stops_asking(dialect: Dialect, wire: WireServer) -> None:
    d = dialect
    before = len(wire.seen)
    wire.queue(*(d.tool_calls([(f"call_{n}", "weather", CITY)]) for n in range(2)))
    result, _ = _ask(d, Toolbox.of([weather], {}), max_steps=2)
    assert len(wire.seen) - before == 2
    assert result.error is not None and "(--max-steps 2)" in result.error
    assert [r.status for r in result.tool_calls] == ["done", "cancelled"]


@pytest.mark.parametrize("where", ["tool", "approval"])
def test_stop_during_a_long_tool_or_the_approval_ends_at_once(dialect: Dialect, wire: WireServer, where: str) -> None:
    d = dialect

    async def slow(city: str) -> str:
        """Takes its time."""
        await asyncio.sleep(10)
        return "late"

    box = Toolbox.of([slow], {})
    wire.queue(d.tool_calls([("call_s", "slow", CITY)], text=["Hold on. "]))
    before = len(wire.seen)

    async def main() -> Result:
        # the approval would say Run, and the tool answer "late", only after 10 s: Stop must end both first
        out = Recorder(decide=lambda run: asyncio.sleep(10, True), stop_when=("running", "approve"))
        request = Request(f"{d.provider}:{d.model}", (Message("user", "Paris?"),), tools=box.tools)
        return await agent.run(request, open_stream, out, box, approve=where == "approval")

    result = asyncio.run(main())
    assert result.finish_reason == "cancelled" and result.text == "Hold on. "
    assert len(wire.seen) - before == 1, "nothing more is asked after Stop"
    assert result.tool_calls[0].status == "cancelled" and result.exchange[-1].content == agent.NOT_RUN


def test_the_next_question_carries_the_exchange(
    dialect: Dialect, wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shell import loaded_shell, magics

    from llmring_jupyter.answer.options import Options

    d = dialect
    wire.queue(d.tool_calls([("call_1", "weather", CITY)]), d.answer(["21 °C in Paris."]), d.answer(["Tomorrow too."]))
    for shell in loaded_shell():
        session = magics(shell).session
        session.pre_run_cell(type("Info", (), {"cell_id": "one", "raw_cell": ""})())
        asyncio.run(session.ask("Paris?", Options.of(f"{d.provider}:{d.model}", {"tools": [weather]}), Recorder()))
        session.pre_run_cell(type("Info", (), {"cell_id": "two", "raw_cell": ""})())
        asyncio.run(session.ask("And tomorrow?", Options.of(f"{d.provider}:{d.model}", {}), Recorder()))
    third = wire.seen[-1]
    assert d.sent_exchange(third) == [
        ("call", "weather", {"city": "Paris"}, "CiQBcsjafHZ4ZXN0c2lnbmF0dXJlAAAA" if d.provider == "google" else None),
        ("result", _result_key(d, "call_1", "weather"), "21 °C in Paris"),
    ]
    said = d.sent_messages(third)
    assert said[0] == ("user", "Paris?") and said[-1] == ("user", "And tomorrow?")
    assert ("assistant", "21 °C in Paris.") in said


def test_a_retry_in_a_later_step_is_shown_and_recorded(dialect: Dialect, wire: WireServer) -> None:
    d = dialect
    wire.queue(
        d.tool_calls([("call_1", "weather", CITY)]), d.http_error(503, "overloaded", retry_after=0), d.answer(["Warm."])
    )
    result, out = _ask(d, Toolbox.of([weather], {}))
    assert result.error is None and result.text == "Warm." and result.steps == 2
    assert [r.attempt for r in result.retries] == [2], "the second request's retry is the answer's"
    assert any(r is not None for r in out.retries), "the live view was told it waits to retry"
