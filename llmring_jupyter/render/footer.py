"""The footer under an answer: model, how it ended, usage, timing and cost, in one line."""

from __future__ import annotations

import datetime

from ..result import Result
from .rules import STYLES

#: Inline, so the footer looks the same where no stylesheet of ours is loaded (a saved notebook,
#: nbconvert, GitHub); the live view's status bar has the same style, so nothing moves at the switch.
FOOTER_STYLE = STYLES["footer"]

_ENDINGS = {
    "stop": "",
    "tool_calls": "asked for a tool",
    "length": "⚠ truncated: max tokens reached",
    "content_filter": "⚠ blocked by the provider's content filter",
    "incomplete": "⚠ incomplete: the stream ended without its end marker",
    "error": "✗ failed",
}


def footer_text(result: Result) -> str:
    """The footer's words, the same in HTML, plain text and transcripts."""
    return " · ".join(_parts(result))


def _ending(result: Result) -> str:
    """How the answer ended, in words a user reads at a glance."""
    if result.finish_reason == "cancelled":
        return "■ interrupted" if result.interrupted else "■ stopped"
    return _ENDINGS.get(result.finish_reason, result.finish_reason)


def _parts(result: Result) -> list[str]:
    # a stopped answer says so once ("■ stopped"), not also as the word "cancelled"
    parts = [result.model or result.requested]
    if result.finish_reason != "cancelled":
        parts.append(result.finish_reason)
    u = result.usage
    about = "~" if u and u.estimated else ""  # counted by us, not the provider
    if u:  # thinking apart from the answer's tokens (it is part of completion_tokens, and priced as them)
        thought = u.reasoning_tokens or 0
        spent = f"{about}{thought:,} reasoning · " if thought else ""
        parts.append(
            f"{about}{u.prompt_tokens:,} in · {spent}{about}{u.completion_tokens - thought:,} out · "
            f"{about}{u.total_tokens:,} tokens"
        )
    if result.tool_calls:
        calls = len(result.tool_calls)
        parts.append(f"{result.steps} steps · {calls} tool call{'s' if calls != 1 else ''}")
    t = result.timings
    if t.import_s >= 0.05:  # the SDK was still loading: shown apart, never inside "first token"
        parts.append(f"SDK import {t.import_s:.2f} s")
    if t.first_token is not None:
        parts.append(f"first token {t.first_token:.2f} s")
    parts.append(f"{t.total:.2f} s")
    speed = t.tokens_per_second(u.completion_tokens if u and not u.estimated else 0)
    if speed:
        parts.append(f"{speed:.0f} tok/s")
    if result.cost is not None:
        parts.append(about + dollars(result.cost))
    if result.retries:
        reasons = ", ".join(dict.fromkeys(r.reason for r in result.retries))
        parts.append(f"{result.attempts} attempts ({reasons})")
    if result.dropped_turns:
        s = "s" if result.dropped_turns > 1 else ""
        parts.append(f"{result.dropped_turns} earlier turn{s} left out (history limit)")
    if note := _ending(result):
        parts.append(note)
    parts += [n for n in (_replayed(result), budget_note(result)) if n]
    return parts + list(result.notices)


def dollars(amount: float) -> str:
    """US dollars as the footer, the usage table and the budget write them: cents and below to 1/100 ¢."""
    return f"${amount:.4f}" if amount < 1 else f"${amount:.2f}"


def _replayed(result: Result) -> str | None:
    """'replayed · first answered <when> by <model>' for a replayed answer, else None."""
    origin = result.replayed
    if origin is None:
        return None
    when = datetime.datetime.fromtimestamp(origin.answered_at).strftime("%Y-%m-%d %H:%M")
    return f"replayed · first answered {when} by {origin.model or result.requested}"


def budget_note(result: Result) -> str | None:
    """Why the budget stopped this answer (the first part of its error), else None."""
    stopped = result.finish_reason == "cancelled" and not result.interrupted
    return result.error.split(";", 1)[0] if stopped and result.error else None
