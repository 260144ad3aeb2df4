"""``%%llm`` in a real kernel: what reaches the frontend while and after it streams."""

from __future__ import annotations

import ast
import hashlib
import re
import time
from pathlib import Path
from typing import Any

from kernel_session import Kernel

import llmring_jupyter

HAIKU = "%%llm demo\nWrite a haiku about streaming"


def _llm(kernel: Kernel, expr: str) -> Any:
    """The value of a Python literal expression evaluated in the kernel."""
    run = kernel.run(f"print(repr(({expr})))")
    assert run.ok, run.error
    return ast.literal_eval(run.stdout)


def test_load_ext_imports_no_provider_sdk(kernel: Kernel) -> None:
    run = kernel.run(
        "import sys\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'openai', 'anthropic', 'ollama'}),"
        " 'google.genai' in sys.modules)"
    )
    assert run.stdout.strip() == "[] False"


def test_load_ext_stays_instant_and_opens_the_view_anchor_after_the_cell(tmp_path: Path) -> None:
    """%load_ext imports no widget library; the anchor (and its import) comes at the end of the cell."""
    k = Kernel(cwd=tmp_path)
    try:
        run = k.run("import sys\n%load_ext llmring_jupyter\nprint('anywidget' in sys.modules)")
        assert run.ok and run.stdout.strip() == "False"
        anchors = [m for m in run.of("comm_open") if "view_id" in m["content"]["data"]["state"]]
        assert len(anchors) == 1 and "status" not in anchors[0]["content"]["data"]["state"]
        assert k.run("%load_ext llmring_jupyter").of("comm_open") == []  # one anchor per kernel
    finally:
        k.close()


def test_deltas_concatenate_to_the_answer_and_the_view_becomes_static(kernel: Kernel) -> None:
    run = kernel.run(HAIKU)
    assert run.ok, run.error
    text = _llm(kernel, "_llm.text")
    deltas = run.deltas
    assert deltas[0]["at"] == 0
    position = 0
    for d in deltas:  # contiguous: each delta starts where the last ended
        assert d["kind"] == "delta" and d["at"] == position
        position += len(d["text"])
    assert "".join(d["text"] for d in deltas) == text
    assert "Write a haiku about streaming" in text

    final = run.final
    assert final["data"]["text/plain"].startswith(text)
    assert "demo:chat" in final["data"]["text/html"] and "tokens" in final["data"]["text/html"]
    assert "<h2>Demo answer</h2>" in final["data"]["text/html"]  # rendered markdown, not raw text
    record = final["metadata"]["llmring"]
    assert record["requested"] == "demo" and record["model"] == "demo:chat"
    assert record["finish_reason"] == "stop"
    assert record["usage"]["completion_tokens"] > 50
    assert record["timings"]["first_token_s"] is not None
    opened, closed = run.widget_comms
    assert opened and opened <= closed, "the live widget must be closed once the answer is static"
    every, closed = run.answer_comms
    assert every <= closed, "no comm may outlive its answer (the view's layout child included)"
    left = "sorted(type(w).__name__ for w in __import__('ipywidgets').Widget.widgets.values())"
    assert _llm(kernel, left) == ["Layout", "ViewAnchor"], "only the kernel's anchor (and its layout) stay open"


def test_one_comm_per_kernel_stays_open_so_answers_do_not_churn_subshells(kernel: Kernel) -> None:
    """JupyterLab deletes a comm target's subshell when its last comm closes; one comm that
    stays open keeps it, whatever the number of answers."""
    assert kernel.run(HAIKU).ok  # opens the anchor, if no answer has run in this kernel yet
    widgets = "list(__import__('ipywidgets').Widget.widgets)"
    anchor = _llm(kernel, widgets)
    assert len(anchor) == 2  # the anchor and its layout
    for _ in range(2):
        run = kernel.run(HAIKU)
        assert run.ok, run.error
        opened, closed = run.answer_comms
        assert opened and opened <= closed and not set(anchor) & closed
        assert len(run.of("comm_open")) == len(opened), "the anchor opens once per kernel"
    assert _llm(kernel, widgets) == anchor


def test_footer_reports_model_finish_tokens_and_timing(kernel: Kernel) -> None:
    run = kernel.run("%%llm demo --max-tokens 5\nCount to ten")
    assert run.ok, run.error
    footer = run.final["data"]["text/plain"].rsplit("— ", 1)[1]
    assert footer.startswith("demo:chat · length · ")
    assert " out · " in footer and "first token" in footer and "truncated" in footer
    assert _llm(kernel, "_llm.finish_reason, _llm.usage.completion_tokens") == ("length", 5)


