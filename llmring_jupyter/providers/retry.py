"""When a failed request is worth making again, and how long to wait first.

Only failures before the first token are retried (once text has been shown, a
second request would splice two answers), and only those that another attempt
can heal: rate limits, overloaded or failing servers, connections that failed or
were cut before an answer, silence before the first byte. A rejected key, a
missing model or a malformed request (400, 401, 403, 404) fails at once.

Waits grow exponentially with full jitter (so many clients retrying do not march in
step) and honour the provider's own ``retry-after`` / ``retry-after-ms`` / Gemini
``retryDelay`` up to :data:`MAX_RETRY_AFTER`: a provider asking for longer is not
waited for; the error says when to try again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import LLMError, ProviderError, ProviderUnavailableError, RateLimitError, StreamTimeoutError

#: Retries after the first attempt. Two, like the OpenAI and Anthropic SDKs: enough for the
#: common blips (a 429 burst, a 529 "overloaded", a reset connection) in a few seconds, while a
#: user watching the cell, or a fallback model in the lockfile, is not kept waiting for long.
DEFAULT_RETRIES = 2
BASE_DELAY = 0.5  # seconds before the first retry when the provider does not say
MAX_DELAY = 8.0  # backoff never waits longer than this
MAX_RETRY_AFTER = 20.0  # the longest provider-requested wait that is honoured

_OVERLOADED = (503, 529)


@dataclass(frozen=True)
class Retry:
    """One failed attempt that is made again: what failed, and how long is waited first."""

    model: str  # provider:model that failed
    reason: str  # "rate limited", "overloaded", "server error (HTTP 500)", "connection failed", "no answer"
    attempt: int  # the attempt about to be made, from 2
    attempts: int  # the most attempts there will be
    wait: float  # seconds waited before it

    def to_dict(self) -> dict[str, object]:
        return {"model": self.model, "reason": self.reason, "attempt": self.attempt, "wait_s": round(self.wait, 3)}


@dataclass
class AttemptLog:
    """The attempts of one answer as they happen: routing tells, the consumer listens.

    ``sent_at`` is when the last request was sent (``time.perf_counter()``), so time to
    first token counts the provider's latency, not our imports or retry waits;
    ``import_s`` is how long importing the SDK took before it. A listener is called
    with each :class:`Retry` when its wait begins, and with ``None`` when a request is
    sent.
    """

    retries: list[Retry] = field(default_factory=list)
    sent_at: float | None = None
    import_s: float = 0.0
    model: str | None = None  # the provider:model of the last request
    listeners: list[Callable[[Retry | None], None]] = field(default_factory=list)

    def sending(self, model: str, import_s: float) -> None:
        self.sent_at, self.model = time.perf_counter(), model
        self.import_s += import_s
        for listener in self.listeners:
            listener(None)

    def waiting(self, retry: Retry) -> None:
        self.retries.append(retry)
        for listener in self.listeners:
            listener(retry)


def reason(error: LLMError) -> str | None:
    """Why ``error`` is worth another attempt, in a few words; None if it is not."""
    if isinstance(error, RateLimitError):
        return "rate limited"
    if isinstance(error, StreamTimeoutError):
        return "no answer"
    if isinstance(error, ProviderUnavailableError):
        return "connection failed"
    if isinstance(error, ProviderError) and error.status is not None:
        if error.status in _OVERLOADED:
            return "overloaded"
        if error.status >= 500 or error.status == 408:
            return f"server error (HTTP {error.status})"
    return None


def delay(error: LLMError, retry_number: int, rng: Callable[[], float] = random.random) -> float | None:
    """Seconds to wait before retry ``retry_number`` (1 for the first); None: do not retry."""
    asked: float | None = getattr(error, "retry_after", None)
    if asked is not None:
        if asked > MAX_RETRY_AFTER:
            return None  # the provider wants a long pause: say so rather than sit in it
        return max(asked, 0.0) + 0.1 * rng()  # a little jitter, never earlier than asked
    ceiling: float = min(MAX_DELAY, BASE_DELAY * 2 ** (retry_number - 1))
    return ceiling * (0.5 + 0.5 * rng())  # "equal jitter": never instant, never in step


def retry_status(retry: Retry) -> dict[str, object]:
    """What the live view needs to count a retry's wait down."""
    return {"reason": retry.reason, "attempt": retry.attempt, "attempts": retry.attempts, "seconds": retry.wait}


def retry_line(retry: Retry) -> str:
    """``rate limited — retrying in 2 s, attempt 2 of 3``: the words the live view shows."""
    seconds = f"{retry.wait:.0f}" if retry.wait >= 1 else f"{retry.wait:.1f}"
    return f"{retry.reason} — retrying in {seconds} s, attempt {retry.attempt} of {retry.attempts}"
