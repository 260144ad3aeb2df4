"""Every error this package raises on purpose, in one tree; and how a notebook shows them.

Catch :class:`LLMError` for all of them, or a branch::

    LLMError
    ├── ConfigurationError
    │   ├── MissingKeyError
    │   ├── UnknownModelError
    │   ├── UnsupportedInputError
    │   └── UnsupportedThinkingError
    ├── ProviderError
    │   ├── AuthenticationError
    │   ├── BatchError
    │   ├── ModelNotFoundError
    │   ├── ProviderUnavailableError
    │   ├── RateLimitError
    │   ├── RouteNotFoundError
    │   └── StreamTimeoutError
    ├── UsageError
    │   ├── BudgetError
    │   └── SchemaError
    ├── AnswerMismatch
    ├── Interrupted
    ├── MCPServerError
    └── StepLimitError

ConfigurationError's and ProviderError's branches are the provider layer's, defined in
``providers/`` and re-exported here.

The provider layer raises typed errors that know nothing of Jupyter; this is where
they get the notebook's next step (``%llm key``, ``%config LLMMagics…``) and where
IPython is told to show any of our errors as that one line instead of a traceback.
"""

from __future__ import annotations

from .providers.errors import (
    AuthenticationError,
    BatchError,
    ConfigurationError,
    LLMError,
    MissingKeyError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    RouteNotFoundError,
    StreamTimeoutError,
    UnknownModelError,
    UnsupportedInputError,
    UnsupportedThinkingError,
)
from .providers.keys import PROVIDER_KEYS

__all__ = [
    "AnswerMismatch",
    "AuthenticationError",
    "BatchError",
    "BudgetError",
    "ConfigurationError",
    "Interrupted",
    "LLMError",
    "MCPServerError",
    "MissingKeyError",
    "ModelNotFoundError",
    "ProviderError",
    "ProviderUnavailableError",
    "RateLimitError",
    "RouteNotFoundError",
    "SchemaError",
    "StepLimitError",
    "StreamTimeoutError",
    "UnknownModelError",
    "UnsupportedInputError",
    "UnsupportedThinkingError",
    "UsageError",
]


class UsageError(LLMError):
    """The cell or call is malformed: bad option, empty prompt, missing variable."""


class StepLimitError(LLMError):
    """The model still wanted tools after ``--max-steps`` requests; the exchange so far is kept."""


class Interrupted(LLMError):
    """The kernel was interrupted mid-answer; raised after the partial text is kept."""


class SchemaError(UsageError):
    """A type or a function signature that no JSON Schema can describe; nothing was sent."""


class BudgetError(UsageError):
    """A question would pass the budget; nothing was sent."""


class MCPServerError(LLMError):
    """An MCP server did not start, refused, died mid-call or did not answer in time."""


class AnswerMismatch(LLMError):
    """The answer is not valid JSON, does not fit its schema, or was cut before its JSON ended."""


def advise(exc: LLMError) -> LLMError:
    """Add the notebook's next step to ``exc``, and return it."""
    if isinstance(exc, MissingKeyError):
        exc.append(f"Or run `%llm key {exc.provider}` to enter it for this session only")
    elif isinstance(exc, AuthenticationError) and exc.provider in PROVIDER_KEYS:
        exc.append(f"Or run `%llm key {exc.provider}` to enter another")
    elif isinstance(exc, StreamTimeoutError):
        exc.append("To allow longer silences, raise `%config LLMMagics.idle_timeout`")
    return exc


def one_line(exc: LLMError) -> list[str]:
    """What IPython shows for our errors: the one line is the whole story."""
    return [f"\x1b[31m{type(exc).__name__}\x1b[0m: {exc.message}"]


def install() -> None:
    """Show every :class:`LLMError` as one line (IPython asks ``_render_traceback_``)."""
    LLMError._render_traceback_ = one_line  # type: ignore[attr-defined]
