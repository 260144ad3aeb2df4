"""Thinking in a real kernel: it streams into the live view's section, collapses when the
answer's text begins, is saved collapsed, kept in _llm, and sent back in a tool loop and
the next cell. The demo model thinks offline; the comm messages are the browser's."""

from __future__ import annotations

import ast
from typing import Any

from kernel_session import Execution, Kernel, Msg

WEATHER = '''
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"18 °C in {city}"
'''


def value(kernel: Kernel, expr: str) -> Any:
    run = kernel.run(f"print(repr(({expr})))")
    assert run.ok, run.error
    return ast.literal_eval(run.stdout)


def of(run: Execution, *kinds: str) -> list[dict[str, Any]]:
    return [d for d in run.deltas if d.get("kind") in kinds]


def test_thinking_streams_into_its_section_then_collapses_and_is_saved_collapsed(kernel: Kernel) -> None:
    assert kernel.run("%llm reset").ok
    run = kernel.run("%%llm demo --think medium\nWhy is the sky blue?")
    assert run.ok, run.error
    messages = of(run, "thought", "think", "delta")
    kinds = [m["kind"] for m in messages]
    assert kinds[0] == "thought" and not messages[0]["done"], "the section opens before its text"
    assert kinds.index("think") < kinds.index("delta"), "the thinking streams before the answer"
    closed = next(i for i, m in enumerate(messages) if m["kind"] == "thought" and m["done"])
    assert closed < kinds.index("delta"), "the section collapses when the answer's text begins"
    thinking = "".join(m["text"] for m in messages if m["kind"] == "think")
    reasoning, tokens = value(kernel, "(_llm.reasoning, _llm.usage.reasoning_tokens)")
    assert thinking == reasoning and reasoning.startswith("The question is “Why is the sky blue?”.")
    assert f"{tokens} reasoning tokens" in of(run, "thought")[-1]["label"]
    html = run.final["data"]["text/html"]
    assert '<details class="llmring-think"' in html and "<details open" not in html
    assert html.index("llmring-think") < html.index("Demo answer")
    assert f"{tokens} reasoning · " in run.final["data"]["text/plain"], "the footer counts them apart"


def test_think_off_and_show_thinking_false(kernel: Kernel) -> None:
    run = kernel.run("%%llm demo:thinker --think off\nHi")
    assert run.ok and of(run, "thought", "think") == [] and value(kernel, "_llm.reasoning") == ""
    assert kernel.run("%config LLMMagics.think = 'off'").ok
    assert kernel.run("%%llm demo:thinker\nHi").ok and value(kernel, "_llm.reasoning") == ""
    assert kernel.run("%config LLMMagics.think = None\n%config LLMMagics.show_thinking = False").ok
    try:
        run = kernel.run("%%llm demo:thinker\nHi")
        assert run.ok and of(run, "thought", "think") == [], "no thinking reaches the view"
        assert "llmring-think" not in run.final["data"]["text/html"], "nor the saved notebook"
        assert value(kernel, "bool(_llm.reasoning) and _llm.usage.reasoning_tokens > 0"), "kept and counted"
    finally:
        assert kernel.run("%config LLMMagics.show_thinking = True").ok
    run = kernel.run("%%llm demo --think hard\nHi")
    assert not run.ok and "--think (think=) must be one of off, low, medium, high, max" in run.error


def test_a_tool_loop_and_the_next_cell_send_the_thinking_back(kernel: Kernel, tmp_path: Any) -> None:
    assert kernel.run(WEATHER + "%llm reset").ok
    ask = "%%llm demo:thinker --tools get_weather\nIs it warm in Paris?"
    assert kernel.run(ask, cell_id="ask").ok
    run = kernel.run(ask, cell_id="ask")  # a re-run replaces the turn, its thinking with it
    assert run.ok
    sections = [m["id"] for m in of(run, "thought")]
    assert list(dict.fromkeys(sections)) == ["t0", "t1"], "each step thinks in its own section"
    assert "My thinking before the call came back intact" in value(kernel, "_llm.thoughts[1].text")
    sent = value(kernel, "[(b.text, b.signature) for b in _llm.exchange[0].reasoning]")
    assert kernel.run("%%llm demo:thinker\nAnd tomorrow?", cell_id="next").ok
    assert value(kernel, "[m.role for m in _llm.messages]") == ["user", "assistant", "tool", "assistant", "user"]
    assert value(kernel, "[(b.text, b.signature) for b in _llm.messages[1].reasoning]") == sent
    assert kernel.run(f"%llm export {tmp_path / 'chat.json'}\n%llm load {tmp_path / 'chat.json'} copy").ok
    assert kernel.run("%%llm demo --chat copy\nAnd after?").ok
    assert value(kernel, "[(b.text, b.signature) for b in _llm.messages[1].reasoning]") == sent


def test_stop_while_thinking_ends_at_once_and_keeps_the_thinking_so_far(slow: Kernel) -> None:
    def during(msg: Msg, k: Kernel) -> None:
        data = msg["content"].get("data", {}) if msg["msg_type"] == "comm_msg" else {}
        if data.get("method") == "custom" and data["content"].get("kind") == "think":
            k.send_custom(msg["content"]["comm_id"], {"kind": "stop"})

    run = slow.run("%%llm demo --think max\nThink hard", during=during, timeout=20)
    assert run.ok, "Stop ends the answer normally"
    finish, text, reasoning = value(slow, "(_llm.finish_reason, _llm.text, _llm.reasoning)")
    assert finish == "cancelled" and text == "" and reasoning.startswith("The")
    assert len(reasoning) < 200, "it stopped while thinking, not after"
    assert "llmring-think" in run.final["data"]["text/html"], "the thinking so far is shown"
