"""Ask from Python code: ``await chat(...)`` in a notebook, ``chat_sync(...)`` in a script.

Both go through the same session as ``%%llm`` (the one ``%load_ext`` made),
so a loop in code continues the notebook's conversation, streams into the
same live view and records its turns like cells do.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ._blocking import run_blocking
from .display import TerminalOutput, WidgetOutput
from .providers.errors import UsageError
from .result import Result
from .session import Question


def _magics() -> Any:
    from IPython import get_ipython

    shell = get_ipython()
    magics = shell.magics_manager.registry.get("LLMMagics") if shell else None
    if magics is None:
        raise UsageError("Load the extension first: %load_ext llmring_jupyter")
    return magics


async def chat(
    prompt: str,
    model: str | None = None,
    *,
    chat: str = "default",
    new: bool = False,
    history: bool = True,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    format: str = "markdown",
    **options: Any,
) -> Result:
    """Stream the answer to ``prompt`` into the current output and return its :class:`Result`.

    Raises like ``%%llm`` does when the answer fails or the kernel is interrupted
    (the partial text is kept in the conversation either way).
    """
    magics = _magics()
    question = Question(prompt, model, chat, new, history, system, temperature, max_tokens, tuple(options.items()))
    output = WidgetOutput(format) if magics.in_kernel else TerminalOutput()
    result = await magics.session.ask(question, output)
    result.raise_for_error()
    return result


def use_backend(backend: object | None) -> None:
    """Serve questions with ``backend`` (any object with a compatible ``chat_stream(request)``,
    such as llmring's ``LLMRing``); None restores the built-in providers.
    Same as ``%config LLMMagics.backend``."""
    _magics().backend = backend


def chat_sync(prompt: str, model: str | None = None, **kwargs: Any) -> Result:
    """:func:`chat` for code that is not async (a script, terminal IPython)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run_blocking(lambda: chat(prompt, model, **kwargs))
    raise UsageError("An event loop is running here (a notebook): use `await llmring_jupyter.chat(...)`.")
