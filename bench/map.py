"""``--map`` against a rate-limited server: rows per second as a fraction of the limit, 429s, rows lost.

A local OpenAI-compatible server (the suite's wire server, OpenAI's wire format) enforces a
requests-per-minute and a tokens-per-minute limit as token buckets, answering 429 with
``retry-after`` and OpenAI's ``x-ratelimit-*`` headers when either is exceeded (and sending them
with every answer). Three ways run the same rows in one IPython shell:

- **map**: ``await llmring_jupyter.map(...)`` (adaptive concurrency);
- **gather-50**: ``asyncio.gather`` of ``chat()`` calls under a fixed ``Semaphore(50)``;
- **sequential**: an ``await chat()`` loop (on the first ``--sequential`` rows: it is slow).

    .venv/bin/python bench/map.py --rows 1000 --rpm 3000 --tpm 400000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import resource
import threading
import time
from typing import Any

import _paths  # noqa: F401  (tests/ on sys.path)
from providers.dialects import load
from wire_server import Reply, Seen, WireServer

OPENAI = load("openai")


class Bucket:
    """A per-minute limit refilled continuously, as OpenAI's and Anthropic's are, enforced over
    ``burst`` seconds (a bucket of that many seconds' worth), so the sustained rate is what counts."""

    def __init__(self, per_minute: float, burst: float) -> None:
        self.limit, self.size, self.at = per_minute, per_minute / 60 * burst, time.monotonic()
        self.level = self.size

    def take(self, amount: float) -> float:
        """0 if ``amount`` was taken; else the seconds until it could be."""
        now = time.monotonic()
        self.level = min(self.size, self.level + (now - self.at) * self.limit / 60)
        self.at = now
        if self.level >= amount:
            self.level -= amount
            return 0.0
        return (amount - self.level) * 60 / self.limit

    def headers(self, kind: str) -> dict[str, str]:
        refill = (self.size - self.level) * 60 / self.limit
        return {
            f"x-ratelimit-limit-{kind}": str(int(self.size)),
            f"x-ratelimit-remaining-{kind}": str(int(self.level)),
            f"x-ratelimit-reset-{kind}": f"{refill:.3f}s",
        }


class LimitedServer:
    def __init__(self, rpm: float, tpm: float, tokens: int, burst: float) -> None:
        self.requests, self.tokens = Bucket(rpm, burst), Bucket(tpm, burst)
        self.answer_tokens = tokens
        self.lock = threading.Lock()
        self.rate_limited = 0
        self.answered = 0

    def __call__(self, seen: Seen) -> Reply:
        cost = len(seen.body) / 4 + self.answer_tokens
        with self.lock:
            wait = self.requests.take(1) or self.tokens.take(cost)
            headers = self.requests.headers("requests") | self.tokens.headers("tokens")
            if wait:
                self.rate_limited += 1
            else:
                self.answered += 1
        if wait:
            body = {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}
            return Reply.json(body, 429, headers | {"retry-after": f"{wait:.3f}"})
        prompt = OPENAI.sent_messages(seen)[-1][1]
        reply = OPENAI.answer([f"answer to {prompt}"], usage=(int(len(seen.body) / 4), self.answer_tokens))
        reply.headers.update(headers)
        return reply


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from IPython.testing.globalipapp import start_ipython

    import llmring_jupyter

    ip = start_ipython()
    ip.run_line_magic("load_ext", "llmring_jupyter")
    ip.run_line_magic("config", "LLMMagics.cache = 'off'")
    model = f"openai:{OPENAI.model}"
    rows = [f"row {i}" for i in range(args.rows)]
    out = []

    async def measure(name: str, count: int, work: Any) -> None:
        server = LimitedServer(args.rpm, args.tpm, args.tokens, args.burst)
        wire.routes[("POST", "/v1/chat/completions")] = server
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # chat() prints each answer in a terminal
            answered = await work()
        seconds = time.perf_counter() - started
        per_row = server.answer_tokens + 30  # tokens a row costs the server's token bucket, about
        limit = min(args.rpm / 60, args.tpm / 60 / per_row)  # rows/s the limits allow, sustained
        allowed = (limit * args.burst + limit * seconds) / seconds  # plus the full bucket at the start
        out.append(
            {
                "way": name,
                "rows": count,
                "rows/s": round(answered / seconds, 2),
                "of limit": f"{answered / seconds / allowed:.0%}",
                "429s": server.rate_limited,
                "lost": count - answered,
                "max RSS MB": round(rss_mb()),
            }
        )

    async def ours() -> int:
        result = await llmring_jupyter.map("{{row}}", rows, model, cache=False, max_tokens=args.tokens)
        return len(result) - len(result.errors)

    async def gather() -> int:
        gate = asyncio.Semaphore(50)

        async def one(row: str) -> bool:
            async with gate:
                try:
                    await llmring_jupyter.chat(row, model, history=False, cache=False)
                    return True
                except llmring_jupyter.LLMError:
                    return False

        return sum(await asyncio.gather(*(one(r) for r in rows)))

    async def sequential() -> int:
        done = 0
        for row in rows[: args.sequential]:
            try:
                await llmring_jupyter.chat(row, model, history=False, cache=False)
                done += 1
            except llmring_jupyter.LLMError:
                pass
        return done

    with contextlib.redirect_stdout(io.StringIO()):  # the SDK imported, the client made: not measured
        wire.routes[("POST", "/v1/chat/completions")] = LimitedServer(args.rpm, args.tpm, args.tokens, args.burst)
        await llmring_jupyter.chat("warm up", model, history=False, cache=False)
    if args.memory:
        before = rss_mb()
        started = time.perf_counter()
        feed = (f"row {i}" for i in range(args.memory))  # an iterator: never a list of every row
        with contextlib.redirect_stdout(io.StringIO()):
            result = await llmring_jupyter.map("{{row}}", feed, "demo:echo", cache=False, delay=0)
        print(
            f"memory: {len(result):,} rows from an iterator on demo in {time.perf_counter() - started:.0f} s, "
            f"{len(result.errors)} failed; max RSS {before:.0f} MB before, {rss_mb():.0f} MB after "
            f"({(rss_mb() - before) * 1024 * 1024 / len(result):,.0f} bytes a row: the MapResult)"
        )
        return []
    await measure("map", args.rows, ours)
    await measure("gather-50", args.rows, gather)
    await measure("sequential", min(args.sequential, args.rows), sequential)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--rpm", type=float, default=3000)
    parser.add_argument("--tpm", type=float, default=400_000)
    parser.add_argument("--tokens", type=int, default=20, help="output tokens of each answer")
    parser.add_argument("--memory", type=int, default=0, help="instead: this many demo rows from an iterator")
    parser.add_argument("--burst", type=float, default=2.0, help="seconds of the limit a bucket holds")
    parser.add_argument("--sequential", type=int, default=100, help="rows the sequential loop runs")
    args = parser.parse_args()
    global wire
    wire = WireServer()
    os.environ.update({"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": f"{wire.url}/v1"})
    try:
        table = asyncio.run(run(args))
    finally:
        wire.close()
    if not table:
        return
    heads = list(table[0])
    print(" | ".join(heads))
    for row in table:
        print(" | ".join(str(row[h]) for h in heads))


wire: WireServer

if __name__ == "__main__":
    main()
