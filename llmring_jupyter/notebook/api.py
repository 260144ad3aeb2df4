"""Ask from Python code: ``await chat(...)`` in a notebook, ``chat_sync(...)`` in a script.

Both go through the same session as ``%%llm`` (the one ``%load_ext`` made),
so a loop in code continues the notebook's conversation, streams into the
same live view and records its turns like cells do.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from typing import TYPE_CHECKING, Any

from ..answer.background import PendingResult
from ..answer.options import Options
from ..answer.structured import resolve
from ..exceptions import UsageError
from ..map_result import MapResult
from ..result import Result
from .blocking import run_blocking

if TYPE_CHECKING:
    from .magics import LLMMagics


def _magics() -> LLMMagics:
    from IPython import get_ipython

    shell = get_ipython()
    magics: LLMMagics | None = shell.magics_manager.registry.get("LLMMagics") if shell else None
    if magics is None:
        raise UsageError("Load the extension first: %load_ext llmring_jupyter")
    return magics


async def chat(prompt: str, model: str | None = None, **options: Any) -> Result | PendingResult:
    """Stream the answer to ``prompt`` into the current output and return its :class:`Result`.

    Keywords are the options of the ``%%llm`` line by their field names
    (``conversation="notes"``, ``system=``, ``temperature=``, ``max_tokens=``,
    ``format=``, ``new=``, ``history=``, ``background=``; ``schema=Paper``, a type or
    JSON Schema dict the answer must fit, or ``json=True`` for any JSON object, and
    ``result.data`` is the validated value); any other keyword is a provider option,
    as ``-o`` on the line. Raises like ``%%llm`` does when the answer fails, does
    not fit its schema, or the kernel is interrupted (the partial text is kept in
    the conversation either way). With ``background=True`` it returns at once a
    :class:`PendingResult` that fills in while the answer streams.
    """
    magics = _magics()
    opts = Options.of(model, options)
    shape = resolve(opts.schema, opts.json, magics.shell.user_ns)
    if opts.background:
        if not magics.in_kernel:
            raise UsageError("background=True needs a Jupyter kernel: its answer streams while other cells run.")
        return magics.session.ask_in_background(prompt, opts, magics.output(opts.shown_as), shape)
    result = await magics.session.ask(prompt, opts, magics.output(opts.shown_as), shape)
    result.raise_for_error()
    return result


def _signature() -> inspect.Signature:
    """``chat``'s signature as help() and Shift-Tab show it: one keyword per option of the line."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter("prompt", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str),
        inspect.Parameter("model", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation="str | None"),
    ]
    params += [
        inspect.Parameter(f.name, keyword, default=f.default, annotation=f.type)
        for f in dataclasses.fields(Options)
        if f.name != "models" and not f.metadata["flag"].line_only
    ]
    params.append(inspect.Parameter("provider_option", inspect.Parameter.VAR_KEYWORD, annotation=Any))
    return inspect.Signature(params, return_annotation="Result | PendingResult")


chat.__signature__ = _signature()  # type: ignore[attr-defined]


async def map(
    prompt: str, rows: Any, model: str | None = None, *, concurrency: int | None = None, **options: Any
) -> MapResult:
    """Ask ``prompt`` once per item of ``rows`` (a list, tuple, DataFrame, Series or any iterable), with
    ``{{row}}`` (``{{row.col}}`` for a table) filled in; return the :class:`MapResult`, in input order.

    The keywords are :func:`chat`'s; ``concurrency`` caps the requests in flight (the rate limits
    decide below it). Rows join no conversation; each answer is stored in the replay cache as it
    finishes (``cache=False``: not), so a second run sends only the rows without one. Raises when no
    row has an answer, or on an interrupt; a failed row is in ``errors``.
    """
    magics = _magics()
    opts = dataclasses.replace(Options.of(model, options), rows="rows", concurrency=concurrency)
    result = await magics.map_rows(prompt, opts, rows)
    assert result is not None  # dry_run is a keyword of the line only
    return result


def use_backend(backend: object | None) -> None:
    """Serve questions with ``backend`` (any object with a compatible ``chat_stream(request)``,
    such as llmring's ``LLMRing``); None restores the built-in providers.
    Same as ``%config LLMMagics.backend``."""
    _magics().backend = backend


def chat_sync(prompt: str, model: str | None = None, **kwargs: Any) -> Result | PendingResult:
    """:func:`chat` for code that is not async (a script, terminal IPython)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run_blocking(lambda: chat(prompt, model, **kwargs))
    raise UsageError("An event loop is running here (a notebook): use `await llmring_jupyter.chat(...)`.")
