"""Typed errors whose message is one line that says what to do.

Every message passes through :func:`~.keys.scrub`, so an API key that an SDK
echoes back (some do, in 401 bodies) never reaches an output, a log or a
notebook. How a frontend lets the user act on an error (a command, a setting)
is not known here: it adds that with :meth:`LLMError.append`.
"""

from __future__ import annotations

from .keys import scrub


def sentences(*parts: str) -> str:
    """Join sentences with one full stop each: no "key.. Check", no empty parts."""
    out = []
    for part in parts:
        part = part.strip()
        if part:
            out.append(part if part[-1] in ".!?" else part.rstrip(",;:") + ".")
    return " ".join(out)


class LLMError(Exception):
    """Base of every error this package raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(scrub(" ".join(message.split())))

    @property
    def message(self) -> str:
        return str(self.args[0])

    def append(self, sentence: str) -> None:
        """Add a sentence: how often it was tried, or what the user can do where it is shown."""
        if sentence in self.message:  # raised twice: said once
            return
        self.args = (scrub(sentences(self.message, sentence)),)


class ConfigurationError(LLMError):
    """A name, lockfile or setting is wrong; nothing was sent."""


class UnknownModelError(ConfigurationError):
    """An alias that no lockfile defines, or a provider we have no adapter for."""


class UnsupportedInputError(ConfigurationError):
    """The model cannot take an image or a document the request carries."""


class UnsupportedThinkingError(ConfigurationError):
    """A ``--think`` level the model cannot take; nothing was sent."""


class MissingKeyError(ConfigurationError):
    def __init__(self, provider: str, variables: tuple[str, ...]) -> None:
        self.provider = provider
        self.variables = variables
        super().__init__(f"No API key for {provider}: set {' or '.join(variables)} in the environment.")


class ProviderError(LLMError):
    """The provider answered with an error, before or during the stream."""

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        said: str = "",
    ) -> None:
        self.provider = provider
        self.status = status
        self.retry_after = retry_after  # seconds the provider asked us to wait, if it said
        self.said = said  # the provider's own words, where a caller knows better what they mean
        super().__init__(message)


class AuthenticationError(ProviderError):
    """Never retried with a fallback model: the next one would fail the same way."""

    def __init__(
        self, message: str, *, provider: str = "", status: int | None = None, key_variable: str | None = None
    ) -> None:
        self.key_variable = key_variable  # the variable whose key was refused, if a key was sent
        super().__init__(message, provider=provider, status=status)


class ModelNotFoundError(ProviderError):
    pass


class RouteNotFoundError(ProviderError):
    """A 404 for the API route itself, not the model: a wrong base URL or API version."""


class RateLimitError(ProviderError):
    def __init__(
        self, message: str, *, provider: str = "", status: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, provider=provider, status=status, retry_after=retry_after)


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached (connection refused, DNS, TLS)."""


#: Seconds a stream may stay silent before it fails with :class:`StreamTimeoutError`.
DEFAULT_IDLE_TIMEOUT = 60.0


class StreamTimeoutError(ProviderError):
    """No data arrived for longer than the idle timeout."""


class BatchError(ProviderError):
    """A batch could not be built, submitted or read (a request too large for any batch, an
    upload refused); what was already submitted or finished is kept."""
