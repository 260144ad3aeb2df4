"""llmring_jupyter: stream LLM answers into notebook cells.

``%load_ext llmring_jupyter`` registers ``%%llm`` (ask a model; the cell is
the prompt) and ``%llm`` (commands: help, models, key). Loading imports no
provider SDK: each is imported when a cell first names its provider.
"""

from __future__ import annotations

from typing import Any

from ._transform import awaitable_cell
from .magics import LLMMagics
from .result import Result, Timings

__version__ = "0.1.0"
__all__ = ["LLMMagics", "Result", "Timings", "load_ipython_extension", "unload_ipython_extension",
           "use_backend"]


def load_ipython_extension(ip: Any) -> None:
    in_kernel = getattr(ip, "kernel", None) is not None
    ip.register_magics(LLMMagics(ip, in_kernel=in_kernel))
    if in_kernel and awaitable_cell not in ip.input_transformers_cleanup:
        ip.input_transformers_cleanup.append(awaitable_cell)


def use_backend(backend: object | None) -> None:
    """Serve ``%%llm`` cells with ``backend`` (any object with a compatible
    ``chat_stream(request)``, such as llmring's ``LLMRing``); None restores the
    built-in providers. Same as setting ``LLMMagics.backend``."""
    from IPython import get_ipython

    from .providers.errors import UsageError

    shell = get_ipython()
    magics = shell.magics_manager.registry.get("LLMMagics") if shell is not None else None
    if magics is None:
        raise UsageError("Load the extension first: %load_ext llmring_jupyter")
    magics.backend = backend


def unload_ipython_extension(ip: Any) -> None:
    if awaitable_cell in ip.input_transformers_cleanup:
        ip.input_transformers_cleanup.remove(awaitable_cell)
    ip.magics_manager.magics["line"].pop("llm", None)
    ip.magics_manager.magics["cell"].pop("llm", None)
