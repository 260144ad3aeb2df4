"""Fixtures of the provider tests."""

from __future__ import annotations

import pytest
from providers.dialects import NAMES, Dialect, load
from wire_server import WireServer


@pytest.fixture(params=NAMES)
def dialect(request: pytest.FixtureRequest, wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> Dialect:
    """Each provider in turn, its SDK pointed at the wire server with a sentinel key."""
    d = load(request.param)
    for k, v in {**d.key_env, **d.base_url_env(wire.url)}.items():
        monkeypatch.setenv(k, v)
    return d
