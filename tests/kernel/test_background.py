"""``%%llm --background`` in a real kernel: the cell returns at once, the answer streams into
its own output while other cells run, and ``_llm`` fills in."""

from __future__ import annotations

import itertools
from pathlib import Path

from kernel_providers import value
from kernel_session import Execution, Kernel, Msg


def _ended(run: Execution) -> bool:
    return bool(run.answers)


def _text(run: Execution) -> str:
    return "".join(d["text"] for d in run.deltas)


def _view(run: Execution) -> str:
    return next(iter(run.widget_comms[0]))


def _statuses(run: Execution) -> list[str]:
    """Every status the live view was given, from its opening state on."""
    states = [
        m["content"]["data"].get("state", {})
        for m in run.messages
        if m["msg_type"] == "comm_open"
        or (m["msg_type"] == "comm_msg" and m["content"]["data"].get("method") == "update")
    ]
    return [state["status"] for state in states if "status" in state]


def test_the_cell_returns_before_the_first_token_and_the_answer_lands_in_its_output(slow: Kernel) -> None:
    asked = slow.run("%%llm demo --background --out draft\nDraft the methods section", cell_id="bg-1")
    assert asked.ok, asked.error
    assert asked.of("display_data"), "the live view is shown in the asking cell"
    assert not asked.deltas, "the cell returned before the first token"
    assert value(slow, "(_llm.done, _llm is draft)") == (False, True)

    other = slow.run("print(21 * 2)", cell_id="other-1")  # another cell runs meanwhile
    assert other.ok and other.stdout == "42\n"
    assert not other.of("update_display_data") and not other.of("comm_msg"), "nothing of the answer lands here"
    so_far = slow.run("while not _llm.text:\n    await __import__('asyncio').sleep(0.02)\nprint(_llm.done)")
    assert so_far.stdout == "False\n", ".text holds the text so far while it streams"

    waited = slow.run("result = await _llm\nprint(result.finish_reason, _llm.done, result.text == _llm.text)")
    assert waited.stdout == "stop True True\n"
    done = slow.later(asked, _ended)
    final = done.answers[-1]
    shown = {m["content"]["transient"]["display_id"] for m in done.of("display_data")}
    assert final["transient"]["display_id"] in shown, "the static answer replaces the view in the asking cell"
    text = value(slow, "_llm.text")
    assert final["data"]["text/plain"].startswith(text) and "demo:chat · stop" in final["data"]["text/plain"]
    assert _text(done) == text
    opened, closed = done.widget_comms
    assert opened <= closed, "the view is closed once the answer is static"


def test_wait_blocks_only_where_it_cannot_deadlock(slow: Kernel) -> None:
    assert slow.run("%%llm demo --background\nA long answer").ok
    blocked = slow.run("_llm.wait()")
    assert not blocked.ok and "use `await _llm`" in blocked.error
    threaded = slow.run(
        "import concurrent.futures as _cf\n"
        "with _cf.ThreadPoolExecutor(1) as _pool:\n"
        "    _future = _pool.submit(_llm.wait, 30)\n"
        "    while not _future.done():\n"
        "        await __import__('asyncio').sleep(0.05)\n"
        "print(_future.result().finish_reason)"
    )
    assert threaded.stdout == "stop\n", threaded.error
    assert value(slow, "_llm.wait().finish_reason") == "stop", "once done, wait() returns at once"


def test_two_background_answers_stream_at_once_each_in_its_own_output(slow: Kernel) -> None:
    first = slow.run("%%llm demo --background --no-history --out a\nFirst question")
    second = slow.run("%%llm demo --background --no-history --out b\nSecond question")
    first, second = slow.later(first, _ended), slow.later(second, _ended)
    assert "First question" in _text(first) and "Second question" in _text(second)
    assert "Second question" not in _text(first)
    arrivals = [m["parent_header"]["msg_id"] for m in slow.elsewhere if m["msg_type"] == "comm_msg"]
    ids = {first.reply["parent_header"]["msg_id"], second.reply["parent_header"]["msg_id"]}
    changes = sum(1 for x, y in itertools.pairwise(arrivals) if x != y and {x, y} <= ids)
    assert changes > 2, "their deltas interleave: the two stream concurrently"
    assert value(slow, "(a.done, b.done, a.text != b.text)") == (True, True, True)


def test_stop_ends_a_background_answer_and_keeps_its_text(slow: Kernel) -> None:
    asked = slow.run("%%llm demo --background\nSomething long")
    streaming = slow.later(asked, lambda r: len(r.deltas) >= 3)
    slow.send_custom(_view(streaming), {"kind": "stop"})
    done = slow.later(asked, _ended)
    assert "■ stopped" in done.answers[-1]["data"]["text/plain"]
    assert value(slow, "(_llm.done, _llm.finish_reason, len(_llm.text) > 0)") == (True, "cancelled", True)
    assert slow.run("await _llm").ok, "a stopped answer is not a failure"


