"""Typed errors whose message is one line that says what to do.

Every message passes through :func:`scrub`, so an API key that an SDK echoes
back (some do, in 401 bodies) never reaches an output, a log or a notebook.
"""

from __future__ import annotations

import os
import re

#: Where each provider's API key is read from, first name first.
PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "google": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}
#: Environment variables whose values are secrets.
KEY_VARIABLES = tuple(v for names in PROVIDER_KEYS.values() for v in names)

_KEYLIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,})")


def scrub(text: str) -> str:
    """Remove API keys (the configured ones, and anything shaped like one)."""
    for var in KEY_VARIABLES:
        value = os.environ.get(var)
        if value and len(value) >= 4:
            text = text.replace(value, f"<{var}>")
    return _KEYLIKE.sub("<redacted key>", text)


class LLMError(Exception):
    """Base of every error this package raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(scrub(" ".join(message.split())))

    @property
    def message(self) -> str:
        return str(self.args[0])

    def _render_traceback_(self) -> list[str]:
        """IPython shows this instead of a traceback: the one line is the whole story."""
        return [f"\x1b[31m{type(self).__name__}\x1b[0m: {self.message}"]


class UsageError(LLMError):
    """The cell or call is malformed: bad option, empty prompt, missing variable."""


class ConfigurationError(LLMError):
    """A name, lockfile or setting is wrong; nothing was sent."""


class UnknownModelError(ConfigurationError):
    """An alias that no lockfile defines, or a provider we have no adapter for."""


class MissingKeyError(ConfigurationError):
    def __init__(self, provider: str, variables: tuple[str, ...]) -> None:
        self.provider = provider
        self.variables = variables
        names = " or ".join(variables)
        super().__init__(
            f"No API key for {provider}: set {names} in the environment, "
            f"or run `%llm key {provider}` to enter it for this session."
        )


class ProviderError(LLMError):
    """The provider answered with an error, before or during the stream."""

    def __init__(self, message: str, *, provider: str = "", status: int | None = None) -> None:
        self.provider = provider
        self.status = status
        super().__init__(message)


class AuthenticationError(ProviderError):
    """Never retried with a fallback model: the next one would fail the same way."""


class ModelNotFoundError(ProviderError):
    pass


class RateLimitError(ProviderError):
    def __init__(
        self, message: str, *, provider: str = "", status: int | None = 429, retry_after: float | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, provider=provider, status=status)


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached (connection refused, DNS, TLS)."""


class StreamTimeoutError(ProviderError):
    """No data arrived for longer than the idle timeout."""
