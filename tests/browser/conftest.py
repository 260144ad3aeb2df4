"""One JupyterLab server and one headless Chromium for the whole browser session.

Chromium is the Debian binary (Playwright never downloads one here); without
it the browser tests are skipped. The browser resolves no host but 127.0.0.1,
so a test can never reach the network by accident; the kernels' providers all
point at one local wire server, with sentinel keys in place of any real ones.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kernel_providers import PROVIDER_VARIABLES, provider_env
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, sync_playwright

sys.path.insert(0, str(Path(__file__).parent))

from lab_session import LabServer, Notebook
from wire_server import WireServer, serving

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("browser tests need Debian's chromium (apt-get install chromium); it is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def lab_wire() -> Iterator[WireServer]:
    """The wire server every provider SDK in the session's kernels talks to.

    Shared, because kernels inherit their environment from the one server:
    a test queues exactly the replies its cells consume.
    """
    yield from serving()


@pytest.fixture(scope="session")
def lab(browser: Browser, lab_wire: WireServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    # Depends on `browser` so a missing chromium skips before a server is started for nothing.
    # A developer's real keys and endpoints never reach the kernels: only the wire server's.
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES} | provider_env(lab_wire.url)
    server = LabServer(tmp_path_factory.mktemp("jupyterlab"), env)
    yield server
    server.close()


@pytest.fixture(scope="session")
def context(browser: Browser) -> Iterator[BrowserContext]:
    """One context for the session: its HTTP cache makes each JupyterLab load after the first quick."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext, lab: LabServer) -> Iterator[Page]:
    """A fresh page per test; the test's kernels are shut down after it."""
    page = context.new_page()
    yield page
    page.close()
    lab.shutdown_kernels()


@pytest.fixture
def dialogs(page: Page) -> list[str]:
    """Messages of every alert/confirm/prompt the page raises (each is dismissed).

    JupyterLab's own "leave the page?" (beforeunload) is accepted, not
    recorded: dismissing it would cancel a reload, and no answer can raise it
    without running script, which the tests detect anyway.
    """
    seen: list[str] = []

    def record(dialog: Dialog) -> None:
        if dialog.type == "beforeunload":
            dialog.accept()
            return
        seen.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", record)
    return seen


@pytest.fixture
def notebook(lab: LabServer, page: Page, request: pytest.FixtureRequest) -> Callable[[list[str]], Notebook]:
    """Make a notebook (named after the test) with these cells and open it, kernel idle."""

    def make(cells: list[str]) -> Notebook:
        return Notebook.create(lab, page, f"{request.node.name}.ipynb", cells)

    return make
