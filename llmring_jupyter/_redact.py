"""The one rule for what of a request may be written anywhere: no key, no secret.

Provenance metadata, the replay cache and the ``llm`` log all keep a request's
parameters; each keeps them through :func:`public`, so a key passed as a provider
option (``-o api_key=…``) or pasted into a value never reaches a file.
"""

from __future__ import annotations

from typing import Any

from .providers.keys import scrub

SECRET_WORDS = ("key", "secret", "password", "authorization", "credential")


def is_secret(name: str) -> bool:
    """A parameter whose name says it holds a credential (``api_key``, ``client_secret``…)."""
    return any(word in name.lower() for word in SECRET_WORDS)


def public(value: Any) -> Any:
    """``value`` with secret-named entries dropped and key-shaped text scrubbed, at any depth."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items() if not (isinstance(k, str) and is_secret(k))}
    if isinstance(value, list | tuple):
        return [public(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value
