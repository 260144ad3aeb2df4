"""Several models on one ``%%llm`` line, in a real kernel: they stream at once into columns,
one failing does not stop the others, and the kept answer joins the conversation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from kernel_providers import one_line_error, set_env, value
from kernel_session import Execution, Kernel, Msg
from providers.dialects import load
from wire_server import Part, WireServer, serving

OPENAI, OLLAMA = load("openai"), load("ollama")
PAUSE = 0.15  # seconds between the wire servers' chunks: long enough to see both streams overlap


@pytest.fixture
def servers(kernel: Kernel) -> Iterator[tuple[WireServer, WireServer]]:
    """OpenAI and Ollama each at their own wire server; Anthropic has no key."""
    a, b = serving(), serving()
    wa, wb = next(a), next(b)
    set_env(kernel, {**OPENAI.key_env, **OPENAI.base_url_env(wa.url), **OLLAMA.base_url_env(wb.url)})
    yield wa, wb
    for gen in (a, b):
        gen.close()


def _paced(reply_parts: Sequence[Part]) -> list[Part]:
    out: list[Part] = []
    for part in reply_parts:
        out += [part, PAUSE]
    return out


def _views(run: Execution) -> list[str]:
    """The live views' comm ids, in the order the columns were made."""
    return [m["content"]["comm_id"] for m in run.of("comm_open") if _model(m) == "AnyModel"]


def _model(m: Msg) -> str:
    name: str = m["content"]["data"].get("state", {}).get("_model_name", "")
    return name


def _grid_display(run: Execution) -> str:
    display_id: str = run.of("display_data")[0]["content"]["transient"]["display_id"]
    return display_id


def _delta_order(run: Execution) -> list[str]:
    return [
        m["content"]["comm_id"]
        for m in run.of("comm_msg")
        if m["content"]["data"].get("method") == "custom" and m["content"]["data"]["content"].get("kind") == "delta"
    ]


def test_three_models_one_failing_stream_at_once_into_columns(kernel: Kernel, servers: tuple[WireServer, ...]) -> None:
    wa, wb = servers
    reply_a = OPENAI.answer(["Bias ", "is ", "error ", "from ", "assumptions."], usage=(20, 5))
    reply_b = OLLAMA.answer(["Variance ", "is ", "error ", "from ", "sensitivity."], usage=(20, 5))
    reply_a.parts, reply_b.parts = _paced(reply_a.parts), _paced(reply_b.parts)
    wa.queue(reply_a)
    wb.queue(reply_b)
    kernel.run("%llm reset")
    line = f"%%llm openai:{OPENAI.model} anthropic:claude-haiku-4 ollama:{OLLAMA.model}"
    run = kernel.run(f"{line}\nExplain the bias–variance trade-off.", cell_id="sbs-1")
    assert run.ok, run.error

    views = _views(run)
    assert len(views) == 3, "one live view per column"
    order = _delta_order(run)
    assert views[0] in order[order.index(views[2]) :], "the third column streamed before the first had ended"

    final = run.final
    grid = _grid_display(run)
    assert final["transient"]["display_id"] == grid, "the columns become static in the same output"
    html = final["data"]["text/html"]
    assert html.count('class="llmring-column"') == 3 and "grid-template-columns" in html
    assert "Bias is error from assumptions." in html and "Variance is error from sensitivity." in html
    assert html.count("✓ kept in the conversation") == 1
    plain = final["data"]["text/plain"]
    assert plain.index("[1] openai:") < plain.index("[2] anthropic:") < plain.index("[3] ollama:")
    assert "[1] openai:" in plain.split("(kept)")[0], "the first model's answer is the kept one"
    assert "ANTHROPIC_API_KEY" in plain, "the failing column says what to do"
    assert "openai:" in plain and "· stop · 20 in · 5 out" in plain, "each column has its footer"
    record = final["metadata"]["llmring"]
    assert record["kept"] == 0 and [a["finish_reason"] for a in record["answers"]] == ["stop", "error", "stop"]
    opened, closed = run.widget_comms
    assert opened <= closed, "every live view is closed once the columns are static"

    assert value(kernel, "[r.requested for r in _llm]") == [
        f"openai:{OPENAI.model}",
        "anthropic:claude-haiku-4",
        f"ollama:{OLLAMA.model}",
    ]
    asked = kernel.run("%%llm demo:echo\nAnd in one sentence?", cell_id="next-1")
    assert asked.ok
    assert value(kernel, "[m.content for m in _llm.messages][:2]") == [
        "Explain the bias–variance trade-off.",
        "Bias is error from assumptions.",
    ], "the first model's answer joined the conversation"

    too_far = kernel.run("%llm keep 4")
    assert not too_far.ok and "has 3 answers: keep 1 to 3" in too_far.error
    kept = kernel.run("%llm keep 3")
    assert kept.stdout.startswith(f"Kept answer 3 (ollama:{OLLAMA.model})"), kept.error
    redone = [m["content"] for m in kept.of("update_display_data") if m["content"]["transient"]["display_id"] == grid]
    assert redone, "the saved output shows the new choice"
    columns = redone[-1]["data"]["text/html"].split('class="llmring-column"')
    assert "✓ kept" in columns[3] and "✓ kept" not in columns[1] + columns[2]
    assert redone[-1]["metadata"]["llmring"]["kept"] == 2
    asked = kernel.run("%%llm demo:echo\nAnd in one sentence?", cell_id="next-1")
    assert value(kernel, "_llm.messages[1].content") == "Variance is error from sensitivity."


