"""A kernel restart in real JupyterLab while answers of the old kernel are on the page: each turns
static and says it stopped, and the saved notebook shows them, not "model not found"."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from lab_session import LabServer, Notebook
from playwright.sync_api import Page, expect
from test_live_view import HOSTILE, WIDGET_MIME, assert_inert, setup_cell, wait_longer

pytestmark = pytest.mark.browser

NotebookMaker = Callable[[list[str]], Notebook]


def _saved_without_widgets(index: int, text: str) -> Callable[[dict[str, Any]], bool]:
    """Whether cell ``index`` was saved holding ``text`` and no widget of the old kernel."""

    def check(doc: dict[str, Any]) -> bool:
        outputs = doc["cells"][index].get("outputs", [])
        return text in json.dumps(outputs, ensure_ascii=False) and not any(
            WIDGET_MIME in o.get("data", {}) for o in outputs
        )

    return check


@pytest.mark.parametrize("ui", ["lab", "notebook"])
def test_a_restart_keeps_a_streaming_answer_static_and_stopped_through_save_and_reload(
    lab: LabServer, page: Page, ui: str
) -> None:
    cells = [setup_cell(0.05), "%%llm demo --background -o tokens=2000\nA long answer"]
    nb = Notebook.create(lab, page, f"restart-{ui}.ipynb", cells, ui)
    nb.run_and_wait(0)
    nb.run_and_wait(1, timeout=5_000)
    view = nb.output(1).locator(".llmring-view")
    expect(view).to_have_attribute("data-status", "streaming", timeout=15_000)
    shown = wait_longer(page, view.locator(".llmring-answer"), 120)

    nb.restart_kernel()
    footer = nb.output(1).locator(".llmring-footer")
    expect(footer).to_contain_text("■ stopped", timeout=10_000)  # no view left saying "streaming"
    expect(footer).to_contain_text("the kernel restarted")
    expect(nb.output(1).locator(".llmring-view")).to_have_count(0)
    answer = nb.output(1).locator(".llmring-answer")
    expect(answer.locator("h2")).to_have_text("Demo answer")  # rendered, as the live view showed it
    kept = answer.evaluate("el => el.textContent.length")
    assert kept >= shown, (kept, shown)  # everything the view showed, and what came after

    nb.wait_idle()
    nb.save(_saved_without_widgets(1, "the kernel restarted"))
    nb.reload()
    output = nb.output(1)
    expect(output.locator(".llmring-answer h2")).to_have_text("Demo answer")
    expect(output.locator(".llmring-footer")).to_contain_text("■ stopped")
    expect(nb.cell(1).get_by_text("Error displaying widget")).to_have_count(0)
    expect(nb.cell(1).get_by_text("still answering")).to_have_count(0)


def test_keep_buttons_say_they_ended_with_their_kernel_and_save_as_text(notebook: NotebookMaker, page: Page) -> None:
    nb = notebook([setup_cell(0.005), "%%llm demo demo:echo\nKeep the echo"])
    nb.run_and_wait(0)
    nb.run_and_wait(1)
    keep = nb.cell(1).get_by_role("button", name="Keep 2: demo:echo")
    expect(keep).to_be_visible()

    nb.restart_kernel()
    expect(nb.cell(1).get_by_role("button", name="Keep 2: demo:echo")).to_have_count(0, timeout=10_000)
    expect(nb.output(1).last).to_contain_text("the kernel restarted")
    expect(nb.output(1).last).to_contain_text("Answer 1 (demo) joined the conversation")
    expect(nb.output(1).locator(".llmring-column")).to_have_count(2)  # the answers stay

    nb.wait_idle()
    nb.save(_saved_without_widgets(1, "the kernel restarted"))
    nb.reload()
    expect(nb.output(1).locator(".llmring-column")).to_have_count(2)
    expect(nb.output(1).last).to_contain_text("the kernel restarted")
    expect(nb.cell(1).get_by_text("Error displaying widget")).to_have_count(0)


TEX = r"""$\text{<img/src="x"/onerror="window.__pwned=8">}$ and $\mbox{<script>window.__pwned=9</script>}$

$\href{javascript:window.__pwned=10}{x}$ """


def test_a_hostile_answer_kept_at_a_restart_stays_inert_saved_and_reopened(
    notebook: NotebookMaker, page: Page, dialogs: list[str]
) -> None:
    nb = notebook([setup_cell(0.04), f"%%llm demo:echo --background\n{TEX}\n{HOSTILE}"])
    nb.run_and_wait(0)
    nb.run_and_wait(1, timeout=5_000)
    view = nb.output(1).locator(".llmring-view")
    expect(view.locator(".llmring-answer")).to_contain_text("tail5", timeout=15_000)

    nb.restart_kernel()
    expect(nb.output(1).locator(".llmring-footer")).to_contain_text("■ stopped", timeout=10_000)
    assert_inert(page, nb.output(1), dialogs)
    nb.wait_idle()
    nb.save(_saved_without_widgets(1, "the kernel restarted"))
    nb.reload()
    expect(nb.output(1).locator(".llmring-footer")).to_contain_text("■ stopped")
    assert_inert(page, nb.output(1), dialogs)


def test_views_that_cannot_become_static_say_they_stopped_and_stop_their_clock(
    notebook: NotebookMaker, page: Page
) -> None:
    """Side-by-side columns have no output of their own to turn static: each says so in place."""
    nb = notebook([setup_cell(0.05), "%%llm demo demo:chat --no-history -o tokens=2000\nCompare"])
    nb.run_and_wait(0)
    nb.run(1)
    views = nb.output(1).locator(".llmring-view")
    expect(views).to_have_count(2, timeout=15_000)
    for view in (views.nth(0), views.nth(1)):
        expect(view).to_have_attribute("data-status", "streaming", timeout=15_000)

    nb.restart_kernel()
    for view in (views.nth(0), views.nth(1)):
        status = view.locator(".llmring-status")
        expect(status).to_contain_text("■ stopped · the kernel restarted", timeout=10_000)
        expect(view.locator("button.llmring-stop")).to_be_hidden()
        said = status.inner_text()
        page.wait_for_timeout(600)  # the live clock ticked every 250 ms
        assert status.inner_text() == said, "no clock counts on"
