"""The tool loop: call → run → send the result → continue; Stop, approval and the step limit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from recorder import Recorder, open_stream

from llmring_jupyter import render
from llmring_jupyter.answer import agent
from llmring_jupyter.answer.tools import Toolbox
from llmring_jupyter.exceptions import StepLimitError
from llmring_jupyter.providers import Message, Request, StreamChunk, ToolCall, Usage
from llmring_jupyter.result import ToolRun


class Script:
    """A model that answers each request with the next scripted step, and keeps the requests."""

    def __init__(self, *steps: list[StreamChunk]) -> None:
        self.steps = list(steps)
        self.requests: list[Request] = []

    def __call__(self, request: Request, step: int, log: object) -> AsyncIterator[StreamChunk]:
        assert step == len(self.requests), "each request is its step"
        self.requests.append(request)
        chunks = self.steps[min(len(self.requests), len(self.steps)) - 1]

        async def stream() -> AsyncIterator[StreamChunk]:
            for chunk in chunks:
                await asyncio.sleep(0)
                yield chunk

        return stream()


def calls_step(*calls: tuple[str, str, dict[str, Any]], text: str = "") -> list[StreamChunk]:
    """A step whose calls' arguments stream in two pieces each, then the assembled calls."""
    chunks = [StreamChunk(delta=text)] if text else []
    whole = []
    for n, (cid, name, args) in enumerate(calls):
        raw = json.dumps(args)
        chunks += [
            StreamChunk(tool_calls=(ToolCall(cid, name, raw[:5], n),)),
            StreamChunk(tool_calls=(ToolCall("", "", raw[5:], n),)),
        ]
        whole.append(ToolCall(cid, name, raw))
    return [*chunks, StreamChunk(model="m", finish_reason="tool_calls", usage=Usage.of(10, 5), tool_calls=tuple(whole))]


def text_step(text: str) -> list[StreamChunk]:
    return [StreamChunk(delta=text), StreamChunk(model="m", finish_reason="stop", usage=Usage.of(30, 7))]


def question(tools: Toolbox) -> Request:
    return Request("scripted", (Message("user", "Warmer in Paris or Oslo?"),), tools=tools.tools)


def weather(city: str) -> str:
    """The weather in a city."""
    return {"Paris": "21 C", "Oslo": "9 C"}[city]


async def test_a_call_runs_the_function_and_its_result_goes_back_then_the_answer_follows() -> None:
    box = Toolbox.of([weather], {})
    model = Script(calls_step(("c1", "weather", {"city": "Paris"}), text="Checking. "), text_step("Paris: 21 C."))
    out = Recorder()
    result = await agent.run(question(box), model, out, box)
    assert result.text == "Checking. Paris: 21 C." and result.finish_reason == "stop"
    (run,) = result.tool_calls
    assert (run.status, run.arguments, run.result, run.at) == ("done", {"city": "Paris"}, "21 C", len("Checking. "))
    second = model.requests[1].messages
    assert second[-2] == Message("assistant", "Checking. ", (ToolCall("c1", "weather", '{"city": "Paris"}'),))
    assert second[-1] == Message("tool", "21 C", tool_call_id="c1", name="weather")
    assert result.steps == 2 and result.usage == Usage.of(40, 12), "usage is summed over the steps"
    assert [m.role for m in result.exchange] == ["assistant", "tool", "assistant"]
    streamed = [b for b in out.blocks if b.status == "streaming"]
    assert streamed and streamed[0].call.name == "weather", "the call is shown while its arguments stream"
    assert [b.status for b in out.blocks if b.status != "streaming"] == ["running", "done"]


async def test_parallel_calls_all_run_in_order_and_all_results_go_back() -> None:
    box = Toolbox.of([weather], {})
    step = calls_step(("a", "weather", {"city": "Paris"}), ("b", "weather", {"city": "Oslo"}))
    model = Script(step, text_step("Paris is warmer."))
    result = await agent.run(question(box), model, Recorder(), box, interval=0)
    assert [(r.call.id, r.result) for r in result.tool_calls] == [("a", "21 C"), ("b", "9 C")]
    tail = model.requests[1].messages[-3:]
    assert [m.role for m in tail] == ["assistant", "tool", "tool"]
    assert [(m.tool_call_id, m.content) for m in tail[1:]] == [("a", "21 C"), ("b", "9 C")]


async def test_a_raising_tool_and_bad_arguments_go_back_to_the_model_as_errors() -> None:
    def divide(a: int, b: int) -> float:
        return a / b

    box = Toolbox.of([divide], {})
    step = calls_step(("x", "divide", {"a": 1, "b": 0}), ("y", "divide", {"a": "one", "b": 2}))
    model = Script(step, text_step("Sorry."))
    result = await agent.run(question(box), model, Recorder(), box)
    assert result.ok and result.error is None, "a tool's error does not fail the answer"
    zero, bad = model.requests[1].messages[-2:]
    assert zero.content == "Error: ZeroDivisionError: division by zero"
    assert bad.content.startswith("Error: invalid arguments for divide: a: Input should be a valid integer")


