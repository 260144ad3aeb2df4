"""How many requests a ``--map`` keeps in flight: adaptive, per provider, from what the provider says.

Each provider gets a :class:`Limiter`. It starts small and lets one more request fly after each
success, up to the cap (``--concurrency``); a 429 (or an overload: 503, 529) halves it and holds
every new request for as long as the provider asked (``retry-after``, Gemini's ``RetryInfo``, else a
second). The rate-limit headers each response carries — OpenAI's ``x-ratelimit-remaining-*`` with
resets as durations (``6m0s``), Anthropic's ``anthropic-ratelimit-*-remaining`` with resets as
timestamps — say how much room is left: a request is sent only while the room, refilled at the
pace the reset implies, is not used up, so the limit is met rather than hit. Gemini and Ollama send
no such headers; Ollama's queue answers 503 when full, so it gets a small fixed concurrency.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..providers.errors import ProviderError, RateLimitError

START = 4  # requests in flight at first, before any has succeeded
DEFAULT_CAP = 64  # at most, unless --concurrency / %config LLMMagics.map_concurrency says
OLLAMA = 4  # a local server answers one request at a time per model: more only queue
DEFAULT_PAUSE = 1.0  # seconds to hold after a 429 that names no wait
MAX_PAUSE = 120.0  # the longest hold a provider's answer can ask for
_BACK_OFF = (429, 503, 529)
#: The refill pace a reset implies is rounded (to the millisecond, the request): counting on a
#: little less keeps the requests just inside the limit rather than on it.
PACE_MARGIN = 0.98


@dataclass
class Room:
    """One rate limit (requests or tokens) as a bucket: what the last response said was left,
    refilled at the pace its reset implies, less what was sent since."""

    level: float  # left at ``at``
    size: float | None  # the bucket when full (the limit), if said
    rate: float | None  # refill per second; None: unknown, full (unbounded) again at ``full_at``
    at: float  # loop time
    full_at: float

    @classmethod
    def said(cls, remaining: float, limit: float | None, reset_in: float, now: float) -> Room:
        rate = None
        if limit is not None and limit > remaining and reset_in > 0:
            rate = (limit - remaining) / reset_in * PACE_MARGIN
        elif limit is not None:
            rate = limit / 60 * PACE_MARGIN  # full now: limits are per minute
        return cls(remaining, limit, rate, now, now + reset_in)

    def left(self, now: float) -> float:
        if self.rate is None:
            return float("inf") if now >= self.full_at else self.level
        return min(self.size if self.size is not None else float("inf"), self.level + self.rate * (now - self.at))

    def take(self, amount: float, now: float) -> None:
        self.level, self.at = self.left(now) - amount, now

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds until ``amount`` is left (0: now)."""
        short = amount - self.left(now)
        if short <= 0:
            return 0.0
        if self.rate is None:
            return max(0.0, self.full_at - now)
        return short / self.rate


