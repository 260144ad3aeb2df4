"""Tools in a real kernel: the call streams into the view, the function runs, the answer follows.

The demo model calls the first tool with a word from the prompt, so everything here runs
offline; the comm messages are the ones the browser receives and sends.
"""

from __future__ import annotations

import ast
import json
import time
from typing import Any

import pytest
from kernel_providers import set_env
from kernel_session import Execution, Kernel, Msg
from providers.dialects import NAMES, load
from wire_server import WireServer

WEATHER = '''
calls = []
def get_weather(city: str, unit: str = "C") -> str:
    """The current weather in a city."""
    calls.append(city)
    return f"<img src=x onerror=alert(1)> 18 °{unit} in {city}"
'''

PROMPT = "Is it warmer in Paris or in Oslo right now?"


@pytest.fixture(autouse=True)
def tools(kernel: Kernel) -> None:
    assert kernel.run(WEATHER + "%llm reset\n%config LLMMagics.tools = []\n%config LLMMagics.approve_tools = False").ok


def value(kernel: Kernel, expr: str) -> Any:
    run = kernel.run(f"print(repr(({expr})))")
    assert run.ok, run.error
    return ast.literal_eval(run.stdout)


def blocks(run: Execution) -> list[dict[str, Any]]:
    return [d for d in run.deltas if d.get("kind") == "tool"]


def test_the_call_streams_runs_with_parsed_arguments_and_shows_in_the_saved_answer(kernel: Kernel) -> None:
    run = kernel.run(f"%%llm demo --tools get_weather\n{PROMPT}")
    assert run.ok, run.error
    states = [b["state"] for b in blocks(run)]
    assert states[0] == "streaming" and states[-2:] == ["running", "done"], states
    assert blocks(run)[-1]["result"].endswith("18 °C in Paris")
    assert value(kernel, "calls") == ["Paris"]
    assert value(kernel, "_llm.tool_calls[0].arguments") == {"city": "Paris", "unit": "C"}
    html = run.final["data"]["text/html"]
    assert "get_weather(city=&quot;Paris&quot;)" in html
    assert "&lt;img src=x onerror=alert(1)&gt; 18 °C in Paris" in html and "<img" not in html
    assert html.index("Let me ask") < html.index("get_weather(") < html.index("what the tools told me")
    assert "2 steps · 1 tool call" in run.final["data"]["text/plain"]
    meta = run.final["metadata"]["llmring"]
    assert meta["steps"] == 2 and meta["tool_calls"][0]["name"] == "get_weather"


def test_the_next_cell_carries_the_whole_exchange_and_a_rerun_replaces_it(kernel: Kernel) -> None:
    assert kernel.run(f"%%llm demo --tools get_weather\n{PROMPT}", cell_id="ask").ok
    assert kernel.run(f"%%llm demo --tools get_weather\n{PROMPT}", cell_id="ask").ok, "re-run"
    assert kernel.run("%%llm demo\nAnd tomorrow?", cell_id="next").ok
    roles = value(kernel, "[(m.role, bool(m.tool_calls), m.tool_call_id) for m in _llm.messages]")
    assert roles == [
        ("user", False, None),
        ("assistant", True, None),
        ("tool", False, "demo_call_1"),
        ("assistant", False, None),
        ("user", False, None),
    ], "the re-run's exchange replaced the first one; the calls and results come before the new prompt"


def test_export_and_load_keep_the_exchange(kernel: Kernel) -> None:
    assert kernel.run(f"%%llm demo --tools get_weather\n{PROMPT}").ok
    assert kernel.run("%llm export chat.json\n%llm load chat.json copy").ok
    assert kernel.run("%%llm demo --chat copy\nAnd tomorrow?").ok
    assert value(kernel, "[m.role for m in _llm.messages]") == ["user", "assistant", "tool", "assistant", "user"]
    assert value(kernel, "_llm.messages[2].content").endswith("18 °C in Paris")


def block(msg: Msg, state: str) -> dict[str, Any] | None:
    """The tool block ``msg`` sends to the view, if it is one in ``state``."""
    data = msg["content"].get("data", {}) if msg["msg_type"] == "comm_msg" else {}
    content = data.get("content", {}) if data.get("method") == "custom" else {}
    return content if content.get("kind") == "tool" and content["state"] == state else None


def _answering(decision: bool) -> Any:
    def during(msg: Msg, k: Kernel) -> None:
        if asking := block(msg, "approve"):
            k.send_custom(msg["content"]["comm_id"], {"kind": "approve", "id": asking["id"], "run": decision})

    return during


