"""llmring_jupyter: stream LLM answers into notebook cells.

``%load_ext llmring_jupyter`` registers ``%%llm`` (ask a model; the cell is
the prompt) and ``%llm`` (commands: help, models, key, chats, history...).
From code, ``await chat("...")`` asks through the same session. Loading is
instant: it imports the magics, their settings and events; the answer engine and
the SDKs the notebook names are imported in the background right after. Importing
the package imports its errors; its other public names are imported when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import exceptions
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
from .providers.lazy import exports

if TYPE_CHECKING:
    from .answer.background import PendingResult
    from .map_result import BatchMapResult, MapResult
    from .notebook.api import chat, chat_sync, map, use_backend
    from .notebook.magics import LLMMagics
    from .result import Result, Timings

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
_HOMES = {
    ".answer.background": ("PendingResult",),
    ".map_result": ("BatchMapResult", "MapResult"),
    ".notebook.api": ("chat", "chat_sync", "map", "use_backend"),
    ".notebook.magics": ("LLMMagics",),
    ".result": ("Result", "Timings"),
}
__getattr__, __dir__ = exports(__name__, _HOMES)


def load_ipython_extension(ip: Any) -> None:
    """Register the magics and their events; instant: the engine is imported in the background
    (:meth:`.LLMMagics.preload`), or by the first cell that needs it."""
    from .notebook.magics import LLMMagics
    from .notebook.transform import awaited_magics
    from .view.prepare import prepare_views

    unload_ipython_extension(ip)  # loading twice must not track cells twice
    exceptions.install()
    magics = LLMMagics(ip, in_kernel=getattr(ip, "kernel", None) is not None)
    ip.register_magics(magics)
    ip.events.register("pre_run_cell", magics.pre_run_cell)
    ip.events.register("post_run_cell", magics.errors.post_run_cell)
    magics.errors.adopt_last()  # an error from before %load_ext is the one a user may ask about
    if magics.in_kernel:
        ip.input_transformers_post.append(awaited_magics)
        prepare_views(ip)
    magics.preload()


def unload_ipython_extension(ip: Any) -> None:
    from .notebook.transform import awaited_magics

    if awaited_magics in ip.input_transformers_post:
        ip.input_transformers_post.remove(awaited_magics)
    magics = ip.magics_manager.registry.get("LLMMagics")
    if magics is not None:
        for event, callback in (
            ("pre_run_cell", magics.pre_run_cell),
            ("post_run_cell", magics.errors.post_run_cell),
        ):
            try:
                ip.events.unregister(event, callback)
            except ValueError:
                pass
        magics.close()  # its MCP servers stop with it
    ip.magics_manager.registry.pop("LLMMagics", None)  # chat() must not answer after unloading
    ip.magics_manager.magics["line"].pop("llm", None)
    ip.magics_manager.magics["cell"].pop("llm", None)
