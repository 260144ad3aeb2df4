"""API keys: where each provider's key is read from, and keeping keys out of text.

One source for the order of a provider's key variables: the adapters read keys
with :func:`find`, and the commands that report and enter keys use the same
variables in the same order.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple

#: Where each provider's API key is read from, first name first. A provider not
#: listed needs no key.
PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "google": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}
#: Environment variables whose values are secrets.
KEY_VARIABLES = tuple(v for names in PROVIDER_KEYS.values() for v in names)

#: The shapes of known keys: OpenAI and Anthropic (``sk-…``, ``sk-ant-…``), Google (``AIza…``),
#: Hugging Face (``hf_…``), GitHub (``ghp_…``, ``github_pat_…``), AWS (``AKIA…``), and a bearer token
#: (long, with a digit: ``Bearer YOUR_API_KEY`` in an answer is text, not a key).
_KEYLIKE = re.compile(
    r"\b(sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|hf_[A-Za-z0-9]{30,}|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|github_pat_[A-Za-z0-9_]{30,}|AKIA[0-9A-Z]{16})\b|\bBearer\s+(?=[A-Za-z._~+/\-]*\d)[A-Za-z0-9._~+/\-]{20,}=*"
)


class Key(NamedTuple):
    variable: str  # where it was found: named in errors, never the value
    value: str


def find(provider: str) -> Key | None:
    """The provider's key from the first of its variables that is set, if any."""
    for variable in PROVIDER_KEYS.get(provider, ()):
        if value := os.environ.get(variable, "").strip():
            return Key(variable, value)
    return None


def scrub(text: str) -> str:
    """Remove API keys (the configured ones, and anything shaped like one)."""
    for var in KEY_VARIABLES:
        value = os.environ.get(var)
        if value and len(value) >= 4:
            text = text.replace(value, f"<{var}>")
    return _KEYLIKE.sub("<redacted key>", text)
