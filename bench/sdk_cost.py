"""What a real SDK spends parsing one streamed chunk: the yardstick for our own per-chunk cost.

The openai SDK reads a 2,000-chunk chat-completions SSE stream (the same demo
tokens) from the suite's local wire server, in this process. Only the reading
thread's CPU is counted (``time.thread_time``): the server runs in its own
thread. The request itself (connect, headers) is outside the measured span.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import _paths  # noqa: F401  (tests/ on sys.path: the suite's wire server and OpenAI dialect)
from providers.dialects.openai_chat import DIALECT
from wire_server import Reply, WireServer

from llmring_jupyter.providers import Message, Request
from llmring_jupyter.providers.demo import DemoProvider


async def demo_tokens(count: int) -> list[str]:
    """The exact text chunks the demo model streams for a ``count``-token answer."""
    request = Request("demo", (Message("user", "Benchmark the streaming path"),), options={"tokens": count, "delay": 0})
    return [c.delta async for c in DemoProvider().stream("chat", request) if c.delta]


async def _parse_once(url: str, parts: list[str]) -> float:
    """CPU seconds this thread spent iterating the SDK's stream of ``parts``."""
    import openai

    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="sk-bench")
    stream = await client.chat.completions.create(
        model=DIALECT.model,
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    start = time.thread_time()
    received = 0
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            received += 1
    spent = time.thread_time() - start
    await client.close()
    if received != len(parts):
        raise RuntimeError(f"the SDK yielded {received} text chunks, expected {len(parts)}")
    return spent


def _paced(reply: Reply, delay: float) -> Reply:
    """The same reply with ``delay`` seconds between its events, as a model generating them sends it."""
    if delay:
        reply.parts = [p for part in reply.parts for p in (delay, part)]
    return reply


def sdk_cpu_per_chunk(chunks: int = 2000, repeats: int = 5, delay: float = 0.0) -> dict[str, float | int]:
    """Median CPU seconds per chunk the openai SDK spends parsing an SSE stream (one warm-up run),
    its events sent ``delay`` seconds apart."""
    parts = asyncio.run(demo_tokens(chunks))
    server = WireServer()
    try:

        async def measure() -> list[float]:
            spent = []
            for _ in range(repeats + 1):
                server.queue(_paced(DIALECT.answer(parts), delay))
                spent.append(await _parse_once(server.url, parts))
            return spent[1:]

        runs = asyncio.run(measure())
    finally:
        server.close()
    import openai

    return {
        "chunks": chunks,
        "repeats": repeats,
        "delay_s": delay,
        "openai_version": openai.__version__,
        "cpu_per_chunk_s": statistics.median(runs) / chunks,
    }
