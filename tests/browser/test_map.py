"""``--map`` in real JupyterLab: one progress view that counts the rows as they finish, whose Stop
ends the run at once, leaving the static summary."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from lab_session import Notebook
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

NotebookMaker = Callable[[list[str]], Notebook]

SETUP = "import os; os.environ['LLMRING_DEMO_DELAY'] = '0.05'\n%load_ext llmring_jupyter\nitems = list(range(200))"


def test_the_progress_view_counts_rows_and_stop_ends_the_run(notebook: NotebookMaker, page: Page) -> None:
    nb = notebook([SETUP, "%%llm demo:echo --map items --concurrency 2 --no-cache\nRow {{row}}"])
    nb.run_and_wait(0)
    nb.run(1)
    output = nb.output(1)
    progress = output.locator(".llmring-map-progress")
    expect(progress).to_contain_text(re.compile(r"demo:echo · \d+ / 200 rows"), timeout=20_000)
    expect(progress).to_contain_text(re.compile(r"\b([4-9]|\d\d) / 200 rows"), timeout=20_000)  # it counts up
    expect(progress.locator("progress")).to_have_attribute("max", "200")
    progress.locator(".llmring-map-stop").click()
    footer = output.locator(".llmring-footer")
    expect(footer).to_contain_text("ended early: stopped", timeout=20_000)
    expect(footer).to_contain_text("200 rows")
    expect(progress).to_have_count(0)  # the live view made way for the static summary
    answered = int(re.search(r"(\d+) answered", footer.inner_text()).group(1))  # type: ignore[union-attr]
    assert 4 <= answered < 200
    expect(output.locator(".llmring-map table tbody tr")).to_have_count(5)  # the preview of the first rows