def test_options_reach_the_provider(kernel: Kernel) -> None:
    run = kernel.run("%%llm demo:echo --no-history --system 'Be terse' --temperature 0.3\nRepeat {this} exactly")
    assert run.ok, run.error
    assert _llm(kernel, "_llm.text") == "Repeat {this} exactly"
    assert _llm(kernel, "[(m.role, m.content) for m in _llm.messages]") == [
        ("system", "Be terse"),
        ("user", "Repeat {this} exactly"),
    ]
    assert run.final["metadata"]["llmring"]["parameters"] == {"temperature": 0.3}


def test_stop_button_keeps_the_partial_answer(slow: Kernel) -> None:
    clicked: list[float] = []

    def click_after_some_text(msg: dict[str, Any], k: Kernel) -> None:
        data = msg["content"].get("data", {}) if msg["msg_type"] == "comm_msg" else {}
        if not clicked and data.get("method") == "custom" and data["content"]["at"] > 20:
            clicked.append(time.monotonic())
            k.send_custom(msg["content"]["comm_id"], {"kind": "stop"})

    run = slow.run(HAIKU, during=click_after_some_text)
    ended = time.monotonic()
    assert clicked and run.ok, run.error
    assert ended - clicked[0] < 1.0
    assert _llm(slow, "_llm.finish_reason") == "cancelled"
    assert 20 < _llm(slow, "len(_llm.text)") < 400
    assert "stopped" in run.final["data"]["text/plain"].rsplit("— ", 1)[1]
    assert slow.run("print(1 + 1)").stdout == "2\n"


def test_kernel_interrupt_keeps_the_partial_answer_and_fails_the_cell(slow: Kernel) -> None:
    interrupted: list[float] = []

    def interrupt_after_some_text(msg: dict[str, Any], k: Kernel) -> None:
        data = msg["content"].get("data", {}) if msg["msg_type"] == "comm_msg" else {}
        if not interrupted and data.get("method") == "custom" and data["content"]["at"] > 20:
            interrupted.append(time.monotonic())
            k.interrupt()

    run = slow.run(HAIKU, during=interrupt_after_some_text)
    assert interrupted and time.monotonic() - interrupted[0] < 1.0
    assert not run.ok and run.reply["content"]["ename"] == "Interrupted"
    assert "kept in _llm" in run.error and "Traceback" not in run.error
    assert "interrupted" in run.final["data"]["text/plain"].rsplit("— ", 1)[1]
    assert _llm(slow, "_llm.finish_reason, _llm.interrupted") == ("cancelled", True)
    assert slow.run("print(1 + 1)").stdout == "2\n"


def test_a_late_view_catches_up_to_the_exact_text(slow: Kernel) -> None:
    """Deltas sent before the browser rendered the view are lost; "ready" recovers them."""
    asked: list[int] = []

    def ready_late(msg: dict[str, Any], k: Kernel) -> None:
        data = msg["content"].get("data", {}) if msg["msg_type"] == "comm_msg" else {}
        if not asked and data.get("method") == "custom" and data["content"]["at"] > 30:
            asked.append(data["content"]["at"])
            k.send_custom(msg["content"]["comm_id"], {"kind": "ready", "length": 0})

    run = slow.run(HAIKU, during=ready_late)
    assert run.ok, run.error
    text = _llm(slow, "_llm.text")
    resent = [d for d in run.deltas if d["kind"] == "delta" and d["at"] == 0 and len(d["text"]) > asked[0]]
    assert resent and text.startswith(resent[0]["text"])


def test_the_view_module_travels_once_on_request_not_with_every_answer(slow: Kernel) -> None:
    """Each widget opens with a small loader; the ~240 KB module comes only when a page asks,
    while the answer streams."""
    module = (Path(llmring_jupyter.__file__).parent / "static" / "view.js").read_text()

    def ask_for_module(msg: dict[str, Any], k: Kernel) -> None:
        state = msg["content"].get("data", {}).get("state", {}) if msg["msg_type"] == "comm_open" else {}
        if state.get("_model_name") == "AnyModel":
            k.send_custom(msg["content"]["comm_id"], {"kind": "module"})

    run = slow.run(HAIKU, during=ask_for_module)
    assert run.ok, run.error
    state = next(
        m["content"]["data"]["state"]
        for m in run.of("comm_open")
        if m["content"]["data"]["state"].get("_model_name") == "AnyModel"
    )
    assert len(state["_esm"]) < 2_000 and "import(" in state["_esm"], "the widget must carry only the loader"
    assert "_css" not in state, "the view's CSS travels inside its module"
    assert state["view_id"] == hashlib.sha256(module.encode()).hexdigest()[:16]
    replies = [
        (i, m["content"]["data"]["content"])
        for i, m in enumerate(run.messages)
        if m["msg_type"] == "comm_msg" and m["content"]["data"].get("content", {}).get("kind") == "module"
    ]
    assert len(replies) == 1 and replies[0][1]["code"] == module
    final = next(i for i, m in enumerate(run.messages) if m["msg_type"] == "update_display_data")
    assert replies[0][0] < final, "the module must arrive while the answer streams, not after"
    plain = slow.run(HAIKU)
    assert not [d for d in plain.deltas if d["kind"] != "delta"], "nothing but deltas when no page asks"


