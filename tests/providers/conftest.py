"""Fixtures of the provider tests."""

from __future__ import annotations

import pytest
from providers.dialects import NAMES, Dialect, load
from wire_server import WireServer


@pytest.fixture(params=[*NAMES, "openai_chat"])
def dialect(request: pytest.FixtureRequest, wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> Dialect:
    """Each provider in turn, its SDK pointed at the wire server with a sentinel key; and an
    OpenAI-compatible server that speaks only chat completions."""
    d = load(request.param)
    for k, v in {**d.key_env, **d.base_url_env(wire.url)}.items():
        monkeypatch.setenv(k, v)
    wire.routes.update(getattr(d, "routes", {}))
    return d


@pytest.fixture(autouse=True)
def fresh_openai_wires(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the OpenAI adapter learnt of a server (no Responses API, no summaries) is a kernel's,
    kept by base URL: each test starts as a new kernel (a port may come round again)."""
    from llmring_jupyter.providers import openai

    monkeypatch.setattr(openai, "_chat_only", {})
    monkeypatch.setattr(openai, "_no_summaries", {})
