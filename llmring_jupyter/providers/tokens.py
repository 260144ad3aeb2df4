"""Token counts when a provider gives none: a provider-neutral estimate, marked as one."""

from __future__ import annotations

from collections.abc import Iterable

from .images import part_tokens
from .types import Message, Usage

#: What a message costs besides its text (role and separators), about as providers count it.
PER_MESSAGE = 4


def estimate_tokens(text: str) -> int:
    """About four characters a token: close enough for budgets and a marked estimate."""
    return max(1, (len(text) + 3) // 4) if text else 0


def estimate_prompt(messages: Iterable[Message]) -> int:
    """Text, per-message overhead, and each image or document (see :func:`.images.part_tokens`)."""
    return sum(estimate_tokens(m.content) + PER_MESSAGE + sum(map(part_tokens, m.attachments)) for m in messages)


def estimate_usage(messages: Iterable[Message], answer: str, counted: Usage | None = None) -> Usage:
    """The usage of an answer whose provider sent none at its end (a cut stream, a server that
    ignores ``stream_options``): estimated, and marked so (the footer shows ``~``). The input
    the provider ``counted`` before it broke off is its own count, kept."""
    if counted is None:
        return Usage.of(estimate_prompt(messages), estimate_tokens(answer), estimated=True)
    cached = {"cached_tokens": counted.cached_tokens, "cache_creation_tokens": counted.cache_creation_tokens}
    return Usage.of(counted.prompt_tokens, estimate_tokens(answer), **cached, estimated=True)