def test_an_error_shows_in_its_own_output_as_one_line_and_nowhere_else(slow: Kernel) -> None:
    asked = slow.run("%%llm demo:nosuch --background\nHello")
    assert asked.ok, "the cell returned before the answer failed"
    running = slow.run("await __import__('asyncio').sleep(0.3)\nprint('still fine')")
    assert running.ok and running.stdout == "still fine\n"
    assert not [m for m in running.messages if m["msg_type"] in ("stream", "error") and "nosuch" in str(m)]
    done = slow.later(asked, lambda r: bool(r.stderr))
    assert done.stderr == (
        "UnknownModelError: The demo provider has no model 'nosuch': use demo, demo:chat, demo:echo or demo:thinker.\n"
    )
    failed = slow.run("await _llm")
    assert not failed.ok and "UnknownModelError" in failed.error, "awaiting it raises like a failing cell"
    assert slow.run("print('kernel healthy')").stdout == "kernel healthy\n"


def test_a_later_question_waits_for_the_running_turn_and_says_so(slow: Kernel) -> None:
    slow.run("%llm reset")
    asked = slow.run("%%llm demo --background\nFirst turn", cell_id="turn-1")
    slow.run("print('a plain cell in between')", cell_id="between")
    later = slow.run("%%llm demo:echo\nSecond turn", cell_id="turn-2")
    assert later.ok, later.error
    assert "queued" in _statuses(later), "its live view says it waits for the earlier answer"
    sent = value(slow, "[m.content[:14] for m in _llm.messages]")
    assert sent == ["First turn", "## Demo answer", "Second turn"], "its request holds the earlier answer, not a hole"
    turns = "get_ipython().magics_manager.registry['LLMMagics'].session.conversations.get().turns"
    history = value(slow, f"[(t.key, t.prompt) for t in {turns}]")
    assert history == [("turn-1#0", "First turn"), ("turn-2#0", "Second turn")], "each turn keeps its cell's key"
    assert slow.later(asked, _ended)


def test_interrupt_stops_the_running_cell_not_the_background_answer(slow: Kernel) -> None:
    asked = slow.run("%%llm demo --background --no-history\nKeep going")
    interrupted = {"sent": False}

    def tick(k: Kernel) -> None:
        if not interrupted["sent"]:
            interrupted["sent"] = True
            k.interrupt()

    sleeper = slow.run("import asyncio\nawait asyncio.sleep(20)", tick=tick, timeout=30)
    assert not sleeper.ok
    done = slow.later(asked, _ended)
    assert "demo:chat · stop" in done.answers[-1]["data"]["text/plain"], "the background answer went on to its end"


def test_chat_background_returns_a_filling_result(slow: Kernel) -> None:
    run = slow.run(
        "from llmring_jupyter import chat, PendingResult\n"
        "pending = await chat('From code', 'demo', background=True, history=False)\n"
        "print(isinstance(pending, PendingResult), pending.done)\n"
        "print((await pending).finish_reason, pending.done)"
    )
    assert run.stdout == "True False\nstop True\n", run.error


def test_a_restart_ends_background_answers_and_keeps_what_they_streamed(tmp_path: Path) -> None:
    kernel = Kernel(cwd=tmp_path, env={"LLMRING_DEMO_DELAY": "0.05"})
    try:
        assert kernel.run("%load_ext llmring_jupyter").ok
        asked = kernel.run("%%llm demo --background\nA long answer")
        streamed = kernel.later(asked, lambda r: len(r.deltas) >= 3)
        kernel.km.restart_kernel(now=False)
        done = kernel.later(streamed, _ended, timeout=15)
        plain = done.answers[-1]["data"]["text/plain"]
        assert plain.startswith(_text(streamed)) and "■ stopped" in plain, "the partial answer stays, static"
        kernel.kc.wait_for_ready(timeout=60)  # the new kernel answers once it is up, not before
        assert kernel.run("print('restarted')").stdout == "restarted\n"
    finally:
        kernel.close()


def test_running_a_background_cell_again_stops_every_earlier_run(slow: Kernel) -> None:
    cell = "%%llm demo --background --no-history -o tokens=300\nA long answer"
    runs = []
    for _ in range(3):
        run = slow.run(cell, cell_id="again")
        assert run.ok, run.error
        runs.append(slow.later(run, lambda r: len(r.deltas) >= 2))  # it streams before the cell runs again
        assert slow.run("_runs = [*globals().get('_runs', []), _llm]").ok
    for earlier in runs[:2]:
        done = slow.later(earlier, _ended)
        assert "■ stopped" in done.answers[-1]["data"]["text/plain"], "a run of the same cell again stops it"
    assert value(slow, "[r.finish_reason for r in _runs[:2]]") == ["cancelled", "cancelled"]
    assert value(slow, "_runs[2].done") is False, "the newest run goes on"
    slow.run("_runs[2].stop()")
    assert "■ stopped" in slow.later(runs[2], _ended).answers[-1]["data"]["text/plain"]