@pytest.mark.parametrize("how", ["--approve", "%config LLMMagics.approve_tools = True"])
def test_approval_run_and_skip(kernel: Kernel, how: str) -> None:
    line = "--approve" if how.startswith("--") else ""
    if not line:
        assert kernel.run(how).ok
    run = kernel.run(f"%%llm demo --tools get_weather {line}\n{PROMPT}", during=_answering(True))
    assert run.ok, run.error
    assert "approve" in [b["state"] for b in blocks(run)] and value(kernel, "calls") == ["Paris"]
    run = kernel.run(f"%%llm demo --tools get_weather {line}\n{PROMPT}", during=_answering(False))
    assert run.ok and value(kernel, "calls") == ["Paris"], "Skip never calls the function"
    assert value(kernel, "_llm.tool_calls[0].status") == "skipped"
    assert value(kernel, "_llm.exchange[1].content") == "The user declined to run this tool call."


def test_stop_during_approval_ends_the_answer_and_keeps_it(kernel: Kernel) -> None:
    def during(msg: Msg, k: Kernel) -> None:
        if block(msg, "approve"):
            k.send_custom(msg["content"]["comm_id"], {"kind": "stop"})

    run = kernel.run(f"%%llm demo --tools get_weather --approve\n{PROMPT}", during=during, timeout=20)
    assert run.ok, "Stop ends the answer normally"
    assert value(kernel, "(_llm.finish_reason, _llm.tool_calls[0].status, _llm.text)") == (
        "cancelled",
        "cancelled",
        "Let me ask `get_weather`.",
    )
    assert value(kernel, "calls") == []


def test_interrupt_inside_a_long_tool_ends_the_cell_at_once(kernel: Kernel) -> None:
    assert kernel.run("import time\ndef slow(what: str) -> str:\n    time.sleep(8)\n    return 'late'").ok
    asked: dict[str, float] = {}

    def during(msg: Msg, k: Kernel) -> None:
        if block(msg, "running") and not asked:
            asked["at"] = time.monotonic()
            k.interrupt()

    run = kernel.run("%%llm demo --tools slow\nWait please", during=during, timeout=30)
    took = time.monotonic() - asked["at"]
    assert not run.ok and "Interrupted" in run.error
    assert took < 2, f"the interrupt took {took:.1f} s: it waited for the tool (8 s)"
    assert value(kernel, "_llm.tool_calls[0].status") == "cancelled"


def test_a_name_that_is_not_a_function_fails_before_anything_is_sent(kernel: Kernel) -> None:
    run = kernel.run(f"%%llm demo --tools get_wether\n{PROMPT}")
    assert not run.ok and "There is no function get_wether in the notebook" in run.error
    assert not run.of("display_data"), "nothing was shown or sent"
    run = kernel.run("def untyped(x):\n    return x\n%config LLMMagics.tools = ['untyped']")
    assert run.ok
    run = kernel.run(f"%%llm demo\n{PROMPT}")
    assert not run.ok and "parameter 'x' has no type hint" in run.error, "the default tools are used"


def test_the_step_limit_fails_the_cell_with_a_clear_line(kernel: Kernel) -> None:
    run = kernel.run(f"%%llm demo --tools get_weather --max-steps 1\n{PROMPT}")
    assert not run.ok and "(--max-steps 1) while the model still wanted to call get_weather" in run.error
    assert value(kernel, "calls") == [], "the last step's calls are not run"


@pytest.mark.parametrize("provider", NAMES)
def test_approve_asks_about_every_call_of_a_step(kernel: Kernel, wire: WireServer, provider: str) -> None:
    d = load(provider)
    set_env(kernel, {**d.key_env, **d.base_url_env(wire.url)})
    calls = [("call_a", "get_weather", ['{"city": "Paris"}']), ("call_b", "get_weather", ['{"city": "Oslo"}'])]
    wire.queue(d.tool_calls(calls), d.answer(["Paris is warmer."]))
    asked: list[str] = []

    def during(msg: Msg, k: Kernel) -> None:
        if asking := block(msg, "approve"):
            asked.append(json.loads(asking["arguments"])["city"])
            k.send_custom(msg["content"]["comm_id"], {"kind": "approve", "id": asking["id"], "run": len(asked) > 1})

    cell = f"%%llm {d.provider}:{d.model} --tools get_weather --approve --no-history\n{PROMPT}"
    run = kernel.run(cell, during=during)
    assert run.ok, run.error
    assert asked == ["Paris", "Oslo"], "each call is asked about, in order"
    assert value(kernel, "calls") == ["Oslo"], "the first is skipped, the second run"
    assert value(kernel, "[r.status for r in _llm.tool_calls]") == ["skipped", "done"]