def test_bad_options_give_one_usage_line_and_send_nothing(kernel: Kernel) -> None:
    for cell, words in [
        ("%%llm demo --bogus\nhi", "unrecognized arguments: --bogus"),
        ("%%llm demo --temperature hot\nhi", "temperature"),
        ("%%llm demo --max-tokens 0\nhi", "max-tokens"),
        ("%%llm demo --format pdf\nhi", "--format (format=) must be one of markdown, text, code"),
        ("%%llm demo 'unclosed\nhi", "quotes"),
        ("%%llm demo\n   \n", "prompt is empty"),
        ("%%llm nosuchalias\nhi", "Unknown model alias 'nosuchalias'"),
    ]:
        run = kernel.run(cell)
        assert not run.ok, cell
        assert words in run.error, run.error
        assert len(run.reply["content"]["traceback"]) == 1
        assert run.of("comm_open") == [] and run.of("display_data") == [], cell


def test_help_is_printed(kernel: Kernel) -> None:
    for cell in ("%llm", "%llm help", "%%llm --help\n"):
        run = kernel.run(cell)
        assert run.ok and "--max-tokens N" in run.stdout and "%llm key PROVIDER" in run.stdout, cell


def test_unknown_command_is_a_usage_error(kernel: Kernel) -> None:
    run = kernel.run("%llm frobnicate")
    assert not run.ok and "Unknown command %llm frobnicate" in run.error


def test_echo_keeps_the_prompts_line_breaks(kernel: Kernel) -> None:
    run = kernel.run("%%llm demo:echo --no-history\nfirst line\nsecond line\n\nnew paragraph")
    assert run.ok, run.error
    assert _llm(kernel, "_llm.text") == "first line\nsecond line\n\nnew paragraph"
    html = run.final["data"]["text/html"]
    assert re.search(r"first line<br\s*/?>\s*second line", html), html


def test_closing_a_view_the_page_has_not_made_yet_leaves_the_kernel_loop_running(tmp_path: Path) -> None:
    """An answer that ends moments after its view opened waits for the page to make the view
    before closing it; meanwhile the kernel's loop (other tasks, widget messages) goes on."""
    k = Kernel(cwd=tmp_path, env={"LLMRING_DEMO_DELAY": "0.002"})
    try:
        assert k.run("%load_ext llmring_jupyter").ok  # the anchor is made: a frontend runs views
        k.frontend = False  # but this page has not made the answer's view yet
        started = k.run(
            "import asyncio, time\nticks = []\n"
            "async def tick():\n    while True:\n        ticks.append(time.time())\n        await asyncio.sleep(0.01)\n"
            "ticker = asyncio.ensure_future(tick())"
        )
        assert started.ok, started.error
        run = k.run("%%llm demo --no-history --max-tokens 3\nHi")
        assert run.ok, run.error
        run = k.later(run, lambda e: bool(e.answer_comms[0]) and e.answer_comms[0] <= e.answer_comms[1])
        final = run.of("update_display_data")[-1]["header"]["date"].timestamp()
        closed = max(m["header"]["date"].timestamp() for m in run.of("comm_close"))
        ticks = _llm(k, "ticks")
        assert [t for t in ticks if final < t < closed], "the loop stood still until the view closed"
    finally:
        k.close()


def test_at_a_human_pace_each_token_reaches_the_view_on_its_own_at_once(kernel: Kernel) -> None:
    """Tokens a frame or more apart (20 ms, a model at human pace) are not held for the next
    one: each is sent as it comes, so the page shows it in the frame it could."""
    run = kernel.run("%%llm demo --no-history --max-tokens 12 -o delay=0.02\nPace")
    assert run.ok, run.error
    deltas = [d for d in run.deltas if d["kind"] == "delta"]
    assert [len(d["text"].split()) for d in deltas] == [1] * 12, [d["text"] for d in deltas]