def test_a_token_budget_counts_every_background_answer_in_flight(tmp_path: Path) -> None:
    kernel = Kernel(cwd=tmp_path, env={"LLMRING_DEMO_DELAY": "0.02"})
    try:
        assert kernel.run("%load_ext llmring_jupyter").ok
        assert kernel.run("%config LLMMagics.budget_tokens = 300").ok
        cell = "%%llm demo --background --no-history -o tokens=200\nAnswer number {}"
        asked = [kernel.run(cell.format(i), cell_id=f"budget-{i}") for i in range(3)]
        assert all(run.ok for run in asked), "each answer alone (about 208 tokens) fits the budget"
        # each one ends, stopped by the budget (its footer says so) or refused before it was sent
        ends = [kernel.later(run, lambda r: bool(r.answers or r.stderr)) for run in asked]
        said = [r.answers[-1]["data"]["text/plain"].rsplit("\n\n— ", 1)[1] if r.answers else r.stderr for r in ends]
        assert any("Token budget reached" in line for line in said), said
        usage = kernel.run("%llm usage")
        (shown,) = [m["content"]["data"]["text/plain"] for m in usage.of("display_data")]
        tokens_in, tokens_out = shown.splitlines()[1].split()[3:5]
        spent = int(tokens_in) + int(tokens_out)
        assert spent <= 300 + 3 * 4, f"together they spent {spent} tokens of a 300-token budget"
    finally:
        kernel.close()


def test_a_stop_before_the_request_starts_stops_it_and_shows_it(slow: Kernel) -> None:
    asked = slow.run(
        "from llmring_jupyter import chat\n"
        "early = await chat('Never mind', 'demo', background=True, history=False)\n"
        "early.stop()  # before its task's first step"
    )
    assert asked.ok, asked.error
    done = slow.later(asked, _ended)
    assert done.answers[-1]["data"]["text/plain"].endswith("■ stopped"), "the stop is shown"
    assert value(slow, "(early.finish_reason, early.text)") == ("cancelled", ""), "nothing was asked"


def test_a_stop_while_waiting_for_an_earlier_turn_stops_it_before_it_asks(slow: Kernel) -> None:
    slow.run("%llm reset")
    first = slow.run("%%llm demo --background -o tokens=100 --out first\nFirst turn", cell_id="wait-1")
    queued = slow.run("%%llm demo:echo --background --out second\nSecond turn", cell_id="wait-2")
    assert first.ok and queued.ok
    assert slow.run("second.stop()").ok
    done = slow.later(queued, _ended)
    assert done.answers[-1]["data"]["text/plain"].endswith("■ stopped"), "the stop is shown"
    assert value(slow, "(second.finish_reason, second.text, first.done)") == ("cancelled", "", False), (
        "it ended before asking, while the earlier answer goes on"
    )
    slow.run("first.stop()")
    slow.later(first, _ended)


def test_a_stop_as_the_earlier_turn_ends_is_not_lost(kernel: Kernel) -> None:
    """The stop comes a few event-loop steps after the earlier answer ended, at each step in turn:
    wherever the waiting answer is between its wait and its request (or once it streams), it stops."""
    run = kernel.run(
        "import asyncio\n"
        "from llmring_jupyter import chat\n"
        "_loop, _ended = asyncio.get_running_loop(), []\n"
        "def _stop_after(steps, answer):\n"
        "    if steps:\n"
        "        _loop.call_soon(_stop_after, steps - 1, answer)\n"
        "    else:\n"
        "        answer.stop()\n"
        "for steps in range(10):\n"
        "    first = await chat('First', 'demo', background=True, conversation=f'race-{steps}', tokens=3)\n"
        "    second = await chat('Second', 'demo', background=True, conversation=f'race-{steps}')\n"
        "    first._task.add_done_callback(lambda _, s=steps, a=second: _stop_after(s, a))\n"
        "    await second\n"
        "    _ended.append(second.finish_reason)\n"
        "print(sorted(set(_ended)))"
    )
    assert run.stdout == "['cancelled']\n", run.error or run.stdout


def test_a_background_answer_streams_while_a_synchronous_cell_runs(slow: Kernel) -> None:
    asked = slow.run("%%llm demo --background --no-history -o tokens=400\nA long answer")
    slow.later(asked, lambda r: len(r.deltas) >= 1)
    seen: dict[str, int] = {}

    def mark(msg: Msg, kernel: Kernel) -> None:  # where IOPub stood when the cell started and when it ended
        if msg["msg_type"] == "status":
            seen[msg["content"]["execution_state"]] = len(kernel.elsewhere)

    sleeper = slow.run("import time\ntime.sleep(2)", during=mark)
    assert sleeper.ok, sleeper.error
    ours = asked.reply["parent_header"]["msg_id"]
    meanwhile = [m for m in slow.elsewhere[seen["busy"] : seen["idle"]] if m["parent_header"].get("msg_id") == ours]
    deltas = [d for d in Execution(asked.reply, meanwhile).deltas if d.get("kind") == "delta"]
    assert len(deltas) >= 5, "the answer goes on streaming while a cell that does not await runs"
    slow.run("_llm.stop()")
    assert "■ stopped" in slow.later(asked, _ended).answers[-1]["data"]["text/plain"]
