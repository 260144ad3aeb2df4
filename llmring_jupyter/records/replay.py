"""The replay cache: an answer stored under its exact request, streamed back on Run All.

A notebook re-run by a teacher, CI or a reviewer should not pay for every answer
again nor get different text. The key is the whole request as canonical JSON —
the resolved ``provider:model`` candidates, every message, every parameter, and
any field :class:`~.providers.types.Request` gains later (tools, schemas) — so
anything that differs asks again. The file is SQLite, beside the notebook by
default, and holds no key or secret (:mod:`._redact`), so it is safe to commit.

What is stored is the whole exchange as it streamed: each step's chunks and,
for a tool exchange, each tool call's result by the call's step and place (its
:attr:`~.result.ToolRun.key`; a call id may repeat across steps, or be made up
where the provider sends none), so a tool loop can replay every step without
calling a function (:class:`Recording`, :class:`Recorder`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import hashlib
import json
import sqlite3
import time
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import UsageError
from ..providers.layers import Send
from ..providers.redact import public
from ..providers.types import Reasoning, Request, StreamChunk, ToolCall, Usage
from ..result import Replayed, Result
from .cache_modes import DEFAULT_PATH

#: Endings worth replaying: the model finished (or hit the asked max tokens). A stopped,
#: failed or cut-short answer is never stored: the next run asks again.
STORED_ENDINGS = ("stop", "length", "tool_calls", "content_filter")

_SCHEMA = """
create table if not exists answers (
    key text primary key,     -- sha256 of the request's canonical JSON
    model text,               -- the provider:model that answered
    answered_at text not null, -- when, ISO 8601 UTC
    request text not null,    -- that canonical JSON, for a reader (no keys: see _redact)
    exchange text not null    -- {"steps": [[chunk, ...], ...], "results": {call key (s1c0): output}}
)
"""


def mode(setting: str, cell: bool | None) -> str:
    """The mode of one question: ``--cache`` replays, ``--no-cache`` is off, else the setting."""
    if cell is None:
        return setting
    return "replay" if cell else "off"


def canonical(request: Request, resolved: str) -> str:
    """The request as the cache knows it: every field, the model as resolved, no secret."""
    body = public(dataclasses.asdict(request))
    body["model"] = resolved
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def _plain(value: object) -> str:
    """JSON for what is not: an image's or a document's bytes by their SHA-256 (the key still
    tells two images apart; the stored request stays small), anything else as its text."""
    return f"sha256:{hashlib.sha256(value).hexdigest()}" if isinstance(value, bytes) else str(value)


def key_of(request: Request, resolved: str) -> str:
    return hashlib.sha256(canonical(request, resolved).encode()).hexdigest()


@dataclass(frozen=True)
class Recording:
    """One stored exchange: each step's chunks, the tool results by call key, who answered when."""

    steps: tuple[tuple[StreamChunk, ...], ...]
    tool_results: dict[str, str] = field(default_factory=dict)
    model: str | None = None
    answered_at: float = 0.0  # epoch seconds

    async def step(self, index: int = 0) -> AsyncGenerator[StreamChunk, None]:
        """Step ``index``'s chunks again, at once: no fake pace, but cancellable (Stop works)."""
        for chunk in self.steps[index]:
            await asyncio.sleep(0)
            yield chunk

    def tool_result(self, call: str) -> str:
        """What the tool returned for the call keyed ``call`` when it was first run; the function is not called."""
        return self.tool_results[call]

    @property
    def origin(self) -> Replayed:
        return Replayed(self.answered_at, self.model)


class Recorder:
    """Records an exchange while it streams: wrap each step's chunks, note each tool result."""

    def __init__(self) -> None:
        self._steps: list[list[StreamChunk]] = []
        self._tool_results: dict[str, str] = {}
        self._started = time.time()

    async def step(self, chunks: AsyncGenerator[StreamChunk, None]) -> AsyncGenerator[StreamChunk, None]:
        recorded: list[StreamChunk] = []
        self._steps.append(recorded)
        async for chunk in chunks:
            recorded.append(chunk)
            yield chunk

    def tool_result(self, call: str, output: str) -> None:
        self._tool_results[call] = output

    def recording(self) -> Recording:
        final = next((c for step in reversed(self._steps) for c in reversed(step) if c.finish_reason), None)
        steps = tuple(tuple(s) for s in self._steps)
        return Recording(steps, dict(self._tool_results), final.model if final else None, self._started)


