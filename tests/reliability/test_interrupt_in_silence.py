"""A kernel interrupt ends a silent stream at once, in every state, for every provider.

ipykernel turns SIGINT into a cancel only when the event loop wakes; a stream that
waits on a silent socket must keep it waking (stream.py's heartbeat), or the interrupt
waits for the next byte or the idle watchdog (19-58 s before). Each state is served by
the wire server to the real SDK: the cell ends within well under a second, keeps the
text that had arrived, and the server sees the connection close.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from kernel_providers import value
from kernel_session import Kernel
from providers.dialects import NAMES, Dialect, load
from wire_server import HANG, Reply, WireServer

PARTS = ["Partial ", "answer ", "then ", "silence."]
SETTLE = 0.4  # seconds after the server has the request: what it sends by then has arrived


def _before_the_first_byte(d: Dialect) -> Reply:
    reply = d.answer(PARTS)
    reply.before = HANG  # the request was received; no status line, nothing at all
    return reply


def _after_the_headers(d: Dialect) -> Reply:
    reply = d.answer(PARTS)
    reply.parts = [HANG, *reply.parts]  # 200 and headers, then no body yet
    return reply


def _in_a_pause(d: Dialect) -> Reply:
    reply = d.answer(PARTS)
    reply.parts = [*reply.parts[:3], HANG]  # some text, then the model "thinks"
    return reply


STATES = {
    "before the first byte": (_before_the_first_byte, False),
    "after the headers": (_after_the_headers, False),
    "in a pause mid-answer": (_in_a_pause, True),
}


@pytest.fixture(scope="module", autouse=True)
def warm(kernel: Kernel, wire: WireServer) -> None:
    """Import every SDK first: an interrupt during an import is not what is measured here."""
    for name in NAMES:
        d = load(name)
        wire.queue(d.answer(["warm"]))
        assert kernel.run(f"%%llm {name}:{d.model} --no-history\nwarm up").ok


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("name", NAMES)
def test_an_interrupt_ends_a_silent_stream_at_once(
    kernel: Kernel, wire: WireServer, figures: dict[str, Any], name: str, state: str
) -> None:
    d = load(name)
    make, has_text = STATES[state]
    wire.queue(make(d))
    before = len(wire.seen)
    acted: list[float] = []

    def tick(k: Kernel) -> None:
        if not acted and len(wire.seen) > before and time.monotonic() - wire.seen[-1].received >= SETTLE:
            acted.append(time.monotonic())
            k.interrupt()

    run = kernel.run(f"%%llm {name}:{d.model} --no-history --retries 0\nSay something", tick=tick, timeout=30)
    ended = time.monotonic()
    assert acted, "the cell ended before the interrupt"
    took = ended - acted[0]
    latencies = figures.setdefault("interrupts in silence", {}).setdefault(state, {})
    latencies[name] = round(took, 3)
    assert not run.ok and run.reply["content"]["ename"] == "Interrupted", run.error
    assert took < 1.0, f"{name} {state}: the interrupt took {took:.2f} s"
    text, finish, interrupted = value(kernel, "_llm.text, _llm.finish_reason, _llm.interrupted")
    assert (finish, interrupted) == ("cancelled", True)
    if has_text:
        assert text and "".join(PARTS).startswith(text), text
    else:
        assert text == ""
    seen = wire.seen[-1]
    assert seen.finished.wait(2) and seen.client_closed_early, "the provider must see the request end"