def test_the_cell_fails_only_if_every_model_fails(kernel: Kernel) -> None:
    set_env(kernel, {})
    run = kernel.run("%%llm openai:gpt-4o-mini demo:nosuch\nHello")
    assert not run.ok
    assert run.error.startswith("LLMError: All 2 answers failed (openai:gpt-4o-mini: ")
    assert value(kernel, "[r.finish_reason for r in _llm]") == ["error", "error"]


def test_stop_in_one_column_stops_only_that_model(slow: Kernel) -> None:
    seen: dict[str, list[str]] = {"views": []}

    def during(msg: Msg, k: Kernel) -> None:
        if msg["msg_type"] == "comm_open" and _model(msg) == "AnyModel":
            seen["views"].append(msg["content"]["comm_id"])
        if msg["msg_type"] == "comm_msg" and len(seen["views"]) == 2 and "stopped" not in seen:
            content = msg["content"]["data"].get("content", {})
            if msg["content"]["comm_id"] == seen["views"][0] and content.get("at", 0) > 40:
                seen["stopped"] = []
                k.send_custom(seen["views"][0], {"kind": "stop"})

    run = slow.run("%%llm demo demo:chat --no-history\nTwo at a human pace", during=during)
    assert run.ok, run.error
    assert value(slow, "[r.finish_reason for r in _llm]") == ["cancelled", "stop"]
    plain = run.final["data"]["text/plain"]
    assert "■ stopped" in plain.split("[2] demo:chat")[0] and "■ stopped" not in plain.split("[2] demo:chat")[1]


def test_keep_button_picks_the_answer_that_joins_the_conversation(kernel: Kernel) -> None:
    kernel.run("%llm reset")
    run = kernel.run("%%llm demo demo:echo\nPick me", cell_id="sbs-keep")
    buttons = [m["content"]["comm_id"] for m in run.of("comm_open") if _model(m) == "ButtonModel"]
    assert len(buttons) == 2
    click = kernel.send_custom(buttons[1], {"event": "click"})
    marked = kernel.later(click, lambda r: any("llmring-side-by-side" in str(m) for m in r.of("update_display_data")))
    grid = [m for m in marked.of("update_display_data") if "llmring-side-by-side" in str(m["content"]["data"])]
    assert grid[-1]["content"]["data"]["text/plain"].split("\n")[0] == "[1] demo"
    assert "[2] demo:echo (kept)" in grid[-1]["content"]["data"]["text/plain"], "the saved output shows the choice"
    asked = kernel.run("%%llm demo:echo\nNext", cell_id="after-keep")
    assert asked.ok and value(kernel, "_llm.messages[1].content") == "Pick me", "the echo answer was kept"


def test_gathered_chats_stream_into_separate_views(slow: Kernel) -> None:
    run = slow.run(
        "import asyncio\nfrom llmring_jupyter import chat\n"
        "a, b = await asyncio.gather(chat('First', 'demo', history=False), chat('Second', 'demo', history=False))\n"
        "print('First' in a.text, 'Second' in b.text)"
    )
    assert run.stdout == "True True\n", run.error
    views = _views(run)
    order = _delta_order(run)
    assert len(views) == 2 and views[0] in order[order.index(views[1]) :], "both streamed at once"
    texts = {
        v: "".join(
            m["content"]["data"]["content"]["text"]
            for m in run.of("comm_msg")
            if m["content"]["comm_id"] == v and m["content"]["data"].get("method") == "custom"
        )
        for v in views
    }
    assert "First" in texts[views[0]] and "Second" in texts[views[1]]
    finals = {a["transient"]["display_id"] for a in run.answers}
    assert len(finals) == 2, "each view is replaced by its own static answer"