@contextmanager
def database(path: Path, schema: Sequence[str], cannot: str) -> Iterator[sqlite3.Connection]:
    """The cache file (kept beside the notebook, shared by kernels), its tables made, as one
    transaction; one that cannot be opened is one line, ``cannot`` with its ``{path}`` and ``{exc}``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=10)
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(cannot.format(path=path, exc=exc)) from None
    with closing(db), db:
        for statement in schema:
            db.execute(statement)
        yield db


class Cache:
    """The SQLite file of recordings; opened for each use, so kernels can share it."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path else DEFAULT_PATH

    def _db(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return database(
            self.path,
            (_SCHEMA,),
            "Cannot open the replay cache {path} ({exc}); set %config LLMMagics.cache_path to a "
            "writable file, or turn the cache off (%config LLMMagics.cache = 'off').",
        )

    def get(self, request: Request, resolved: str) -> Recording | None:
        with self._db() as db:
            row = db.execute(
                "select model, answered_at, exchange from answers where key = ?", (key_of(request, resolved),)
            ).fetchone()
        if row is None:
            return None
        model, answered_at, exchange = row
        data = json.loads(exchange)
        if "results" not in data and data.get("tool_results"):
            return None  # stored by call id, which repeats across steps: ask again, and store it anew
        steps = tuple(tuple(_chunk(c) for c in step) for step in data["steps"])
        when = datetime.datetime.fromisoformat(answered_at).timestamp()
        return Recording(steps, data.get("results", {}), model, when)

    def put(self, request: Request, resolved: str, recording: Recording) -> None:
        exchange = {
            "steps": [[_chunk_dict(c) for c in step] for step in recording.steps],
            "results": {call: public(out) for call, out in recording.tool_results.items()},
        }
        when = datetime.datetime.fromtimestamp(recording.answered_at, datetime.UTC).isoformat(timespec="seconds")
        with self._db() as db:
            db.execute(
                "insert or replace into answers values (?, ?, ?, ?, ?)",
                (key_of(request, resolved), recording.model, when, canonical(request, resolved), _dumps(exchange)),
            )


class Question:
    """One question's use of the cache: the stored answer, if it may replay; else a recorder for the new one."""

    def __init__(self, setting: str, cell: bool | None, path: str | None, request: Request, resolved: str) -> None:
        chosen = mode(setting, cell)
        self._cache = Cache(path) if chosen != "off" else None
        self._key = (request, resolved)
        # looked up in refresh mode too: a file that cannot be used fails now, before anything is sent
        found = self._cache.get(request, resolved) if self._cache else None
        self.recording = found if chosen == "replay" else None
        self._recorder = Recorder()

    @property
    def origin(self) -> Replayed | None:
        return self.recording.origin if self.recording else None

    def layer(self, send: Send, step: int = 0) -> Send:
        """The engine's replay layer for step ``step`` of the answer (a tool loop: one per call): its
        stored chunks, or ``send``'s, recorded as they pass.

        With the cache off, ``send``'s chunks pass untouched: no cost per chunk."""

        def send_replayed(request: Request) -> AsyncGenerator[StreamChunk, None]:
            if self.recording is not None:
                return self.recording.step(step)
            return self._recorder.step(send(request)) if self._cache is not None else send(request)

        return send_replayed

    def tool_result(self, call: str) -> str | None:
        """When replaying, what the tool returned for the call keyed ``call`` the first time (do not
        call it); else None."""
        return self.recording.tool_result(call) if self.recording else None

    def record_tool_result(self, call: str, output: str) -> None:
        """A tool the loop ran: its result is stored with the exchange, under its call's key."""
        self._recorder.tool_result(call, output)

    def keep(self, result: Result) -> None:
        """Store the new answer, if the cache is on and it ended normally."""
        if self._cache is not None and self.recording is None and storable(result):
            self._cache.put(*self._key, self._recorder.recording())


def storable(result: Result) -> bool:
    return result.finish_reason in STORED_ENDINGS and result.error is None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _chunk_dict(chunk: StreamChunk) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if chunk.delta:
        out["delta"] = public(chunk.delta)
    if chunk.model:
        out["model"] = chunk.model
    if chunk.finish_reason:
        out["finish_reason"] = chunk.finish_reason
    usage = Usage.coerce(chunk.usage)
    if usage:
        out["usage"] = usage.to_dict()
    if chunk.tool_calls:
        out["tool_calls"] = [public(c.to_dict()) for c in chunk.tool_calls]
    if chunk.reasoning:  # thinking, its pieces and its whole blocks, replayed and sent back as received
        out["reasoning"] = [public(r.to_dict()) | {"index": r.index} for r in chunk.reasoning]
    return out


def _chunk(data: dict[str, Any]) -> StreamChunk:
    calls = data.get("tool_calls")
    return StreamChunk(
        delta=data.get("delta", ""),
        model=data.get("model"),
        finish_reason=data.get("finish_reason"),
        usage=Usage(**data["usage"]) if "usage" in data else None,
        tool_calls=tuple(ToolCall(**c) for c in calls) if calls is not None else None,
        reasoning=tuple(Reasoning.from_dict(r, r.get("index", 0)) for r in data["reasoning"])
        if "reasoning" in data
        else None,
    )
