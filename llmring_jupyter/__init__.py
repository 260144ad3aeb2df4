"""llmring_jupyter: stream LLM answers into notebook cells.

``%load_ext llmring_jupyter`` registers ``%%llm`` (ask a model; the cell is
the prompt) and ``%llm`` (commands: help, models, key, chats, history...).
From code, ``await chat("...")`` asks through the same session. Loading
imports no provider SDK: each is imported when a cell first names its provider.
"""

from __future__ import annotations

from typing import Any

from . import exceptions
from .answer.background import PendingResult
from .exceptions import (
    AnswerMismatch,
    AuthenticationError,
    BatchError,
    BudgetError,
    ConfigurationError,
    Interrupted,
    LLMError,
    MCPServerError,
    MissingKeyError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    RouteNotFoundError,
    SchemaError,
    StepLimitError,
    StreamTimeoutError,
    UnknownModelError,
    UnsupportedInputError,
    UnsupportedThinkingError,
    UsageError,
)
from .map_result import BatchMapResult, MapResult
from .notebook.api import chat, chat_sync, map, use_backend
from .notebook.magics import LLMMagics
from .notebook.transform import awaited_magics
from .result import Result, Timings
from .view.outputs import prepare_views

__version__ = "0.1.0"
__all__ = [
    "AnswerMismatch",
    "AuthenticationError",
    "BatchError",
    "BatchMapResult",
    "BudgetError",
    "ConfigurationError",
    "Interrupted",
    "LLMError",
    "LLMMagics",
    "MCPServerError",
    "MapResult",
    "MissingKeyError",
    "ModelNotFoundError",
    "PendingResult",
    "ProviderError",
    "ProviderUnavailableError",
    "RateLimitError",
    "Result",
    "RouteNotFoundError",
    "SchemaError",
    "StepLimitError",
    "StreamTimeoutError",
    "Timings",
    "UnknownModelError",
    "UnsupportedInputError",
    "UnsupportedThinkingError",
    "UsageError",
    "chat",
    "chat_sync",
    "load_ipython_extension",
    "map",
    "unload_ipython_extension",
    "use_backend",
]


def load_ipython_extension(ip: Any) -> None:
    unload_ipython_extension(ip)  # loading twice must not track cells twice
    exceptions.install()
    magics = LLMMagics(ip, in_kernel=getattr(ip, "kernel", None) is not None)
    ip.register_magics(magics)
    ip.events.register("pre_run_cell", magics.session.pre_run_cell)
    ip.events.register("post_run_cell", magics.errors.post_run_cell)
    magics.errors.adopt_last()  # an error from before %load_ext is the one a user may ask about
    if magics.in_kernel:
        ip.input_transformers_post.append(awaited_magics)
        prepare_views(ip)
    magics.preload_sdks()


def unload_ipython_extension(ip: Any) -> None:
    if awaited_magics in ip.input_transformers_post:
        ip.input_transformers_post.remove(awaited_magics)
    magics = ip.magics_manager.registry.get("LLMMagics")
    if magics is not None:
        for event, callback in (
            ("pre_run_cell", magics.session.pre_run_cell),
            ("post_run_cell", magics.errors.post_run_cell),
        ):
            try:
                ip.events.unregister(event, callback)
            except ValueError:
                pass
        magics.session.mcp.close()  # its servers stop with it
    ip.magics_manager.registry.pop("LLMMagics", None)  # chat() must not answer after unloading
    ip.magics_manager.magics["line"].pop("llm", None)
    ip.magics_manager.magics["cell"].pop("llm", None)
