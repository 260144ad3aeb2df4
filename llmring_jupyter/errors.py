"""Errors as a notebook user meets them: one line, with the command or setting that helps.

The provider layer raises typed errors that know nothing of Jupyter; this is where
they get the notebook's next step (``%llm key``, ``%config LLMMagics…``) and where
IPython is told to show any of our errors as that one line instead of a traceback.
"""

from __future__ import annotations

from .providers.errors import AuthenticationError, LLMError, MissingKeyError, StreamTimeoutError
from .providers.keys import PROVIDER_KEYS


class UsageError(LLMError):
    """The cell or call is malformed: bad option, empty prompt, missing variable."""


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
