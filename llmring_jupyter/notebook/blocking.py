"""Run a stream where no event loop is running (terminal IPython, scripts).

The stream gets its own loop in a worker thread; the calling thread waits and
turns Ctrl-C into a cancel of the stream, so the partial answer is kept and
the HTTP request is closed, exactly as an interrupt does in a kernel.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_blocking(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    loop = asyncio.new_event_loop()
    box: dict[str, Any] = {}
    ready = threading.Event()
    done = threading.Event()  # not Thread.join: a Ctrl-C inside join() can make a later join() return early

    def work() -> None:
        asyncio.set_event_loop(loop)
        try:
            box["task"] = loop.create_task(make())
            ready.set()
            box["value"] = loop.run_until_complete(box["task"])
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread below
            box["error"] = exc
        finally:
            ready.set()
            loop.close()
            done.set()

    worker = threading.Thread(target=work, name="llmring-stream", daemon=True)
    worker.start()
    ready.wait()
    try:
        while not done.wait(0.05):
            pass
    except KeyboardInterrupt:
        if "task" in box:
            loop.call_soon_threadsafe(box["task"].cancel)
        done.wait()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value
