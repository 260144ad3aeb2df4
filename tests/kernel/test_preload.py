"""The SDKs a notebook will use are imported in the background right after ``%load_ext``, so
the first answer's "first token" is the provider's latency, not our imports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kernel_providers import SENTINELS, footer, value
from kernel_session import Kernel
from providers.dialects import load
from wire_server import WireServer

WAIT_FOR = """\
import sys, time
_t = time.monotonic()
while not {{{names!r}}} <= set(sys.modules) and time.monotonic() - _t < 60:
    time.sleep(0.05)
print(sorted(m for m in {{{names!r}}} if m in sys.modules))
"""


@pytest.fixture
def fresh(tmp_path: Path, wire: WireServer) -> Iterator[Kernel]:
    """A new kernel (nothing imported yet) whose providers point at the wire server."""
    env = {**SENTINELS}
    for name in ("openai", "anthropic"):
        env |= load(name).base_url_env(wire.url)
    k = Kernel(cwd=tmp_path, env=env)
    yield k
    k.close()


def test_the_lockfile_providers_are_imported_without_being_asked(fresh: Kernel, tmp_path: Path) -> None:
    (tmp_path / "llmring.lock").write_text(
        '[[profiles.default.bindings]]\nalias = "writer"\nmodels = ["anthropic:claude-haiku-4-5"]\n'
    )
    assert fresh.run("%load_ext llmring_jupyter").ok
    run = fresh.run(WAIT_FOR.format(names="anthropic"))
    assert run.ok and run.stdout.strip() == "['anthropic']", run.stdout
    assert value(fresh, "'openai' in sys.modules") is False, "only what the notebook names"


def test_setting_the_default_model_imports_its_sdk(fresh: Kernel) -> None:
    assert fresh.run("%load_ext llmring_jupyter\n%config LLMMagics.default_model = 'openai:gpt-4o-mini'").ok
    run = fresh.run(WAIT_FOR.format(names="openai"))
    assert run.ok and run.stdout.strip() == "['openai']", run.stdout


def test_first_token_is_timed_from_the_request_not_the_import(fresh: Kernel, wire: WireServer) -> None:
    d = load("openai")
    wire.queue(d.answer(["Hello", " there"]))
    # asked at once: the background import is still running, so the cell waits for it
    run = fresh.run(f"%load_ext llmring_jupyter\n%config LLMMagics.default_model = 'openai:{d.model}'")
    assert run.ok
    run = fresh.run("%%llm\nHi")
    assert run.ok, run.error
    first, waited, imported, total = value(
        fresh, "_llm.timings.first_token, _llm.timings.waited, _llm.timings.import_s, _llm.timings.total"
    )
    assert first < 1.0, f"first token {first:.2f} s: the server answered at once"
    assert imported <= waited <= total and first + waited <= total + 0.01
    if imported >= 0.05:
        assert f"SDK import {imported:.2f} s" in footer(run)
