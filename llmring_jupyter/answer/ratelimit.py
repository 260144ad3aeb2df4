"""How many ``--map`` requests fly at once: adaptive, per provider, from what the provider says.

Each provider gets one :class:`Limiter` per session (in its :class:`Pacer`, which the owner of the
answers in flight holds), shared by every run in flight: two runs at once keep to one provider's
limits, and a 429 seen by one holds the other. It starts small and lets one more request fly after
each success, up to the provider's cap (64, or a run's larger ``--concurrency`` while it runs); a
429 (or an overload: 503, 529) halves it and holds every new request for as long as the provider
asked (``retry-after``, Gemini's ``RetryInfo``, else a second). The rate-limit headers each response
carries — OpenAI's ``x-ratelimit-remaining-*`` with resets as durations (``6m0s``), Anthropic's
``anthropic-ratelimit-*-remaining`` with resets as timestamps — say how much room is left: a
request is sent only while the room, refilled at the pace the reset implies, is not used up, so the
limit is met rather than hit. Gemini and Ollama send no such headers; Ollama's queue answers 503
when full, so it gets a small fixed concurrency for all runs at once (more only while a run's
``--concurrency`` asks for more). A run's own ``--concurrency`` is its number of workers: it caps
that run's rows in flight, below the provider's cap.
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
#: How a run's estimate of the tokens one request takes follows what its answers used.
LEARN = 0.2
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


@dataclass(eq=False)
class Limiter:
    """One provider's pace: requests in flight, the current limit, the rooms its headers describe.

    Shared by every run in flight, and kept between runs: runs may use it on different loops (a
    terminal runs each cell on a loop of its own), so each wait is woken on its own loop.
    """

    ceiling: int  # the provider's own cap (:func:`ceiling`)
    fixed: bool = False  # Ollama: no growth, no headers
    limit: int = START
    flying: int = 0
    paused_until: float = 0.0
    rate_limited: int = 0  # 429s (and overloads) received
    requests: Room | None = None
    tokens: Room | None = None
    asked: list[int] = field(default_factory=list)  # the --concurrency of each run in flight here that set one
    _waiting: list[asyncio.Future[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.limit = self.cap if self.fixed else min(START, self.cap)

    @property
    def cap(self) -> int:
        """The most in flight: the provider's, or more while a run in flight asks for more."""
        return max([self.ceiling, *self.asked])

    def join(self, cap: int | None) -> None:
        """A run whose ``--concurrency`` is ``cap`` (None: not set) sends here until it leaves."""
        if cap is not None:
            self.asked.append(cap)
            self._recap()

    def leave(self, cap: int | None) -> None:
        if cap is not None:
            self.asked.remove(cap)
            self._recap()

    def _recap(self) -> None:
        self.limit = self.cap if self.fixed else min(self.limit, self.cap)
        self._wake()

    async def acquire(self, tokens: float = 0.0) -> None:
        """Wait until one more request, estimated to use ``tokens``, has room; take it."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            wait = self._wait(now, tokens)
            if wait == 0.0:
                self.flying += 1
                for room, amount in ((self.requests, 1.0), (self.tokens, tokens)):
                    if room is not None:
                        room.take(amount, now)
                return
            woken = loop.create_future()
            self._waiting.append(woken)
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(None if wait == float("inf") else wait):
                        await woken
            finally:
                self._waiting.remove(woken)

    def _wait(self, now: float, tokens: float = 0.0) -> float:
        """Seconds until a request may start (inf: until one in flight ends)."""
        if now < self.paused_until:
            return self.paused_until - now
        if self.flying >= self.limit:
            return float("inf")
        waits = [0.0]
        if self.requests is not None:
            waits.append(self.requests.wait_for(1.0, now))
        if self.tokens is not None and tokens:
            waits.append(self.tokens.wait_for(tokens, now))
        longest = max(waits)
        return longest if longest == 0.0 else max(longest, 0.01)

    def _wake(self) -> None:
        """Something changed: every waiting request looks again."""
        for woken in self._waiting:
            with contextlib.suppress(RuntimeError):  # its loop closed meanwhile: nobody waits there
                woken.get_loop().call_soon_threadsafe(_settle, woken)

    def release(self, error: BaseException | None, ok: bool) -> None:
        """A request ended: ``ok`` it streamed to its end; ``error`` what it raised, if anything."""
        self.flying -= 1
        if backs_off(error):
            assert isinstance(error, ProviderError)
            self.back_off(error.retry_after)
        elif ok and not self.fixed and self.limit < self.cap:
            self.limit += 1
        self._wake()

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
        self._wake()


def ceiling(provider: str) -> int:
    """A provider's own cap on requests in flight, when no run asks for more."""
    return OLLAMA if provider == "ollama" else DEFAULT_CAP


def backs_off(error: BaseException | None) -> bool:
    """Whether a request that raised ``error`` says to slow down: a 429, or an overload."""
    return isinstance(error, ProviderError) and (isinstance(error, RateLimitError) or error.status in _BACK_OFF)


def _settle(woken: asyncio.Future[None]) -> None:
    if not woken.done():
        woken.set_result(None)


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
    """A session's pace: one :class:`Limiter` per provider, shared by every run in flight."""

    def __init__(self) -> None:
        self.limiters: dict[str, Limiter] = {}
        self._running: dict[asyncio.Task[Any], Limiter] = {}

    def limiter(self, provider: str) -> Limiter:
        if provider not in self.limiters:
            self.limiters[provider] = Limiter(ceiling(provider), fixed=provider == "ollama")
        return self.limiters[provider]

    @contextlib.asynccontextmanager
    async def attempt(self, provider: str, pace: Pace) -> AsyncIterator[None]:
        limiter = self.limiter(provider)
        if provider not in pace.joined:
            pace.joined.add(provider)
            limiter.join(pace.cap)
        await limiter.acquire(pace.per_request)
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
            if backs_off(exc):
                pace.rate_limited += 1
            raise
        finally:
            if task is not None:
                self._running.pop(task, None)
            limiter.release(error, ok)

    def heard(self, task: asyncio.Task[Any] | None, status: int, headers: Mapping[str, str]) -> None:
        limiter = self._running.get(task) if task is not None else None
        if limiter is not None:
            limiter.heard(headers)


@dataclass(eq=False)
class Pace:
    """One run's way through its session's :class:`Pacer` (the :class:`~..providers.pacing.Pacer`
    its answers see): the shared limiters, with the run's own estimate of what a request takes and
    its own count of the 429s its requests got."""

    pacer: Pacer
    cap: int | None  # the run's --concurrency
    per_request: float  # tokens one request is estimated to use (input + expected output)
    rate_limited: int = 0
    joined: set[str] = field(default_factory=set)  # the providers whose limiter counts its cap

    def attempt(self, provider: str) -> contextlib.AbstractAsyncContextManager[None]:
        return self.pacer.attempt(provider, self)

    def heard(self, task: asyncio.Task[Any] | None, status: int, headers: Mapping[str, str]) -> None:
        self.pacer.heard(task, status, headers)

    def leave(self) -> None:
        """The run ended: its ``--concurrency`` no longer raises any provider's cap."""
        for provider in self.joined:
            self.pacer.limiters[provider].leave(self.cap)
        self.joined.clear()

    def used(self, tokens: int) -> None:
        """An answer of the run used ``tokens``: the estimate for its next requests follows."""
        self.per_request = (1 - LEARN) * self.per_request + LEARN * tokens
