"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Generator, Iterator
from pathlib import Path
from subprocess import Popen
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/ helpers: wire_server, kernel

import kernel_guard
from jupyter_client.launcher import launch_kernel as _launch
from jupyter_client.provisioning import local_provisioner
from wire_server import WireServer, serving

# Tests talk only to 127.0.0.1: no test may reach a real provider by accident.
for _var in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "GOOGLE_GEMINI_BASE_URL", "OLLAMA_HOST"):
    os.environ.pop(_var, None)

TESTS = Path(__file__).parent
#: Where every test starts a kernel (or IPython in a terminal) or drives JupyterLab.
KERNEL_DIRS = (TESTS / "kernel", TESTS / "reliability")
BROWSER_DIRS = (TESTS / "browser",)
#: Fixtures that start a kernel or JupyterLab; a test that uses one, even through another fixture, is marked.
KERNEL_FIXTURES = {"kernel"}
BROWSER_FIXTURES = {"browser", "lab"}


def _launch_kernel(*args: Any, **kwargs: Any) -> Popen[bytes]:
    """jupyter_client's launcher, which every kernel this process starts goes through."""
    kernel_guard.check("a kernel")
    return _launch(*args, **kwargs)


# The provisioner calls the launch_kernel it imported from jupyter_client.launcher; patching that
# import is the point, and mypy's strict mode sees it as a private (not re-exported) name.
local_provisioner.launch_kernel = _launch_kernel  # type: ignore[attr-defined]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that starts a kernel or drives a browser, by its folder and fixtures,
    so ``-m "not kernel and not browser"`` is the quick subset (kernel_guard fails any that
    slips through). Browser tests run last: Playwright's sync API keeps an event loop running
    in the main thread for the whole session, and async tests after it could not start theirs.
    Among them the files with the most tests come first, so two workers (-n 2) end together."""
    browser_tests: Counter[Path] = Counter()
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & BROWSER_FIXTURES or any(item.path.is_relative_to(d) for d in BROWSER_DIRS):
            item.add_marker(pytest.mark.browser)
            browser_tests[item.path] += 1
        elif used & KERNEL_FIXTURES or any(item.path.is_relative_to(d) for d in KERNEL_DIRS):
            item.add_marker(pytest.mark.kernel)
    items.sort(key=lambda item: (1, -browser_tests[item.path]) if item.get_closest_marker("browser") else (0, 0))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist (``-n 2``, as scripts/test.sh runs the suite), hand out whole files in
    collection order: a module's kernel and wire server start on one worker only, and each worker
    reaches tests/browser (the only place the ``browser`` fixture exists) after everything else,
    for the reason pytest_collection_modifyitems gives."""
    from xdist.scheduler import LoadFileScheduling  # type: ignore[import-untyped]  # no py.typed

    config.option.loadscopereorder = False  # xdist would put the files with the most tests first
    return LoadFileScheduling(config, log)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """While a test without the ``kernel`` or ``browser`` marker runs (set-up and teardown
    included), starting a kernel fails it: see kernel_guard."""
    if item.get_closest_marker("kernel") or item.get_closest_marker("browser"):
        os.environ.pop(kernel_guard.UNMARKED, None)
    else:
        os.environ[kernel_guard.UNMARKED] = item.nodeid
    try:
        return (yield)
    finally:
        os.environ.pop(kernel_guard.UNMARKED, None)


@pytest.fixture
def wire() -> Iterator[WireServer]:
    yield from serving()


@pytest.fixture(scope="session")
def docs_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documentation site's HTML, built once per session (examples not executed)."""
    import docs_site as site

    return site.build(tmp_path_factory.mktemp("docs"))