@dataclass
class Limiter:
    """One provider's pace: requests in flight, the current limit, the rooms its headers describe."""

    cap: int
    fixed: bool = False  # Ollama: no growth, no headers
    limit: int = START
    flying: int = 0
    paused_until: float = 0.0
    rate_limited: int = 0  # 429s (and overloads) received
    requests: Room | None = None
    tokens: Room | None = None
    per_request: float = 0.0  # tokens one request is estimated to use (input + expected output)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.limit = self.cap if self.fixed else min(START, self.cap)

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            wait = self._wait(now)
            if wait == 0.0:
                self.flying += 1
                for room, amount in ((self.requests, 1.0), (self.tokens, self.per_request)):
                    if room is not None:
                        room.take(amount, now)
                return
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(None if wait == float("inf") else wait):
                    await self._changed.wait()

    def _wait(self, now: float) -> float:
        """Seconds until a request may start (inf: until one in flight ends)."""
        if now < self.paused_until:
            return self.paused_until - now
        if self.flying >= self.limit:
            return float("inf")
        waits = [0.0]
        if self.requests is not None:
            waits.append(self.requests.wait_for(1.0, now))
        if self.tokens is not None and self.per_request:
            waits.append(self.tokens.wait_for(self.per_request, now))
        longest = max(waits)
        return longest if longest == 0.0 else max(longest, 0.01)

    def release(self, error: BaseException | None, ok: bool) -> None:
        """A request ended: ``ok`` it streamed to its end; ``error`` what it raised, if anything."""
        self.flying -= 1
        if isinstance(error, ProviderError) and (isinstance(error, RateLimitError) or error.status in _BACK_OFF):
            self.back_off(error.retry_after)
        elif ok and not self.fixed and self.limit < self.cap:
            self.limit += 1
        self._changed.set()

    def back_off(self, wait: float | None) -> None:
        """A 429 or an overload: half as many in flight, and nothing new for ``wait`` seconds."""
        self.rate_limited += 1
        if not self.fixed:
            self.limit = max(1, self.limit // 2)
        now = asyncio.get_running_loop().time()
        pause = min(MAX_PAUSE, wait if wait is not None else DEFAULT_PAUSE)
        self.paused_until = max(self.paused_until, now + pause)

    def heard(self, headers: Mapping[str, str]) -> None:
        """A response's rate-limit headers: the room left for requests and for tokens."""
        now = asyncio.get_running_loop().time()
        requests, tokens = rooms(headers, now)
        self.requests = _merge(self.requests, requests, now)
        self.tokens = _merge(self.tokens, tokens, now)
        self._changed.set()


def _merge(known: Room | None, said: Room | None, now: float) -> Room | None:
    """The room to go by: what a response said, unless it agrees with the running estimate.

    Headers are whole numbers (0.9 requests left reads "0") and responses may arrive out of order,
    so taking each one as it comes would throw away the fraction refilled and act on stale counts;
    the estimate is corrected only where the provider's count differs by more than that.
    """
    if said is None or known is None:
        return said or known
    estimate = known.left(now)
    slack = max(2.0, 0.05 * (said.size or 0.0))
    return said if said.level < estimate - 1 or said.level > estimate + slack else known


def rooms(headers: Mapping[str, str], now: float) -> tuple[Room | None, Room | None]:
    """The request and token rooms OpenAI's or Anthropic's headers describe (None: not said)."""
    found: list[Room | None] = []
    for kind in ("requests", "tokens"):
        for remaining, limit, reset in (
            (f"x-ratelimit-remaining-{kind}", f"x-ratelimit-limit-{kind}", f"x-ratelimit-reset-{kind}"),
            (
                f"anthropic-ratelimit-{kind}-remaining",
                f"anthropic-ratelimit-{kind}-limit",
                f"anthropic-ratelimit-{kind}-reset",
            ),
        ):
            left = _number(headers.get(remaining))
            if left is not None:
                said = reset_seconds(headers.get(reset))
                if said is None:
                    said = _number(headers.get("retry-after")) or DEFAULT_PAUSE
                found.append(Room.said(left, _number(headers.get(limit)), said, now))
                break
        else:
            found.append(None)
    return found[0], found[1]


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def reset_seconds(value: str | None) -> float | None:
    """A reset as seconds from now: OpenAI's duration (``6m0s``, ``1.5s``, ``20ms``) or Anthropic's
    RFC 3339 timestamp."""
    if not value:
        return None
    value = value.strip()
    parts = _DURATION.findall(value)
    if parts and "".join(n + u for n, u in parts) == value:
        scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
        return sum(float(n) * scale[u] for n, u in parts)
    try:
        when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return _number(value)
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class Pacer:
    """The :class:`~.providers.pacing.Pacer` of one ``--map`` run: a :class:`Limiter` per provider."""

    def __init__(self, cap: int | None, per_request: float = 0.0) -> None:
        self.cap = cap
        self.per_request = per_request
        self.limiters: dict[str, Limiter] = {}
        self._running: dict[asyncio.Task[Any], Limiter] = {}

    def limiter(self, provider: str) -> Limiter:
        if provider not in self.limiters:
            fixed = provider == "ollama"
            cap = self.cap or (OLLAMA if fixed else DEFAULT_CAP)
            self.limiters[provider] = Limiter(cap, fixed=fixed, per_request=self.per_request)
        return self.limiters[provider]

    @property
    def rate_limited(self) -> int:
        return sum(limiter.rate_limited for limiter in self.limiters.values())

    @contextlib.asynccontextmanager
    async def attempt(self, provider: str) -> AsyncIterator[None]:
        limiter = self.limiter(provider)
        await limiter.acquire()
        task = asyncio.current_task()
        if task is not None:
            self._running[task] = limiter
        error: BaseException | None = None
        ok = False
        try:
            yield
            ok = True
        except BaseException as exc:
            error = exc
            raise
        finally:
            if task is not None:
                self._running.pop(task, None)
            limiter.release(error, ok)

    def heard(self, task: asyncio.Task[Any] | None, status: int, headers: Mapping[str, str]) -> None:
        limiter = self._running.get(task) if task is not None else None
        if limiter is not None:
            limiter.heard(headers)
