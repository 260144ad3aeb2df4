"""Transient failures heal by themselves, in a real kernel, for every provider.

A 503, a 429 with a short retry-after or a connection reset before any answer is
retried: the cell succeeds, the footer and ``_llm`` say how many attempts it took and
why, and the live view showed the wait ("retrying"). Stop and an interrupt end a wait at
once. Nothing is retried once text has been shown; ``--retries`` and
``LLMMagics.retries`` set how often.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from kernel_providers import footer, one_line_error, value
from kernel_session import Execution, Kernel, Msg
from providers.dialects import NAMES, Dialect, load
from wire_server import CUT, Reply, WireServer

PARTS = ["Healed ", "answer."]
TEXT = "".join(PARTS)

FAULTS: dict[str, tuple[Callable[[Dialect], Reply], str]] = {
    "503": (lambda d: d.http_error(503, "The model is overloaded"), "overloaded"),
    "429": (lambda d: d.http_error(429, "Rate limit reached", retry_after=0.2), "rate limited"),
    "reset": (lambda d: Reply(before=CUT), "connection failed"),
}


def _ask(kernel: Kernel, d: Dialect, flags: str = "", **kw: Any) -> Execution:
    return kernel.run(f"%%llm {d.provider}:{d.model} --no-history {flags}\nAsk", **kw)


def _updates(run: Execution) -> list[dict[str, Any]]:
    """The view's states in order, from the one it opened with (what the live view was told to show).

    A view made for a retry's wait opens in the retrying state; one made earlier is told it later.
    """
    return [
        m["content"]["data"]["state"]
        for m in run.messages
        if m["msg_type"] == "comm_open"
        or (m["msg_type"] == "comm_msg" and m["content"]["data"].get("method") == "update")
    ]


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("name", NAMES)
def test_a_transient_failure_heals_and_says_so(
    kernel: Kernel, wire: WireServer, figures: dict[str, Any], name: str, fault: str
) -> None:
    d = load(name)
    make, reason = FAULTS[fault]
    wire.queue(make(d), d.answer(PARTS))
    before = len(wire.seen)
    run = _ask(kernel, d)
    assert run.ok, run.error
    assert len(wire.seen) == before + 2
    assert value(kernel, "_llm.text, _llm.attempts, _llm.retries[0].reason") == (TEXT, 2, reason)
    assert footer(run).endswith(f"2 attempts ({reason})"), footer(run)
    assert run.final["metadata"]["llmring"]["attempts"] == 2
    shown = [s["status"] for s in _updates(run) if "status" in s]
    assert "retrying" in shown and shown.index("retrying") < shown.index("streaming"), shown
    retry = next(s["retry"] for s in _updates(run) if s.get("retry"))
    assert (retry["reason"], retry["attempt"], retry["attempts"]) == (reason, 2, 3)
    healed = figures.setdefault("retries", {}).setdefault(fault, {"injected": 0, "healed": 0})
    healed["injected"] += 1
    healed["healed"] += 1


@pytest.mark.parametrize("how", ["stop", "interrupt"])
def test_stop_and_interrupt_end_a_retry_wait_at_once(
    kernel: Kernel, wire: WireServer, figures: dict[str, Any], how: str
) -> None:
    d = load("openai")
    wire.queue(d.http_error(429, "Rate limit reached", retry_after=15), d.answer(PARTS))
    before = len(wire.seen)
    state: dict[str, Any] = {}

    def during(msg: Msg, k: Kernel) -> None:
        data = msg["content"].get("data", {}) if msg["msg_type"] in ("comm_open", "comm_msg") else {}
        if msg["msg_type"] == "comm_open" and data.get("state", {}).get("_model_name") == "AnyModel":
            state["comm"] = msg["content"]["comm_id"]
        if data.get("state", {}).get("status") == "retrying" and "acted" not in state:
            state["acted"] = time.monotonic()
            if how == "stop":
                k.send_custom(state["comm"], {"kind": "stop"})
            else:
                k.interrupt()

    run = _ask(kernel, d, during=during, timeout=30)
    assert "acted" in state, "the view never showed the wait"
    took = time.monotonic() - state["acted"]
    figures.setdefault("retries", {}).setdefault("wait ended by", {})[how] = round(took, 3)
    assert took < 1.0, f"{how} took {took:.2f} s to end the wait"
    assert len(wire.seen) == before + 1, "no request after the wait was ended"
    assert value(kernel, "_llm.finish_reason, _llm.interrupted") == ("cancelled", how == "interrupt")
    if how == "stop":
        assert run.ok, run.error
    assert _ask(kernel, d).ok, "the next cell is answered by the reply the wait never asked for"


def test_an_overload_sent_inside_the_stream_before_any_text_heals_too(kernel: Kernel, wire: WireServer) -> None:
    """Anthropic may answer 200 and then send ``event: error`` (``overloaded_error``) before any
    text: the same overload as a 529, retried as one."""
    d = load("anthropic")
    wire.queue(d.in_stream_error([], "Overloaded"), d.answer(PARTS))
    before = len(wire.seen)
    run = _ask(kernel, d)
    assert run.ok, run.error
    assert len(wire.seen) == before + 2
    assert value(kernel, "_llm.text, _llm.attempts, _llm.retries[0].reason") == (TEXT, 2, "overloaded")


def test_nothing_is_retried_once_text_was_shown(kernel: Kernel, wire: WireServer) -> None:
    d = load("anthropic")
    reply = d.answer(PARTS * 3)
    reply.parts = [*reply.parts[:3], CUT]
    wire.queue(reply, d.answer(PARTS))
    before = len(wire.seen)
    error = one_line_error(_ask(kernel, d))
    assert "mid-answer" in error and len(wire.seen) == before + 1
    wire.seen.clear()
    wire._replies.clear()  # the answer queued for a retry that must not happen


def test_retries_are_set_per_cell_and_per_session(kernel: Kernel, wire: WireServer) -> None:
    d = load("google")
    wire.queue(d.http_error(503, "The model is overloaded"), d.answer(PARTS))
    before = len(wire.seen)
    error = one_line_error(_ask(kernel, d, "--retries 0"))
    assert "503" in error and "attempts" not in error and len(wire.seen) == before + 1
    assert _ask(kernel, d).ok  # the answer the retry never asked for

    assert kernel.run("%config LLMMagics.retries = 1").ok
    try:
        wire.queue(*[d.http_error(503, "The model is overloaded")] * 2, d.answer(PARTS))
        before = len(wire.seen)
        error = one_line_error(_ask(kernel, d))
        assert error.endswith("Gave up after 2 attempts."), error
        assert len(wire.seen) == before + 2
        assert value(kernel, "_llm.attempts") == 2
    finally:
        kernel.run("%config LLMMagics.retries = 2")
    assert _ask(kernel, d).ok  # the answer the third attempt never asked for
