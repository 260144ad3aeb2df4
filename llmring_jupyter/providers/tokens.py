"""Token counts when a provider gives none: a provider-neutral estimate."""

from __future__ import annotations


def estimate_tokens(text: str) -> int:
    """About four characters a token: close enough for budgets and a marked estimate."""
    return max(1, (len(text) + 3) // 4) if text else 0