def test_only_the_latest_side_by_side_cells_keep_their_buttons(kernel: Kernel) -> None:
    from llmring_jupyter.view.columns import KEEP_CELLS

    kernel.run("%llm reset")
    runs = [kernel.run(f"%%llm demo:echo demo:echo\nCell {i}", cell_id=f"pile-{i}") for i in range(KEEP_CELLS + 2)]
    assert all(r.ok for r in runs)
    buttons = [m["content"]["comm_id"] for m in runs[0].of("comm_open") if _model(m) == "ButtonModel"]
    bar = [
        m["content"]["transient"]["display_id"]
        for m in runs[0].of("display_data")
        if "application/vnd.jupyter.widget-view+json" in m["content"]["data"]
        and m["content"]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] not in _views(runs[0])
    ][-1]
    later = [m for r in runs[1:] for m in r.messages]
    closed = {m["content"]["comm_id"] for m in later if m["msg_type"] == "comm_close"}
    assert len(buttons) == 2 and set(buttons) <= closed, "the oldest cell's Keep buttons are closed"
    emptied = [m["content"] for m in later if m["msg_type"] == "update_display_data"]
    assert {"text/plain": ""} in [c["data"] for c in emptied if c["transient"]["display_id"] == bar], (
        "they are gone from its output, not left doing nothing"
    )
    held = "len(get_ipython().magics_manager.registry['LLMMagics'].comparisons)"
    assert value(kernel, held) == KEEP_CELLS, "the kernel holds only the side-by-side cells a Keep can act on"
    kept = kernel.run("%llm keep 2")
    assert kept.ok and kept.stdout.startswith("Kept answer 2 (demo:echo)"), kept.error


def test_a_budget_refusing_one_column_keeps_the_other_answers(kernel: Kernel) -> None:
    kernel.run("%llm reset")
    assert kernel.run("%config LLMMagics.budget_usd = 1e-9").ok  # any priced model passes it; demo costs nothing
    try:
        run = kernel.run("%%llm demo openai:gpt-4o-mini\nWhat is a budget?", cell_id="sbs-budget")
    finally:
        assert kernel.run("%config LLMMagics.budget_usd = 0").ok
    assert run.ok, "one answer stands: the cell does not fail"
    plain = run.final["data"]["text/plain"]
    demo, refused = plain.split("[2] openai:gpt-4o-mini")
    assert "What is a budget?" in demo and "demo:chat · stop" in demo, "the answer that streamed is kept"
    assert "✗ Budget reached: " in refused and "nothing was sent" in refused and "LLMMagics.budget_usd" in refused
    assert value(kernel, "[r.finish_reason for r in _llm]") == ["stop", "error"]
    asked = kernel.run("%%llm demo:echo\nAnd then?", cell_id="after-budget")
    assert asked.ok and value(kernel, "_llm.messages[0].content") == "What is a budget?", "the kept answer joined"


def test_side_by_side_columns_share_one_token_budget(tmp_path: Path) -> None:
    fresh = Kernel(cwd=tmp_path, env={"LLMRING_DEMO_DELAY": "0.01"})  # nothing spent yet
    try:
        assert fresh.run("%load_ext llmring_jupyter").ok
        assert fresh.run("%config LLMMagics.budget_tokens = 300").ok
        run = fresh.run("%%llm demo demo:chat --no-history -o tokens=200\nTwo long answers")
        assert run.ok, "each column alone (about 210 tokens) fits the budget"
        spent = value(fresh, "sum(r.usage.total_tokens for r in _llm)")
        assert spent <= 300 + 2 * 4, f"together they spent {spent} tokens of a 300-token budget"
        assert "■ stopped · Token budget reached" in run.final["data"]["text/plain"]
    finally:
        fresh.close()


#: Ends the second column's task before it runs, as an interrupt can: it never gets to its answer.
_CANCEL_SECOND_COLUMN = """
import asyncio
_columns_made = []
def _cancel_second_column(loop, coro, **kw):
    task = asyncio.Task(coro, loop=loop, **kw)
    if getattr(coro, "__qualname__", "") == "_column":
        _columns_made.append(task)
        if len(_columns_made) == 2:
            task.cancel()
    return task
asyncio.get_event_loop().set_task_factory(_cancel_second_column)
"""


def test_a_column_cancelled_before_it_began_says_interrupted_and_the_others_stay(kernel: Kernel) -> None:
    kernel.run("%llm reset")
    assert kernel.run(_CANCEL_SECOND_COLUMN).ok
    try:
        run = kernel.run("%%llm demo:echo demo:chat\nWhat stays?", cell_id="sbs-cancelled")
    finally:
        assert kernel.run("asyncio.get_event_loop().set_task_factory(None)").ok
    assert value(kernel, "len(_columns_made)") == 2, "both columns were made"
    error = one_line_error(run)  # fails, so Run All stops; one line, no traceback
    assert error.startswith("Interrupted: The kernel was interrupted before demo:chat answered"), error
    assert "CancelledError" not in error
    plain = run.final["data"]["text/plain"]
    echoed, cancelled = plain.split("[2] demo:chat")
    assert "What stays?" in echoed and "demo:echo · stop" in echoed, "the answer that streamed is kept"
    assert "interrupted" in cancelled
    assert value(kernel, "[r.finish_reason for r in _llm]") == ["stop", "cancelled"]
