"""Pointing a test kernel's providers at a wire server, and reading values back.

A kernel inherits the test process's environment, which may hold real keys:
:func:`set_env` replaces every provider setting, so a test sees only what it set.
"""

from __future__ import annotations

import ast
from typing import Any

from kernel_session import Execution, Kernel

from llmring_jupyter.providers.errors import KEY_VARIABLES

#: Keys no real provider issued: any of them appearing in an output is a leak.
SENTINELS = {
    "OPENAI_API_KEY": "sk-SENTINEL-openai-5f1c0a9e7d3b",
    "ANTHROPIC_API_KEY": "sk-ant-SENTINEL-anthropic-8c2d4e6f",
    "GEMINI_API_KEY": "SENTINEL-gemini-key-7b3e9d1a",  # not key-shaped: only the env scrub can catch it
}

PROVIDER_VARIABLES = (
    *KEY_VARIABLES,
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "GOOGLE_GEMINI_BASE_URL",
    "OLLAMA_HOST",
    "LLMRING_LOCKFILE_PATH",
    "LLMRING_PROFILE",
)


def provider_env(url: str) -> dict[str, str]:
    """Every provider's base URL at the wire server at ``url``, with the sentinel keys."""
    from providers.dialects import NAMES, load

    env = dict(SENTINELS)
    for name in NAMES:
        env.update(load(name).base_url_env(url))
    return env


def set_env(kernel: Kernel, values: dict[str, str]) -> None:
    """The kernel's provider settings become exactly ``values``."""
    run = kernel.run(
        f"import os\nfor _v in {PROVIDER_VARIABLES!r}: os.environ.pop(_v, None)\nos.environ.update({values!r})"
    )
    assert run.ok, run.error


def value(kernel: Kernel, expr: str) -> Any:
    """The value of a Python literal expression evaluated in the kernel."""
    run = kernel.run(f"print(repr(({expr})))")
    assert run.ok, run.error
    return ast.literal_eval(run.stdout)


def footer(run: Execution) -> str:
    """The footer line of the static answer, as its plain-text copy shows it."""
    return run.final["data"]["text/plain"].rsplit("\n\n— ", 1)[1]


def one_line_error(run: Execution) -> str:
    """What a failed cell shows, checked to be a single line with no traceback."""
    assert not run.ok, "the cell must fail, so Run All stops"
    content = run.reply["content"]
    assert len(content["traceback"]) == 1, content["traceback"]
    assert "\n" not in content["evalue"]
    return f"{content['ename']}: {content['evalue']}"
