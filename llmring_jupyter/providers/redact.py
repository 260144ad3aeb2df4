"""The one rule for what of a request may be written anywhere: no key, no secret.

Provenance metadata, the replay cache, the ``llm`` log, ``--dry-run`` and
``%llm export`` all pass what they show or keep through :func:`public`, so a key
passed as a provider option (``-o api_key=…``), sent in a header, or pasted into a
value never reaches a file or an output. A value is secret by the name it is given
(the names of credentials, not every name holding "key": ``keyword`` and
``key_points`` are data) or by its shape (:func:`~.providers.keys.scrub`).
"""

from __future__ import annotations

import re
from typing import Any

from .keys import scrub

#: What stands in for a value given under a credential's name.
REDACTED = "<redacted>"

#: Names of credentials, as a whole name or its last words (``openai_api_key``, ``client_secret``).
CREDENTIAL_NAMES = frozenset(
    {
        "api_key",
        "apikey",
        "access_key",
        "secret_key",
        "private_key",
        "authorization",
        "token",
        "secret",
        "password",
        "passwd",
        "passphrase",
        "credential",
        "credentials",
        "cookie",
    }
)
_WORDS = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|[-\s.]+")


def is_secret(name: str) -> bool:
    """A name that says its value is a credential (``api_key``, ``X-Api-Key``, ``Authorization``, ``accessToken``)."""
    words = _WORDS.sub("_", name.strip()).lower()
    return any(words == n or words.endswith(f"_{n}") for n in CREDENTIAL_NAMES)


def public(value: Any) -> Any:
    """``value`` with credential-named values replaced and key-shaped text scrubbed, at any depth.

    Under a credential's name a mapping is still walked (a JSON schema's ``password``
    property is a schema, not a password); anything else is replaced by ``REDACTED``.
    """
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and is_secret(k) and not isinstance(v, dict) else public(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [public(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value
