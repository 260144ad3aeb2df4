"""A scriptable HTTP/1.1 server on 127.0.0.1 for driving the real SDKs.

Each test queues :class:`Reply` scripts; the server answers requests with them
in order, byte for byte, with pauses, abrupt cuts and stalls, and records what
the client sent and whether it hung up before the reply ended. It speaks raw
HTTP on asyncio streams (in its own thread), so nothing between the SDK and
the wire is mocked.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


class Cut:
    """Close the socket right here, mid-body (a dropped connection)."""


class Hang:
    """Stop sending and keep the socket open until the client gives up."""


CUT, HANG = Cut(), Hang()
Part = bytes | str | float | Cut | Hang  # float: pause that many seconds


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    parts: Sequence[Part] = field(default_factory=list)
    content_type: str = "text/event-stream"
    #: what happens before the status line: CUT resets the connection before any answer,
    #: HANG never answers (until the client leaves), a number waits that many seconds
    before: Part | None = None

    @classmethod
    def json(cls, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, headers or {}, [json.dumps(body)], "application/json")


@dataclass
class Seen:
    """One request as the server received it, and how it ended."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_closed_early: bool = False
    closed_at: float | None = None  # monotonic time the client hung up, if it did
    received: float = field(default_factory=time.monotonic)  # when the request was read
    ended: float | None = None  # monotonic time the server was done with it (set before `finished`)
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class WireServer:
    def __init__(self, routes: dict[tuple[str, str], Callable[[Seen], Reply]] | None = None) -> None:
        self._replies: deque[Reply] = deque()
        self.seen: list[Seen] = []
        #: requests a route answered, as a real server would at any time: not in ``seen``, not queued
        self.routes = routes or {}
        self.routed: list[Seen] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wire-server", daemon=True)
        self._thread.start()
        self._ready.wait(5)

    # -- test-facing API --------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def queue(self, *replies: Reply) -> None:
        self._replies.extend(replies)

    def last(self, timeout: float = 5.0) -> Seen:
        """The last request, once the server has finished with it."""
        deadline = time.monotonic() + timeout
        while not self.seen and time.monotonic() < deadline:
            time.sleep(0.01)
        seen = self.seen[-1]
        seen.finished.wait(max(0.0, deadline - time.monotonic()))
        return seen

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    # -- server -----------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()  # until close()
        # end the connections still open (a client's keep-alive) here, on this loop: a handler left
        # pending would be collected after the loop closed, and warn in whatever test runs then
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(asyncio.sleep(0))  # the writers' transports close
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        body = await reader.readexactly(int(headers.get("content-length", 0)))
        seen = Seen(method, path, headers, body)
        route = self.routes.get((method, path))
        if route is not None:
            self.routed.append(seen)
            reply = route(seen)
        else:
            self.seen.append(seen)
            reply = (
                self._replies.popleft()
                if self._replies
                else Reply.json({"error": {"message": "wire server: no reply queued"}}, 599)
            )
        watcher = asyncio.ensure_future(reader.read(1))  # b"" when the client hangs up
        completed = reset = False
        try:
            completed = await self._send(reply, writer, watcher)
        except ConnectionError:
            reset = True
            raise
        finally:
            # a client that closes with unread data in its buffer resets the connection (RST)
            # rather than ending it: that is a hang-up too, not a reason to skip `finished`
            if reset or (watcher.done() and (watcher.exception() is not None or watcher.result() == b"")):
                seen.client_closed_early = not completed
                seen.closed_at = seen.closed_at or time.monotonic()
            watcher.cancel()
            seen.ended = time.monotonic()
            seen.finished.set()
        return False  # one request per connection: Connection: close

    async def _send(self, reply: Reply, writer: asyncio.StreamWriter, watcher: asyncio.Future[bytes]) -> bool:
        """Send the reply; False if it was cut, stalled or the client left first."""
        if isinstance(reply.before, Cut):
            writer.transport.abort()
            return False
        if reply.before is not None:
            await asyncio.wait({watcher}, timeout=120 if isinstance(reply.before, Hang) else float(reply.before))
            if watcher.done():
                return False
        reason = {
            200: "OK",
            401: "Unauthorized",
            404: "Not Found",
            429: "Too Many Requests",
            500: "Internal Server Error",
        }.get(reply.status, "Status")
        head = [
            f"HTTP/1.1 {reply.status} {reason}",
            f"Content-Type: {reply.content_type}",
            "Transfer-Encoding: chunked",
            "Connection: close",
        ]
        head += [f"{k}: {v}" for k, v in reply.headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        await writer.drain()
        for part in reply.parts:
            if watcher.done():
                return False
            if isinstance(part, Cut):
                writer.transport.abort()
                return False
            if isinstance(part, Hang):
                await asyncio.wait({watcher}, timeout=120)
                return False
            if isinstance(part, float | int):
                await asyncio.wait({watcher}, timeout=part)
                continue
            data = part.encode() if isinstance(part, str) else part
            writer.write(b"%x\r\n%s\r\n" % (len(data), data))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True


def most_at_once(requests: Iterable[Seen]) -> int:
    """The most of these requests the server was answering at one time.

    From the server's own clock, read on its one loop: a request that arrived after another's last
    byte was written does not overlap it, however late a test's thread would notice that it ended.
    """
    spans = [(seen.received, seen.ended if seen.ended is not None else float("inf")) for seen in requests]
    return max((sum(start <= at < end for start, end in spans) for at, _ in spans), default=0)


def sse(*events: Any, event_names: bool = False) -> list[str]:
    """Server-sent events: each item is a JSON-able object, a (name, object) pair or raw text."""
    out = []
    for item in events:
        if isinstance(item, tuple):
            name, data = item
            out.append(f"event: {name}\ndata: {json.dumps(data)}\n\n")
        elif isinstance(item, str):
            out.append(item)
        else:
            out.append(f"data: {json.dumps(item)}\n\n")
    return out


def serving() -> Generator[WireServer, None, None]:
    """A running server, closed when the generator is: the body of every wire fixture
    (``yield from serving()``), whatever its scope."""
    from providers.dialects import ollama  # it imports this module

    server = WireServer({("POST", "/api/show"): ollama.show})
    try:
        yield server
    finally:
        server.close()
