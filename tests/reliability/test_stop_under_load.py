"""Fifty stops at random (seeded) moments, Stop button and kernel interrupt mixed, across
the paced demo model and two real SDKs on the wire server, all in one kernel.

Every stopped cell ends within a second of the click or interrupt, keeps what had
arrived, and leaves nothing behind: no task or thread still running in the kernel, no
provider connection open, no widget comm open.
"""

from __future__ import annotations

import random
import time
from typing import Any

from kernel_providers import value
from kernel_session import Kernel, Msg
from providers.dialects import load
from wire_server import Reply, WireServer

STOPS = 50
SEED = 20250705
WORDS = [f"word{i} " for i in range(80)]
SOURCES = ("demo", "openai", "ollama")

LEFTOVERS = """\
import asyncio, collections, gc, threading
gc.collect()
print(repr((sorted(collections.Counter(
    getattr(t.get_coro(), '__qualname__', type(t.get_coro()).__name__)
    for t in asyncio.all_tasks() if t is not asyncio.current_task()).items()),
    sorted(t.name for t in threading.enumerate() if t.is_alive()))))
"""


def _paced(source: str) -> Reply:
    """An answer whose words arrive every 20 ms: about 1.6 s in all."""
    reply = load(source).answer(WORDS)
    paced: list[Any] = []
    for part in reply.parts:
        paced += [part, 0.02]
    reply.parts = paced
    return reply


def _cell(source: str, n: int) -> str:
    if source == "demo":  # about 1.6 s of tokens
        return f"%%llm demo --no-history -o delay=0.02 -o tokens=80\nStop me {n}"
    return f"%%llm {source}:{load(source).model} --no-history\nStop me {n}"


def _leftovers(kernel: Kernel) -> tuple[list[tuple[str, int]], list[str]]:
    run = kernel.run(LEFTOVERS)
    assert run.ok, run.error
    import ast

    tasks, threads = ast.literal_eval(run.stdout)
    return [tuple(t) for t in tasks], threads


def test_fifty_stops_end_fast_and_leave_nothing_running(
    kernel: Kernel, wire: WireServer, figures: dict[str, Any]
) -> None:
    for source in SOURCES[1:]:  # import the SDKs first: their import is not a stop's latency
        wire.queue(load(source).answer(["warm"]))
        assert kernel.run(_cell(source, -1)).ok
    assert kernel.run(_cell("demo", -1).replace("tokens=80", "tokens=3")).ok
    tasks_before, threads_before = _leftovers(kernel)

    rng = random.Random(SEED)
    opened: set[str] = set()
    closed: set[str] = set()
    latencies: list[float] = []
    outcomes: dict[str, int] = {"stop": 0, "interrupt": 0, "finished first": 0}
    for n in range(STOPS):
        source, how, after = rng.choice(SOURCES), rng.choice(("stop", "interrupt")), rng.uniform(0.0, 0.9)
        if source != "demo":
            wire.queue(_paced(source))
            before = len(wire.seen)
        state: dict[str, Any] = {}

        def act(k: Kernel, state: dict[str, Any] = state, how: str = how, after: float = after) -> None:
            if "comm" in state and "acted" not in state and time.monotonic() >= state["shown"] + after:
                state["acted"] = time.monotonic()
                if how == "stop":
                    k.send_custom(state["comm"], {"kind": "stop"})
                else:
                    k.interrupt()

        def during(msg: Msg, k: Kernel, state: dict[str, Any] = state) -> None:
            if (
                msg["msg_type"] == "comm_open"
                and "comm" not in state
                and msg["content"]["data"].get("state", {}).get("_model_name") == "AnyModel"
            ):
                state["comm"], state["shown"] = msg["content"]["comm_id"], time.monotonic()
            act(k)

        run = kernel.run(_cell(source, n), during=during, tick=act, timeout=30)
        ended = time.monotonic()
        opened |= run.answer_comms[0]  # the view and any child
        closed |= run.answer_comms[1]
        assert "acted" in state, f"cell {n} ({source}) ended before its {how} at {after:.2f} s"
        latencies.append(ended - state["acted"])
        assert latencies[-1] < 1.0, f"cell {n} ({source}, {how}) took {latencies[-1]:.2f} s to end"
        finish, interrupted, text = value(kernel, "_llm.finish_reason, _llm.interrupted, _llm.text")
        if how == "stop":
            assert run.ok, run.error
        else:
            assert not run.ok and run.reply["content"]["ename"] == "Interrupted", run.error
            assert len(run.reply["content"]["traceback"]) == 1
        if finish == "stop":  # the answer was complete before the stop landed
            outcomes["finished first"] += 1
        else:
            assert (finish, interrupted) == ("cancelled", how == "interrupt")
            outcomes[how] += 1
        assert "".join(WORDS if source != "demo" else []).startswith(text) or source == "demo"
        if source != "demo":
            assert len(wire.seen) == before + 1
            seen = wire.seen[-1]
            assert seen.finished.wait(2), (
                f"cell {n}: the {source} connection was left open ({how} at {after:.2f} s, {finish}, {len(text)} chars)"
            )
            assert seen.client_closed_early or finish == "stop"

    assert opened and opened <= closed, f"widget comms left open: {opened - closed}"
    tasks_after, threads_after = _leftovers(kernel)
    assert tasks_after == tasks_before, "a task outlived its cell"
    assert threads_after == threads_before, "a thread outlived its cell"
    assert kernel.run("print(1 + 1)").stdout == "2\n"
    figures["stops"] = {
        "tried": STOPS,
        **outcomes,
        "slowest_end_s": round(max(latencies), 3),
        "median_end_s": round(sorted(latencies)[len(latencies) // 2], 3),
    }