async def test_the_step_limit_ends_the_loop_with_a_clear_error_and_every_call_answered() -> None:
    box = Toolbox.of([weather], {})
    model = Script(calls_step(("c", "weather", {"city": "Oslo"})))  # always wants another call
    result = await agent.run(question(box), model, Recorder(), box, max_steps=3)
    assert len(model.requests) == 3 and result.steps == 3
    assert isinstance(result.exception, StepLimitError)
    assert result.error is not None and "Stopped after 3 steps (--max-steps 3)" in result.error
    assert [r.status for r in result.tool_calls] == ["done", "done", "cancelled"]
    assert result.exchange[-1] == Message(
        "tool", "Not run: the step limit (3) was reached.", tool_call_id="c", name="weather"
    ), "the last calls are answered, so the conversation stays valid for the provider"


async def test_approval_skip_sends_the_decline_and_never_calls() -> None:
    ran: list[str] = []

    def delete(path: str) -> str:
        ran.append(path)
        return "deleted"

    box = Toolbox.of([delete], {})
    model = Script(calls_step(("d", "delete", {"path": "/tmp/x"})), text_step("OK, I will not."))
    asked: list[ToolRun] = []

    def decide(run: ToolRun) -> bool:
        asked.append(run)
        return False

    out = Recorder(decide=decide)
    result = await agent.run(question(box), model, out, box, approve=True)
    assert ran == [] and [a.arguments for a in asked] == [{"path": "/tmp/x"}]
    assert model.requests[1].messages[-1].content == agent.DECLINED
    assert result.tool_calls[0].status == "skipped" and result.text == "OK, I will not."
    out_run = Recorder(decide=lambda run: True)
    await agent.run(
        question(box), Script(calls_step(("d", "delete", {"path": "/a"})), text_step(".")), out_run, box, approve=True
    )
    assert ran == ["/a"], "Run runs it"


async def test_without_approve_nothing_is_asked() -> None:
    box = Toolbox.of([weather], {})
    out = Recorder(decide=None)  # approve() would fail the test
    result = await agent.run(
        question(box), Script(calls_step(("c", "weather", {"city": "Oslo"})), text_step(".")), out, box
    )
    assert result.tool_calls[0].status == "done"


@pytest.mark.parametrize("where", ["async tool", "sync tool", "approval"])
async def test_stop_ends_the_loop_at_once_wherever_it_is(where: str) -> None:
    async def slow_async(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "late"

    def slow_sync(seconds: float) -> str:
        import time

        time.sleep(seconds)
        return "late"

    fn = slow_sync if where == "sync tool" else slow_async
    box = Toolbox.of([fn], {})
    model = Script(calls_step(("s", fn.__name__, {"seconds": 1.5}), text="Let me wait. "), text_step("never"))
    out = Recorder(decide=lambda run: asyncio.sleep(30, True), stop_when=("running", "approve"))
    began = asyncio.get_running_loop().time()
    result = await agent.run(question(box), model, out, box, approve=where == "approval")
    assert asyncio.get_running_loop().time() - began < 1.0
    assert result.finish_reason == "cancelled" and not result.interrupted and len(model.requests) == 1
    assert result.text == "Let me wait. ", "what came before is kept"
    assert result.tool_calls[0].status == "cancelled"
    assert result.exchange[-1].content == agent.NOT_RUN, "the stopped call is answered in the conversation"
    assert out.result is result


async def test_an_interrupt_during_a_tool_cancels_the_loop_and_says_interrupted() -> None:
    async def slow(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "late"

    box = Toolbox.of([slow], {})
    model = Script(calls_step(("s", "slow", {"seconds": 5})), text_step("never"))
    task = asyncio.ensure_future(agent.run(question(box), model, Recorder(), box))
    await asyncio.sleep(0.2)
    task.cancel()  # what a kernel interrupt does to the cell's task
    result = await task
    assert result.interrupted and result.finish_reason == "cancelled"
    assert result.tool_calls[0].status == "cancelled"


async def test_calls_without_tools_are_answered_not_run() -> None:
    model = Script(calls_step(("c", "weather", {"city": "Oslo"})))
    result = await agent.run(Request("scripted", (Message("user", "hi"),)), model, Recorder(), None)
    assert len(model.requests) == 1 and result.finish_reason == "tool_calls"
    assert result.tool_calls[0].status == "cancelled"


async def test_the_demo_model_calls_the_first_tool_with_a_word_from_the_prompt_then_answers() -> None:
    seen: list[str] = []

    def get_weather(city: str, unit: str = "C") -> str:
        """The current weather in a city."""
        seen.append(city)
        return f"18 °{unit} in {city}"

    box = Toolbox.of([get_weather, weather], {})
    request = Request(
        "demo", (Message("user", "Is it warmer in Paris or in Oslo right now?"),), tools=box.tools, options={"delay": 0}
    )
    out = Recorder()
    result = await agent.run(request, open_stream, out, box)
    assert seen == ["Paris"], "the first tool, a string parameter gets a name from the prompt"
    assert "18 °C in Paris" in result.text and result.finish_reason == "stop" and result.steps == 2
    assert any(b.status == "streaming" for b in out.blocks), "the demo streams its call's arguments in pieces"
    html = render.bundle(result)[0]["text/html"]
    assert (
        html.index("Let me ask")
        < html.index("get_weather(city=&quot;Paris&quot;)")
        < html.index("what the tools told me")
    )
