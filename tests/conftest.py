"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/ helpers: wire_server, kernel

from wire_server import WireServer, serving

# Tests talk only to 127.0.0.1: no test may reach a real provider by accident.
for _var in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "GOOGLE_GEMINI_BASE_URL", "OLLAMA_HOST"):
    os.environ.pop(_var, None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in the
    main thread for the whole session, and async tests after it could not start theirs."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture
def wire() -> Iterator[WireServer]:
    yield from serving()


@pytest.fixture(scope="session")
def docs_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documentation site's HTML, built once per session (examples not executed)."""
    import docs_site as site

    return site.build(tmp_path_factory.mktemp("docs"))
