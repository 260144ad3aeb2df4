"""Pointing a test kernel's providers at a wire server, and reading values back.

A kernel inherits the test process's environment, which may hold real keys:
:func:`set_env` replaces every provider setting, so a test sees only what it set.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kernel_session import Execution, Kernel
from providers.dialects import NAMES, load

from llmring_jupyter.providers.keys import KEY_VARIABLES, PROVIDER_KEYS

#: Keys no real provider issued, where each provider's adapter reads its key first: any of
#: them appearing in an output is a leak. Not key-shaped, so only the scrub of the
#: configured keys can catch them (the shape check would hide a miss).
SENTINELS = {variables[0]: f"SENTINEL-{provider}-key-5f1c0a9e7d3b" for provider, variables in PROVIDER_KEYS.items()}

#: Every setting that points a provider somewhere: keys, base URLs, the lockfile.
PROVIDER_VARIABLES = (
    *KEY_VARIABLES,
    *(v for name in NAMES for v in load(name).base_url_env("")),
    "LLMRING_LOCKFILE_PATH",
    "LLMRING_PROFILE",
)


def provider_env(url: str) -> dict[str, str]:
    """Every provider's base URL at the wire server at ``url``, with the sentinel keys."""
    env = dict(SENTINELS)
    for name in NAMES:
        env.update(load(name).base_url_env(url))
    return env


def wired_kernel(url: str, cwd: Path, delay: str = "0.002") -> Iterator[Kernel]:
    """A kernel with the extension loaded and every provider at the wire server at ``url``
    (the body of a kernel fixture: ``yield from wired_kernel(...)``)."""
    k = Kernel(cwd=cwd, env={"LLMRING_DEMO_DELAY": delay})
    assert k.run("%load_ext llmring_jupyter").ok
    set_env(k, provider_env(url))
    try:
        yield k
    finally:
        k.close()


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
    plain: str = run.final["data"]["text/plain"]
    return plain.rsplit("\n\n— ", 1)[1]


#: Words of a next step: every error line says what to do.
NEXT_STEPS = ("try again", "check", "run ", "set ", "raise", "ask again", "retry", "start it", "report")


def reads_well(line: str) -> None:
    """The wording rules of an error line: one sentence or a few short ones, each ending once
    (no "key.. Check", no ".;"), saying what to do next, and not repeating its type."""
    kind, _, message = line.partition(": ")
    assert re.search(r"[.;:,!?]\s*[.;:!?]", message) is None, f"doubled punctuation: {line}"
    assert message[-1] in ".!?", f"unfinished sentence: {line}"
    assert len(re.findall(r"[.!?](?:\s|$)", message)) <= 3, f"too long: {line}"
    assert not message.lower().startswith(kind.lower()), f"says its type twice: {line}"
    assert any(step in message.lower() for step in NEXT_STEPS), f"no next step: {line}"


def one_line_error(run: Execution) -> str:
    """What a failed cell shows, checked to be a single line with no traceback."""
    assert not run.ok, "the cell must fail, so Run All stops"
    content = run.reply["content"]
    assert len(content["traceback"]) == 1, content["traceback"]
    assert "\n" not in content["evalue"]
    return f"{content['ename']}: {content['evalue']}"
