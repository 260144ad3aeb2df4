"""The benchmark's kernel side: imported inside the measured kernel, never by the client.

It wraps the demo adapter's stream so every chunk's production time is
recorded in the kernel (``time.time()``, the clock the client also reads), so
``%%llm`` cells run unchanged through the whole pipeline (routing, stream.run,
the widget). It also holds the two comparisons that must run in the same
kernel on the same stream: the whole-answer display update other tools use,
and the bare stream with no output at all (the CPU floor).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from IPython import get_ipython
from IPython.display import Markdown, display

from llmring_jupyter.providers import Message, Request, registry
from llmring_jupyter.providers.demo import DemoProvider
from llmring_jupyter.providers.types import StreamChunk

PROMPT = "Benchmark the streaming path"

#: (production time, characters) of each text chunk since the last report.
produced: list[tuple[float, int]] = []
#: time.time() when the adapter's stream was first iterated, since the last report.
called: list[float] = []
#: CPU seconds from the adapter's first iteration to its last chunk, since the last report.
stream_cpu: list[float] = []
#: msg_id → time.time() when the kernel's main thread handed an IOPub message over for sending.
sent: dict[str, float] = {}
#: CPU and wall seconds of the last finished cell (pre/post_execute hooks).
last_cell: dict[str, float] = {}
_started: dict[str, float] = {}
_original = DemoProvider.stream


async def _timed(self: DemoProvider, model: str, request: Request) -> AsyncGenerator[StreamChunk, None]:
    called.append(time.time())
    cpu = time.process_time()
    async for chunk in _original(self, model, request):
        if chunk.delta:
            produced.append((time.time(), len(chunk.delta)))
        yield chunk
    stream_cpu.append(time.process_time() - cpu)


def _pre() -> None:
    _started.update(cpu=time.process_time(), wall=time.perf_counter())


def _post() -> None:
    last_cell.update(cpu=time.process_time() - _started["cpu"], wall=time.perf_counter() - _started["wall"])


def _stamp_sends(session: Any) -> None:
    """Record when each IOPub message leaves the main thread: splits latency into kernel and transport."""
    send = session.send

    def stamped(stream: Any, msg_or_type: Any, *args: Any, **kwargs: Any) -> Any:
        msg = send(stream, msg_or_type, *args, **kwargs)
        if isinstance(msg, dict):  # shell replies too: harmless, only IOPub ids are looked up
            sent[msg["header"]["msg_id"]] = time.time()
        return msg

    session.send = stamped


def install() -> None:
    """Time the demo stream, every IOPub send and every cell; call once per kernel."""
    DemoProvider.stream = _timed  # type: ignore[method-assign]
    ip = get_ipython()
    _stamp_sends(ip.kernel.session)
    events = ip.events
    if _pre not in events.callbacks["pre_execute"]:
        events.register("pre_execute", _pre)
        events.register("post_execute", _post)


def rss() -> int:
    """Resident set size of this kernel now, in bytes (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def report(path: str) -> None:
    """Write what the previous cell produced and cost to ``path``, then start afresh."""
    with open(path, "w") as f:
        json.dump(
            {
                "produced": produced,
                "called": called,
                "stream_cpu": stream_cpu,
                "sent": sent,
                "cell": dict(last_cell),
                "rss": rss(),
            },
            f,
        )
    for record in (produced, called, stream_cpu, sent):
        record.clear()


def _stream(tokens: int, delay: float) -> AsyncIterator[StreamChunk]:
    request = Request("demo", (Message("user", PROMPT),), options={"tokens": tokens, "delay": delay})
    return registry.get("demo").stream("chat", request)


async def bare(tokens: int, delay: float) -> None:
    """The same stream consumed with no output: what the provider itself costs."""
    async for _ in _stream(tokens, delay):
        pass


async def whole_answer(tokens: int, delay: float) -> None:
    """What other notebook tools do: re-display the whole answer on every chunk."""
    text, handle = "", None
    async for chunk in _stream(tokens, delay):
        if chunk.delta:
            text += chunk.delta
            if handle is None:
                handle = display(Markdown(text), display_id=True)
            else:
                handle.update(Markdown(text))


def llm_cell(tokens: int, delay: float, history: bool = False) -> str:
    """The ``%%llm`` cell a user would write for this stream; without history unless asked,
    so every answer is the same answer whatever ran before (where the option exists)."""
    from llmring_jupyter.answer import options

    alone = "" if history or "--no-history" not in options.usage() else " --no-history"
    return f"%%llm demo{alone} -o tokens={tokens} -o delay={delay}\n{PROMPT}"


def driver(kind: str, tokens: int, delay: float) -> str:
    """The cell that runs one measured answer of ``kind``: ours, whole or bare."""
    if kind == "ours":
        return llm_cell(tokens, delay)
    return f"import probe\nawait probe.{'whole_answer' if kind == 'whole' else 'bare'}({tokens}, {delay})"


def setup_code(bench_dir: str, load_ext: bool = True, install: bool = True) -> str:
    """The cell that loads the extension (unless already timed apart) and this probe
    (not installed where its own records would count, as in the memory figures)."""
    ext = "%load_ext llmring_jupyter\n" if load_ext else ""
    return f"import sys; sys.path.insert(0, {bench_dir!r})\n{ext}import probe{'; probe.install()' if install else ''}"


LOAD_EXT_TIMED = (
    "import time as _t; _s = _t.perf_counter()\n"
    "get_ipython().run_line_magic('load_ext', 'llmring_jupyter')\n"
    "print(_t.perf_counter() - _s)"
)
