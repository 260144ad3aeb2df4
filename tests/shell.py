"""A real IPython shell in the test process, with the extension loaded: for fast tests of the
magics, commands, session and API, without a kernel (the terminal path: no widgets)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from IPython.core.interactiveshell import InteractiveShell

import llmring_jupyter


def loaded_shell() -> Iterator[Any]:
    shell = InteractiveShell.instance()
    llmring_jupyter.load_ipython_extension(shell)
    shell.user_ns.pop("_llm", None)
    try:
        yield shell
    finally:
        llmring_jupyter.unload_ipython_extension(shell)
        shell.config.pop("LLMMagics", None)  # a %config run here must not reach the next test's shell


def magics(shell: Any) -> Any:
    return shell.magics_manager.registry["LLMMagics"]
