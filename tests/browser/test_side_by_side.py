"""Answers that run at once, in real JupyterLab: models side by side in columns, and a
background answer that streams into its own cell while another cell runs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lab_session import Notebook
from playwright.sync_api import Page, expect
from test_live_view import setup_cell, wait_longer

pytestmark = pytest.mark.browser

NotebookMaker = Callable[[list[str]], Notebook]


def test_columns_stream_at_once_and_stop_in_one_stops_only_that_model(notebook: NotebookMaker, page: Page) -> None:
    nb = notebook([setup_cell(0.05), "%%llm demo demo:chat --no-history\nCompare these two"])
    nb.run_and_wait(0)
    nb.run(1)
    views = nb.output(1).locator(".llmring-view")
    expect(views).to_have_count(2, timeout=15_000)
    first, second = views.nth(0), views.nth(1)
    for view in (first, second):
        expect(view).to_have_attribute("data-status", "streaming", timeout=15_000)
    a = wait_longer(page, first.locator(".llmring-answer"), 40)
    b = wait_longer(page, second.locator(".llmring-answer"), 40)
    wait_longer(page, first.locator(".llmring-answer"), a)
    wait_longer(page, second.locator(".llmring-answer"), b)
    box1, box2 = first.bounding_box(), second.bounding_box()
    assert box1 and box2 and abs(box1["y"] - box2["y"]) < 2 and box2["x"] > box1["x"] + box1["width"] - 1, (
        "two columns, side by side"
    )

    expect(nb.output(1)).to_have_count(1), "no Keep buttons: with --no-history nothing joins a conversation"
    first.locator("button.llmring-stop").click()
    expect(nb.output(1)).to_contain_text("■ stopped", timeout=5_000)
    expect(second).to_have_attribute("data-status", "streaming")  # the other model goes on
    wait_longer(page, second.locator(".llmring-answer"), b + 40)

    columns = nb.output(1).locator(".llmring-column")
    expect(columns).to_have_count(2, timeout=30_000)  # the static grid replaced the live one
    nb.wait_done(1)
    expect(columns.nth(0).locator(".llmring-footer")).to_contain_text("■ stopped")
    expect(columns.nth(1).locator(".llmring-footer")).to_contain_text("demo:chat · stop")
    expect(columns.nth(1).locator(".llmring-footer")).not_to_contain_text("stopped")
    expect(nb.output(1).locator(".llmring-view")).to_have_count(0)


def test_keep_marks_the_kept_answer(notebook: NotebookMaker, page: Page) -> None:
    nb = notebook([setup_cell(0.005), "%%llm demo demo:echo\nKeep the echo", "%llm history"])
    nb.run_and_wait(0)
    nb.run_and_wait(1)
    columns = nb.output(1).locator(".llmring-column")
    expect(columns).to_have_count(2)
    expect(columns.nth(0)).to_contain_text("✓ kept in the conversation")
    expect(nb.output(1)).to_have_count(2)  # the columns, and the Keep buttons under them
    keep = nb.cell(1).get_by_role("button", name="Keep 2: demo:echo")
    keep.click()
    expect(nb.cell(1).get_by_role("button", name="✓ Kept 2: demo:echo")).to_be_visible(timeout=5_000)
    expect(columns.nth(1)).to_contain_text("✓ kept in the conversation", timeout=5_000)
    expect(columns.nth(0)).not_to_contain_text("✓ kept")

    nb.run_and_wait(2)  # the conversation holds the kept answer
    expect(nb.output(2)).to_contain_text("demo:echo")
    expect(nb.output(2)).not_to_contain_text("demo:chat")


def test_a_background_answer_streams_into_its_cell_while_another_runs(notebook: NotebookMaker, page: Page) -> None:
    nb = notebook([setup_cell(0.05), "%%llm demo --background\nTake your time", "21 * 2"])
    nb.run_and_wait(0)
    nb.run_and_wait(1, timeout=5_000)  # the cell returns at once
    view = nb.output(1).locator(".llmring-view")
    expect(view).to_have_attribute("data-status", "streaming", timeout=15_000)
    nb.run_and_wait(2, timeout=5_000)
    expect(nb.output(2)).to_have_text("42")
    expect(view).to_have_attribute("data-status", "streaming")  # still going, in its own cell
    expect(nb.output(1).locator(".llmring-footer")).to_contain_text("demo:chat · stop", timeout=30_000)
    expect(nb.output(2)).to_have_text("42")  # nothing of the answer landed here
