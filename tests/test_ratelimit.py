"""The --map rate limiter: providers' reset formats read right, the cap held, a 429 backed off."""

from __future__ import annotations

import asyncio
import contextlib
import datetime

import pytest

from llmring_jupyter.answer.ratelimit import OLLAMA, Limiter, Pace, Pacer, reset_seconds, rooms
from llmring_jupyter.providers.errors import RateLimitError


@pytest.mark.parametrize(
    ("said", "seconds"),
    [("6m0s", 360.0), ("1.5s", 1.5), ("20ms", 0.02), ("1h2m3s", 3723.0), ("0.250s", 0.25), ("12", 12.0)],
)
def test_openai_resets_are_durations(said: str, seconds: float) -> None:
    assert reset_seconds(said) == pytest.approx(seconds)


def test_anthropic_resets_are_timestamps() -> None:
    when = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=30)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert 28 <= (reset_seconds(stamp) or 0) <= 30


async def _rooms(headers: dict[str, str]) -> tuple[float | None, float | None]:
    requests, tokens = rooms(headers, asyncio.get_running_loop().time())
    now = asyncio.get_running_loop().time()
    return (requests.left(now) if requests else None, tokens.left(now) if tokens else None)


def test_the_room_left_is_read_from_either_providers_headers() -> None:
    openai = {
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-remaining-tokens": "1000",
    }
    anthropic = {"anthropic-ratelimit-requests-remaining": "3", "anthropic-ratelimit-tokens-remaining": "400"}
    assert asyncio.run(_rooms(openai))[0] == pytest.approx(59, abs=0.5)
    assert asyncio.run(_rooms(anthropic)) == (3.0, 400.0)
    assert asyncio.run(_rooms({"retry-after": "2"})) == (None, None)  # Gemini, Ollama: nothing said


async def _most_at_once(pace: Pace, attempts: int) -> int:
    """The most of ``attempts`` requests to Ollama that ``pace`` let fly at once (all end)."""
    flying = most = done = 0

    async def one() -> None:
        nonlocal flying, most, done
        async with pace.attempt("ollama"):
            flying += 1
            most = max(most, flying)
            await asyncio.sleep(0.01)
            flying -= 1
        done += 1

    await asyncio.gather(*(one() for _ in range(attempts)))
    assert done == attempts
    return most


def test_the_providers_cap_holds_and_a_run_asking_for_more_raises_it_only_while_it_runs() -> None:
    async def main() -> tuple[int, int, int]:
        pacer = Pacer()
        plain = await _most_at_once(Pace(pacer, None, 0.0), 12)
        wide = Pace(pacer, OLLAMA + 2, 0.0)  # --concurrency 6: the user's server answers more at once
        raised = await _most_at_once(wide, 12)
        wide.leave()
        return plain, raised, await _most_at_once(Pace(pacer, None, 0.0), 12)

    assert asyncio.run(main()) == (OLLAMA, OLLAMA + 2, OLLAMA)


def test_each_run_counts_its_own_429s_and_the_providers_pause_holds_every_run() -> None:
    async def main() -> tuple[int, int, bool]:
        pacer = Pacer()
        hit, other = Pace(pacer, None, 0.0), Pace(pacer, None, 0.0)
        with contextlib.suppress(RateLimitError):
            async with hit.attempt("openai"):
                raise RateLimitError("slow down", retry_after=30.0)
        now = asyncio.get_running_loop().time()
        return hit.rate_limited, other.rate_limited, pacer.limiter("openai")._wait(now) > 25

    assert asyncio.run(main()) == (1, 0, True)


def test_a_429_halves_the_requests_in_flight_and_holds_new_ones_as_long_as_asked() -> None:
    async def main() -> tuple[int, int, bool, bool]:
        limiter = Limiter(16)
        for _ in range(8):  # eight successes: one more in flight after each
            await limiter.acquire()
            limiter.release(None, ok=True)
        grown = limiter.limit
        await limiter.acquire()
        limiter.release(RateLimitError("slow down", retry_after=30.0), ok=False)
        now = asyncio.get_running_loop().time()
        return grown, limiter.limit, limiter._wait(now) > 25, limiter.rate_limited == 1

    assert asyncio.run(main()) == (12, 6, True, True)


def test_headers_saying_nothing_is_left_hold_requests_until_the_room_refills() -> None:
    async def main() -> bool:
        limiter = Limiter(16)
        limiter.heard(
            {
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-limit-requests": "60",
                "x-ratelimit-reset-requests": "60s",
            },
        )
        return limiter._wait(asyncio.get_running_loop().time()) > 0.5  # one request refills in about 1 s

    assert asyncio.run(main())
